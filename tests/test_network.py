"""The MLP end to end: gradients, SGD steps, agreement with the reference, persistence, learning."""

import math

import numpy as np
import pytest

import glorot_ext as ge
from glorot_ext import activations, reference as ref

ACTIVATIONS = list(activations.ACTIVATIONS)


def _pair(sizes, activation, dtype, cost="nll", seed=0):
    """A native MLP and a reference MLP with identical initial weights."""
    kw = dict(activation=activation, init="normalized", cost=cost, dtype=dtype)
    net = ge.MLP(sizes, rng=np.random.default_rng(seed), **kw)
    oracle = ge.MLP(sizes, rng=np.random.default_rng(seed), backend="reference", **kw)
    return net, oracle


@pytest.mark.parametrize("cost", list(ref.COSTS))
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_network_gradients_match_central_differences(rng, activation, cost):
    net = ge.MLP([5, 4, 6, 3], activation=activation, cost=cost, dtype=np.float64, rng=rng)
    for b in net.biases:  # nonzero biases so their gradients are checked too
        b[:] = rng.normal(0, 0.3, b.shape)
    X = rng.normal(size=(7, 5))
    y = rng.integers(0, 3, 7)
    g = net.gradients(X, y)
    assert g["loss"] == pytest.approx(net.loss(X, y), rel=1e-12)
    h = 1e-6
    for params, grads in ((net.weights, g["dW"]), (net.biases, g["db"])):
        for P, G in zip(params, grads):
            numeric = np.zeros_like(P)
            for idx in np.ndindex(*P.shape):
                old = P[idx]
                P[idx] = old + h
                up = net.loss(X, y)
                P[idx] = old - h
                down = net.loss(X, y)
                P[idx] = old
                numeric[idx] = (up - down) / (2 * h)
            np.testing.assert_allclose(G, numeric, rtol=1e-5, atol=1e-8)


def test_one_sgd_step_worked_by_hand():
    # 2-2-2 identity network with identity weights, x = (1, 0), y = 0, lr = 1:
    # s2 = (1, 0), P = (e, 1)/(e + 1), dC/ds2 = P - (1, 0) = (-q, q) with q = 1/(e + 1);
    # dW2 = z1ᵀ·dC/ds2 = [[-q, q], [0, 0]]; dC/ds1 = dC/ds2·W2ᵀ = (-q, q); dW1 = xᵀ·dC/ds1 = dW2.
    net = ge.MLP([2, 2, 2], activation="identity", init="zeros", dtype=np.float64)
    for W in net.weights:
        W[:] = np.eye(2)
    loss, errors = net.sgd_step(np.array([[1.0, 0.0]]), np.array([0]), lr=1.0)
    q = 1 / (math.e + 1)
    assert loss == pytest.approx(-math.log(math.e / (math.e + 1)), rel=1e-14)
    for W, b in zip(net.weights, net.biases):
        np.testing.assert_allclose(W, [[1 + q, -q], [0, 1]], rtol=1e-14)
        np.testing.assert_allclose(b, [q, -q], rtol=1e-14)
    assert net.n_updates == 1
    assert errors == 0


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-9), (np.float32, 2e-3)])
@pytest.mark.parametrize("cost", list(ref.COSTS))
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softsign", "relu"])
def test_many_train_steps_match_the_reference(rng, dtype, rtol, cost, activation):
    net, oracle = _pair([20, 33, 17, 5], activation, dtype, cost)
    for step in range(60):
        batch = (1, 3, 10, 17)[step % 4]
        X = rng.normal(size=(batch, 20)).astype(dtype)
        y = rng.integers(0, 5, batch)
        assert net.sgd_step(X, y, 0.05)[0] == pytest.approx(oracle.sgd_step(X, y, 0.05)[0], rel=rtol, abs=1e-6)
    for a, b in zip(net.weights + net.biases, oracle.weights + oracle.biases):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_paper_sized_step_matches_the_reference(rng, dtype):
    net, oracle = _pair([784, 1000, 1000, 1000, 10], "tanh", dtype)
    X = rng.random((10, 784)).astype(dtype)
    y = rng.integers(0, 10, 10)
    for _ in range(3):
        assert net.sgd_step(X, y, 0.01)[0] == pytest.approx(oracle.sgd_step(X, y, 0.01)[0], rel=1e-4)
    for a, b in zip(net.weights, oracle.weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6 if dtype == np.float32 else 1e-12)


def test_forward_gradients_and_predictions_agree_with_the_reference(rng):
    net, oracle = _pair([12, 9, 8, 4], "softsign", np.float64)
    X = rng.normal(size=(300, 12))
    y = rng.integers(0, 4, 300)
    for got, want in zip(net.forward(X, hidden=True), oracle.forward(X, hidden=True)):
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    g, r = net.gradients(X, y), oracle.gradients(X, y)
    for key in ("delta", "dW", "db"):
        for a, b in zip(g[key], r[key]):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(net.predict_proba(X), oracle.predict_proba(X), rtol=1e-12)
    np.testing.assert_allclose(net.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(net.predict(X), oracle.predict(X))
    assert net.error_rate(X, y) == oracle.error_rate(X, y)
    assert net.loss(X, y) == pytest.approx(oracle.loss(X, y), rel=1e-12)
    assert net.error_rate(X, y) == np.mean(net.predict(X) != y)


def test_evaluation_in_chunks_equals_one_pass(rng):
    net = ge.MLP([6, 5, 3], dtype=np.float64, rng=rng)
    X = rng.normal(size=(1000, 6))  # more rows than one native chunk
    y = rng.integers(0, 3, 1000)
    P = net.predict_proba(X)
    assert net.loss(X, y) == pytest.approx(float(np.mean(-np.log(P[np.arange(1000), y]))), rel=1e-12)


def test_biases_start_at_zero_and_weights_follow_the_chosen_init(rng):
    net = ge.MLP([784, 1000, 10], init="standard", rng=rng)
    assert all(not b.any() for b in net.biases)
    assert np.abs(net.weights[0]).max() <= 1 / math.sqrt(784)
    assert net.weights[0].dtype == np.float32


def test_per_layer_activations_are_used_in_order(rng):
    net = ge.MLP([4, 6, 6, 3], activation=["relu", "sigmoid"], dtype=np.float64, rng=rng)
    pre, post = net.forward(rng.normal(size=(5, 4)), hidden=True)
    np.testing.assert_allclose(post[0], np.maximum(pre[0], 0))
    np.testing.assert_allclose(post[1], 1 / (1 + np.exp(-pre[1])), rtol=1e-12)


def test_save_and_load_round_trip_the_model(rng, tmp_path):
    net = ge.MLP([8, 7, 3], activation="softsign", init="standard", rng=rng)
    X = rng.random((10, 8), dtype=np.float32)
    y = rng.integers(0, 3, 10)
    net.sgd_step(X, y, 0.1)
    net.save(tmp_path / "model.npz")
    back = ge.MLP.load(tmp_path / "model.npz")
    assert back.config() == net.config()
    assert back.n_updates == 1
    np.testing.assert_array_equal(back.predict_proba(X), net.predict_proba(X))
    assert not list(tmp_path.glob("*.tmp"))


def test_loading_a_file_that_is_not_a_model_names_it(tmp_path):
    bad = tmp_path / "junk.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="junk.npz: not a glorot_ext model file"):
        ge.MLP.load(bad)


def test_state_dict_restores_an_earlier_state_exactly(rng):
    net = ge.MLP([5, 4, 2], dtype=np.float64, rng=rng)
    X, y = rng.normal(size=(10, 5)), rng.integers(0, 2, 10)
    saved = net.state_dict()
    after = [net.sgd_step(X, y, 0.5)[0] for _ in range(3)]
    net.load_state_dict(saved)
    assert net.n_updates == 0
    assert [net.sgd_step(X, y, 0.5)[0] for _ in range(3)] == after


def _blobs(rng, n, dim=20, classes=4):
    centers = rng.normal(0, 1, size=(classes, dim)) * 2
    y = rng.integers(0, classes, n)
    X = (centers[y] + rng.normal(0, 1, size=(n, dim))).astype(np.float32)
    return X, y


def test_a_deep_tanh_net_learns_a_separable_problem(rng):
    X, y = _blobs(rng, 3000)
    Xv, yv = X[2000:], y[2000:]
    net = ge.MLP([20, 64, 64, 64, 64, 64, 4], activation="tanh", init="normalized", rng=rng)
    before = net.error_rate(Xv, yv)
    history = net.fit(X[:2000], y[:2000], epochs=5, lr=0.05, validation=(Xv, yv), rng=rng)
    assert before > 0.4
    assert history.val_error[-1] < 0.03
    assert history.train_loss[-1] < history.train_loss[0]
    assert len(history.n_updates) == 5 and history.n_updates[-1] == 5 * 200


def test_fit_stream_trains_on_an_endless_source(rng):
    X, y = _blobs(rng, 1000)

    def batches():
        while True:
            idx = rng.integers(0, 1000, 10)
            yield X[idx], y[idx]

    net = ge.MLP([20, 32, 32, 4], rng=rng)
    history = net.fit_stream(batches(), 600, 0.05, eval_every=200, validation=(X, y))
    assert history.n_updates == [200, 400, 600]
    assert history.val_error[-1] < 0.05


def test_callbacks_see_every_step_in_order(rng):
    seen = []

    class Spy(ge.Callback):
        def on_train_begin(self, net):
            seen.append(("begin", net.n_updates))

        def on_step_end(self, net, loss):
            seen.append(("step", net.n_updates))

        def on_train_end(self, net):
            seen.append(("end", net.n_updates))

    net = ge.MLP([3, 4, 2], rng=rng)
    X, y = rng.random((25, 3), dtype=np.float32), rng.integers(0, 2, 25)
    net.fit(X, y, epochs=1, lr=0.1, batch_size=10, callbacks=[Spy()])
    assert seen == [("begin", 0), ("step", 1), ("step", 2), ("step", 3), ("end", 3)]


def test_repr_names_the_architecture(rng):
    assert repr(ge.MLP([3, 4, 2], activation="softsign", init="standard", rng=rng)) == (
        "MLP([3, 4, 2], activation='softsign', init='standard', cost='nll', dtype=float32, n_updates=0)"
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weights_start_on_a_cache_line_and_are_still_the_networks_own(dtype, tmp_path):
    import pickle

    net = ge.MLP([784, 1000, 10], dtype=dtype, rng=0)
    net.save(tmp_path / "m.npz")
    for m in (net, ge.MLP.load(tmp_path / "m.npz"), pickle.loads(pickle.dumps(net))):
        for a in m.weights + m.biases:
            assert a.ctypes.data % 64 == 0 and a.flags.c_contiguous and a.flags.writeable
    X = np.random.default_rng(1).random((10, 784)).astype(dtype)
    before = net.weights[0].copy()
    net.sgd_step(X, np.arange(10), 0.1)
    assert not np.array_equal(before, net.weights[0])  # the native step wrote into these arrays
