"""The deep MLP of the paper: dense layers, one activation per hidden layer, a softmax output.

Shapes, everywhere in glorot_ext: X is (batch, fan_in), W is (fan_in, fan_out), Y = X·W + b
(NumPy's natural order; PyTorch stores (out, in), we never do). Layer l maps z_l to
s_l = z_l·W_l + b_l and z_{l+1} = f_l(s_l); z_0 = X, and the last layer's softmax gives P.

The weights are NumPy arrays owned by the MLP; the C++ kernels update them in place, so
``net.weights[l]`` always shows the current values and can be edited in place
(``net.weights[0][:] = ...``) between steps.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from glorot_ext import _core, activations as _activations, init as _init, reference as _reference
from glorot_ext._io import atomic_write
from glorot_ext._validation import (
    RngLike,
    generator as _generator,
    inputs as _inputs,
    kernel_dtype as _kernel_dtype,
    labels as _labels,
    learning_rate as _learning_rate,
)

if TYPE_CHECKING:
    from glorot_ext.training import Callback, History

#: An initializer name or a callable ``init(fan_in, fan_out, *, rng, dtype)``.
InitLike = Union[str, Callable[..., NDArray[Any]]]
Batch = Tuple[NDArray[Any], NDArray[Any]]

_BACKENDS = ("native", "reference")
_KERNELS = ("auto", "gemm")


def _on_cache_lines(a: NDArray[Any], align: int = 64) -> NDArray[Any]:
    """``a`` in a buffer that starts on a cache line. NumPy's large arrays start 16 bytes past a
    page, so every row of a float64 (n, 1000) matrix straddles a line and the batch-10 step streams
    an extra line per row (measured by ``bench/small_batch_micro.cpp``)."""
    if a.ctypes.data % align == 0:
        return a
    buf = np.empty(a.nbytes + align, dtype=np.uint8)
    start = -buf.ctypes.data % align
    out = buf[start : start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


class MLP:
    """A deep feedforward network trained by plain minibatch SGD, as in Glorot & Bengio (2010).

    Args:
        layer_sizes: [n_inputs, n_hidden_1, ..., n_classes], e.g. [784] + [1000] * 5 + [10].
        activation: one name for every hidden layer, or a list with one name per hidden layer
            (identity, sigmoid, tanh, softsign, relu, scaled_tanh).
        init: initializer name ("standard" = Eq. 1, "normalized" = Eq. 16, or any of
            ``glorot_ext.init.INITIALIZERS``) or a callable ``init(fan_in, fan_out, *, rng, dtype)``.
            It is used for every layer, the softmax layer included (the paper's "each layer").
        bias_init: "zeros" (the paper) or an initializer as for ``init``, called with fan_in=1.
        cost: "nll" (softmax negative log-likelihood) or "quadratic" (½·||P - onehot(y)||², Fig. 5).
        dtype: np.float32 (fast) or np.float64.
        rng: numpy Generator or int seed for the initial weights; default a fresh unseeded one.
        backend: "native" (C++ kernels) or "reference" (the NumPy oracle, for comparison).
        kernels: native backend only: "auto" runs steps of batch <= ``_core.small_batch_max`` on
            the small-batch kernels where they are built, "gemm" always on Eigen's GEMM path.

    Inputs: every method taking X accepts array-likes (lists, pandas DataFrames, other dtypes)
    and converts them once to a C-contiguous array of ``dtype`` (a copy); an exact array, as
    the training loops give, is used without a copy. Labels y are integers.

    Attributes (scikit-learn's names, set by ``fit`` and extended by ``partial_fit``):
        history_: the ``History`` of the calls so far.
        loss_curve_: mean training cost per epoch (``fit``) or per evaluation point.
        validation_scores_: validation accuracy at the same points (when validation was given).
        n_iter_: number of entries in ``loss_curve_``.

    Example:
        >>> net = MLP([784, 1000, 1000, 10], activation="tanh", init="normalized",
        ...           rng=np.random.default_rng(0))
        >>> [W.shape for W in net.weights]
        [(784, 1000), (1000, 1000), (1000, 10)]
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: Union[str, Sequence[str]] = "tanh",
        init: InitLike = "normalized",
        bias_init: InitLike = "zeros",
        cost: str = "nll",
        dtype: DTypeLike = np.float32,
        rng: RngLike = None,
        backend: str = "native",
        kernels: str = "auto",
    ) -> None:
        sizes = [int(n) for n in layer_sizes]
        if len(sizes) < 2 or any(n <= 0 for n in sizes):
            raise ValueError(f"layer_sizes must list at least 2 positive sizes, got {list(layer_sizes)}")
        n_hidden = len(sizes) - 2
        acts = [activation] * n_hidden if isinstance(activation, str) else list(activation)
        if len(acts) != n_hidden:
            raise ValueError(f"{n_hidden} hidden layers need {n_hidden} activations, got {len(acts)}")
        for a in acts:
            _activations.get(a)
        if cost not in _reference.COSTS:
            raise ValueError(f"cost must be one of {sorted(_reference.COSTS)}, got {cost!r}")
        _kernel_dtype(dtype)
        if backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
        if kernels not in _KERNELS:
            raise ValueError(f"kernels must be one of {_KERNELS}, got {kernels!r}")
        rng = _generator(rng, "MLP")
        w_init, b_init = _init.get(init), _init.get(bias_init)
        self.layer_sizes = tuple(sizes)
        self.activations = tuple(acts)
        self.cost = cost
        self.dtype = np.dtype(dtype)
        self.backend = backend
        self.kernels = kernels
        self.init_name = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        self.n_updates = 0
        weights, biases = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            weights.append(_on_cache_lines(np.ascontiguousarray(w_init(fan_in, fan_out, rng=rng, dtype=self.dtype))))
            biases.append(_on_cache_lines(np.ascontiguousarray(b_init(1, fan_out, rng=rng, dtype=self.dtype)[0])))
        self._bind(weights, biases)

    def _bind(self, weights: Sequence[NDArray[Any]], biases: Sequence[NDArray[Any]]) -> None:
        for l, (W, b) in enumerate(zip(weights, biases)):
            want = (self.layer_sizes[l], self.layer_sizes[l + 1])
            if W.shape != want or b.shape != want[1:]:
                raise ValueError(f"layer {l}: W {W.shape} and b {b.shape} do not fit sizes {want}")
        self._weights = tuple(weights)
        self._biases = tuple(biases)
        # the native engine or the NumPy oracle: one interface, two classes
        self._net: Union[_core.Network, _reference.Network]
        if self.backend == "native":
            kernels: Any = self.kernels  # checked in __init__ against _KERNELS
            self._net = _core.Network(weights, biases, list(self.activations), self.cost, kernels=kernels)
        else:
            self._net = _reference.Network(list(weights), list(biases), list(self.activations), self.cost)

    @property
    def weights(self) -> Tuple[NDArray[Any], ...]:
        """Tuple of the (fan_in, fan_out) weight arrays, updated in place by training."""
        return self._weights

    @property
    def biases(self) -> Tuple[NDArray[Any], ...]:
        """Tuple of the (fan_out,) bias arrays, updated in place by training."""
        return self._biases

    @property
    def n_layers(self) -> int:
        return len(self._weights)

    @property
    def n_parameters(self) -> int:
        return sum(W.size + b.size for W, b in zip(self._weights, self._biases))

    def config(self) -> Dict[str, Any]:
        """Everything needed to rebuild the architecture (not the weights)."""
        return {
            "layer_sizes": list(self.layer_sizes),
            "activations": list(self.activations),
            "cost": self.cost,
            "dtype": self.dtype.name,
            "init": self.init_name,
            "backend": self.backend,
        }

    def __repr__(self) -> str:
        acts = sorted(set(self.activations))
        act = acts[0] if len(acts) == 1 else list(self.activations)
        return (
            f"MLP({list(self.layer_sizes)}, activation={act!r}, init={self.init_name!r}, cost={self.cost!r}, "
            f"dtype={self.dtype.name}, n_updates={self.n_updates})"
        )

    # -- training -------------------------------------------------------------------------

    def sgd_step(self, X: ArrayLike, y: ArrayLike, lr: float) -> Tuple[float, int]:
        """One SGD step on a minibatch, in one native call: forward, backward, in-place update.

        Args:
            X: (batch, n_inputs) array of the network's dtype, C-contiguous.
            y: (batch,) integer labels.
            lr: learning rate ε > 0; every parameter moves by -ε·(mean gradient over the batch).

        Returns:
            (mean cost of the batch before the update, number of its examples misclassified).
        """
        if type(lr) is not float:  # a float's value is checked by the engine
            lr = _learning_rate(lr, "sgd_step")
        loss, errors = self._net.sgd_step(_inputs(X, self.dtype, "sgd_step"), _labels(y, "sgd_step"), lr)
        self.n_updates += 1
        return loss, int(errors)

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        epochs: int,
        lr: float,
        batch_size: int = 10,
        validation: Optional[Tuple[ArrayLike, ArrayLike]] = None,
        rng: RngLike = None,
        shuffle: bool = True,
        callbacks: Iterable[Callback] = (),
        progress: bool = False,
    ) -> History:
        """Minibatch SGD over a finite set; see ``glorot_ext.training.fit``. Starts ``history_`` anew
        (the weights are not reset: this continues training)."""
        from glorot_ext.training import History, fit

        X, y = _inputs(X, self.dtype, "fit"), _labels(y, "fit")
        history = fit(
            self,
            X,
            y,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            validation=self._validation(validation),
            rng=rng,
            shuffle=shuffle,
            callbacks=callbacks,
            progress=progress,
        )
        self.history_ = History()
        self._extend_history(history)
        return history

    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        lr: float,
        batch_size: int = 10,
        rng: RngLike = None,
        validation: Optional[Tuple[ArrayLike, ArrayLike]] = None,
        shuffle: bool = True,
        callbacks: Iterable[Callback] = (),
    ) -> MLP:
        """One epoch of minibatch SGD over (X, y), appended to ``history_`` (scikit-learn's
        ``partial_fit``: call it once per chunk of a stream too large to hold). A ``Monitor`` in
        ``callbacks`` measures on its schedule across calls, not once per call."""
        from glorot_ext.training import fit

        X, y = _inputs(X, self.dtype, "partial_fit"), _labels(y, "partial_fit")
        history = fit(
            self,
            X,
            y,
            epochs=1,
            lr=lr,
            batch_size=batch_size,
            validation=self._validation(validation),
            rng=rng,
            shuffle=shuffle,
            callbacks=callbacks,
        )
        self._extend_history(history)
        return self

    def fit_stream(
        self,
        batch_source: Union[Iterable[Batch], Callable[[], Batch]],
        n_updates: int,
        lr: float,
        *,
        eval_every: Optional[int] = None,
        validation: Optional[Tuple[ArrayLike, ArrayLike]] = None,
        callbacks: Iterable[Callback] = (),
        progress: bool = False,
    ) -> History:
        """SGD on an endless source of minibatches; see ``glorot_ext.training.fit_stream``."""
        from glorot_ext.training import fit_stream

        return fit_stream(
            self,
            batch_source,
            n_updates,
            lr,
            eval_every=eval_every,
            validation=self._validation(validation),
            callbacks=callbacks,
            progress=progress,
        )

    def _validation(self, validation: Optional[Tuple[ArrayLike, ArrayLike]]) -> Optional[Batch]:
        if validation is None:
            return None
        Xv, yv = validation
        return _inputs(Xv, self.dtype, "validation"), _labels(yv, "validation")

    def _extend_history(self, history: History) -> None:
        from glorot_ext.training import History

        if not hasattr(self, "history_"):
            self.history_ = History()
        for name, values in history.as_dict().items():
            getattr(self.history_, name).extend(values)

    @property
    def loss_curve_(self) -> List[float]:
        """Mean training cost per entry of ``history_`` (scikit-learn's ``MLPClassifier.loss_curve_``)."""
        return list(self._history("loss_curve_").train_loss)

    @property
    def validation_scores_(self) -> List[float]:
        """Validation accuracy (1 - error) per entry of ``history_``, when validation was given."""
        return [1.0 - e for e in self._history("validation_scores_").val_error]

    @property
    def n_iter_(self) -> int:
        """Number of entries in ``history_`` (epochs, for ``fit`` and ``partial_fit``)."""
        return len(self._history("n_iter_").train_loss)

    def _history(self, name: str) -> History:
        if not hasattr(self, "history_"):
            raise AttributeError(f"{name} exists after fit or partial_fit")
        return self.history_

    # -- inference and inspection -----------------------------------------------------------

    def forward(self, X: ArrayLike, hidden: bool = False) -> Any:
        """Runs the network on X.

        Returns:
            P, the (n, classes) softmax outputs; with ``hidden=True`` the tuple (pre, post) of
            per-layer lists: pre[l] = s_l, post[l] = z_{l+1} = f_l(s_l), post[-1] = P.
        """
        if not hidden:
            return self.predict_proba(X)
        pre, post = self._net.forward(_inputs(X, self.dtype, "forward"))
        return list(pre), list(post)

    def predict_proba(self, X: ArrayLike) -> NDArray[Any]:
        """(n, classes) class probabilities."""
        return self._net.predict_proba(_inputs(X, self.dtype, "predict_proba"))

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """(n,) int64 predicted classes (argmax of the probabilities)."""
        classes: NDArray[np.int64] = self.predict_proba(X).argmax(axis=1)
        return classes

    def evaluate(self, X: ArrayLike, y: ArrayLike) -> Tuple[float, float]:
        """(mean cost, error rate) over a set, computed in chunks without Python loops."""
        y = _labels(y, "evaluate")
        loss, errors = self._net.evaluate(_inputs(X, self.dtype, "evaluate"), y)
        return float(loss), errors / y.shape[0]

    def loss(self, X: ArrayLike, y: ArrayLike) -> float:
        """Mean cost over (X, y)."""
        return self.evaluate(X, y)[0]

    def error_rate(self, X: ArrayLike, y: ArrayLike) -> float:
        """Fraction of misclassified examples in (X, y)."""
        return self.evaluate(X, y)[1]

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Accuracy on (X, y), 1 - error rate (scikit-learn's ``ClassifierMixin.score``)."""
        return 1.0 - self.evaluate(X, y)[1]

    def gradients(self, X: ArrayLike, y: ArrayLike) -> Dict[str, Any]:
        """Everything a step computes, without updating the weights.

        Returns:
            dict with ``loss`` (mean cost), ``errors``, ``pre`` and ``post`` (as ``forward``),
            ``delta`` (∂C/∂s_l per layer, C the batch-mean cost, so per-example gradients are
            batch·delta), ``dW`` and ``db`` (∂C/∂W_l, ∂C/∂b_l).
        """
        return dict(self._net.gradients(_inputs(X, self.dtype, "gradients"), _labels(y, "gradients")))

    # -- persistence --------------------------------------------------------------------------

    def state_dict(self) -> Dict[str, Any]:
        """The full training state: config, n_updates, copies of every weight and bias."""
        return {
            "config": self.config(),
            "n_updates": self.n_updates,
            "weights": [W.copy() for W in self._weights],
            "biases": [b.copy() for b in self._biases],
        }

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Copies weights and biases from ``state`` into this network's arrays (in place)."""
        if list(state["config"]["layer_sizes"]) != list(self.layer_sizes):
            raise ValueError(
                f"state has layer sizes {state['config']['layer_sizes']}, network {list(self.layer_sizes)}"
            )
        for dst, src in zip(self._weights + self._biases, list(state["weights"]) + list(state["biases"])):
            dst[...] = src
        self.n_updates = int(state["n_updates"])

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickling and ``copy.deepcopy`` go through ``state_dict`` and ``from_state_dict`` (the
        native engine is rebuilt by the constructor)."""
        state = self.state_dict()
        if hasattr(self, "history_"):
            state["history"] = self.history_.as_dict()
        return type(self).from_state_dict, (state,)

    def save(self, path: Union[str, os.PathLike[str]]) -> None:
        """Writes config and weights to an .npz, atomically (a crash never leaves half a file)."""
        path = Path(path)
        arrays = {f"W{l}": W for l, W in enumerate(self._weights)}
        arrays.update({f"b{l}": b for l, b in enumerate(self._biases)})
        meta = dict(self.config(), n_updates=self.n_updates, format="glorot_ext.MLP/1")
        arrays["config"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        atomic_write(path, lambda f: np.savez(f, **arrays))  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Union[str, os.PathLike[str]], backend: Optional[str] = None) -> MLP:
        """Rebuilds a network saved by ``save``.

        Every field is checked before anything is built: the format tag, ``layer_sizes``,
        ``activations``, ``cost``, ``dtype``, ``backend``, ``n_updates``, and each ``W{l}``/``b{l}``
        array's shape and dtype against the saved config (no missing or extra arrays).

        Raises:
            FileNotFoundError: no such file.
            ValueError: not a model file, or a field that does not fit (the message names the
                file and the field).
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(bytes(z["config"]).decode())
                arrays = {k: z[k] for k in z.files if k != "config"}
        except FileNotFoundError:
            raise
        except Exception as e:
            raise ValueError(f"{path}: not a glorot_ext model file ({e})") from e
        meta = _check_model_meta(path, meta, backend)
        sizes = meta["layer_sizes"]
        want: Dict[str, Tuple[int, ...]] = {}
        for l in range(len(sizes) - 1):
            want[f"W{l}"], want[f"b{l}"] = (sizes[l], sizes[l + 1]), (sizes[l + 1],)
        for key, shape in want.items():
            if key not in arrays:
                raise ValueError(f"{path}: model field {key!r} is missing")
            a = arrays[key]
            if a.shape != shape or a.dtype != np.dtype(meta["dtype"]):
                raise ValueError(
                    f"{path}: model field {key!r} is {a.dtype} {a.shape}, the config needs {meta['dtype']} {shape}"
                )
        if set(arrays) != set(want):
            raise ValueError(f"{path}: model has unexpected arrays {sorted(set(arrays) - set(want))}")
        layers = range(len(sizes) - 1)
        return cls.from_state_dict(
            {
                "config": meta,
                "n_updates": meta["n_updates"],
                "weights": [arrays[f"W{l}"] for l in layers],
                "biases": [arrays[f"b{l}"] for l in layers],
            },
            backend=backend,
        )

    @classmethod
    def from_state_dict(cls, state: Dict[str, Any], backend: Optional[str] = None) -> MLP:
        """A network built by the constructor from a ``state_dict()`` (its config, weights,
        biases, ``n_updates`` and, from a pickle, ``history``); ``backend`` overrides the saved one."""
        config = state["config"]
        net = cls(
            config["layer_sizes"],
            activation=list(config["activations"]),
            init="zeros",
            cost=config["cost"],
            dtype=config["dtype"],
            backend=backend or config.get("backend", "native"),
        )
        net.init_name = config.get("init", "custom")
        net.load_state_dict(state)
        if "history" in state:
            from glorot_ext.training import History

            net.history_ = History(**{k: list(v) for k, v in state["history"].items()})
        return net


def _check_model_meta(path: Any, meta: Any, backend: Optional[str]) -> Dict[str, Any]:
    """The config of a model file, each field checked; ValueError naming the file and field."""

    def bad(field: str, why: str) -> ValueError:
        return ValueError(f"{path}: model field {field!r} {why}")

    if not isinstance(meta, dict):
        raise bad("config", "must be a JSON object")
    if meta.get("format") != "glorot_ext.MLP/1":
        raise bad("format", f"must be 'glorot_ext.MLP/1', got {meta.get('format')!r}")
    for key in ("layer_sizes", "activations", "cost", "dtype", "n_updates"):
        if key not in meta:
            raise bad(key, "is missing")
    sizes = meta["layer_sizes"]
    if not (
        isinstance(sizes, list)
        and len(sizes) >= 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in sizes)
    ):
        raise bad("layer_sizes", f"must list at least 2 positive integers, got {sizes!r}")
    acts = meta["activations"]
    if not (isinstance(acts, list) and len(acts) == len(sizes) - 2):
        raise bad("activations", f"must list {len(sizes) - 2} names, got {acts!r}")
    for a in acts:
        try:
            _activations.get(a)
        except (ValueError, KeyError, TypeError) as e:
            raise bad("activations", f"has an unknown name {a!r}") from e
    if meta["cost"] not in _reference.COSTS:
        raise bad("cost", f"must be one of {sorted(_reference.COSTS)}, got {meta['cost']!r}")
    if meta["dtype"] not in ("float32", "float64"):
        raise bad("dtype", f"must be float32 or float64, got {meta['dtype']!r}")
    meta.setdefault("backend", "native")
    if meta["backend"] not in _BACKENDS:
        raise bad("backend", f"must be one of {_BACKENDS}, got {meta['backend']!r}")
    if backend is not None and backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
    n = meta["n_updates"]
    if not (isinstance(n, int) and not isinstance(n, bool) and n >= 0):
        raise bad("n_updates", f"must be an integer >= 0, got {n!r}")
    return meta
