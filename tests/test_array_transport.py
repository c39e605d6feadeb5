"""Arrays that went through pickle, joblib or np.load(mmap_mode=...): their dtype equals
float32/float64/int64 but may be another dtype object, and a memmap is read-only. Every method that
only reads an array takes it as it is; one that writes into it refuses a read-only one by name."""

import pickle

import numpy as np
import pytest

import glorot_ext as ge
from glorot_ext import _core
from glorot_ext.network import _inputs

SIZES = [6, 5, 3]
LR = 0.1


def _pickled(a, path):
    return pickle.loads(pickle.dumps(a))


def _memmapped(a, path):
    np.save(path, a)
    return np.load(path, mmap_mode="r")  # read-only


def _joblib(a, path):
    joblib = pytest.importorskip("joblib")
    joblib.dump(a, path)
    return joblib.load(path)


def _joblib_memmapped(a, path):
    joblib = pytest.importorskip("joblib")
    joblib.dump(a, path)
    return joblib.load(path, mmap_mode="r")


TRANSPORTS = {"pickle": _pickled, "memmap": _memmapped, "joblib": _joblib, "joblib_mmap": _joblib_memmapped}


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request, tmp_path):
    made = iter(range(1000))
    return lambda a: TRANSPORTS[request.param](a, tmp_path / f"a{next(made)}.npy")


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param


@pytest.fixture
def data(rng, dtype):
    return rng.standard_normal((12, SIZES[0])).astype(dtype), rng.integers(0, SIZES[-1], 12)


def _twins(dtype):
    return [ge.MLP(SIZES, dtype=dtype, rng=np.random.default_rng(0)) for _ in range(2)]


def test_a_pickled_array_has_an_equal_dtype_that_is_another_object():
    # the premise of the tests below: without it they would test nothing
    X = pickle.loads(pickle.dumps(np.zeros((2, 2))))
    assert X.dtype == np.float64 and X.dtype is not np.dtype(np.float64)


@pytest.mark.parametrize(
    "method",
    ["predict", "predict_proba", "forward", "forward_hidden", "evaluate", "score", "loss", "error_rate", "gradients"],
)
def test_every_reading_method_gives_the_same_answer_on_transported_arrays(method, data, transport, dtype):
    X, y = data
    Xt, yt = transport(X), transport(y)
    net = _twins(dtype)[0]
    call = {
        "forward_hidden": lambda a, b: net.forward(a, hidden=True),
        "forward": lambda a, b: net.forward(a),
        "predict": lambda a, b: net.predict(a),
        "predict_proba": lambda a, b: net.predict_proba(a),
    }.get(method, lambda a, b: getattr(net, method)(a, b))
    got, want = call(Xt, yt), call(X, y)
    if method == "gradients":
        for key in ("pre", "post", "delta", "dW", "db"):
            for g, w in zip(got[key], want[key]):
                np.testing.assert_array_equal(g, w)
        assert got["loss"] == want["loss"]
    elif method == "forward_hidden":
        for g, w in zip(got[0] + got[1], want[0] + want[1]):
            np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("method", ["sgd_step", "fit", "partial_fit"])
def test_every_training_method_trains_alike_on_transported_arrays(method, data, transport, dtype):
    X, y = data
    Xt, yt = transport(X), transport(y)
    nets = _twins(dtype)
    for net, (a, b) in zip(nets, [(Xt, yt), (X, y)]):
        if method == "sgd_step":
            getattr(net, method)(a, b, LR)
        elif method == "fit":
            net.fit(a, b, epochs=2, lr=LR, batch_size=4, rng=1)
        else:
            net.partial_fit(a, b, lr=LR, batch_size=4, rng=1)
    assert nets[0].n_updates == nets[1].n_updates > 0
    for got, want in zip(nets[0].weights + nets[0].biases, nets[1].weights + nets[1].biases):
        np.testing.assert_array_equal(got, want)


def test_the_engine_itself_takes_transported_inputs(data, transport, dtype):
    X, y = data
    Xt, yt = transport(X), transport(y)
    net = _twins(dtype)[0]
    np.testing.assert_array_equal(net._net.predict_proba(Xt), net._net.predict_proba(X))
    assert net._net.evaluate(Xt, yt) == net._net.evaluate(X, y)
    W, b = transport(net.weights[0]), transport(net.biases[0])
    np.testing.assert_array_equal(_core.dense_forward(Xt, W, b), _core.dense_forward(X, net.weights[0], net.biases[0]))


def test_a_memmapped_input_is_used_without_a_copy(data, tmp_path):
    X, _ = data
    Xm = _memmapped(X, tmp_path / "X.npy")
    assert np.shares_memory(_inputs(Xm, X.dtype, "test"), Xm)


def test_read_only_parameters_are_refused_by_name_where_the_engine_would_write(data, tmp_path, dtype):
    net = _twins(dtype)[0]
    weights = [_memmapped(W, tmp_path / f"W{l}.npy") for l, W in enumerate(net.weights)]
    with pytest.raises(ValueError, match="Network: weights\\[0\\] must be writeable"):
        _core.Network(weights, list(net.biases), ["tanh"], "nll")


def test_writeable_memmapped_parameters_are_trained_in_place(data, tmp_path, dtype):
    X, y = data
    net = _twins(dtype)[0]
    weights, biases = [], []
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        np.save(tmp_path / f"W{l}.npy", W)
        np.save(tmp_path / f"b{l}.npy", b)
        weights.append(np.load(tmp_path / f"W{l}.npy", mmap_mode="r+"))
        biases.append(np.load(tmp_path / f"b{l}.npy", mmap_mode="r+"))
    engine = _core.Network(weights, biases, ["tanh"], "nll")
    engine.sgd_step(X, y, LR)
    net.sgd_step(X, y, LR)
    for got, want in zip(weights + biases, net.weights + net.biases):
        np.testing.assert_array_equal(got, want)


def test_a_state_dict_of_read_only_memmaps_loads_into_a_network_of_its_own(data, tmp_path, dtype):
    X, y = data
    net = _twins(dtype)[0]
    state = net.state_dict()
    state["weights"] = [_memmapped(W, tmp_path / f"W{l}.npy") for l, W in enumerate(state["weights"])]
    state["biases"] = [_memmapped(b, tmp_path / f"b{l}.npy") for l, b in enumerate(state["biases"])]
    copy = ge.MLP.from_state_dict(state)
    copy.sgd_step(X, y, LR)  # trains its own arrays, not the read-only files
    net.sgd_step(X, y, LR)
    np.testing.assert_array_equal(copy.weights[0], net.weights[0])
