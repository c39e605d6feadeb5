"""The fused small-batch SGD step against the NumPy reference, and its thread-count invariance.

``_core.Network.sgd_step`` runs the small-batch kernels (forward with the batch in registers,
backward fused with the in-place update, ∂C/∂W never stored) for batch <= ``_core.small_batch_max``
on builds with AVX-512F or AVX2+FMA (24 and 11), and the GEMM path otherwise; ``kernels="gemm"`` forces the GEMM path for
one network. Both must follow ``glorot_ext.reference.Network`` step after step.
"""

from pathlib import Path

import numpy as np
import pytest

import glorot_ext as ge
from glorot_ext import _core, activations, reference

ACTIVATIONS = list(activations.ACTIVATIONS)
COSTS = list(reference.COSTS)
# Odd sizes: masked vector tails, a single row tile, blocks that do not divide the layer.
ODD_SIZES = [13, 1001, 33, 7]
# Relative tolerance on every weight after the steps, scaled by the largest reference weight.
TOL = {np.float32: 3e-5, np.float64: 1e-11}


def _params(sizes, dtype, rng):
    weights = [(rng.uniform(-1, 1, (a, b)) * np.sqrt(6 / (a + b))).astype(dtype) for a, b in zip(sizes, sizes[1:])]
    biases = [(0.1 * rng.standard_normal(n)).astype(dtype) for n in sizes[1:]]
    return weights, biases


def _batches(sizes, batch, dtype, steps, seed):
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((batch, sizes[0])).astype(dtype), rng.integers(0, sizes[-1], batch)) for _ in range(steps)
    ]


def _train(net_cls, sizes, acts, cost, dtype, batches, lr, seed=5, **kwargs):
    weights, biases = _params(sizes, dtype, np.random.default_rng(seed))
    net = net_cls(weights, biases, acts, cost, **kwargs)
    losses = [net.sgd_step(X, y, lr) for X, y in batches]
    return weights, biases, losses


def _assert_follows_reference(sizes, batch, dtype, act="tanh", cost="nll", steps=4, lr=0.1, small=True):
    acts = [act] * (len(sizes) - 2)
    batches = _batches(sizes, batch, dtype, steps, seed=batch)
    kernels = "auto" if small else "gemm"
    W, b, losses = _train(_core.Network, sizes, acts, cost, dtype, batches, lr, kernels=kernels)
    W_ref, b_ref, losses_ref = _train(reference.Network, sizes, acts, cost, dtype, batches, lr)
    for got, want in zip(W + b, W_ref + b_ref):
        assert got.dtype == want.dtype and got.shape == want.shape
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL[dtype] * scale)
    for (loss, errors), (loss_ref, errors_ref) in zip(losses, losses_ref):
        assert loss == pytest.approx(loss_ref, rel=TOL[dtype] * 10)
        # A near-tie between two classes may flip the argmax under rounding; allow one.
        assert abs(int(errors) - int(errors_ref)) <= 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [1, 3, 10, 17, 32, 33, 100])
def test_step_follows_reference_for_every_batch_size(batch, dtype):
    _assert_follows_reference(ODD_SIZES, batch, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_small_batch_step_follows_reference_for_every_activation_and_cost(act, cost, dtype):
    _assert_follows_reference([21, 40, 17, 9], 10, dtype, act=act, cost=cost, steps=6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cost", COSTS)
def test_gemm_path_follows_reference_at_a_small_batch_when_forced(cost, dtype):
    _assert_follows_reference(ODD_SIZES, 10, dtype, cost=cost, small=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_both_sides_of_the_kernel_crossover_follow_reference(dtype):
    for batch in (_core.small_batch_max, _core.small_batch_max + 1):
        _assert_follows_reference([50, 1000, 10], batch, dtype, steps=2)


def test_paper_sized_layers_follow_reference_in_float32():
    _assert_follows_reference([784, 1000, 1000, 10], 10, np.float32, steps=3, lr=0.05)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_paper_sized_layers_follow_reference_at_a_large_batch(dtype):
    # batch 1000: the forward GEMMs split over the batch, two row blocks (parallel.hpp).
    _assert_follows_reference([784, 1000, 1000, 10], 1000, dtype, steps=2, lr=0.05, small=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("batch", "small"), [(1, True), (10, True), (33, True), (10, False), (100, True)])
def test_weights_are_bitwise_identical_for_one_and_two_threads(batch, small, dtype):
    if not _core.has_openmp:
        pytest.skip("serial build: one thread only, nothing to compare")
    sizes = [37, 1001, 130, 10]
    batches = _batches(sizes, batch, dtype, 5, seed=7)
    results = []
    for threads in (1, 2):
        with ge.num_threads(threads):
            W, b, losses = _train(
                _core.Network, sizes, ["tanh", "relu"], "nll", dtype, batches, 0.1, kernels="auto" if small else "gemm"
            )
        results.append((W + b, losses))
    for got, want in zip(results[0][0], results[1][0]):
        assert np.array_equal(got, want)
    assert results[0][1] == results[1][1]


def _at_offset(a, offset):
    """A copy of `a` whose data starts `offset` bytes past a 64-byte boundary."""
    raw = np.empty(a.nbytes + 128, np.uint8)
    start = (offset - raw.ctypes.data) % 64
    out = raw[start : start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    assert out.ctypes.data % 64 == offset
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [3, 10, 17])
def test_small_batch_step_does_not_depend_on_where_the_weights_start(batch, dtype):
    # The forward starts its column strips on a cache line when every row of W has the same
    # alignment (fan_out * itemsize a multiple of 64: 64 and 48 here in float64, 64 in float32),
    # so where the strips fall depends on the address; what each output sums must not.
    sizes = [37, 64, 48, 10]
    batches = _batches(sizes, batch, dtype, 3, seed=13)
    results = []
    for offset in (0, 16, 40):
        weights, biases = _params(sizes, dtype, np.random.default_rng(6))
        weights = [_at_offset(w, offset) for w in weights]
        net = _core.Network(weights, biases, ["tanh", "tanh"], "nll")
        losses = [net.sgd_step(X, y, 0.1) for X, y in batches]
        results.append((weights + biases, losses))
    for params, losses in results[1:]:
        assert losses == results[0][1]
        for got, want in zip(params, results[0][0]):
            assert np.array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_stay_exact_at_a_small_batch(dtype):
    sizes = [13, 33, 7]
    weights, biases = _params(sizes, dtype, np.random.default_rng(3))
    ((X, y),) = _batches(sizes, 10, dtype, 1, seed=3)
    got = _core.Network([w.copy() for w in weights], [c.copy() for c in biases], ["tanh"], "nll").gradients(X, y)
    want = reference.Network(weights, biases, ["tanh"], "nll").gradients(X, y)
    for key in ("dW", "db", "delta"):
        for g, w in zip(got[key], want[key]):
            np.testing.assert_allclose(g, w, rtol=0, atol=TOL[dtype] * max(1.0, float(np.abs(w).max())))


def test_small_batch_step_updates_weights_in_place_without_new_arrays():
    sizes = [13, 33, 7]
    weights, biases = _params(sizes, np.float32, np.random.default_rng(4))
    before = [w.copy() for w in weights]
    net = _core.Network(weights, biases, ["tanh"], "nll")
    ((X, y),) = _batches(sizes, 10, np.float32, 1, seed=4)
    net.sgd_step(X, y, 0.1)
    assert all(a is b for a, b in zip(net.weights, weights))
    assert all(not np.array_equal(w, w0) for w, w0 in zip(weights, before))


def _cpu_flags():
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return set()
    return next((set(line.split(":", 1)[1].split()) for line in lines if line.startswith("flags")), set())


def test_simd_builds_run_the_small_batch_kernels():
    flags = _cpu_flags()
    if _core.simd_path == "baseline" or (
        _core.simd_path == "native" and not ("avx512f" in flags or {"avx2", "fma"} <= flags)
    ):
        pytest.skip("the small-batch kernels need AVX-512F or AVX2+FMA; this build uses the GEMM path for every batch")
    assert _core.small_batch_kernels
    # Eigen's simd string names AVX512 but not AVX2; AVX2's 16 registers bound the batch to 11.
    assert _core.small_batch_max == (24 if "AVX512" in _core.simd else 11)
    if _core.simd_path != "native":
        assert ("AVX512" in _core.simd) == (_core.simd_path == "avx512")


def test_kernel_choice_belongs_to_each_network_and_leaks_to_no_other():
    sizes = [13, 33, 7]
    batches = _batches(sizes, 10, np.float32, 3, seed=11)
    alone = _train(_core.Network, sizes, ["tanh"], "nll", np.float32, batches, 0.1, kernels="gemm")
    auto_w, auto_b = _params(sizes, np.float32, np.random.default_rng(5))
    gemm_w, gemm_b = _params(sizes, np.float32, np.random.default_rng(5))
    auto = _core.Network(auto_w, auto_b, ["tanh"], "nll", kernels="auto")
    gemm = _core.Network(gemm_w, gemm_b, ["tanh"], "nll", kernels="gemm")
    assert (auto.kernels, gemm.kernels) == ("auto", "gemm")
    for net in (auto, gemm):
        net.set_profiling(True)
    for X, y in batches:  # interleaved: a global switch would make one follow the other
        auto.sgd_step(X, y, 0.1)
        gemm.sgd_step(X, y, 0.1)
    for got, want in zip(gemm_w + gemm_b, alone[0] + alone[1]):
        assert np.array_equal(got, want)
    # Per-phase timings come only from the small-batch kernels.
    assert gemm.phase_seconds() == []
    assert (len(auto.phase_seconds()) == 2 * 2 + 1) == _core.small_batch_kernels


def test_unknown_kernel_choice_is_a_value_error():
    weights, biases = _params([4, 3, 2], np.float32, np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown kernels 'fast'; expected 'auto' or 'gemm'"):
        _core.Network(weights, biases, ["tanh"], "nll", kernels="fast")


def test_mlp_passes_its_kernel_choice_to_the_native_network(rng):
    X, y = rng.standard_normal((10, 6)).astype(np.float32), rng.integers(0, 3, 10)
    nets = {k: ge.MLP([6, 20, 3], kernels=k, rng=np.random.default_rng(1)) for k in ("auto", "gemm")}
    ref = ge.MLP([6, 20, 3], backend="reference", rng=np.random.default_rng(1))
    for net in (*nets.values(), ref):
        net.sgd_step(X, y, 0.1)
    for k, net in nets.items():
        assert net._net.kernels == k
        for got, want in zip(net.weights, ref.weights):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="kernels must be one of"):
        ge.MLP([6, 20, 3], kernels="fast")


# -- the GEMM path (batches above the small-batch limit): block_gemm.hpp, OpenBLAS or Eigen ---------------
# Odd shapes: blocks that do not divide a layer, a layer narrower than one block, a 1-unit layer.
GEMM_SHAPES = [[29, 257, 3], [7, 1, 1025, 33, 2], [784, 250, 10], [63, 64, 2049, 5]]
# Batches from 512 rows split the forward GEMMs over the batch instead of the units (parallel.hpp).
GEMM_BATCHES = [25, 77, 301, 511, 512, 777]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sizes", GEMM_SHAPES, ids=lambda s: "-".join(map(str, s)))
@pytest.mark.parametrize("batch", GEMM_BATCHES)
def test_gemm_path_is_bitwise_identical_for_any_thread_count(batch, sizes, dtype):
    if not _core.has_openmp:
        pytest.skip("serial build: one thread only, nothing to compare")
    batches = _batches(sizes, batch, dtype, 3, seed=batch)
    acts = ["tanh"] * (len(sizes) - 2)
    results = []
    for threads in (1, 2, 3):  # 3: more threads than blocks
        with ge.num_threads(threads):
            W, b, losses = _train(_core.Network, sizes, acts, "nll", dtype, batches, 0.1)
            net = _core.Network([w.copy() for w in W], [c.copy() for c in b], acts, "nll")
            grads = net.gradients(*batches[0])
            P = net.predict_proba(batches[1][0])
        results.append((W + b + list(grads["dW"]) + list(grads["db"]) + [P], losses))
    for other in results[1:]:
        for got, want in zip(other[0], results[0][0]):
            assert np.array_equal(got, want)
        assert other[1] == results[0][1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sizes", GEMM_SHAPES, ids=lambda s: "-".join(map(str, s)))
@pytest.mark.parametrize("batch", [77, 777])  # column blocks, row blocks
def test_gemm_path_follows_reference_for_odd_shapes(batch, sizes, dtype):
    _assert_follows_reference(sizes, batch, dtype, steps=3, small=False)


def test_gemm_path_names_its_blas_and_loads_the_wheels_library():
    assert _core.gemm in ("openblas", "eigen") and ge.build_info()["gemm"] == _core.gemm
    if _core.gemm != "openblas":
        pytest.skip("built without scipy-openblas32: the GEMM path runs Eigen's GEMM")
    import os
    from pathlib import Path

    import scipy_openblas32

    # The rpath finds the wheel's library next to glorot_ext, not some other copy.
    maps = Path("/proc/self/maps").read_text()
    lib = os.path.realpath(os.path.join(scipy_openblas32.get_lib_dir(), "lib" + scipy_openblas32.get_library() + ".so"))
    assert lib in maps


@pytest.mark.skipif(not hasattr(__import__("ctypes").CDLL(None), "mallinfo2"), reason="needs glibc's mallinfo2")
@pytest.mark.parametrize(
    ("batch", "dtype"), [(10, np.float32), (100, np.float32), (300, np.float64), (600, np.float32)]
)
def test_a_warm_step_leaves_the_native_heap_as_it_was(batch, dtype):
    # A warm step allocates nothing that outlives it: glibc's heap (malloc arenas and mmapped
    # chunks, which Eigen's and OpenBLAS's buffers would come from) is the same after 10 more
    # steps as before them. (A malloc freed within the step is not visible here.)
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in (
                "arena",
                "ordblks",
                "smblks",
                "hblks",
                "hblkhd",
                "usmblks",
                "fsmblks",
                "uordblks",
                "fordblks",
                "keepcost",
            )
        ]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    sizes = [784, 1000, 1000, 10]
    weights, biases = _params(sizes, dtype, np.random.default_rng(0))
    net = _core.Network(weights, biases, ["tanh", "tanh"], "nll")
    ((X, y),) = _batches(sizes, batch, dtype, 1, seed=0)
    results = [None] * 10
    for _ in range(3):
        net.sgd_step(X, y, 0.01)
    before = libc.mallinfo2()
    for i in range(10):
        results[i] = net.sgd_step(X, y, 0.01)  # kept, so Python frees nothing in between
    after = libc.mallinfo2()
    assert (after.uordblks, after.hblks, after.hblkhd) == (before.uordblks, before.hblks, before.hblkhd)
