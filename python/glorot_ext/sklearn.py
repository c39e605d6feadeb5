"""A scikit-learn estimator over the fast engine: ``MLPClassifier`` trains a ``glorot_ext.MLP``.

Needs scikit-learn (``pip install 'glorot_ext[sklearn]'``); the package root never imports this
module, so ``import glorot_ext`` works without it.

    >>> from glorot_ext.sklearn import MLPClassifier
    >>> clf = MLPClassifier(hidden_layer_sizes=(100,), learning_rate_init=0.01, max_iter=10).fit(X, y)
    >>> clf.predict(X[:3]), clf.net_          # the labels as given; the engine underneath

The parameters keep scikit-learn's ``MLPClassifier`` names where the concept is the same. The
training is the paper's (Glorot & Bengio 2010, §2.3): plain minibatch SGD on the softmax negative
log-likelihood, no momentum, no L2 penalty, no early stopping: every ``fit`` runs ``max_iter``
epochs from a fresh initialization.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from glorot_ext import _validation
from glorot_ext.network import MLP
from glorot_ext.training import Callback

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # older: the estimator's own method does the same checks

    def _validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(*args, **kwargs)


#: scikit-learn's activation names that differ from ours for the same function.
_ACTIVATION_ALIASES = {"logistic": "sigmoid"}
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
MonitorLike = Union[None, Callback, Callable[[NDArray[Any], NDArray[np.int64]], Callback]]


class MLPClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A deep tanh/softsign/... classifier trained by plain minibatch SGD on the native engine.

    Args:
        hidden_layer_sizes: units per hidden layer, e.g. ``(1000,) * 5`` (the paper's networks).
        activation: one hidden activation for every layer: ``"tanh"``, ``"softsign"``, ``"sigmoid"``
            (also ``"logistic"``, scikit-learn's name), ``"relu"``, ``"identity"``, ``"scaled_tanh"``.
        init: initializer name, ``"normalized"`` (Eq. 16) or ``"standard"`` (Eq. 1) or any of
            ``glorot_ext.init.INITIALIZERS``; biases start at zero.
        learning_rate_init: the constant SGD learning rate ε.
        batch_size: examples per update (the paper: 10); a last partial batch is used too.
        max_iter: epochs per ``fit`` (always all of them: no early stopping).
        shuffle: reshuffle the examples every epoch.
        random_state: None, an int or a ``numpy.random.RandomState``: seeds the initial weights
            and the shuffling (an int makes ``fit`` repeatable).
        dtype: ``np.float32`` (fast) or ``np.float64``; X is converted to it once per call.
        monitor: None, a ``glorot_ext.Monitor`` (any ``Callback``) to watch training, or a factory
            ``monitor(X, y)`` called at each ``fit`` with the converted training data (y as indices
            into ``classes_``) that returns one: use a factory under ``clone``/``GridSearchCV``,
            which copy an instance. The one used is ``monitor_``.

    Attributes:
        classes_: the labels, sorted; the network's output k is ``classes_[k]``.
        n_features_in_: the number of input features (``feature_names_in_`` too for a DataFrame).
        net_: the trained ``glorot_ext.MLP``.
        n_iter_: epochs trained since the last ``fit`` (``partial_fit`` adds one per call).
        loss_curve_: mean training cost per epoch.
        coefs_, intercepts_: the weight (fan_in, fan_out) and bias arrays of ``net_``, live.
    """

    def __init__(
        self,
        hidden_layer_sizes: Union[int, Sequence[int]] = (100,),
        activation: str = "tanh",
        *,
        init: str = "normalized",
        learning_rate_init: float = 0.01,
        batch_size: int = 10,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Union[None, int, np.random.RandomState] = None,
        dtype: DTypeLike = np.float32,
        monitor: MonitorLike = None,
    ) -> None:
        # scikit-learn's rule: store the parameters as given, check them in fit
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.dtype = dtype
        self.monitor = monitor

    # -- training ---------------------------------------------------------------------------

    def fit(self, X: ArrayLike, y: ArrayLike) -> MLPClassifier:
        """Trains a fresh network for ``max_iter`` epochs on (X, y); y may hold any labels."""
        if not isinstance(self.max_iter, (int, np.integer)) or isinstance(self.max_iter, bool) or self.max_iter < 1:
            raise ValueError(f"MLPClassifier: max_iter must be an integer >= 1, got {self.max_iter!r}")
        X_, y_ = self._check_fit_data(X, y, reset=True)
        self.classes_, y_enc = np.unique(y_, return_inverse=True)
        self._start(X_.shape[1])
        self.net_.fit(
            X_,
            y_enc.astype(np.int64).reshape(-1),
            epochs=int(self.max_iter),
            lr=self.learning_rate_init,
            batch_size=self.batch_size,
            rng=self._shuffle_rng,
            shuffle=bool(self.shuffle),
            callbacks=self._callbacks(X_, y_enc),
        )
        return self

    def partial_fit(self, X: ArrayLike, y: ArrayLike, classes: Optional[ArrayLike] = None) -> MLPClassifier:
        """One epoch of SGD over (X, y), continuing from the current weights.

        Args:
            classes: every label the stream can hold; required on the first call (as in
                scikit-learn), since the output layer's size depends on it.
        """
        first = not hasattr(self, "classes_")
        if first and classes is None:
            raise ValueError("MLPClassifier.partial_fit: classes must be passed on the first call")
        X_, y_ = self._check_fit_data(X, y, reset=first)
        known = np.unique(np.asarray(classes)) if first else self.classes_
        if not first and classes is not None and not np.array_equal(np.unique(np.asarray(classes)), known):
            raise ValueError(
                f"MLPClassifier.partial_fit: classes={np.unique(np.asarray(classes)).tolist()} differs from "
                f"classes_={known.tolist()} of the earlier calls"
            )
        unknown = np.setdiff1d(y_, known)
        if unknown.size:  # checked before anything is set, so a refused first call leaves nothing fitted
            raise ValueError(
                f"MLPClassifier.partial_fit: y has labels {unknown.tolist()} not in classes_={known.tolist()}"
            )
        if first:
            self.classes_ = known
            self._start(X_.shape[1])
        y_enc = np.searchsorted(self.classes_, y_).astype(np.int64)
        self.net_.partial_fit(
            X_,
            y_enc,
            lr=self.learning_rate_init,
            batch_size=self.batch_size,
            rng=self._shuffle_rng,
            shuffle=bool(self.shuffle),
            callbacks=self._callbacks(X_, y_enc, fresh=first),
        )
        return self

    def _check_fit_data(self, X: ArrayLike, y: ArrayLike, reset: bool) -> Tuple[NDArray[Any], NDArray[Any]]:
        X_, y_ = _validate_data(self, X, y, reset=reset, dtype=self._dtype(), order="C")
        check_classification_targets(y_)
        return X_, y_

    def _dtype(self) -> np.dtype[Any]:
        try:
            dtype = np.dtype(self.dtype)
        except TypeError:
            dtype = None
        if dtype not in _DTYPES:
            raise _validation.DtypeError(f"MLPClassifier: dtype must be np.float32 or np.float64, got {self.dtype!r}")
        return dtype

    def _start(self, n_features: int) -> None:
        """A fresh network for n_features inputs and len(classes_) outputs, seeded from random_state."""
        sizes = self.hidden_layer_sizes  # an int is one layer, as in scikit-learn
        hidden: List[Any] = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in hidden):
            raise ValueError(
                f"MLPClassifier: hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}"
            )
        seeds = check_random_state(self.random_state).randint(0, 2**31 - 1, size=2)
        self.net_ = MLP(
            [n_features, *(int(n) for n in hidden), len(self.classes_)],
            activation=_ACTIVATION_ALIASES.get(self.activation, self.activation),
            init=self.init,
            dtype=self._dtype(),
            rng=np.random.default_rng(int(seeds[0])),
        )
        # one shuffling stream over fit's epochs and every later partial_fit call
        self._shuffle_rng = np.random.default_rng(int(seeds[1]))

    def _callbacks(self, X: NDArray[Any], y_enc: NDArray[Any], fresh: bool = True) -> List[Callback]:
        if self.monitor is None:
            return []
        if fresh or not hasattr(self, "monitor_"):
            if isinstance(self.monitor, Callback):
                self.monitor_ = self.monitor
            elif callable(self.monitor):
                made = self.monitor(X, np.asarray(y_enc, dtype=np.int64))
                if not isinstance(made, Callback):
                    raise TypeError(
                        f"MLPClassifier: the monitor factory must return a glorot_ext.Callback "
                        f"(e.g. a Monitor), got {type(made).__name__}"
                    )
                self.monitor_ = made
            else:
                raise TypeError(
                    f"MLPClassifier: monitor must be None, a glorot_ext.Monitor (Callback) or a factory "
                    f"monitor(X, y) returning one, got {type(self.monitor).__name__}"
                )
        return [self.monitor_]

    # -- prediction -------------------------------------------------------------------------

    def predict_proba(self, X: ArrayLike) -> NDArray[Any]:
        """(n, n_classes) class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "net_")
        X_ = _validate_data(self, X, reset=False, dtype=self._dtype(), order="C")
        return self.net_.predict_proba(X_)

    def predict_log_proba(self, X: ArrayLike) -> NDArray[Any]:
        """The log of ``predict_proba`` (-inf where a probability underflowed to 0)."""
        with np.errstate(divide="ignore"):
            out: NDArray[Any] = np.log(self.predict_proba(X))
        return out

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """(n,) predicted labels, taken from ``classes_``."""
        P = self.predict_proba(X)  # first: it raises NotFittedError before classes_ exists
        out: NDArray[Any] = self.classes_[P.argmax(axis=1)]
        return out

    # -- scikit-learn's fitted attributes, read from the engine -------------------------------

    @property
    def coefs_(self) -> List[NDArray[Any]]:
        return list(self._net("coefs_").weights)

    @property
    def intercepts_(self) -> List[NDArray[Any]]:
        return list(self._net("intercepts_").biases)

    @property
    def n_iter_(self) -> int:
        return self._net("n_iter_").n_iter_

    @property
    def loss_curve_(self) -> List[float]:
        return self._net("loss_curve_").loss_curve_

    def _net(self, name: str) -> MLP:
        try:
            return self.__dict__["net_"]  # type: ignore[no-any-return]
        except KeyError:
            raise AttributeError(f"MLPClassifier.{name} exists after fit or partial_fit") from None
