"""The checks every public entry point makes of what it is given, in one place.

One rule per mistake, whichever module meets it: arrays (the kernels' exact array passes without a
copy, any other array-like is converted once), integer labels, a learning rate, a floating dtype
the kernels have, and one ``rng`` contract: a ``numpy.random.Generator`` or a non-negative int
seed (and None, a fresh unseeded Generator, where a default is documented). It imports nothing of
the package, so any module may use it.
"""

from __future__ import annotations

import math
from typing import Any, Union, cast

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

#: What ``rng=`` accepts: a Generator, a non-negative int seed, or None where the default is unseeded.
RngLike = Union[None, int, np.random.Generator]

#: The floating dtypes the kernels are built for.
KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class DtypeError(TypeError, ValueError):
    """A dtype the kernels do not have (they have float32 and float64).

    Both a TypeError and a ValueError, as scikit-learn's InvalidParameterError, so code written to
    either convention catches it."""


def kernel_dtype(dtype: DTypeLike, where: str = "") -> np.dtype[np.floating[Any]]:
    """float32 or float64 as an ``np.dtype``; anything else raises ``DtypeError``."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt not in KERNEL_DTYPES:  # (np.dtype compares equal to None: float64)
        shown = dtype if dt is None else dt
        raise DtypeError(f"{where}dtype must be float32 or float64, got {shown}")
    return cast("np.dtype[np.floating[Any]]", dt)  # checked just above


def labels(y: ArrayLike, fn: str) -> NDArray[np.int64]:
    """Labels as a 1-D int64 array: int64 arrays pass as they are; other integer arrays and
    sequences are converted once (a copy of n integers)."""
    if not (isinstance(y, np.ndarray) and y.dtype == np.int64):
        y = np.asarray(y)
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError(
                f"{fn}: y must hold integer class labels, got dtype {y.dtype}; "
                "if the values are whole numbers, pass y.astype(np.int64)"
            )
        y = y.astype(np.int64)
    return y


def inputs(X: ArrayLike, dtype: np.dtype[Any], fn: str) -> NDArray[Any]:
    """X as the C-contiguous 2-D array of the network's dtype the kernels need.

    The scikit-learn rule, applied once at the public API: an exact array (numpy.ndarray of
    the network's dtype, C-contiguous, 2-D) passes through without a copy; any other array-like
    (a list, a pandas DataFrame or anything with ``__array__``, another dtype, Fortran order, a
    strided view) is converted by ``np.ascontiguousarray(X, dtype)``, one copy. ``_core``
    itself never converts.
    """
    if type(X) is np.ndarray and X.dtype == dtype and X.ndim == 2 and X.flags.c_contiguous:
        return X
    try:
        A = np.asarray(X)
    except (TypeError, ValueError) as e:  # ragged lists and the like
        raise ValueError(f"{fn}: X must be an array-like of shape (n_examples, n_inputs): {e}") from None
    if A.dtype.kind not in "biuf":
        raise TypeError(
            f"{fn}: X must hold real numbers, got dtype {A.dtype}; convert it first, e.g. X.astype(np.{dtype.name})"
        )
    if A.ndim != 2:
        raise ValueError(
            f"{fn}: X must be 2-D (n_examples, n_inputs), got shape {A.shape}; one example is X.reshape(1, -1)"
        )
    return np.ascontiguousarray(A, dtype=dtype)


def learning_rate(lr: object, fn: str) -> float:
    """lr as a Python float, checked at the public API (the engine checks its value again):
    TypeError if it is not a real number (booleans included), ValueError unless finite and > 0."""
    if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fn}: lr must be a number, got {type(lr).__name__} {lr!r}; pass float(lr)")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"{fn}: lr must be a finite number > 0, got {lr!r}")
    return float(lr)


def _is_seed(rng: object) -> bool:
    return isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and bool(rng >= 0)


def check_rng(rng: object, fn: str, allow_none: bool = False) -> RngLike:
    """``rng`` itself if it keeps the contract, else a TypeError that names it."""
    if isinstance(rng, np.random.Generator) or _is_seed(rng) or (allow_none and rng is None):
        return cast(RngLike, rng)
    allowed = (
        "None, a non-negative int seed or a numpy.random.Generator"
        if allow_none
        else ("a non-negative int seed or a numpy.random.Generator")
    )
    raise TypeError(f"{fn}: rng must be {allowed}, got {rng!r}; e.g. rng=np.random.default_rng(0)")


def generator(rng: object, fn: str, allow_none: bool = True) -> np.random.Generator:
    """The Generator ``rng`` stands for: itself, ``default_rng(seed)``, or a fresh unseeded one for None."""
    checked = check_rng(rng, fn, allow_none)
    return checked if isinstance(checked, np.random.Generator) else np.random.default_rng(checked)


def seed(rng: object, fn: str) -> int:
    """One int seed from ``rng``: the seed itself, or one 63-bit draw from a Generator (which
    advances it, so the same Generator state gives the same seed)."""
    checked = check_rng(rng, fn)
    if isinstance(checked, np.random.Generator):
        return int(checked.integers(0, 2**63 - 1))
    return int(cast(int, checked))


__all__ = [
    "DtypeError",
    "KERNEL_DTYPES",
    "RngLike",
    "check_rng",
    "generator",
    "inputs",
    "kernel_dtype",
    "labels",
    "learning_rate",
    "seed",
]
