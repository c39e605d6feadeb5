"""The activation functions the kernels know, with the facts the instruments need about each.

The math itself lives in the C++ kernels (and, for checking, in ``reference``); this registry
holds what the Python side reasons about: the output range (to define saturation), whether the
function is symmetric around 0 (the paper's argument against sigmoid), and f'(0).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ActivationInfo:
    """What the instruments need to know about an activation f."""

    name: str
    formula: str
    low: float  # lower asymptote of f (-inf if unbounded)
    high: float  # upper asymptote of f (+inf if unbounded)
    slope_at_zero: float  # f'(0)
    symmetric: bool  # f(-x) = -f(x)


ACTIVATIONS = {
    a.name: a
    for a in (
        ActivationInfo("identity", "s", float("-inf"), float("inf"), 1.0, True),
        ActivationInfo("sigmoid", "1/(1+exp(-s))", 0.0, 1.0, 0.25, False),
        ActivationInfo("tanh", "tanh(s)", -1.0, 1.0, 1.0, True),
        ActivationInfo("softsign", "s/(1+|s|)", -1.0, 1.0, 1.0, True),
        ActivationInfo("relu", "max(s, 0)", 0.0, float("inf"), 0.5, False),
        ActivationInfo("scaled_tanh", "1.7159·tanh(2s/3)", -1.7159, 1.7159, 1.7159 * 2 / 3, True),
    )
}


def get(name: str) -> ActivationInfo:
    """The ``ActivationInfo`` of an activation name; ValueError naming the valid ones otherwise."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}") from None
