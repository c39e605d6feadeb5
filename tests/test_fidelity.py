"""The two settings that make our Figs. 6-8 at initialization comparable with the paper's:
the softmax layer's initialization and the Shapeset input scaling (docs/input_scaling.md)."""

import math

import numpy as np
import pytest

from glorot_ext.datasets import shapeset
from glorot_ext.experiments.single_run import RunConfig, _build


def _bound(W):
    return float(np.abs(W).max())


def test_the_softmax_layer_gets_the_normalized_bound_under_the_standard_init_by_default():
    net = _build(RunConfig(init="standard", depth=2, width=300))
    hidden, out = net.weights[1], net.weights[-1]
    assert _bound(hidden) <= 1 / math.sqrt(300) and _bound(hidden) > 0.95 / math.sqrt(300)
    normalized = math.sqrt(6 / (300 + 9))
    assert _bound(out) <= normalized and _bound(out) > 0.9 * normalized
    same = _build(RunConfig(init="standard", depth=2, width=300, softmax_init="same"))
    assert _bound(same.weights[-1]) <= 1 / math.sqrt(300)
    # Only the softmax layer differs.
    for a, b in zip(net.weights[:-1], same.weights[:-1]):
        assert np.array_equal(a, b)


def test_the_normalized_init_is_untouched_by_the_softmax_setting():
    a = _build(RunConfig(init="normalized", depth=2, width=50))
    b = _build(RunConfig(init="normalized", depth=2, width=50, softmax_init="same"))
    for x, y in zip(a.weights, b.weights):
        assert np.array_equal(x, y)


def test_an_unknown_softmax_init_is_a_value_error():
    with pytest.raises(ValueError, match="unknown initializer"):
        RunConfig(softmax_init="bogus")


def test_shapeset_input_scaling_defaults_to_the_named_setting():
    assert shapeset.DEFAULT_NEG is False
    X, _ = shapeset.generate(20, seed=3, dtype=np.float64)
    Xd, _ = shapeset.generate(20, seed=3, neg=shapeset.DEFAULT_NEG, dtype=np.float64)
    assert np.array_equal(X, Xd) and X.min() >= 0.0
    assert next(shapeset.ShapesetStream(5, seed=3))[0].min() >= 0.0
    Xn, _ = shapeset.generate(20, seed=3, neg=True, dtype=np.float64)
    assert np.array_equal(Xn, X * 2 - 1)
