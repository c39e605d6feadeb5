"""Inputs that used to be silently accepted: boolean learning rates,
non-float initializer dtypes, and the thread count's reach."""

import threading

import numpy as np
import pytest

import glorot_ext
from glorot_ext import MLP, init


@pytest.fixture
def net_and_batch():
    net = MLP([4, 3, 2], rng=np.random.default_rng(0))
    return net, (np.ones((2, 4), np.float32), np.array([0, 1]))


@pytest.mark.parametrize("lr", [True, np.True_])
def test_a_boolean_learning_rate_is_refused_everywhere(net_and_batch, lr):
    net, (X, y) = net_and_batch
    with pytest.raises(TypeError, match="sgd_step: lr must be a number"):
        net.sgd_step(X, y, lr)
    with pytest.raises(TypeError, match="fit: lr must be a number"):
        net.fit(X, y, epochs=1, lr=lr)
    with pytest.raises(TypeError, match="fit_stream: lr must be a number"):
        net.fit_stream(iter([(X, y)]), 1, lr)
    assert net.n_updates == 0


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


def _count_in_a_new_thread():
    seen = []
    t = threading.Thread(target=lambda: seen.append(glorot_ext.get_num_threads()))
    t.start()
    t.join()
    return seen[0]


def test_set_num_threads_applies_to_the_calling_thread_as_documented():
    # Documented behaviour (OpenMP's per-thread setting): another thread keeps its own count.
    assert "calling Python thread" in glorot_ext.set_num_threads.__doc__
    default = _count_in_a_new_thread()
    before = glorot_ext.get_num_threads()
    try:
        glorot_ext.set_num_threads(1)
        assert glorot_ext.get_num_threads() == 1
        assert _count_in_a_new_thread() == default
    finally:
        glorot_ext.set_num_threads(before)
