import math

import numpy as np
import pytest

import glorot_ext as ge
from glorot_ext import theory


def _linear_network_moments(rng, sizes, weight_vars, var_x, var_out_grad, n=400):
    """Monte-Carlo second moments of a random linear network, with random top gradients."""
    Ws = [rng.normal(0.0, math.sqrt(v), (a, b)) for a, b, v in zip(sizes[:-1], sizes[1:], weight_vars)]
    z = [rng.normal(0.0, math.sqrt(var_x), (n, sizes[0]))]
    for W in Ws[:-1]:
        z.append(z[-1] @ W)
    deltas = [rng.normal(0.0, math.sqrt(var_out_grad), (n, sizes[-1]))]
    for W in Ws[:0:-1]:
        deltas.insert(0, deltas[0] @ W.T)
    ms = lambda a: np.mean(a * a)  # noqa: E731
    wg = [np.mean(np.sum(zi**2, 1) * np.sum(d**2, 1)) / (zi.shape[1] * d.shape[1]) for zi, d in zip(z, deltas)]
    return {
        "activation": np.array([ms(a) for a in z]),
        "backprop": np.array([ms(d) for d in deltas]),
        "weight_grad": np.array(wg),
    }


def test_predicted_variances_match_a_wide_random_linear_network_of_unequal_widths(rng):
    sizes = [300, 600, 400, 800, 500, 50]
    V = [1.3 / 300, 0.8 / 600, 1.1 / 400, 0.9 / 800, 1.2 / 500]
    p = theory.predicted_variances(sizes, V, var_x=2.0, var_out_grad=0.5)
    m = _linear_network_moments(rng, sizes, V, 2.0, 0.5)
    for q in ("activation", "backprop", "weight_grad"):
        np.testing.assert_allclose(m[q], p[q], rtol=0.08, err_msg=q)


def test_equal_widths_give_eq_13_and_eq_14():
    n, d, var_w = 1000, 5, 1.0 / 3000
    p = theory.predicted_variances([n] * (d + 2), [var_w] * (d + 1), var_x=0.7, var_out_grad=0.2)
    for i in range(d + 1):  # Eq. 13 with the consistent Var[∂C/∂s^d]
        assert p["backprop"][i] == pytest.approx((n * var_w) ** (d - i) * 0.2)
    np.testing.assert_allclose(p["weight_grad"], (n * var_w) ** d * 0.7 * 0.2)  # Eq. 14: same for all layers


def test_standard_init_shrinks_back_propagated_variance_by_a_third_per_layer():
    V = theory.weight_variances([1000] * 6, "standard")
    p = theory.predicted_variances([1000] * 6, V)
    np.testing.assert_allclose(p["backprop"][:-1] / p["backprop"][1:], 1 / 3)


def test_named_init_variances_match_the_sampled_weights(rng):
    for init in ("standard", "normalized", "glorot_normal", "he_uniform", "lecun_normal"):
        W = ge.init.get(init)(500, 700, rng=rng)
        assert np.var(W) == pytest.approx(theory.weight_variance(init, 500, 700), rel=0.02)
    with pytest.raises(ValueError, match="no variance formula"):
        theory.weight_variance("mystery", 3, 4)


def test_quarter_circle_mean_singular_value_matches_random_square_matrices(rng):
    n, var = 400, 1.0 / 400
    sv = np.linalg.svd(rng.normal(0, math.sqrt(var), (3, n, n)), compute_uv=False)
    assert theory.mean_singular_value(n, n, var) == pytest.approx(8 / (3 * math.pi))
    assert sv.mean() == pytest.approx(theory.mean_singular_value(n, n, var), rel=0.01)


def test_marchenko_pastur_mean_singular_value_matches_random_rectangular_matrices(rng):
    for n_out, n_in in [(200, 500), (600, 300)]:
        var = 0.7 / n_in
        sv = np.linalg.svd(rng.normal(0, math.sqrt(var), (3, n_out, n_in)), compute_uv=False)
        assert sv.mean() == pytest.approx(theory.mean_singular_value(n_out, n_in, var), rel=0.01)


def test_marchenko_pastur_density_is_normalized_with_unit_mean():
    for ratio in (0.1, 0.5, 1.0):
        assert theory.marchenko_pastur_mean(np.ones_like, ratio) == pytest.approx(1.0, abs=1e-6)
        assert theory.marchenko_pastur_mean(lambda x: x, ratio) == pytest.approx(1.0, abs=1e-6)


def test_predicted_jacobian_means_give_the_papers_half_versus_point_eight():
    sizes = [1000] * 7
    std = theory.predicted_jacobian_means(sizes, theory.weight_variances(sizes, "standard"))
    nrm = theory.predicted_jacobian_means(sizes, theory.weight_variances(sizes, "normalized"))
    np.testing.assert_allclose(std, 0.49, atol=0.005)
    np.testing.assert_allclose(nrm, 0.85, atol=0.005)


def test_compare_puts_measured_next_to_predicted_for_a_nearly_linear_network(rng):
    # identity units: the linear regime of Eq. 4 holds exactly, so only sampling error remains
    sizes = [400, 500, 500, 10]
    net = ge.MLP(sizes, activation="identity", init="standard", dtype=np.float64, rng=rng)
    X = rng.normal(0.0, 1.0, (300, 400))
    y = rng.integers(0, 10, 300)
    rows = theory.compare(net, X, y)
    assert {r["quantity"] for r in rows} == {"activation", "preactivation", "backprop", "weight_grad"}
    fwd = [r for r in rows if r["quantity"] == "activation"]
    assert len(fwd) == 3
    for r in fwd:
        assert r["ratio"] == pytest.approx(1.0, abs=0.1)
    assert "predicted" in theory.format_table(rows)
