import numpy as np
import pytest

import glorot_ext as ge
from glorot_ext import stats
from glorot_ext.monitor import HISTOGRAMS, SCALARS, Monitor


def _small(rng, activation="tanh", init="normalized", sizes=(12, 9, 8, 7, 4)):
    net = ge.MLP(list(sizes), activation=activation, init=init, dtype=np.float64, rng=rng)
    X = rng.uniform(0, 1, (40, sizes[0]))
    y = rng.integers(0, sizes[-1], 40)
    return net, X, y


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_measure_matches_numpy_computed_directly_on_the_same_arrays(rng, activation):
    net, X, y = _small(rng, activation)
    mon = Monitor((X, y), jacobian_examples=5, weight_grad_batch=10)
    got = mon.measure(net)
    g = net.gradients(X, y)
    n = X.shape[0]
    for l in range(3):
        z, bp = g["post"][l], n * g["delta"][l]
        zin = X if l == 0 else g["post"][l - 1]
        assert got["scalars"]["act_mean"][l] == pytest.approx(z.mean(), abs=1e-14)
        assert got["scalars"]["act_std"][l] == pytest.approx(z.std(), rel=1e-12)
        assert got["scalars"]["act_p98"][l] == pytest.approx(np.percentile(z, 98), rel=1e-12)
        assert got["scalars"]["act_p2"][l] == pytest.approx(np.percentile(z, 2), rel=1e-12, abs=1e-15)
        assert got["scalars"]["bp_std"][l] == pytest.approx(bp.std(), rel=1e-12)
        dWs = np.stack([zin[i : i + 10].T @ bp[i : i + 10] / 10 for i in range(0, n, 10)])
        assert got["scalars"]["wg_std"][l] == pytest.approx(dWs.std(), rel=1e-9)
        assert got["scalars"]["wg_mean"][l] == pytest.approx(dWs.mean(), rel=1e-9, abs=1e-15)
        np.testing.assert_allclose(got["hists"]["wg"][0][l], stats.histogram(dWs, stats.GRADIENT_BINS), atol=1e-15)
        np.testing.assert_allclose(got["hists"]["bp"][0][l], stats.histogram(bp, stats.GRADIENT_BINS), atol=1e-15)
        d = stats.derivative(activation, z[:5])
        sv = np.stack([np.linalg.svd(stats.layer_jacobian(net.weights[l], di), compute_uv=False) for di in d])
        assert got["scalars"]["jac_mean"][l] == pytest.approx(sv.mean(), rel=1e-7)
        for name in HISTOGRAMS:
            assert got["hists"][name][0][l].sum() == pytest.approx(1.0)
    assert got["globals"]["probe_loss"] == pytest.approx(net.loss(X, y))
    assert set(got["scalars"]) == set(SCALARS)


def test_weight_gradients_of_the_probe_mean_when_no_minibatch_is_asked(rng):
    net, X, y = _small(rng)
    got = Monitor((X, y), weight_grad_batch=None, jacobian_examples=0).measure(net)
    g = net.gradients(X, y)
    assert got["scalars"]["wg_std"][1] == pytest.approx(g["dW"][1].std(), rel=1e-12)
    assert "jac" not in got["hists"] and "jac_mean" not in got["scalars"]


def test_monitor_measures_at_init_every_k_updates_and_at_the_end(rng):
    net, X, y = _small(rng)
    mon = Monitor((X, y), every=5, jacobian_examples=2, jacobian_every=2, validation=(X, y), test=(X[:20], y[:20]))
    batches = iter([(X[i % 4 * 10 : i % 4 * 10 + 10], y[i % 4 * 10 : i % 4 * 10 + 10]) for i in range(12)])
    net.fit_stream(batches, 12, 0.1, callbacks=[mon])
    rec = mon.record
    assert rec.steps == [0, 5, 10, 12]
    assert rec.scalar("act_std").shape == (4, 3)
    jac = rec.scalar("jac_mean")
    assert np.all(np.isfinite(jac[[0, 2]])) and np.all(np.isnan(jac[[1, 3]]))
    assert rec.global_("val_error")[-1] == pytest.approx(net.error_rate(X, y))
    assert rec.global_("test_loss")[-1] == pytest.approx(net.loss(X[:20], y[:20]))
    assert np.isnan(rec.global_("train_loss")[0]) and np.all(np.isfinite(rec.global_("train_loss")[1:]))
    assert rec.meta["config"] == net.config()
    assert rec.meta["monitor"]["every"] == 5


def test_a_resumed_run_does_not_measure_the_same_step_twice(rng):
    net, X, y = _small(rng)
    mon = Monitor((X, y), every=3, jacobian_examples=0)
    batches = [(X[:10], y[:10])] * 6
    net.fit_stream(iter(batches[:3]), 3, 0.1, callbacks=[mon])
    net.fit_stream(iter(batches[3:]), 3, 0.1, callbacks=[mon])
    assert mon.record.steps == [0, 3, 6]


def test_monitor_refuses_a_different_network_and_bad_settings(rng):
    net, X, y = _small(rng)
    mon = Monitor((X, y), jacobian_examples=0)
    mon.measure(net)
    other = ge.MLP([12, 5, 4], rng=rng, dtype=np.float64)
    with pytest.raises(ValueError, match="recorded a"):
        mon.measure(other)
    with pytest.raises(ValueError, match="every"):
        Monitor((X, y), every=0)
    with pytest.raises(ValueError, match="weight_grad_batch"):
        Monitor((X, y), weight_grad_batch=1000)
    with pytest.raises(ValueError, match="probe"):
        Monitor((X, y[:3]))


@pytest.fixture(scope="module")
def deep_tanh_at_init():
    """The paper's 5x1000 tanh net at init under both inits, measured on 300 pixel-like inputs."""
    rng = np.random.default_rng(2010)
    X = rng.uniform(0.0, 1.0, (300, 784)).astype(np.float32)
    y = rng.integers(0, 10, 300)
    out = {}
    for init in ("standard", "normalized"):
        net = ge.MLP([784] + [1000] * 5 + [10], activation="tanh", init=init, rng=np.random.default_rng(1))
        out[init] = Monitor((X, y), jacobian_examples=2, histograms=False).measure(net)["scalars"]
    return out


def test_standard_init_back_propagated_gradients_shrink_toward_the_input(deep_tanh_at_init):
    bp = deep_tanh_at_init["standard"]["bp_std"]
    assert np.all(np.diff(bp) > 0)
    assert bp[-1] / bp[0] > 5


def test_normalized_init_back_propagated_gradients_stay_roughly_constant(deep_tanh_at_init):
    bp = deep_tanh_at_init["normalized"]["bp_std"]
    assert bp.max() / bp.min() < 2
    std = deep_tanh_at_init["standard"]["bp_std"]
    assert bp.max() / bp.min() < (std.max() / std.min()) / 4


@pytest.mark.parametrize("init", ["standard", "normalized"])
def test_weight_gradient_std_is_roughly_equal_across_layers(deep_tanh_at_init, init):
    wg = deep_tanh_at_init[init]["wg_std"]
    assert wg.max() / wg.min() < 1.35


def test_mean_jacobian_singular_value_is_about_half_standard_and_point_eight_normalized(deep_tanh_at_init):
    np.testing.assert_allclose(deep_tanh_at_init["standard"]["jac_mean"][1:], 0.49, atol=0.06)
    np.testing.assert_allclose(deep_tanh_at_init["normalized"]["jac_mean"][1:], 0.78, atol=0.08)


def test_a_monitor_on_a_run_trained_in_chunks_measures_only_on_schedule(rng):
    net = ge.MLP([8, 12, 12, 3], activation="tanh", rng=rng)
    X = rng.standard_normal((20, 8)).astype(np.float32)
    y = rng.integers(0, 3, 20)
    mon = ge.Monitor((X, y), every=50, jacobian_examples=0, measure_at_end=False)
    batches = iter(lambda: (X[:10], y[:10]), None)
    for _ in range(6):  # as experiments.run trains: chunks of 20 updates, one fit_stream each
        net.fit_stream(batches, 20, 0.01, callbacks=[mon])
    assert list(mon.record.steps) == [0, 50, 100]
