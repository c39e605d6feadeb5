"""Results do not depend on the thread count: the work partition is fixed."""

import threading

import numpy as np
import pytest

import glorot_ext as ge
from glorot_ext import _core


def _train(threads, dtype, batch, rng_seed=3):
    rng = np.random.default_rng(rng_seed)
    with ge.num_threads(threads):
        net = ge.MLP([784, 1000, 1000, 10], activation="tanh", dtype=dtype, rng=rng)
        losses = []
        for _ in range(5):
            X = rng.random((batch, 784)).astype(dtype)
            y = rng.integers(0, 10, batch)
            losses.append(net.sgd_step(X, y, 0.05)[0])
        P = net.predict_proba(rng.random((300, 784)).astype(dtype))
    return losses, net.weights, net.biases, P


@pytest.mark.skipif(not _core.has_openmp, reason="serial build: one thread only")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [1, 10, 100])
def test_training_is_bitwise_identical_with_one_and_two_threads(dtype, batch):
    one = _train(1, dtype, batch)
    two = _train(2, dtype, batch)
    assert one[0] == two[0]
    for a, b in zip(one[1] + one[2], two[1] + two[2]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one[3], two[3])


@pytest.mark.skipif(not _core.has_openmp, reason="serial build: one thread only")
@pytest.mark.parametrize("batch", [37, 601])  # column blocks, row blocks of the output
def test_kernels_are_bitwise_identical_with_one_and_two_threads(rng, batch):
    X = rng.standard_normal((batch, 1001))
    W = rng.standard_normal((1001, 999))
    dY = rng.standard_normal((batch, 999))
    outs = []
    for t in (1, 2):
        with ge.num_threads(t):
            outs.append((_core.dense_forward(X, W, np.zeros(999)), *_core.dense_backward(X, W, dY)))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_num_threads_context_restores_the_previous_count():
    before = ge.get_num_threads()
    with ge.num_threads(1):
        assert ge.get_num_threads() == 1
    assert ge.get_num_threads() == before


@pytest.mark.skipif(not _core.has_openmp, reason="serial build: one thread only")
def test_thread_count_applies_to_the_python_thread_that_set_it():
    import threading

    def in_new_thread():
        seen = []
        t = threading.Thread(target=lambda: seen.append(_core.get_num_threads()))
        t.start()
        t.join()
        return seen[0]

    fresh = in_new_thread()
    with ge.num_threads(1):
        assert _core.get_num_threads() == 1
        assert in_new_thread() == fresh  # another thread keeps its own count


def _count_in_a_new_thread():
    seen = []
    t = threading.Thread(target=lambda: seen.append(ge.get_num_threads()))
    t.start()
    t.join()
    return seen[0]


def test_set_num_threads_applies_to_the_calling_thread_as_documented():
    # Documented behaviour (OpenMP's per-thread setting): another thread keeps its own count.
    assert "calling Python thread" in ge.set_num_threads.__doc__
    default = _count_in_a_new_thread()
    before = ge.get_num_threads()
    try:
        ge.set_num_threads(1)
        assert ge.get_num_threads() == 1
        assert _count_in_a_new_thread() == default
    finally:
        ge.set_num_threads(before)
