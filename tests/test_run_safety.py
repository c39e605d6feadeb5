"""Runs that diverge, are killed between writes, or meet a damaged checkpoint."""

import json
import math

import numpy as np
import pytest
from helpers import drop_key, set_key

from glorot_ext import Callback, Record
from glorot_ext.experiments import RunConfig, run, single_run as run_module
from glorot_ext.experiments.single_run import DivergedError
from glorot_ext.record import dumps

TOY = dict(depth=2, width=24, eval_every=50, n_eval=200, lr=0.05)


def strict_json(path):
    """json.load that refuses the non-standard NaN/Infinity tokens."""

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    with open(path) as f:
        return json.load(f, parse_constant=refuse)


class Poison(Callback):
    """Writes a NaN or inf into one parameter after a given update (a stand-in for a blow-up)."""

    def __init__(self, at, layer, which="W", value=np.nan):
        self.at, self.layer, self.which, self.value = at, layer, which, value

    def on_step_end(self, net, loss):
        if net.n_updates == self.at:
            arr = net.weights[self.layer] if self.which == "W" else net.biases[self.layer]
            arr.flat[0] = self.value


# -- 5. divergence guard ------------------------------------------------------------------------


def test_a_nan_loss_stops_the_run_naming_update_and_layer_and_keeps_the_last_checkpoint(tmp_path):
    cfg = RunConfig(n_updates=150, **TOY)
    run(RunConfig(n_updates=50, **TOY), tmp_path)
    good = (tmp_path / "checkpoint.npz").read_bytes()
    # A NaN put in the top layer after update 60: update 61's loss is NaN and its backward pass
    # carries the NaN into every layer below, so all three are named and the lowest is `layer`.
    with pytest.raises(
        DivergedError,
        match=r"diverged at update 61: the weights of layer 0 became "
        r"non-finite \(NaN or inf, and the parameters of layers 0, 1, 2\)",
    ) as err:
        run(cfg, tmp_path, callbacks=[Poison(at=60, layer=2)])
    e = err.value
    assert isinstance(e, RuntimeError)
    assert (e.update, e.layer, e.what, e.run_dir) == (61, 0, "weights", str(tmp_path))
    assert (tmp_path / "checkpoint.npz").read_bytes() == good  # the last good state, untouched
    res = strict_json(tmp_path / "result.json")
    assert res["status"] == "diverged"
    assert (res["update"], res["layer"], res["what"], res["run_dir"]) == (61, 0, "weights", str(tmp_path))
    # Resuming without the poison continues from update 50 as if nothing had happened.
    resumed, net = run(cfg, tmp_path)
    straight, net2 = run(cfg, tmp_path / "straight")
    assert resumed["curve"] == straight["curve"]
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, net2.weights))


def test_non_finite_biases_at_an_evaluation_point_are_caught_before_the_checkpoint(tmp_path):
    # Poisoned at the last update of a chunk: no training loss sees it, the evaluation check does.
    with pytest.raises(DivergedError) as err:
        run(RunConfig(n_updates=100, **TOY), tmp_path, callbacks=[Poison(at=100, layer=1, which="b")])
    assert (err.value.update, err.value.layer, err.value.what) == (100, 1, "biases")
    with np.load(tmp_path / "checkpoint.npz") as z:
        assert json.loads(bytes(z["state"]).decode())["n_updates"] == 50
    res = strict_json(tmp_path / "result.json")
    assert res["status"] == "diverged" and res["curve"]["val_loss"][-1] is None  # NaN written as null


def test_the_loss_guard_names_no_layer_when_the_weights_are_finite(tmp_path, monkeypatch):
    real = run_module.MLP.sgd_step

    def step(self, X, y, lr):
        loss, errors = real(self, X, y, lr)
        return (math.inf if self.n_updates == 7 else loss), errors

    monkeypatch.setattr(run_module.MLP, "sgd_step", step)
    with pytest.raises(DivergedError, match=r"update 7: the loss became non-finite") as err:
        run(RunConfig(n_updates=50, **TOY), tmp_path)
    assert (err.value.update, err.value.layer, err.value.what) == (7, None, "loss")


def test_cli_train_exits_non_zero_naming_the_divergence(tmp_path, capsys):
    from glorot_ext.cli import main

    rc = main(
        [
            "train",
            "--activation",
            "relu",
            "--depth",
            "3",
            "--width",
            "100",
            "--updates",
            "100",
            "--eval-every",
            "50",
            "--n-eval",
            "200",
            "--lr",
            "50",
            "--out",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err
    assert rc != 0
    assert "diverged at update" in err and "layer" in err
    (result,) = tmp_path.glob("*/result.json")
    assert strict_json(result)["status"] == "diverged"


def test_json_is_standard_with_nan_and_inf_as_null(tmp_path):
    text = dumps(
        {
            "a": math.nan,
            "b": [math.inf, -math.inf, np.float32("nan"), 1.5],
            "c": np.array([1.0, np.nan]),
            "d": np.int64(3),
        }
    )
    assert json.loads(text) == {"a": None, "b": [None, None, None, 1.5], "c": [1.0, None], "d": 3}
    rec = Record({"dataset": "toy"})
    from glorot_ext.stats import LinearBins

    bins = LinearBins(-1, 1, 4)
    rec.append(
        0,
        scalars={"act_std": [math.nan, 1.0]},
        globals={"val_loss": math.inf},
        hists={"act": (np.array([[np.nan, 0, 0, 1], [0.5, 0.5, 0, 0]]), bins)},
    )
    rec.to_json(tmp_path / "r.json")  # a NaN in a histogram used to raise ValueError (allow_nan=False)
    back = strict_json(tmp_path / "r.json")
    assert back["globals"]["val_loss"] == [None] and back["hists"]["act"][0][0][0] is None
    assert np.isnan(Record.from_json(tmp_path / "r.json").hist("act")[0, 0, 0])


# -- 6. records after a resume --------------------------------------------------------------------

MONITORED = dict(TOY, monitor_every=25, probe_size=40)


@pytest.fixture
def jacobian_every_2(monkeypatch):
    """Jacobian spectra at every second measurement (a run's default is one per 20,000 updates),
    so that a lost measurement counter shows up in the record."""
    real = run_module._monitor

    def monitor(config, test):
        m = real(config, test)
        m.jacobian_every = 2
        return m

    monkeypatch.setattr(run_module, "_monitor", monitor)


def _comparable(record_path):
    d = strict_json(record_path)
    d["globals"].pop("measure_seconds")  # wall-clock time, the one thing that may differ
    return d


class Killed(BaseException):
    """Stands in for SIGKILL: not an Exception, so nothing on the way catches it."""


def _kill_on_call(monkeypatch, owner, name, n):
    real = getattr(owner, name)
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise Killed(f"killed in {name}")
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)


@pytest.mark.parametrize(
    "owner, name",
    [(run_module, "_save"), (run_module, "_export_record")],
    ids=["during-the-checkpoint", "between-checkpoint-and-record"],
)
def test_a_run_killed_between_writes_resumes_to_the_uninterrupted_record(
    tmp_path, monkeypatch, jacobian_every_2, owner, name
):
    cfg = RunConfig(n_updates=150, **MONITORED)
    straight, _ = run(cfg, tmp_path / "straight")
    with monkeypatch.context() as m:
        _kill_on_call(m, owner, name, 2)  # the second write: after update 100
        with pytest.raises(Killed):
            run(cfg, tmp_path / "killed")
    resumed, _ = run(cfg, tmp_path / "killed")
    want = _comparable(tmp_path / "straight" / "record.json")
    got = _comparable(tmp_path / "killed" / "record.json")
    assert got["steps"] == want["steps"] == [0, 25, 50, 75, 100, 125, 150]
    assert got == want
    assert resumed["curve"] == straight["curve"]


def test_the_checkpoint_holds_the_record_and_the_monitor_counters(tmp_path):
    run(RunConfig(n_updates=50, **MONITORED), tmp_path)
    with np.load(tmp_path / "checkpoint.npz") as z:
        state = json.loads(bytes(z["state"]).decode())
    assert state["monitor"]["record"]["steps"] == [0, 25, 50]
    assert state["monitor"]["n_measured"] == 3
    assert (
        Record.from_dict(state["monitor"]["record"]).to_dict() == Record.from_json(tmp_path / "record.json").to_dict()
    )


# -- 7. checkpoint contents validated ----------------------------------------------------------


def _rewrite(path, arrays=None, state=None):
    with np.load(path) as z:
        data = {k: z[k] for k in z.files}
    st = json.loads(bytes(data.pop("state")).decode())
    if state:
        state(st)
    if arrays:
        arrays(data)
    data["state"] = np.frombuffer(json.dumps(st).encode(), dtype=np.uint8)
    np.savez(path, **data)


@pytest.mark.parametrize(
    "arrays, state, match",
    [
        (set_key("W0", np.zeros(1, np.float32)), None, r"'W0' is float32 \(1,\).*needs float32 \(1024, 24\)"),
        (set_key("W1", np.zeros((24, 24), np.float64)), None, r"'W1' is float64"),
        (drop_key("b2"), None, r"'b2' is missing"),
        (set_key("W9", np.zeros(3, np.float32)), None, r"arrays \['W9'\]"),
        (None, drop_key("curve"), r"field 'curve' is missing"),
        (None, set_key("n_updates", -5), r"field 'n_updates' must be an integer >= 0, got -5"),
        (None, set_key("n_updates", 1e9), r"field 'n_updates' must be an integer >= 0, got 1000000000.0"),
        (None, set_key("n_updates", 10**9), r"field 'n_updates' is 1000000000 but the curve ends at update 50"),
        (None, set_key("n_updates", True), r"field 'n_updates' must be an integer"),
        (None, lambda s: s["source"].update(batch_size=7), r"field 'source.batch_size' is 7"),
        (None, lambda s: s["source"].update(position=-1), r"field 'source.position' must be an integer >= 0"),
        (None, lambda s: s["curve"]["val_error"].pop(), r"field 'curve' must hold lists of one common"),
        (None, set_key("extra", []), r"field 'extra' must be a JSON object"),
    ],
)
def test_a_checkpoint_field_that_does_not_fit_the_run_is_refused_naming_file_and_field(tmp_path, arrays, state, match):
    cfg = RunConfig(n_updates=50, **TOY)
    run(cfg, tmp_path)
    _rewrite(tmp_path / "checkpoint.npz", arrays, state)
    with pytest.raises(ValueError, match=match) as err:
        run(RunConfig(n_updates=100, **TOY), tmp_path)
    assert "checkpoint.npz" in str(err.value)


def test_a_checkpoint_without_a_state_entry_is_refused(tmp_path):
    run(RunConfig(n_updates=50, **TOY), tmp_path)
    with np.load(tmp_path / "checkpoint.npz") as z:
        data = {k: z[k] for k in z.files if k != "state"}
    np.savez(tmp_path / "checkpoint.npz", **data)
    with pytest.raises(ValueError, match=r"checkpoint.npz: unreadable checkpoint"):
        run(RunConfig(n_updates=100, **TOY), tmp_path)


def test_a_monitored_run_refuses_a_checkpoint_without_its_record(tmp_path):
    run(RunConfig(n_updates=50, **MONITORED), tmp_path)
    _rewrite(tmp_path / "checkpoint.npz", state=drop_key("monitor"))
    with pytest.raises(ValueError, match=r"checkpoint.npz: checkpoint field 'monitor' is missing"):
        run(RunConfig(n_updates=100, **MONITORED), tmp_path)


def test_orphan_temporary_files_of_a_killed_run_are_removed_at_start(tmp_path):
    run(RunConfig(n_updates=50, **TOY), tmp_path)
    orphans = [tmp_path / f".{name}.ab12cd.tmp" for name in ("checkpoint.npz", "record.json", "result.json")]
    for p in orphans:
        p.write_bytes(b"half a file")
    keep = tmp_path / "notes.tmp"
    keep.write_text("not ours")
    run(RunConfig(n_updates=100, **TOY), tmp_path)
    assert not any(p.exists() for p in orphans)
    assert keep.exists()


def test_asking_for_fewer_updates_than_the_checkpoint_holds_says_so_and_answers_from_the_curve(tmp_path):
    longer, _ = run(RunConfig(n_updates=150, **TOY), tmp_path)
    written = (tmp_path / "result.json").read_bytes()
    said = []
    short, net = run(RunConfig(n_updates=100, **TOY), tmp_path, log=said.append)
    assert said == [short["note"]]
    assert (
        "checkpoint is at update 150, past the 100 updates asked for: the result is read from its curve up "
        "to update 100" in short["note"]
    )
    assert short["curve"]["n_updates"] == [0, 50, 100] and short["checkpoint_updates"] == 150
    assert short["curve"] == {k: v[:3] for k, v in longer["curve"].items()}
    assert short["final_test_error"] == longer["curve"]["test_error"][2]
    assert net.n_updates == 150
    assert (tmp_path / "result.json").read_bytes() == written  # the folder still describes the longer run
    straight, _ = run(RunConfig(n_updates=100, **TOY), tmp_path / "straight")
    assert short["curve"] == straight["curve"]


def test_fewer_updates_than_the_checkpoint_and_no_evaluation_there_is_refused(tmp_path):
    run(RunConfig(n_updates=100, **TOY), tmp_path)
    with pytest.raises(
        ValueError,
        match=r"checkpoint is at update 100, past the 70 updates asked for, and its "
        r"curve has no evaluation at update 70.*restart",
    ):
        run(RunConfig(n_updates=70, **TOY), tmp_path)
    res, net = run(RunConfig(n_updates=70, **TOY), tmp_path, resume=False)  # what the message offers
    assert net.n_updates == 70 and res["curve"]["n_updates"][-1] == 70


@pytest.mark.parametrize("field, value", [("lr", True), ("depth", True), ("seed", False)])
def test_run_config_refuses_booleans_for_numbers(field, value):
    with pytest.raises(ValueError, match=field):
        RunConfig(**{field: value})


def test_diverged_error_survives_pickling_across_processes():
    import pickle

    e = DivergedError(61, 0, "weights", "/runs/x", damaged=[0, 1, 2])
    back = pickle.loads(pickle.dumps(e))
    assert (back.update, back.layer, back.what, back.run_dir, back.damaged) == (61, 0, "weights", "/runs/x", [0, 1, 2])
    assert str(back) == str(e)
