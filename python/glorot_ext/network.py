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
import tempfile
from pathlib import Path

import numpy as np

from glorot_ext import _core, activations as _activations, init as _init, reference as _reference

_DTYPES = {np.dtype(np.float32): np.float32, np.dtype(np.float64): np.float64}
_BACKENDS = ("native", "reference")
_KERNELS = ("auto", "gemm")


def _labels(y, fn):
    """Labels as int64 (any integer array converts; that copy is tiny and explicit)."""
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{fn}: y must be a numpy.ndarray of integer labels, got {type(y).__name__}")
    if y.dtype == np.int64:
        return y
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{fn}: y must hold integer class labels, got dtype {y.dtype}")
    return y.astype(np.int64)


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
        rng: numpy Generator for the initial weights; default a fresh unseeded one.
        backend: "native" (C++ kernels) or "reference" (the NumPy oracle, for comparison).
        kernels: native backend only: "auto" runs steps of batch <= ``_core.small_batch_max`` on
            the small-batch kernels where they are built, "gemm" always on Eigen's GEMM path.

    Example:
        >>> net = MLP([784, 1000, 1000, 10], activation="tanh", init="normalized",
        ...           rng=np.random.default_rng(0))
        >>> [W.shape for W in net.weights]
        [(784, 1000), (1000, 1000), (1000, 10)]
    """

    def __init__(self, layer_sizes, activation="tanh", init="normalized", bias_init="zeros", cost="nll",
                 dtype=np.float32, rng=None, backend="native", kernels="auto"):
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
        if np.dtype(dtype) not in _DTYPES:
            raise TypeError(f"dtype must be float32 or float64, got {np.dtype(dtype)}")
        if backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
        if kernels not in _KERNELS:
            raise ValueError(f"kernels must be one of {_KERNELS}, got {kernels!r}")
        rng = np.random.default_rng() if rng is None else rng
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
            weights.append(np.ascontiguousarray(w_init(fan_in, fan_out, rng=rng, dtype=self.dtype)))
            biases.append(np.ascontiguousarray(b_init(1, fan_out, rng=rng, dtype=self.dtype)[0]))
        self._bind(weights, biases)

    def _bind(self, weights, biases):
        for l, (W, b) in enumerate(zip(weights, biases)):
            want = (self.layer_sizes[l], self.layer_sizes[l + 1])
            if W.shape != want or b.shape != want[1:]:
                raise ValueError(f"layer {l}: W {W.shape} and b {b.shape} do not fit sizes {want}")
        self._weights = tuple(weights)
        self._biases = tuple(biases)
        if self.backend == "native":
            self._net = _core.Network(weights, biases, list(self.activations), self.cost, kernels=self.kernels)
        else:
            self._net = _reference.Network(list(weights), list(biases), list(self.activations), self.cost)

    @property
    def weights(self):
        """Tuple of the (fan_in, fan_out) weight arrays, updated in place by training."""
        return self._weights

    @property
    def biases(self):
        """Tuple of the (fan_out,) bias arrays, updated in place by training."""
        return self._biases

    @property
    def n_layers(self):
        return len(self._weights)

    @property
    def n_parameters(self):
        return sum(W.size + b.size for W, b in zip(self._weights, self._biases))

    def config(self):
        """Everything needed to rebuild the architecture (not the weights)."""
        return {"layer_sizes": list(self.layer_sizes), "activations": list(self.activations), "cost": self.cost,
                "dtype": self.dtype.name, "init": self.init_name, "backend": self.backend}

    def __repr__(self):
        acts = sorted(set(self.activations))
        act = acts[0] if len(acts) == 1 else list(self.activations)
        return (f"MLP({list(self.layer_sizes)}, activation={act!r}, init={self.init_name!r}, cost={self.cost!r}, "
                f"dtype={self.dtype.name}, n_updates={self.n_updates})")

    # -- training -------------------------------------------------------------------------

    def train_step(self, X, y, lr):
        """One SGD step on a minibatch, in one native call: forward, backward, in-place update.

        Args:
            X: (batch, n_inputs) array of the network's dtype, C-contiguous.
            y: (batch,) integer labels.
            lr: learning rate ε > 0; every parameter moves by -ε·(mean gradient over the batch).

        Returns:
            The mean cost of the batch before the update (float).
        """
        loss, errors = self._net.sgd_step(X, _labels(y, "train_step"), lr)
        self.n_updates += 1
        self.last_batch_errors = int(errors)
        return loss

    def fit(self, X, y, *, epochs, lr, batch_size=10, validation=None, rng=None, callbacks=(), progress=False):
        """Minibatch SGD over a finite set; see ``glorot_ext.training.fit``."""
        from glorot_ext.training import fit

        return fit(self, X, y, epochs=epochs, lr=lr, batch_size=batch_size, validation=validation, rng=rng,
                   callbacks=callbacks, progress=progress)

    def fit_stream(self, batch_source, n_updates, lr, **kwargs):
        """SGD on an endless source of minibatches; see ``glorot_ext.training.fit_stream``."""
        from glorot_ext.training import fit_stream

        return fit_stream(self, batch_source, n_updates, lr, **kwargs)

    # -- inference and inspection -----------------------------------------------------------

    def forward(self, X, hidden=False):
        """Runs the network on X.

        Returns:
            P, the (n, classes) softmax outputs; with ``hidden=True`` the tuple (pre, post) of
            per-layer lists: pre[l] = s_l, post[l] = z_{l+1} = f_l(s_l), post[-1] = P.
        """
        if not hidden:
            return self.predict_proba(X)
        pre, post = self._net.forward(X)
        return list(pre), list(post)

    def predict_proba(self, X):
        """(n, classes) class probabilities."""
        return self._net.predict_proba(X)

    def predict(self, X):
        """(n,) int64 predicted classes (argmax of the probabilities)."""
        return self.predict_proba(X).argmax(axis=1)

    def evaluate(self, X, y):
        """(mean cost, error rate) over a set, computed in chunks without Python loops."""
        y = _labels(y, "evaluate")
        loss, errors = self._net.evaluate(X, y)
        return float(loss), errors / y.shape[0]

    def loss(self, X, y):
        """Mean cost over (X, y)."""
        return self.evaluate(X, y)[0]

    def error_rate(self, X, y):
        """Fraction of misclassified examples in (X, y)."""
        return self.evaluate(X, y)[1]

    def gradients(self, X, y):
        """Everything a step computes, without updating the weights.

        Returns:
            dict with ``loss`` (mean cost), ``errors``, ``pre`` and ``post`` (as ``forward``),
            ``delta`` (∂C/∂s_l per layer, C the batch-mean cost, so per-example gradients are
            batch·delta), ``dW`` and ``db`` (∂C/∂W_l, ∂C/∂b_l).
        """
        return dict(self._net.gradients(X, _labels(y, "gradients")))

    # -- persistence --------------------------------------------------------------------------

    def state_dict(self):
        """The full training state: config, n_updates, copies of every weight and bias."""
        return {"config": self.config(), "n_updates": self.n_updates,
                "weights": [W.copy() for W in self._weights], "biases": [b.copy() for b in self._biases]}

    def load_state_dict(self, state):
        """Copies weights and biases from ``state`` into this network's arrays (in place)."""
        if list(state["config"]["layer_sizes"]) != list(self.layer_sizes):
            raise ValueError(f"state has layer sizes {state['config']['layer_sizes']}, network {list(self.layer_sizes)}")
        for dst, src in zip(self._weights + self._biases, list(state["weights"]) + list(state["biases"])):
            dst[...] = src
        self.n_updates = int(state["n_updates"])

    def save(self, path):
        """Writes config and weights to an .npz, atomically (a crash never leaves half a file)."""
        path = Path(path)
        arrays = {f"W{l}": W for l, W in enumerate(self._weights)}
        arrays.update({f"b{l}": b for l, b in enumerate(self._biases)})
        meta = dict(self.config(), n_updates=self.n_updates, format="glorot_ext.MLP/1")
        arrays["config"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path, backend=None):
        """Rebuilds a network saved by ``save``; ValueError if the file is not one."""
        path = Path(path)
        try:
            with np.load(path) as z:
                meta = json.loads(bytes(z["config"]).decode())
                n = len(meta["layer_sizes"]) - 1
                weights = [z[f"W{l}"] for l in range(n)]
                biases = [z[f"b{l}"] for l in range(n)]
        except FileNotFoundError:
            raise
        except Exception as e:
            raise ValueError(f"{path}: not a glorot_ext model file ({e})") from e
        net = cls.__new__(cls)
        net.layer_sizes = tuple(meta["layer_sizes"])
        net.activations = tuple(meta["activations"])
        net.cost = meta["cost"]
        net.dtype = np.dtype(meta["dtype"])
        net.backend = backend or meta.get("backend", "native")
        net.kernels = "auto"
        net.init_name = meta.get("init", "custom")
        net.n_updates = int(meta["n_updates"])
        net._bind([np.ascontiguousarray(W, dtype=net.dtype) for W in weights],
                  [np.ascontiguousarray(b, dtype=net.dtype) for b in biases])
        return net
