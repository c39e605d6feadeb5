"""The claims' per-example measurements agree with direct computation; groups and orders follow Table 1."""

import numpy as np
import pytest

import glorot_ext as ge
from glorot_ext import stats
from glorot_ext.experiments import claims, evidence as ev


@pytest.fixture
def small_net(rng):
    return ge.MLP([12, 16, 16, 16, 4], activation="tanh", init="standard", dtype=np.float64, rng=rng)


def test_layer_profile_matches_direct_computation(small_net, rng):
    X = rng.standard_normal((40, 12))
    y = rng.integers(0, 4, 40)
    prof = claims.layer_profile(small_net, X, y, jacobian_examples=3, weight_grad_batch=10)
    pre, post = small_net.forward(X, hidden=True)
    for l in range(3):
        np.testing.assert_allclose(prof["act_std"][:, l], post[l].std(axis=1))
        np.testing.assert_allclose(prof["act_mean"][:, l], post[l].mean(axis=1))
        np.testing.assert_allclose(prof["act_abs_p98"][:, l], np.percentile(np.abs(post[l]), 98, axis=1))
        # weight gradients of each minibatch of 10, formed explicitly
        for b in range(4):
            g = small_net.gradients(X[10 * b : 10 * b + 10], y[10 * b : 10 * b + 10])
            assert prof["wg_std"][b, l] == pytest.approx(g["dW"][l].std(), rel=1e-9)
        for k in range(3):
            sv = np.linalg.svd(stats.layer_jacobian(small_net.weights[l], 1 - post[l][k] ** 2), compute_uv=False)
            assert prof["jac_mean"][k, l] == pytest.approx(sv.mean(), rel=1e-7)
    # one example's gradient: the batch-mean delta times the batch size, equal to a batch of one
    g1 = small_net.gradients(X[:1], y[:1])
    assert prof["bp_std"][0, 0] == pytest.approx(g1["delta"][0].std(), rel=1e-9)


def test_paper_groups_tie_close_rows():
    labels = ["Softsign", "Softsign N", "Tanh", "Tanh N", "Sigmoid"]
    assert claims.paper_groups("shapeset", labels) == [["Sigmoid"], ["Tanh"], ["Softsign", "Softsign N", "Tanh N"]]
    groups = claims.paper_groups("mnist", labels)
    assert groups[0] == ["Sigmoid"] and sorted(groups[1]) == ["Softsign", "Softsign N", "Tanh", "Tanh N"]


def _outcome(label, error, n=4000, seed=0):
    correct = np.random.default_rng(seed).random(n) >= error
    return claims.RowOutcome(label, [correct])


def test_the_order_claim_passes_a_clear_order_and_fails_a_reversed_one():
    clear = {
        "Sigmoid": _outcome("Sigmoid", 0.83, seed=1),
        "Tanh": _outcome("Tanh", 0.40, seed=2),
        "Tanh N": _outcome("Tanh N", 0.20, seed=3),
        "Softsign": _outcome("Softsign", 0.21, seed=4),
    }
    c = claims.ordering_claim(clear, "shapeset")
    assert c.verdict == ev.PASS, c.details
    reversed_ = dict(clear, Tanh=_outcome("Tanh", 0.10, seed=2))
    assert claims.ordering_claim(reversed_, "shapeset").verdict == ev.FAIL


def test_the_order_claim_is_not_resolved_on_noise():
    same = {k: _outcome(k, 0.3, seed=i) for i, k in enumerate(["Sigmoid", "Tanh", "Tanh N"])}
    # independent draws at one error rate: no order the test could see
    assert claims.ordering_claim(same, "shapeset").verdict == ev.NOT_RESOLVED


def test_init_claims_on_a_small_tanh_net_show_the_standard_inits_shrinking_gradients(rng):
    X = rng.random((60, 64))
    y = rng.integers(0, 4, 60)
    prof = {}
    for label, init in (("Tanh", "standard"), ("Tanh N", "normalized")):
        net = ge.MLP([64] + [64] * 4 + [4], activation="tanh", init=init, rng=np.random.default_rng(1))
        prof[label] = [claims.layer_profile(net, X, y, jacobian_examples=10)]  # 5 could never reach p < 0.005
    by_id = {c.id: c for c in claims.init_claims(prof)}
    assert by_id["fig7_standard_shrinks"].verdict == ev.PASS
    assert by_id["fig6_standard_narrows"].verdict == ev.PASS
    assert by_id["jacobian_normalized_closer_to_1"].verdict == ev.PASS
    for c in by_id.values():
        assert c.verdict in (ev.PASS, ev.FAIL, ev.NOT_RESOLVED)
        assert 0.0 <= c.evidence.p_value <= 1.0


def test_init_claims_over_several_seeds_test_the_seeds_too(rng):
    X = rng.random((60, 64))
    y = rng.integers(0, 4, 60)
    prof = {}
    for label, init in (("Tanh", "standard"), ("Tanh N", "normalized")):
        nets = [
            ge.MLP([64] + [64] * 4 + [4], activation="tanh", init=init, rng=np.random.default_rng(s)) for s in range(4)
        ]
        prof[label] = [claims.layer_profile(net, X, y, jacobian_examples=10) for net in nets]
    by_id = {c.id: c for c in claims.init_claims(prof)}
    shrinks = by_id["fig7_standard_shrinks"].evidence
    assert shrinks.verdict == ev.PASS and shrinks.n == 4 * 60
    assert "over 4 seeds" in shrinks.statistic and "t-test over seeds" in shrinks.test
    closer = by_id["jacobian_normalized_closer_to_1"].evidence
    assert closer.verdict == ev.PASS and "over 4 seeds" in closer.statistic
