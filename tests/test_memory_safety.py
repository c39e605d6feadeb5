"""Memory safety at the native boundary: what the network points into, what it refuses, and
that a failed allocation leaves it exactly as it was."""

import gc
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import glorot_ext as ge
from glorot_ext import _core


def _params(sizes, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    weights = [(0.3 * rng.standard_normal((a, b))).astype(dtype) for a, b in zip(sizes, sizes[1:])]
    biases = [(0.1 * rng.standard_normal(b)).astype(dtype) for b in sizes[1:]]
    return weights, biases


def _batch(sizes, n=10, dtype=np.float32, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, sizes[0])).astype(dtype), rng.integers(0, sizes[-1], n)


def _misaligned(shape, dtype):
    """A C-contiguous, writeable view of `shape` one byte off its dtype's alignment."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
    a = np.frombuffer(bytearray(count * dtype.itemsize + 1), dtype, count=count, offset=1).reshape(shape)
    assert a.flags.c_contiguous and a.flags.writeable and not a.flags.aligned
    return a


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="caps the address space with RLIMIT_AS")
def test_a_failed_workspace_growth_leaves_the_network_exactly_as_it_was():
    # The address space is capped a little above what the process uses, so growing the
    # workspace to 100000 rows of 100000 units fails on any machine; the network must go on
    # exactly like an untouched twin, and the process must exit cleanly (no use after free).
    script = textwrap.dedent("""
        import resource, sys
        import numpy as np
        import glorot_ext as ge

        status = open("/proc/self/status").read()
        vm = int(status.split("VmSize:")[1].split()[0]) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (vm + 2**31, resource.getrlimit(resource.RLIMIT_AS)[1]))
        net, twin = (ge.MLP([1, 100000, 10], rng=np.random.default_rng(0)) for _ in range(2))
        X, y = np.ones((10, 1), np.float32), np.arange(10) % 10
        big = np.ones((100000, 1), np.float32)
        assert net.sgd_step(X, y, 0.1)[0] == twin.sgd_step(X, y, 0.1)[0]
        for call in (lambda: net.forward(big, hidden=True), lambda: net.sgd_step(big, np.zeros(100000, np.int64), 0.1)[0]):
            try:
                call()
            except MemoryError:
                pass
            else:
                sys.exit("no MemoryError")
        for n in (10, 3, 10):
            assert net.sgd_step(X[:n], y[:n], 0.1)[0] == twin.sgd_step(X[:n], y[:n], 0.1)[0]
        for a, b in zip(net.weights + net.biases, twin.weights + twin.biases):
            assert np.array_equal(a, b)
        print("intact")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "intact"


def test_the_network_owns_references_to_its_buffers_and_hands_out_a_tuple():
    sizes = [6, 9, 3]
    weights, biases = _params(sizes)
    twin = _core.Network(*(list(a.copy() for a in group) for group in _params(sizes)), ["tanh"], "nll")
    net = _core.Network(weights, biases, ["tanh"], "nll")
    assert isinstance(net.weights, tuple) and isinstance(net.biases, tuple)
    assert all(a is b for a, b in zip(net.weights + net.biases, weights + biases))
    with pytest.raises(TypeError):
        net.weights[0] = None
    weights.clear()  # the caller's lists (and its last references) go away
    biases.clear()
    gc.collect()
    X, y = _batch(sizes)
    for _ in range(3):
        assert net.sgd_step(X, y, 0.1) == twin.sgd_step(X, y, 0.1)
    for a, b in zip(net.weights + net.biases, twin.weights + twin.biases):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_input_sharing_memory_with_a_parameter_is_refused_before_any_update(dtype):
    sizes = [30, 30, 5]
    net = _core.Network(*_params(sizes, dtype), ["tanh"], "nll")
    net.biases[0][:] = 0  # valid labels when read as int64
    before = [a.copy() for a in net.weights + net.biases]
    _, y = _batch(sizes, dtype=dtype)
    with pytest.raises(ValueError, match=r"sgd_step: X shares memory with weights\[0\], which the step updates"):
        net.sgd_step(net.weights[0][:10], y, 0.1)
    with pytest.raises(ValueError, match=r"X shares memory with weights\[1\]"):
        net.sgd_step(net.weights[1].reshape(-1)[:30].reshape(1, 30), y[:1], 0.1)
    if dtype == np.float64:  # int64 labels laid over the float64 biases
        labels = net.biases[0].view(np.int64)
        with pytest.raises(ValueError, match=r"y shares memory with biases\[0\]"):
            net.sgd_step(net.weights[0][:10].copy(), labels[:10], 0.1)
    for a, b in zip(net.weights + net.biases, before):
        assert np.array_equal(a, b)
    # A copy is fine, and so is a neighbour in the same buffer that does not overlap.
    net.sgd_step(net.weights[0][:10].copy(), y, 0.1)
    buf = np.zeros(30 * 30 + 10 * 30, dtype)
    W0, X = buf[: 30 * 30].reshape(30, 30), buf[30 * 30 :].reshape(10, 30)
    _core.Network([W0, net.weights[1].copy()], [b.copy() for b in net.biases], ["tanh"], "nll").sgd_step(X, y, 0.1)


def test_the_public_api_refuses_aliasing_inputs_too(rng):
    net = ge.MLP([20, 20, 4], rng=rng)
    with pytest.raises(ValueError, match=r"X shares memory with weights\[0\]"):
        net.sgd_step(net.weights[0][:5], np.zeros(5, np.int64), 0.1)


def test_parameters_sharing_one_buffer_are_refused():
    W, b = _params([8, 8, 8])
    with pytest.raises(ValueError, match=r"weights\[0\] and weights\[1\] share memory"):
        _core.Network([W[0], W[0]], b, ["tanh"], "nll")
    with pytest.raises(ValueError, match=r"weights\[1\] and biases\[0\] share memory"):
        _core.Network(W, [W[1][0], b[1]], ["tanh"], "nll")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_misaligned_arrays_are_refused_with_a_clear_message(dtype):
    sizes = [6, 9, 3]
    weights, biases = _params(sizes, dtype)
    net = _core.Network(weights, biases, ["tanh"], "nll")
    X, y = _batch(sizes, dtype=dtype)
    size = np.dtype(dtype).itemsize
    Xm = _misaligned(X.shape, dtype)
    Xm[...] = X
    msg = rf"X is not aligned to {size} bytes .*numpy.array\(X\)"
    for call in (
        lambda: net.sgd_step(Xm, y, 0.1),
        lambda: net.predict_proba(Xm),
        lambda: net.evaluate(Xm, y),
        lambda: net.forward(Xm),
        lambda: net.gradients(Xm, y),
        lambda: _core.dense_forward(Xm, weights[0], biases[0]),
    ):
        with pytest.raises(ValueError, match=msg):
            call()
    ym = _misaligned(y.shape, np.int64)
    ym[...] = y
    with pytest.raises(ValueError, match="y is not aligned to 8 bytes"):
        net.sgd_step(X, ym, 0.1)
    Wm = _misaligned(weights[0].shape, dtype)
    with pytest.raises(ValueError, match=rf"Network: weights\[0\] is not aligned to {size} bytes"):
        _core.Network([Wm, weights[1]], biases, ["tanh"], "nll")
    # The aligned copy the message suggests works.
    assert net.sgd_step(np.array(Xm), y, 0.1) == _core.Network(*_params(sizes, dtype), ["tanh"], "nll").sgd_step(
        X, y, 0.1
    )
