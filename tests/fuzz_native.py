"""Property-based fuzzing of the native boundary, run by tests/test_fuzz.py in a subprocess (so a
crash, an abort or a sanitizer report fails the test instead of killing pytest).

    python tests/fuzz_native.py PROPERTY [MAX_EXAMPLES]

Arguments of random dtype, rank, shape, strides, byte offset and writeability, some of them views
of the network's own parameters and some through pickle or a read-only np.load memmap (an equal
dtype that is another object), go to ``_core`` and to the public ``MLP``. Every call must either
succeed with the reference's answer or raise TypeError/ValueError naming the problem, and a call
that raises must leave every parameter as it was.
"""

import atexit
import pickle
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import glorot_ext as ge
from glorot_ext import _core, reference

SIZES = [5, 7, 3]
DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.uint8, np.bool_, np.complex64]
LAYOUTS = ["c", "fortran", "strided", "offset", "readonly", "list", "pickled", "memmap"]
REFUSED = (TypeError, ValueError)
_MEMMAP_DIR = Path(tempfile.mkdtemp(prefix="glorot_fuzz_"))
atexit.register(shutil.rmtree, _MEMMAP_DIR, ignore_errors=True)
_memmaps = iter(range(10**9))


def _transported(a, how):
    """``a`` as pickle or np.load(mmap_mode="r") give it back (np.memmap cannot map 0 bytes)."""
    if how == "pickled":
        return pickle.loads(pickle.dumps(a))
    if how == "memmap" and a.size:
        path = _MEMMAP_DIR / f"{next(_memmaps)}.npy"
        np.save(path, a)
        return np.load(path, mmap_mode="r")
    return a


def _params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    weights = [(0.5 * rng.standard_normal((a, b))).astype(dtype) for a, b in zip(SIZES, SIZES[1:])]
    return weights, [(0.1 * rng.standard_normal(b)).astype(dtype) for b in SIZES[1:]]


@st.composite
def arrays(draw, shapes=None, dtypes=DTYPES, values=None):
    """An array of a random dtype, shape and memory layout (or a plain list)."""
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    shape = tuple(draw(shapes if shapes is not None else st.lists(st.integers(0, 8), max_size=3)))
    n = int(np.prod(shape))
    data = draw(values) if values is not None else draw(st.sampled_from(["normal", "labels", "nan"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if data == "labels":
        flat = rng.integers(-1, 4, n)
    else:
        flat = rng.standard_normal(n)
        if data == "nan" and n:
            flat[rng.integers(0, n)] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    with np.errstate(invalid="ignore"):  # NaN cast to an integer dtype: any value will do
        a = flat.astype(dtype).reshape(shape)
    layout = draw(st.sampled_from(LAYOUTS))
    if layout == "fortran":
        a = np.asfortranarray(a)
    elif layout == "strided" and a.ndim:
        big = np.zeros((2 * a.shape[0],) + a.shape[1:], dtype)
        big[::2] = a
        a = big[::2]
    elif layout == "offset":
        raw = np.frombuffer(bytearray(a.nbytes + 1), dtype, count=n, offset=1).reshape(shape)
        raw[...] = a
        a = raw
    elif layout == "readonly":
        a.flags.writeable = False
    elif layout == "list":
        return a.tolist()
    elif layout in ("pickled", "memmap"):
        a = _transported(a, layout)
    return a


def _x_and_y(draw, net_params, dtype):
    """X and y: random arrays, valid ones (as they are, pickled or memmapped), or views of the
    parameters themselves; the third value says whether every method must accept them."""
    kind = draw(st.sampled_from(["random", "valid", "alias"]))
    n = draw(st.integers(0, 30))
    rng = np.random.default_rng(n)
    if kind == "random":
        X = draw(arrays(shapes=st.sampled_from([(n, SIZES[0]), (n, SIZES[0] + 1), (n,), (n, SIZES[0], 1)])))
        y = draw(arrays(shapes=st.sampled_from([(n,), (n + 1,), (n, 1)]), values=st.just("labels")))
        return X, y, False
    y = rng.integers(0, SIZES[-1], n)
    if kind == "valid":
        how = draw(st.sampled_from(["c", "pickled", "memmap"]))
        X = rng.standard_normal((n, SIZES[0])).astype(dtype)
        return _transported(X, how), _transported(y, how), n > 0
    W0 = net_params[0][0]  # (5, 7): its first rows of 5 values overlap with X
    flat = W0.reshape(-1)
    X = flat[: (flat.size // SIZES[0]) * SIZES[0]].reshape(-1, SIZES[0])
    return X, y[: X.shape[0]], False


def _snapshot(params):
    return [p.copy() for group in params for p in group]


def _unchanged(params, before):
    return all(np.array_equal(a, b, equal_nan=True) for a, b in zip([p for g in params for p in g], before))


COMMON = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def core_network_calls(max_examples):
    @settings(COMMON, max_examples=max_examples)
    @given(st.data())
    def prop(data):
        dtype = data.draw(st.sampled_from([np.float32, np.float64]))
        params = _params(dtype)
        net = _core.Network(*params, ["tanh"], "nll", kernels=data.draw(st.sampled_from(["auto", "gemm"])))
        X, y, valid = _x_and_y(data.draw, params, dtype)
        lr = data.draw(st.sampled_from([0.1, 0.0, -1.0, float("nan"), 1e-3]))
        method = data.draw(st.sampled_from(["sgd_step", "predict_proba", "evaluate", "forward", "gradients"]))
        args = {
            "sgd_step": (X, y, lr),
            "predict_proba": (X,),
            "evaluate": (X, y),
            "forward": (X,),
            "gradients": (X, y),
        }[method]
        before = _snapshot(params)
        ref_params = [[p.copy() for p in g] for g in params]
        try:
            out = getattr(net, method)(*args)
        except REFUSED as e:
            assert not (valid and (method != "sgd_step" or lr > 0)), f"{method} refused valid arguments: {e!r}"
            assert str(e), "an error must say what is wrong"
            assert _unchanged(params, before), f"{method} raised {e!r} after changing a parameter"
            return
        # Accepted: the reference backend on the same arguments gives the same answer.
        want = getattr(reference.Network(*ref_params, ["tanh"], "nll"), method)(*args)
        tol = 1e-4 if dtype == np.float32 else 1e-10
        if method == "sgd_step":
            assert abs(out[0] - want[0]) <= tol * max(1.0, abs(want[0]))
            for got, ref in zip([p for g in params for p in g], [p for g in ref_params for p in g]):
                np.testing.assert_allclose(got, ref, rtol=0, atol=tol)
        elif method == "predict_proba":
            np.testing.assert_allclose(out, want, rtol=0, atol=tol)

    prop()


def core_network_construction(max_examples):
    @settings(COMMON, max_examples=max_examples)
    @given(st.data())
    def prop(data):
        shapes = st.sampled_from([(5, 7), (7, 3), (7,), (3,), (5, 7, 1), (0, 7), (7, 0)])
        weights = [data.draw(arrays(shapes=shapes, dtypes=[np.float32, np.float64, np.int64])) for _ in range(2)]
        biases = [data.draw(arrays(shapes=shapes, dtypes=[np.float32, np.float64, np.int64])) for _ in range(2)]
        if data.draw(st.booleans()) and isinstance(weights[0], np.ndarray) and weights[0].ndim == 2:
            biases[0] = weights[0].reshape(-1)[: SIZES[1]] if weights[0].size >= SIZES[1] else biases[0]
        try:
            net = _core.Network(weights, biases, ["relu"], "nll")
        except REFUSED as e:
            assert str(e)
            return
        X = np.ones((4, net.weights[0].shape[0]), net.weights[0].dtype)
        net.sgd_step(X, np.zeros(4, np.int64), 0.01)

    prop()


def core_functions(max_examples):
    @settings(COMMON, max_examples=max_examples)
    @given(st.data())
    def prop(data):
        shapes = st.sampled_from([(4, 5), (5, 3), (4, 3), (3,), (5,), (0, 5), (4, 5, 1)])
        fn = data.draw(
            st.sampled_from(
                [
                    "dense_forward",
                    "dense_backward",
                    "activation_forward",
                    "activation_backward",
                    "softmax_nll",
                    "quadratic_cost",
                ]
            )
        )
        a = [data.draw(arrays(shapes=shapes, dtypes=[np.float32, np.float64, np.int64])) for _ in range(3)]
        y = data.draw(
            arrays(shapes=st.sampled_from([(4,), (5,)]), dtypes=[np.int64, np.int32], values=st.just("labels"))
        )
        args = {
            "dense_forward": a,
            "dense_backward": a,
            "activation_forward": ["tanh", a[0]],
            "activation_backward": ["sigmoid", a[0], a[1]],
            "softmax_nll": [a[0], y],
            "quadratic_cost": [a[0], y],
        }
        try:
            getattr(_core, fn)(*args[fn])
        except REFUSED as e:
            assert str(e)

    prop()


def public_mlp(max_examples):
    @settings(COMMON, max_examples=max_examples)
    @given(st.data())
    def prop(data):
        dtype = data.draw(st.sampled_from([np.float32, np.float64]))
        net = ge.MLP(
            SIZES,
            activation=data.draw(st.sampled_from(["tanh", "relu", "softsign"])),
            dtype=dtype,
            rng=np.random.default_rng(0),
            kernels=data.draw(st.sampled_from(["auto", "gemm"])),
        )
        X, y, valid = _x_and_y(data.draw, (net.weights, net.biases), dtype)
        method = data.draw(st.sampled_from(["sgd_step", "predict_proba", "evaluate", "forward", "gradients"]))
        args = {
            "sgd_step": (X, y, 0.1),
            "predict_proba": (X,),
            "evaluate": (X, y),
            "forward": (X,),
            "gradients": (X, y),
        }[method]
        before = _snapshot((net.weights, net.biases))
        try:
            getattr(net, method)(*args)
        except REFUSED as e:
            assert not valid, f"{method} refused valid arguments: {e!r}"
            assert str(e)
            assert _unchanged((net.weights, net.biases), before)

    prop()


PROPERTIES = {f.__name__: f for f in (core_network_calls, core_network_construction, core_functions, public_mlp)}

if __name__ == "__main__":
    PROPERTIES[sys.argv[1]](int(sys.argv[2]) if len(sys.argv) > 2 else 100)
    print("ok")
