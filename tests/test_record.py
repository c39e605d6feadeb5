import csv
import json

import numpy as np
import pytest

import glorot_ext as ge
from glorot_ext.monitor import Monitor
from glorot_ext.record import Record


@pytest.fixture
def record(rng):
    net = ge.MLP([10, 8, 6, 3], activation="tanh", init="standard", dtype=np.float64, rng=rng)
    X, y = rng.uniform(0, 1, (30, 10)), rng.integers(0, 3, 30)
    mon = Monitor(
        (X, y),
        every=2,
        jacobian_examples=3,
        jacobian_every=2,
        validation=(X, y),
        meta={"dataset": "synthetic", "seed": 7},
    )
    net.fit_stream(iter([(X[:10], y[:10])] * 5), 5, 0.05, callbacks=[mon])
    return mon.record


def _assert_same(a, b):
    assert a.steps == b.steps
    assert a.meta == b.meta
    assert set(a.scalars) == set(b.scalars) and set(a.globals) == set(b.globals)
    for k in a.scalars:
        np.testing.assert_array_equal(a.scalar(k), b.scalar(k))
    for k in a.globals:
        np.testing.assert_array_equal(a.global_(k), b.global_(k))
    for k in a.hists:
        np.testing.assert_array_equal(a.hist(k), b.hist(k))
        np.testing.assert_array_equal(a.edges(k), b.edges(k))


def test_record_carries_config_seed_and_versions(record):
    assert record.meta["seed"] == 7
    assert record.meta["config"]["layer_sizes"] == [10, 8, 6, 3]
    assert record.meta["versions"]["numpy"] == np.__version__
    assert record.meta["versions"]["glorot_ext"] == ge.__version__
    assert record.label() == "tanh, standard init, synthetic"


def test_json_round_trip_keeps_every_value_including_nans(tmp_path, record):
    assert np.isnan(record.scalar("jac_mean")).any()
    record.to_json(tmp_path / "r.json")
    json.loads((tmp_path / "r.json").read_text())  # standard JSON: no NaN literals
    assert "NaN" not in (tmp_path / "r.json").read_text()
    _assert_same(record, Record.from_json(tmp_path / "r.json"))


def test_npz_round_trip_keeps_every_value(tmp_path, record):
    record.to_npz(tmp_path / "r.npz")
    _assert_same(record, Record.from_npz(tmp_path / "r.npz"))


def test_csv_is_tidy_with_one_row_per_step_layer_and_quantity(tmp_path, record):
    record.to_csv(tmp_path / "r.csv")
    with open(tmp_path / "r.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["step", "layer", "quantity", "bin_lo", "bin_hi", "value"]
    per_step = record.n_layers * len(record.scalars) + len(record.globals)
    assert len(rows) == record.n_steps * per_step
    hit = [r for r in rows if r["step"] == "2" and r["layer"] == "2" and r["quantity"] == "act_std"]
    assert float(hit[0]["value"]) == record.scalar("act_std")[1, 1]
    assert all(r["value"] == "" for r in rows if r["quantity"] == "jac_mean" and r["step"] == "2")


def test_csv_with_histograms_lists_the_non_empty_bins_whose_mass_sums_to_one(tmp_path, record):
    record.to_csv(tmp_path / "h.csv", histograms=True)
    with open(tmp_path / "h.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["quantity"] == "hist_act" and r["step"] == "0" and r["layer"] == "1"]
    assert sum(float(r["value"]) for r in rows) == pytest.approx(1.0)
    assert all(float(r["bin_lo"]) < float(r["bin_hi"]) for r in rows)


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path, record):
    path = tmp_path / "r.json"
    record.to_json(path)
    before = path.read_bytes()
    record.meta["bad"] = object()  # not serializable: the write fails
    with pytest.raises(TypeError):
        record.to_json(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_loading_a_file_that_is_not_a_record_raises(tmp_path):
    (tmp_path / "x.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not a glorot_ext.Record"):
        Record.from_json(tmp_path / "x.json")


def test_append_fills_quantities_missing_at_a_step_with_nan():
    rec = Record()
    rec.append(0, {"a": [1.0, 2.0]}, {"g": 1.0})
    rec.append(5, {"b": [3.0, 4.0]})
    np.testing.assert_array_equal(rec.scalar("a")[1], [np.nan, np.nan])
    np.testing.assert_array_equal(rec.scalar("b")[0], [np.nan, np.nan])
    assert np.isnan(rec.global_("g")[1])


def test_dumps_writes_every_non_finite_float_as_null_whatever_holds_it():
    # rows of floats and float arrays take a vectorized path; the text is the same as element by element
    from glorot_ext.record import dumps

    obj = {
        "row": [1.0, float("nan"), 2.5],
        "finite": [0.5, 1.5],
        "mixed": [1, 2.0, None, "NaN", True],
        "array": np.array([[1.0, np.inf], [-np.inf, 0.0]]),
        "f32": np.array([np.nan, 1.0], dtype=np.float32),
        "ints": np.arange(3),
        "bools": np.array([True, False]),
        "scalars": (np.float32(3.0), np.int64(4), np.float64(np.nan)),
        "empty": [np.zeros((0, 2)), []],
    }
    assert json.loads(dumps(obj)) == {
        "row": [1.0, None, 2.5],
        "finite": [0.5, 1.5],
        "mixed": [1, 2.0, None, "NaN", True],
        "array": [[1.0, None], [None, 0.0]],
        "f32": [None, 1.0],
        "ints": [0, 1, 2],
        "bools": [True, False],
        "scalars": [3.0, 4, None],
        "empty": [[], []],
    }
