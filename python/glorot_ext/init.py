"""Weight initializers: one ``variance_scaling`` and the named schemes as its specializations.

Every initializer is a function ``init(fan_in, fan_out, *, rng, dtype=np.float64)`` returning a
(fan_in, fan_out) array (the package's W convention). Randomness only comes from ``rng``, a
``numpy.random.Generator`` or an int seed: the same seed gives the same weights.

The two schemes of Glorot & Bengio (2010):

* ``standard_uniform`` (Eq. 1): W ~ U[-1/√fan_in, 1/√fan_in], Var[W] = 1/(3·fan_in), so
  fan_in·Var[W] = 1/3 (Eq. 15). This is also PyTorch's ``nn.Linear`` default
  (``kaiming_uniform_(a=√5)`` works out to the same bound).
* ``normalized_uniform`` (Eq. 16), alias ``glorot_uniform`` / ``xavier_uniform``:
  W ~ U[-√6/√(fan_in+fan_out), +√6/√(fan_in+fan_out)], Var[W] = 2/(fan_in+fan_out) (Eq. 12).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Dict, Literal, Optional, Protocol, Union, cast

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from glorot_ext import _validation, activations as _activations

#: Which fan divides the variance numerator in ``variance_scaling``.
Mode = Literal["fan_in", "fan_out", "fan_avg"]
#: The distribution ``variance_scaling`` draws from.
Distribution = Literal["uniform", "normal", "truncated_normal"]


class Initializer(Protocol):
    """``init(fan_in, fan_out, *, rng, dtype)``: a (fan_in, fan_out) array of ``dtype``."""

    def __call__(
        self, fan_in: int, fan_out: int, *, rng: Union[np.random.Generator, int], dtype: DTypeLike = ...
    ) -> NDArray[np.floating[Any]]: ...


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("uniform", "normal", "truncated_normal")
# Std of a standard normal truncated to [-2, 2]: dividing by it restores the wanted variance.
_TRUNCATED_STD = 0.87962566103423978


def _check_fans(fan_in: int, fan_out: int) -> None:
    for name, v in (("fan_in", fan_in), ("fan_out", fan_out)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")


def _check_dtype(dtype: DTypeLike) -> np.dtype[np.floating[Any]]:
    """A real floating dtype (float32, float64, ...); integer, complex, bool or object dtypes would
    truncate or mangle the draws, so they are a TypeError."""
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"dtype must be a floating-point dtype such as float32 or float64, got {dtype!r}") from e
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"dtype must be a floating-point dtype such as float32 or float64, got {dt}")
    return cast("np.dtype[np.floating[Any]]", dt)  # checked just above


def variance_scaling(scale: float = 1.0, mode: Mode = "fan_avg", distribution: Distribution = "uniform") -> Initializer:
    """Builds an initializer with Var[W] = scale / n.

    n is fan_in, fan_out or their mean (mode). "uniform" draws U[-√(3·scale/n), +√(3·scale/n)];
    "normal" draws N(0, scale/n); "truncated_normal" draws a normal truncated at two standard
    deviations, rescaled so the variance is still scale/n.

    Args:
        scale: the variance numerator (> 0).
        mode: "fan_in", "fan_out" or "fan_avg".
        distribution: "uniform", "normal" or "truncated_normal".

    Returns:
        A function ``init(fan_in, fan_out, *, rng, dtype=np.float64)``.

    Example:
        >>> init = variance_scaling(1.0, "fan_avg", "uniform")   # the paper's Eq. 16
        >>> init(784, 1000, rng=np.random.default_rng(0)).shape
        (784, 1000)
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if distribution not in _DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {_DISTRIBUTIONS}, got {distribution!r}")
    if not (isinstance(scale, (int, float)) and not isinstance(scale, bool) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")

    def init(
        fan_in: int, fan_out: int, *, rng: Union[np.random.Generator, int], dtype: DTypeLike = np.float64
    ) -> NDArray[np.floating[Any]]:
        _check_fans(fan_in, fan_out)
        rng = _validation.generator(rng, "init", allow_none=False)
        dtype = _check_dtype(dtype)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        var = scale / n
        shape = (fan_in, fan_out)
        if distribution == "uniform":
            bound = math.sqrt(3.0 * var)
            W = rng.uniform(-bound, bound, size=shape)
        elif distribution == "normal":
            W = rng.normal(0.0, math.sqrt(var), size=shape)
        else:
            W = rng.normal(size=shape)
            bad = np.abs(W) > 2
            while bad.any():  # redraw outside [-2, 2]; expected 4.6% of entries on the first pass
                W[bad] = rng.normal(size=int(bad.sum()))
                bad = np.abs(W) > 2
            W *= math.sqrt(var) / _TRUNCATED_STD
        return W.astype(dtype, copy=False)

    init.__doc__ = f"Var[W] = {scale}/{mode}, {distribution} (variance_scaling)."
    return init


def _named(name: str, scale: float, mode: Mode, distribution: Distribution, doc: str) -> Initializer:
    base = variance_scaling(scale, mode, distribution)

    @functools.wraps(base)
    def init(
        fan_in: int, fan_out: int, *, rng: Union[np.random.Generator, int], dtype: DTypeLike = np.float64
    ) -> NDArray[np.floating[Any]]:
        return base(fan_in, fan_out, rng=rng, dtype=dtype)

    init.__name__ = init.__qualname__ = name
    init.__doc__ = doc
    return init


standard_uniform = _named(
    "standard_uniform",
    1.0 / 3.0,
    "fan_in",
    "uniform",
    """The paper's "standard" init (Eq. 1): U[-1/√fan_in, 1/√fan_in], Var[W] = 1/(3·fan_in).

    Equals PyTorch's ``nn.Linear`` default weight init. Example:
        >>> W = standard_uniform(1000, 1000, rng=np.random.default_rng(0))
        >>> float(abs(W).max()) <= 1 / 1000 ** 0.5
        True
    """,
)
normalized_uniform = _named(
    "normalized_uniform",
    1.0,
    "fan_avg",
    "uniform",
    """The paper's "normalized" init (Eq. 16): U[±√6/√(fan_in+fan_out)], Var[W] = 2/(fan_in+fan_out).

    Keeps the variance of activations and of back-propagated gradients alike across layers.
    Aliases: ``glorot_uniform``, ``xavier_uniform``.
    """,
)
glorot_uniform = xavier_uniform = normalized_uniform
glorot_normal = _named("glorot_normal", 1.0, "fan_avg", "normal", "N(0, 2/(fan_in+fan_out)); alias ``xavier_normal``.")
xavier_normal = glorot_normal
he_uniform = _named("he_uniform", 2.0, "fan_in", "uniform", "U[±√(6/fan_in)], Var[W] = 2/fan_in (He et al. 2015).")
he_normal = _named("he_normal", 2.0, "fan_in", "normal", "N(0, 2/fan_in) (He et al. 2015).")
lecun_uniform = _named("lecun_uniform", 1.0, "fan_in", "uniform", "U[±√(3/fan_in)], Var[W] = 1/fan_in (LeCun 1998).")
lecun_normal = _named("lecun_normal", 1.0, "fan_in", "normal", "N(0, 1/fan_in) (LeCun 1998).")


def orthogonal(
    fan_in: int, fan_out: int, *, rng: Union[np.random.Generator, int], dtype: DTypeLike = np.float64, gain: float = 1.0
) -> NDArray[np.floating[Any]]:
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2014): all singular values = gain.

    From the QR decomposition of a Gaussian matrix, with the signs of R's diagonal folded into Q
    so the result is uniform over orthogonal matrices.
    """
    _check_fans(fan_in, fan_out)
    rng = _validation.generator(rng, "init", allow_none=False)
    dtype = _check_dtype(dtype)
    rows, cols = max(fan_in, fan_out), min(fan_in, fan_out)
    Q, R = np.linalg.qr(rng.normal(size=(rows, cols)))
    Q *= np.sign(np.diag(R))
    W = Q if fan_in >= fan_out else Q.T
    return (gain * W).astype(dtype, copy=False)


def zeros(
    fan_in: int, fan_out: int, *, rng: Union[np.random.Generator, int, None] = None, dtype: DTypeLike = np.float64
) -> NDArray[np.floating[Any]]:
    """All zeros (the paper's biases). ``rng`` is accepted and ignored."""
    _check_fans(fan_in, fan_out)
    return np.zeros((fan_in, fan_out), dtype=_check_dtype(dtype))


INITIALIZERS: Dict[str, Initializer] = {
    "standard": standard_uniform,
    "standard_uniform": standard_uniform,
    "normalized": normalized_uniform,
    "normalized_uniform": normalized_uniform,
    "glorot_uniform": glorot_uniform,
    "xavier_uniform": xavier_uniform,
    "glorot_normal": glorot_normal,
    "xavier_normal": xavier_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "lecun_uniform": lecun_uniform,
    "lecun_normal": lecun_normal,
    "orthogonal": orthogonal,
    "zeros": zeros,
}


def get(init: Union[str, Initializer]) -> Initializer:
    """An initializer from its name (see ``INITIALIZERS``) or a callable, returned as is."""
    if callable(init):
        return init
    try:
        return INITIALIZERS[init]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown initializer {init!r}; expected a callable or one of {sorted(INITIALIZERS)}"
        ) from None


# Gauss–Hermite nodes for E over s ~ N(0, 1): exact for polynomials of degree < 2·81.
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(81)
_GH_W = _GH_W / _GH_W.sum()


def estimate_gain(activation: Union[str, Callable[[NDArray[np.float64]], ArrayLike]]) -> float:
    """Gain g with g²·E[f(s)²] = 1 for s ~ N(0, 1): the factor on Var[W] that keeps the second
    moment of a layer's output equal to its input's (computed by Gauss–Hermite quadrature).

    Works for any activation name of ``glorot_ext.activations.ACTIVATIONS`` or any vectorized
    callable. It gives √2 for relu and 1 for identity exactly, 1.59 for tanh (PyTorch's
    heuristic says 5/3) and the softsign value that ``calculate_gain`` reports.
    """
    f = _activations.get(activation).forward if isinstance(activation, str) else activation
    second_moment = float(np.sum(_GH_W * np.asarray(f(_GH_X.copy()), dtype=np.float64) ** 2))
    if not second_moment > 0:
        raise ValueError("the activation is zero almost everywhere; no gain can restore the variance")
    return 1.0 / math.sqrt(second_moment)


def calculate_gain(nonlinearity: str, param: Optional[float] = None) -> float:
    """The recommended std multiplier for an activation, as ``torch.nn.init.calculate_gain``.

    The activations of ``glorot_ext.activations`` give their registry's gain: identity/sigmoid 1,
    tanh 5/3, relu √2, scaled_tanh 1; softsign has no conventional value anywhere, so it gets
    ``estimate_gain("softsign")``, the second-moment gain under a standard normal input. PyTorch's
    names of functions the kernels lack are accepted too: linear 1, selu 3/4, leaky_relu
    √(2/(1+a²)) (a = param, default 0.01).
    """
    if isinstance(nonlinearity, str) and nonlinearity in _activations.ACTIVATIONS:
        gain = _activations.ACTIVATIONS[nonlinearity].gain
        return estimate_gain(nonlinearity) if gain is None else gain
    if nonlinearity in _TORCH_ONLY_GAINS:
        return _TORCH_ONLY_GAINS[nonlinearity]
    if nonlinearity == "leaky_relu":
        a = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + a * a))
    raise ValueError(
        f"unknown nonlinearity {nonlinearity!r}; expected one of "
        f"{sorted([*_activations.ACTIVATIONS, *_TORCH_ONLY_GAINS, 'leaky_relu'])}"
    )


#: calculate_gain's values for PyTorch's names of functions that are not in the registry.
_TORCH_ONLY_GAINS = {"linear": 1.0, "selu": 0.75}
