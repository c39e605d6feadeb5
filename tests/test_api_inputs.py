"""The public API converts array-likes once (scikit-learn's rule), pickles, and speaks scikit-learn."""

import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest

import glorot_ext as ge


@pytest.fixture
def data(rng):
    X = rng.random((40, 6), dtype=np.float32)
    y = rng.integers(0, 3, 40)
    return X, y


class _ArrayLike:
    """What pandas gives: an object with ``__array__``, not an ndarray."""

    def __init__(self, a):
        self._a = a

    def __array__(self, dtype=None, copy=None):
        return self._a if dtype is None else self._a.astype(dtype)


@pytest.mark.parametrize(
    "convert",
    [
        lambda X: X.tolist(),
        lambda X: X.astype(np.float64),
        lambda X: np.asfortranarray(X),
        lambda X: _ArrayLike(X),
        lambda X: np.repeat(X, 2, axis=1)[:, ::2],  # a strided view
    ],
)
def test_array_likes_give_the_same_step_as_the_exact_array(data, convert):
    X, y = data
    a = ge.MLP([6, 5, 3], rng=0)
    b = ge.MLP([6, 5, 3], rng=0)
    assert a.sgd_step(X, y, 0.1)[0] == pytest.approx(b.sgd_step(convert(X), y.tolist(), 0.1)[0], rel=1e-6)
    for Wa, Wb in zip(a.weights, b.weights):
        np.testing.assert_allclose(Wa, Wb, rtol=1e-6)
    np.testing.assert_allclose(a.predict_proba(convert(X)), a.predict_proba(X), rtol=1e-6)


def test_the_exact_array_is_used_without_a_copy(data):
    from glorot_ext.network import _inputs

    X, _ = data
    assert _inputs(X, np.dtype(np.float32), "t") is X
    assert _inputs(X.astype(np.float64), np.dtype(np.float32), "t").dtype == np.float32


def test_core_stays_strict(data):
    X, y = data
    net = ge.MLP([6, 5, 3], rng=0)
    with pytest.raises(TypeError, match="X must be float32.*got float64"):
        net._net.sgd_step(X.astype(np.float64), y, 0.1)
    with pytest.raises(TypeError, match="X must be a numpy.ndarray, got list"):
        net._net.sgd_step(X.tolist(), y, 0.1)


@pytest.mark.parametrize(
    "X,err,message",
    [
        (np.array([["a"] * 6] * 2), TypeError, r"X must hold real numbers, got dtype <U1; .*X.astype\(np.float32\)"),
        (np.zeros(6, np.float32), ValueError, r"X must be 2-D \(n_examples, n_inputs\), got shape \(6,\); .*reshape"),
        (np.zeros((2, 6), np.complex64), TypeError, "X must hold real numbers, got dtype complex64"),
    ],
)
def test_unconvertible_inputs_name_the_fix(X, err, message):
    with pytest.raises(err, match=message):
        ge.MLP([6, 5, 3], rng=0).predict(X)


def test_float_labels_name_the_fix(data):
    X, y = data
    with pytest.raises(TypeError, match=r"y must hold integer class labels, got dtype float64; .*y.astype\(np.int64\)"):
        ge.MLP([6, 5, 3], rng=0).sgd_step(X, y.astype(np.float64), 0.1)[0]


def test_a_string_learning_rate_is_a_clean_type_error(data):
    X, y = data
    net = ge.MLP([6, 5, 3], rng=0)
    with pytest.raises(TypeError) as e:
        net.sgd_step(X, y, "0.01")
    assert str(e.value) == "sgd_step: lr must be a number, got str '0.01'; pass float(lr)"
    with pytest.raises((TypeError, ValueError), match="lr must be"):
        net.fit(X, y, epochs=1, lr="0.01")


def test_a_string_learning_rate_from_a_script_prints_no_pybind_signature():
    code = (
        "import numpy as np, glorot_ext as ge\n"
        "ge.MLP([3, 2, 2], rng=0).sgd_step(np.zeros((2, 3), np.float32), np.array([0, 1]), '0.01')\n"
    )
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stderr
    assert "TypeError: sgd_step: lr must be a number" in err
    assert "incompatible function arguments" not in err and "array(" not in err


def test_rng_may_be_an_int_seed_as_in_fit():
    a = ge.MLP([6, 5, 3], rng=7)
    b = ge.MLP([6, 5, 3], rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    with pytest.raises(TypeError, match="rng must be None, a non-negative int seed or a numpy.random.Generator"):
        ge.MLP([6, 5, 3], rng=np.random.RandomState(0))


# -- pickling (point 6) ---------------------------------------------------------------------------


@pytest.mark.parametrize("clone", [lambda n: pickle.loads(pickle.dumps(n)), copy.deepcopy])
def test_mlp_pickles_and_deep_copies_to_an_independent_equal_network(data, clone):
    X, y = data
    net = ge.MLP([6, 5, 4, 3], activation=["tanh", "softsign"], init="standard", dtype=np.float64, rng=0)
    net.fit(X, y, epochs=2, lr=0.1, rng=0)
    twin = clone(net)
    assert repr(twin) == repr(net) and twin.config() == net.config() and twin.n_updates == net.n_updates
    np.testing.assert_array_equal(twin.predict_proba(X), net.predict_proba(X))
    assert twin.loss_curve_ == net.loss_curve_
    twin.sgd_step(X[:10], y[:10], 0.1)  # the copy trains on its own buffers
    assert not np.array_equal(twin.weights[0], net.weights[0])
    assert twin.n_updates == net.n_updates + 1


def test_best_model_snapshot_by_deepcopy_keeps_the_old_weights(data):
    X, y = data
    net = ge.MLP([6, 5, 3], rng=0)
    best = copy.deepcopy(net)
    net.fit(X, y, epochs=1, lr=0.5, rng=0)
    assert best.n_updates == 0 and not np.array_equal(best.weights[0], net.weights[0])


# -- scikit-learn vocabulary (point 11) --------------------------------------------------------------


def test_score_is_accuracy(data):
    X, y = data
    net = ge.MLP([6, 5, 3], rng=0)
    assert net.score(X, y) == pytest.approx(np.mean(net.predict(X) == y))


def test_partial_fit_appends_one_epoch_and_fit_starts_the_curve_over(data):
    X, y = data
    net = ge.MLP([6, 5, 3], rng=0)
    with pytest.raises(AttributeError, match="loss_curve_ exists after fit or partial_fit"):
        _ = net.loss_curve_
    assert net.partial_fit(X, y, lr=0.1, rng=0, validation=(X, y)) is net
    net.partial_fit(X, y, lr=0.1, rng=1, validation=(X, y))
    assert net.n_iter_ == 2 and len(net.loss_curve_) == 2 and net.n_updates == 2 * 4
    assert net.validation_scores_[-1] == pytest.approx(net.score(X, y))
    net.fit(X, y, epochs=3, lr=0.1, rng=0)
    assert net.n_iter_ == 3 and net.validation_scores_ == []
