"""Initializers: bounds, variances, seeds, and the paper's two schemes."""

import math

import numpy as np
import pytest

from glorot_ext import init

FAN_IN, FAN_OUT = 400, 600


@pytest.mark.parametrize(
    "name,variance",
    [
        ("standard_uniform", 1 / (3 * FAN_IN)),
        ("normalized_uniform", 2 / (FAN_IN + FAN_OUT)),
        ("glorot_uniform", 2 / (FAN_IN + FAN_OUT)),
        ("xavier_uniform", 2 / (FAN_IN + FAN_OUT)),
        ("glorot_normal", 2 / (FAN_IN + FAN_OUT)),
        ("he_uniform", 2 / FAN_IN),
        ("he_normal", 2 / FAN_IN),
        ("lecun_uniform", 1 / FAN_IN),
        ("lecun_normal", 1 / FAN_IN),
    ],
)
def test_named_initializers_have_the_documented_variance(rng, name, variance):
    W = init.INITIALIZERS[name](FAN_IN, FAN_OUT, rng=rng)
    assert W.shape == (FAN_IN, FAN_OUT)
    assert W.var() == pytest.approx(variance, rel=0.02)
    assert abs(W.mean()) < 4 * math.sqrt(variance / W.size)


def test_standard_init_is_bounded_by_one_over_sqrt_fan_in(rng):
    W = init.standard_uniform(1000, 1000, rng=rng)
    bound = 1 / math.sqrt(1000)
    assert np.abs(W).max() <= bound
    assert np.abs(W).max() > 0.99 * bound
    assert 1000 * W.var() == pytest.approx(1 / 3, rel=0.01)  # Eq. 15: n·Var[W] = 1/3


def test_normalized_init_is_bounded_by_the_papers_eq_16(rng):
    W = init.normalized_uniform(1024, 1000, rng=rng)
    bound = math.sqrt(6 / (1024 + 1000))
    assert bound == pytest.approx(0.0544, abs=1e-4)
    assert np.abs(W).max() <= bound
    assert np.abs(W).max() > 0.99 * bound


def test_truncated_normal_keeps_its_variance_and_its_two_sigma_bound(rng):
    W = init.variance_scaling(2.0, "fan_in", "truncated_normal")(FAN_IN, FAN_OUT, rng=rng)
    assert W.var() == pytest.approx(2 / FAN_IN, rel=0.02)
    assert np.abs(W).max() <= 2 * math.sqrt(2 / FAN_IN) / 0.87962566103423978 + 1e-12


def test_same_seed_gives_the_same_weights():
    a = init.normalized_uniform(30, 20, rng=np.random.default_rng(5))
    b = init.normalized_uniform(30, 20, rng=np.random.default_rng(5))
    c = init.normalized_uniform(30, 20, rng=np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initializers_return_the_requested_dtype(rng, dtype):
    for f in set(init.INITIALIZERS.values()):
        assert f(5, 3, rng=rng, dtype=dtype).dtype == dtype


@pytest.mark.parametrize("shape", [(50, 30), (30, 50), (40, 40)])
def test_orthogonal_has_all_singular_values_equal_to_the_gain(rng, shape):
    W = init.orthogonal(*shape, rng=rng, gain=1.5)
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), 1.5, rtol=1e-12)


def test_zeros_are_zeros(rng):
    assert not init.zeros(3, 4, rng=rng).any()


def test_bad_mode_distribution_and_scale_raise_value_errors():
    with pytest.raises(ValueError, match="mode must be one of.*'fan_sum'"):
        init.variance_scaling(1.0, "fan_sum")
    with pytest.raises(ValueError, match="distribution must be one of.*'cauchy'"):
        init.variance_scaling(1.0, "fan_in", "cauchy")
    with pytest.raises(ValueError, match="scale must be a finite number > 0"):
        init.variance_scaling(-1.0)


def test_bad_fans_and_missing_generator_raise(rng):
    with pytest.raises(ValueError, match="fan_in must be a positive integer"):
        init.normalized_uniform(0, 3, rng=rng)
    with pytest.raises(TypeError, match="rng must be a non-negative int seed or a numpy.random.Generator"):
        init.normalized_uniform(3, 3, rng=None)
    with pytest.raises(TypeError, match="got -1"):
        init.normalized_uniform(3, 3, rng=-1)


def test_an_int_seed_is_the_generator_it_seeds():
    """One rng contract across the package: a Generator or a non-negative int seed."""
    np.testing.assert_array_equal(
        init.normalized_uniform(5, 4, rng=7), init.normalized_uniform(5, 4, rng=np.random.default_rng(7))
    )


def test_unknown_initializer_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown initializer 'glorot'.*normalized"):
        init.get("glorot")


def test_calculate_gain_matches_pytorch_conventions_and_covers_softsign():
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    softsign = init.calculate_gain("softsign")
    assert softsign == pytest.approx(init.estimate_gain("softsign"))
    assert softsign > init.estimate_gain("tanh") > 1  # softsign is flatter: it needs more gain
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_estimate_gain_is_exact_for_identity_and_relu_and_matches_monte_carlo_for_tanh(rng):
    assert init.estimate_gain("identity") == pytest.approx(1.0, rel=1e-12)
    assert init.estimate_gain("relu") == pytest.approx(math.sqrt(2), rel=1e-9)
    s = rng.standard_normal(2_000_000)
    assert init.estimate_gain("tanh") == pytest.approx(1 / math.sqrt(np.mean(np.tanh(s) ** 2)), rel=2e-3)


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
@pytest.mark.parametrize("dtype", [np.int32, np.int64, object, bool, np.complex64, "U3"])
def test_initializers_refuse_dtypes_that_are_not_floating_point(name, dtype):
    with pytest.raises(TypeError, match="floating-point dtype"):
        init.get(name)(4, 3, rng=np.random.default_rng(0), dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initializers_keep_float_dtypes(dtype):
    assert init.normalized_uniform(4, 3, rng=np.random.default_rng(0), dtype=dtype).dtype == dtype
    assert init.zeros(4, 3, dtype=dtype).dtype == dtype


def test_boolean_fans_and_scales_are_refused():
    with pytest.raises(ValueError, match="fan_in"):
        init.normalized_uniform(True, 3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="scale"):
        init.variance_scaling(True)
