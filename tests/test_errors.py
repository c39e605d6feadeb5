"""Bad input raises a TypeError or ValueError naming the problem: never a crash or a silent copy."""

import numpy as np
import pytest

import glorot_ext as ge
from glorot_ext import _core


@pytest.fixture
def net(rng):
    return ge.MLP([6, 5, 3], dtype=np.float32, rng=rng)


@pytest.fixture
def batch(rng):
    return rng.random((4, 6), dtype=np.float32), np.array([0, 1, 2, 0])


# The native engine never converts (MLP converts array-likes once: see test_api_inputs.py).


def test_wrong_dtype_is_a_type_error_naming_both_dtypes(net, batch):
    X, y = batch
    with pytest.raises(TypeError, match="X must be float32.*got float64"):
        net._net.sgd_step(X.astype(np.float64), y, 0.1)
    with pytest.raises(TypeError, match="X must be float32 or float64, got int64"):
        net._net.sgd_step(X.astype(np.int64), y, 0.1)


def test_non_array_input_is_a_type_error(net, batch):
    with pytest.raises(TypeError, match="X must be a numpy.ndarray, got list"):
        net._net.sgd_step([[0.0] * 6] * 4, batch[1], 0.1)


def test_wrong_rank_or_width_is_a_value_error(net, batch):
    X, y = batch
    with pytest.raises(ValueError, match=r"X must be 2-D, got shape \(24,\)"):
        net._net.sgd_step(X.ravel(), y, 0.1)
    with pytest.raises(ValueError, match=r"X must be 2-D \(n_examples, n_inputs\), got shape \(24,\)"):
        net.sgd_step(X.ravel(), y, 0.1)
    with pytest.raises(ValueError, match="X has 5 columns but the network takes 6 inputs"):
        net.sgd_step(np.ascontiguousarray(X[:, :5]), y, 0.1)


def test_fortran_order_and_sliced_arrays_are_refused_not_copied_by_the_engine(net, batch):
    X, y = batch
    with pytest.raises(ValueError, match="X must be C-contiguous"):
        net._net.sgd_step(np.asfortranarray(X), y, 0.1)
    with pytest.raises(ValueError, match="X must be C-contiguous"):
        net._net.predict_proba(np.random.default_rng(0).random((8, 12), dtype=np.float32)[:, ::2])


def test_labels_out_of_range_or_of_the_wrong_kind_or_count(net, batch):
    X, _ = batch
    with pytest.raises(ValueError, match=r"label 3 at index 1 is outside \[0, 3\)"):
        net.sgd_step(X, np.array([0, 3, 1, 1]), 0.1)
    with pytest.raises(ValueError, match=r"label -1 at index 0"):
        net.sgd_step(X, np.array([-1, 0, 1, 1]), 0.1)
    with pytest.raises(TypeError, match="y must hold integer class labels, got dtype float64"):
        net.sgd_step(X, np.zeros(4), 0.1)
    with pytest.raises(ValueError, match="y has 3 labels but X has 4 rows"):
        net.sgd_step(X, np.array([0, 1, 2]), 0.1)


def test_int32_labels_are_accepted(net, batch):
    X, y = batch
    assert np.isfinite(net.sgd_step(X, y.astype(np.int32), 0.1)[0])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_x_is_refused_before_any_update(net, batch, bad):
    X, y = batch
    X = X.copy()
    X[2, 3] = bad
    before = [W.copy() for W in net.weights]
    with pytest.raises(ValueError, match="X contains NaN or infinite values"):
        net.sgd_step(X, y, 0.1)
    for a, b in zip(before, net.weights):
        np.testing.assert_array_equal(a, b)
    assert net.n_updates == 0


def test_empty_batch_is_a_value_error(net):
    with pytest.raises(ValueError, match="empty batch"):
        net.sgd_step(np.zeros((0, 6), np.float32), np.zeros(0, np.int64), 0.1)
    with pytest.raises(ValueError, match="empty"):
        net.evaluate(np.zeros((0, 6), np.float32), np.zeros(0, np.int64))


@pytest.mark.parametrize("lr", [0.0, -0.1, np.nan, np.inf])
def test_learning_rate_must_be_finite_and_positive(net, batch, lr):
    with pytest.raises(ValueError, match="learning rate must be a finite number > 0"):
        net.sgd_step(*batch, lr)


def test_read_only_weights_are_refused():
    W = np.zeros((3, 2), np.float32)
    W.flags.writeable = False
    with pytest.raises(ValueError, match=r"weights\[0\] must be writeable"):
        _core.Network([W], [np.zeros(2, np.float32)], [], "nll")


def test_core_network_checks_the_layer_chain():
    f = np.float32
    with pytest.raises(ValueError, match=r"weights\[1\] has 4 rows but layer 1 receives 3 inputs"):
        _core.Network([np.zeros((2, 3), f), np.zeros((4, 2), f)], [np.zeros(3, f), np.zeros(2, f)], ["tanh"])
    with pytest.raises(ValueError, match=r"biases\[0\] has 2 entries but weights\[0\] has 3 columns"):
        _core.Network([np.zeros((2, 3), f)], [np.zeros(2, f)], [])
    with pytest.raises(TypeError, match=r"biases\[0\] must be float32, got float64"):
        _core.Network([np.zeros((2, 3), f)], [np.zeros(3)], [])
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        _core.Network([np.zeros((2, 3), f), np.zeros((3, 2), f)], [np.zeros(3, f), np.zeros(2, f)], ["swish"])
    with pytest.raises(ValueError, match="unknown cost 'hinge'"):
        _core.Network([np.zeros((2, 3), f)], [np.zeros(3, f)], [], "hinge")


def test_core_kernels_name_the_mismatched_shapes(rng):
    X = rng.random((5, 4))
    with pytest.raises(ValueError, match="dense_forward: X has 4 columns but W has 3 rows"):
        _core.dense_forward(X, rng.random((3, 2)), rng.random(2))
    with pytest.raises(ValueError, match="dense_forward: b has 3 entries but W has 2 columns"):
        _core.dense_forward(X, rng.random((4, 2)), rng.random(3))
    with pytest.raises(TypeError, match="dense_forward: W must be float64, got float32"):
        _core.dense_forward(X, rng.random((4, 2), dtype=np.float32), rng.random(2))
    with pytest.raises(ValueError, match=r"dense_backward: dY has shape \(5, 3\) but X·W has shape \(5, 2\)"):
        _core.dense_backward(X, rng.random((4, 2)), rng.random((5, 3)))
    with pytest.raises(ValueError, match=r"activation_backward: Z has shape \(5, 4\) but dZ has shape \(4, 5\)"):
        _core.activation_backward("tanh", X, rng.random((4, 5)))
    with pytest.raises(ValueError, match="softmax_nll: label 4 at index 0 is outside"):
        _core.softmax_nll(X, np.array([4, 0, 0, 0, 0]))
    with pytest.raises(TypeError, match="y must be int64, got int32"):
        _core.softmax_nll(X, np.zeros(5, np.int32))
    with pytest.raises(ValueError, match="activation_forward: S must be C-contiguous"):
        _core.activation_forward("tanh", np.asfortranarray(X))


def test_mlp_constructor_rejects_bad_configurations():
    with pytest.raises(ValueError, match="layer_sizes must list at least 2 positive sizes"):
        ge.MLP([10])
    with pytest.raises(ValueError, match="2 hidden layers need 2 activations, got 1"):
        ge.MLP([3, 4, 4, 2], activation=["tanh"])
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        ge.MLP([3, 4, 2], activation="swish")
    with pytest.raises(ValueError, match="cost must be one of"):
        ge.MLP([3, 4, 2], cost="hinge")
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got float16"):
        ge.MLP([3, 4, 2], dtype=np.float16)
    with pytest.raises(ValueError, match="unknown initializer 'xavier'"):
        ge.MLP([3, 4, 2], init="xavier")


def test_training_loops_reject_bad_arguments(net, batch):
    X, y = batch
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        net.fit(X, y, epochs=1, lr=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        net.fit(X, y, epochs=1, lr=0.1, batch_size=0)
    with pytest.raises(ValueError, match="one label per row"):
        net.fit(X, y[:3], epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="n_updates must be an integer >= 0"):
        net.fit_stream(iter([]), -1, 0.1)


def test_set_num_threads_rejects_nonsense():
    with pytest.raises(ValueError, match="n must be a positive integer or None"):
        ge.set_num_threads(0)
    with pytest.raises(ValueError, match="n must be >= 0"):
        _core.set_num_threads(-2)
