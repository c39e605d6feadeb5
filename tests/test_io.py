"""One atomic writer for every file the package creates: readable by others, never half-written."""

import os
import stat

import numpy as np
import pytest

from glorot_ext import MLP
from glorot_ext._io import atomic_write
from glorot_ext.experiments import RunConfig, run
from glorot_ext.record import Record


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("content", [b"bytes", "text", lambda f: f.write(b"callable")])
def test_atomic_write_gives_the_mode_open_would_give(tmp_path, umask_022, content):
    path = atomic_write(tmp_path / "f", content)
    assert _mode(path) == 0o644
    assert path.read_bytes() in (b"bytes", b"text", b"callable")


def test_atomic_write_follows_a_strict_umask(tmp_path):
    old = os.umask(0o077)
    try:
        path = atomic_write(tmp_path / "f", b"x")
    finally:
        os.umask(old)
    assert _mode(path) == 0o600


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = atomic_write(tmp_path / "f", b"old")

    def fail(f):
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(path, fail)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["f"]


def test_models_records_checkpoints_and_results_are_readable_by_others(tmp_path, umask_022):
    net = MLP([4, 3, 2], rng=np.random.default_rng(0))
    net.save(tmp_path / "m.npz")
    rec = Record({"run": "x"})
    rec.to_json(tmp_path / "r.json")
    rec.to_csv(tmp_path / "r.csv")
    cfg = RunConfig(depth=1, width=8, n_updates=4, eval_every=2, n_eval=20)
    run(cfg, tmp_path / "run", log=lambda line: None)
    written = [
        tmp_path / "m.npz",
        tmp_path / "r.json",
        tmp_path / "r.csv",
        tmp_path / "run" / "checkpoint.npz",
        tmp_path / "run" / "result.json",
    ]
    assert {p.name: oct(_mode(p)) for p in written} == {p.name: "0o644" for p in written}


def test_ctrl_c_during_a_write_arrives_after_the_file_is_whole(tmp_path):
    import signal

    arrays = {f"W{i}": np.arange(64.0 * (i + 1)).reshape(8, -1) for i in range(3)}

    def content(f):  # Ctrl-C in the middle of np.savez's zip: raised there, zipfile's clean-up
        np.savez(f, W0=arrays["W0"])  # would turn it into a ValueError and leave the .tmp file
        os.kill(os.getpid(), signal.SIGINT)
        f.seek(0)
        f.truncate()
        np.savez(f, **arrays)

    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "checkpoint.npz", content)
    assert os.listdir(tmp_path) == ["checkpoint.npz"]
    with np.load(tmp_path / "checkpoint.npz") as got:
        assert sorted(got.files) == sorted(arrays)
        for k, a in arrays.items():
            np.testing.assert_array_equal(got[k], a)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_handler_other_than_keyboard_interrupt_is_called_once_after_the_write(tmp_path):
    import signal

    calls = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: calls.append(signum))
    try:
        atomic_write(tmp_path / "f", lambda f: (os.kill(os.getpid(), signal.SIGINT), f.write(b"whole")))
        assert calls == [signal.SIGINT]
        assert (tmp_path / "f").read_bytes() == b"whole"
    finally:
        signal.signal(signal.SIGINT, previous)
