"""Every native kernel against the NumPy reference, in float32 and float64."""

import numpy as np
import pytest
from helpers import assert_matches

from glorot_ext import _core, activations, reference as ref

DTYPES = [np.float32, np.float64]
ACTIVATIONS = list(activations.ACTIVATIONS)
SHAPES = [(1, 1, 1), (1, 7, 3), (10, 784, 1000), (3, 13, 33), (17, 64, 5), (33, 100, 257)]
# From 512 rows dense_forward splits its output over rows rather than columns (parallel.hpp).
FORWARD_SHAPES = SHAPES + [(601, 70, 129), (1000, 784, 1000)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch,fan_in,fan_out", FORWARD_SHAPES)
def test_dense_forward_matches_reference(rng, dtype, batch, fan_in, fan_out):
    X = rng.standard_normal((batch, fan_in)).astype(dtype)
    W = (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(dtype)
    b = rng.standard_normal(fan_out).astype(dtype)
    assert_matches(_core.dense_forward(X, W, b), ref.dense_forward(X, W, b))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch,fan_in,fan_out", SHAPES)
def test_dense_backward_matches_reference(rng, dtype, batch, fan_in, fan_out):
    X = rng.standard_normal((batch, fan_in)).astype(dtype)
    W = (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(dtype)
    dY = rng.standard_normal((batch, fan_out)).astype(dtype)
    for got, want in zip(_core.dense_backward(X, W, dY), ref.dense_backward(X, W, dY)):
        assert_matches(got, want, "grad")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_forward_matches_reference(rng, dtype, name):
    S = (rng.standard_normal((9, 131)) * 3).astype(dtype)
    assert_matches(_core.activation_forward(name, S), ref.activation_forward(name, S))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_backward_matches_reference(rng, dtype, name):
    S = (rng.standard_normal((9, 131)) * 3).astype(dtype)
    Z = ref.activation_forward(name, S)
    dZ = rng.standard_normal(S.shape).astype(dtype)
    assert_matches(_core.activation_backward(name, Z, dZ), ref.activation_backward(name, Z, dZ), "grad")


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_backward_is_the_derivative(rng, name):
    # Central differences of f at s, against the backward computed from z = f(s).
    s = rng.uniform(-3, 3, size=(4, 50))
    s = s[np.abs(s) > 1e-3].reshape(1, -1)  # relu's kink
    h = 1e-6
    numeric = (ref.activation_forward(name, s + h) - ref.activation_forward(name, s - h)) / (2 * h)
    z = _core.activation_forward(name, s)
    analytic = _core.activation_backward(name, z, np.ones_like(s))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_stay_finite_at_extreme_inputs(dtype, name):
    tiny = np.nextafter(dtype(0), dtype(1))
    S = np.array(
        [[1e5, -1e5, np.inf, -np.inf, 0.0, -0.0, tiny, -tiny, np.finfo(dtype).max, np.finfo(dtype).min]], dtype=dtype
    )
    Z = _core.activation_forward(name, S)
    dS = _core.activation_backward(name, Z, np.ones_like(S))
    if name in ("identity", "relu"):  # unbounded: ±inf in gives ±inf out, but never NaN
        assert not np.isnan(Z).any() and not np.isnan(dS).any()
    else:
        assert np.isfinite(Z).all() and np.isfinite(dS).all()
    expected = ref.activation_forward(name, S)
    np.testing.assert_allclose(Z, expected, rtol=1e-6, atol=1e-30)


def test_float64_tanh_is_within_a_few_ulp_of_numpy_everywhere():
    # float64 tanh runs in SIMD packets (activations.hpp: a series below |x| = 0.3, exp above);
    # every magnitude, both sides of the switch, and row lengths that leave every tail length.
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(-r, r, 4000)
            for r in (1e-300, 1e-12, 1e-4, 0.01, 0.2, 0.3, 0.31, 0.7, 1.0, 2.0, 5.0, 10.0, 19.0, 25.0, 400.0)
        ]
        + [np.nextafter(0.3, [0.0, 1.0]), np.nextafter(-0.3, [0.0, -1.0]), [0.3, -0.3, 0.0, -0.0, np.inf, -np.inf]]
    )
    for cols in (1, 3, 7, 8, 9, 15, 17):
        n = x.size // cols * cols
        got = _core.activation_forward("tanh", x[:n].reshape(-1, cols)).ravel()
        np.testing.assert_array_max_ulp(got, np.tanh(x[:n]), maxulp=4)
        assert np.array_equal(np.signbit(got), np.signbit(x[:n]))
    assert np.isnan(_core.activation_forward("tanh", np.array([[np.nan, 1.0]]))[0, 0])


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "scaled_tanh"])
def test_float64_activation_does_not_depend_on_the_arrays_address(name):
    # A value gives the same bits wherever it sits: the packet loop has no scalar peel.
    x = np.random.default_rng(1).uniform(-3, 3, 200)
    want = _core.activation_forward(name, x.reshape(1, -1)).ravel()
    for shift in range(1, 8):
        buf = np.empty(x.size + shift)
        moved = buf[shift:]
        moved[:] = x
        assert np.array_equal(_core.activation_forward(name, moved.reshape(1, -1)).ravel(), want)


def test_saturating_activations_reach_their_asymptotes():
    S = np.array([[np.inf, -np.inf, 1e5, -1e5]])
    np.testing.assert_array_equal(_core.activation_forward("softsign", S)[0, :2], [1.0, -1.0])
    np.testing.assert_array_equal(_core.activation_forward("sigmoid", S)[0], [1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(_core.activation_forward("tanh", S)[0], [1.0, -1.0, 1.0, -1.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cost", ["softmax_nll", "quadratic_cost"])
@pytest.mark.parametrize("batch,classes", [(1, 2), (10, 10), (7, 9), (64, 3)])
def test_softmax_costs_match_reference(rng, dtype, cost, batch, classes):
    S = (rng.standard_normal((batch, classes)) * 4).astype(dtype)
    y = rng.integers(0, classes, batch)
    loss, errors, P, dS = getattr(_core, cost)(S, y)
    rloss, rerrors, rP, rdS = getattr(ref, cost)(S, y)
    assert loss == pytest.approx(rloss, rel=1e-5 if dtype == np.float32 else 1e-12)
    assert errors == rerrors
    assert_matches(P, rP)
    assert_matches(dS, rdS, "grad")


def test_softmax_nll_is_stable_for_huge_logits():
    S = np.array([[1e4, 0.0, -1e4], [-1e30, 1e30, 0.0]])
    y = np.array([1, 0])
    loss, errors, P, dS = _core.softmax_nll(S, y)
    assert np.isfinite(loss) and np.isfinite(P).all() and np.isfinite(dS).all()
    assert loss == pytest.approx((1e4 + 2e30) / 2)
    assert errors == 2


@pytest.mark.parametrize("cost", ["softmax_nll", "quadratic_cost"])
def test_softmax_cost_gradient_matches_central_differences(rng, cost):
    S = rng.standard_normal((5, 7))
    y = rng.integers(0, 7, 5)
    _, _, _, dS = getattr(_core, cost)(S, y)
    h = 1e-6
    numeric = np.zeros_like(S)
    for idx in np.ndindex(*S.shape):
        Sp, Sm = S.copy(), S.copy()
        Sp[idx] += h
        Sm[idx] -= h
        numeric[idx] = (getattr(_core, cost)(Sp, y)[0] - getattr(_core, cost)(Sm, y)[0]) / (2 * h)
    np.testing.assert_allclose(dS, numeric, rtol=1e-6, atol=1e-9)
