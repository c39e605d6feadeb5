"""The activation functions: one registry that the kernels' enum, the CLI, ``MLP``, the NumPy
oracle (``reference``), the initializers' gains, the instruments and the tests all read.

Each entry holds the function and its derivative in NumPy (the oracle the C++ kernels are checked
against; the derivative is written in terms of the forward output z = f(s), as the kernels take
it), its output range (which defines saturation and the histograms' bins), whether it is odd (the
paper's argument against the sigmoid, §3.1) and the std multiplier ``init.calculate_gain`` reports.
The C++ enum ``glorot::Activation`` accepts exactly these names (``_core.activation_names``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

import numpy as np
from numpy.typing import NDArray

#: A float32 or float64 array.
FloatArray = NDArray[np.floating[Any]]

#: LeCun et al. (1998b): 1.7159·tanh(2s/3), so that f(±1) = ±1.
SCALED_TANH_A = 1.7159
SCALED_TANH_B = 2.0 / 3.0


def _sigmoid(s: FloatArray) -> FloatArray:
    e = np.exp(-np.abs(s))  # never overflows
    return np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(s.dtype, copy=False)


def _softsign(s: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore"):  # inf/inf at ±inf; the limit is ±1
        z = s / (1 + np.abs(s))
    return np.where(np.isinf(s), np.sign(s), z).astype(s.dtype, copy=False)


@dataclass(frozen=True)
class ActivationInfo:
    """An activation f and what the package needs to know about it."""

    name: str
    forward: Callable[[FloatArray], FloatArray]  # z = f(s)
    derivative: Callable[[FloatArray], FloatArray]  # f'(s) from the forward output z
    low: float  # lower asymptote of f (-inf if unbounded)
    high: float  # upper asymptote of f (+inf if unbounded)
    symmetric: bool  # f(-s) = -f(s)
    gain: Optional[float]  # PyTorch's calculate_gain convention; None: init.estimate_gain


ACTIVATIONS: Dict[str, ActivationInfo] = {
    a.name: a
    for a in (
        ActivationInfo("identity", lambda s: s.copy(), lambda z: np.ones_like(z), -math.inf, math.inf, True, 1.0),
        ActivationInfo("sigmoid", _sigmoid, lambda z: z * (1 - z), 0.0, 1.0, False, 1.0),
        ActivationInfo("tanh", np.tanh, lambda z: 1 - z * z, -1.0, 1.0, True, 5.0 / 3.0),
        ActivationInfo("softsign", _softsign, lambda z: (1 - np.abs(z)) ** 2, -1.0, 1.0, True, None),
        ActivationInfo(
            "relu", lambda s: np.maximum(s, 0), lambda z: (z > 0).astype(z.dtype), 0.0, math.inf, False, math.sqrt(2.0)
        ),
        ActivationInfo(
            "scaled_tanh",
            lambda s: (SCALED_TANH_A * np.tanh(SCALED_TANH_B * s)).astype(s.dtype, copy=False),
            lambda z: (SCALED_TANH_B * (SCALED_TANH_A - z * z / SCALED_TANH_A)).astype(z.dtype, copy=False),
            -SCALED_TANH_A,
            SCALED_TANH_A,
            True,
            1.0,
        ),
    )
}


def get(name: str) -> ActivationInfo:
    """The ``ActivationInfo`` of an activation name; ValueError naming the valid ones otherwise."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}") from None
