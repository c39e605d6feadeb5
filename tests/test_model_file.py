"""MLP.save / MLP.load: every field of a model file is checked; writes are fsynced."""

import json
import os

import numpy as np
import pytest
from helpers import drop_key, set_key

from glorot_ext import MLP, Record


@pytest.fixture
def saved(tmp_path):
    net = MLP([6, 5, 4, 3], activation=["tanh", "relu"], rng=np.random.default_rng(0))
    net.n_updates = 12
    path = tmp_path / "model.npz"
    net.save(path)
    return net, path


def _rewrite(path, config=None, arrays=None):
    with np.load(path) as z:
        data = {k: z[k] for k in z.files}
    meta = json.loads(bytes(data.pop("config")).decode())
    if config:
        config(meta)
    if arrays:
        arrays(data)
    data["config"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **data)


def test_a_saved_model_loads_back_identically(saved):
    net, path = saved
    back = MLP.load(path)
    assert back.config() == net.config() and back.n_updates == 12
    assert all(np.array_equal(a, b) for a, b in zip(back.weights + back.biases, net.weights + net.biases))


class _Counted(MLP):
    built = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        type(self).built += 1


def test_load_and_unpickling_build_through_the_constructor(saved):
    import pickle

    net, path = saved
    _Counted.built = 0
    back = _Counted.load(path, backend="reference")
    assert _Counted.built == 1 and isinstance(back, _Counted) and back.backend == "reference"
    again = pickle.loads(pickle.dumps(back))
    assert _Counted.built == 2 and again.config() == back.config() and again.n_updates == 12
    rebuilt = MLP.from_state_dict(net.state_dict())
    assert rebuilt.config() == net.config() and rebuilt.n_updates == net.n_updates
    assert all(np.array_equal(a, b) for a, b in zip(rebuilt.weights + rebuilt.biases, net.weights + net.biases))


@pytest.mark.parametrize(
    "config, arrays, match",
    [
        (set_key("backend", "cuda"), None, r"field 'backend' must be one of \('native', 'reference'\), got 'cuda'"),
        (set_key("n_updates", -5), None, r"field 'n_updates' must be an integer >= 0, got -5"),
        (set_key("n_updates", 1e9), None, r"field 'n_updates' must be an integer >= 0, got 1000000000.0"),
        (drop_key("cost"), None, r"field 'cost' is missing"),
        (set_key("cost", "hinge"), None, r"field 'cost' must be one of"),
        (set_key("dtype", "int32"), None, r"field 'dtype' must be float32 or float64, got 'int32'"),
        (set_key("activations", ["tanh"]), None, r"field 'activations' must list 2 names"),
        (set_key("activations", ["tanh", "swish"]), None, r"field 'activations' has an unknown name 'swish'"),
        (set_key("layer_sizes", [6, 0, 4, 3]), None, r"field 'layer_sizes' must list at least 2 positive integers"),
        (set_key("format", "other/1"), None, r"field 'format' must be 'glorot_ext.MLP/1'"),
        (
            None,
            set_key("W0", np.zeros(1, np.float32)),
            r"field 'W0' is float32 \(1,\), the config needs float32 \(6, 5\)",
        ),
        (
            None,
            set_key("b1", np.zeros(4, np.float64)),
            r"field 'b1' is float64 \(4,\), the config needs float32 \(4,\)",
        ),
        (None, drop_key("W2"), r"field 'W2' is missing"),
        (None, set_key("W7", np.zeros(2, np.float32)), r"unexpected arrays \['W7'\]"),
    ],
)
def test_a_model_field_that_does_not_fit_is_refused_naming_file_and_field(saved, config, arrays, match):
    _, path = saved
    _rewrite(path, config, arrays)
    with pytest.raises(ValueError, match=match) as err:
        MLP.load(path)
    assert "model.npz" in str(err.value)


def test_an_unknown_backend_argument_is_refused(saved):
    with pytest.raises(ValueError, match="backend"):
        MLP.load(saved[1], backend="gpu")


def _fsync_before_replace(monkeypatch, write):
    """Calls ``write`` and returns the order of fsync and os.replace calls it made."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    write()
    return events


def test_model_save_fsyncs_before_the_rename(saved, monkeypatch, tmp_path):
    net, _ = saved
    assert _fsync_before_replace(monkeypatch, lambda: net.save(tmp_path / "again.npz")) == ["fsync", "replace"]


@pytest.mark.parametrize("fmt", ["to_json", "to_npz", "to_csv"])
def test_record_writes_fsync_before_the_rename(monkeypatch, tmp_path, fmt):
    rec = Record({"dataset": "toy"})
    rec.append(0, scalars={"act_std": [1.0, 2.0]}, globals={"val_loss": 0.5})
    events = _fsync_before_replace(monkeypatch, lambda: getattr(rec, fmt)(tmp_path / f"r.{fmt}"))
    assert events == ["fsync", "replace"]
