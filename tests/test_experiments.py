"""Checkpointed runs resume bit-exactly; the reproduction writes the table beside the paper's."""

import json
import shutil
import time
from pathlib import Path
from typing import List

import numpy as np
import pytest

from glorot_ext.experiments import RunConfig, paper, reproduce, run
from glorot_ext.experiments.reproduction import load_results

TOY = dict(depth=2, width=24, eval_every=50, n_eval=200, lr=0.05)


def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path):
    straight, net_a = run(RunConfig(n_updates=150, **TOY), tmp_path / "a")
    run(RunConfig(n_updates=50, **TOY), tmp_path / "b")  # "interrupted" after 50 updates
    resumed, net_b = run(RunConfig(n_updates=150, **TOY), tmp_path / "b", resume=True)
    assert resumed["curve"] == straight["curve"]
    for a, b in zip(net_a.weights + net_a.biases, net_b.weights + net_b.biases):
        np.testing.assert_array_equal(a, b)
    assert net_b.n_updates == 150


def test_restart_ignores_the_checkpoint(tmp_path):
    run(RunConfig(n_updates=100, **TOY), tmp_path)
    again, net = run(RunConfig(n_updates=50, **TOY), tmp_path, resume=False)
    assert again["curve"]["n_updates"] == [0, 50]


def test_the_checkpoint_is_written_atomically_and_names_its_run(tmp_path):
    res, _ = run(RunConfig(n_updates=50, **TOY), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz", "result.json"]
    assert json.loads((tmp_path / "result.json").read_text())["final_test_error"] == res["final_test_error"]


def test_a_corrupt_checkpoint_is_reported_not_trained_over(tmp_path):
    (tmp_path / "checkpoint.npz").write_bytes(b"\x00garbage")
    with pytest.raises(ValueError, match="checkpoint.npz: unreadable checkpoint"):
        run(RunConfig(n_updates=50, **TOY), tmp_path)


def test_a_checkpoint_of_another_configuration_is_refused(tmp_path):
    run(RunConfig(n_updates=50, **TOY), tmp_path)
    with pytest.raises(ValueError, match="belongs to another configuration"):
        run(RunConfig(n_updates=50, **dict(TOY, lr=0.01)), tmp_path)


@pytest.mark.parametrize("field,value", [("lr", 0.0), ("depth", 0), ("dataset", "imagenet"), ("seed", -1)])
def test_run_config_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        RunConfig(**{field: value})


def test_reproduce_writes_the_table_beside_the_papers_numbers(tmp_path):
    rows = ["Tanh N", "Sigmoid"]
    content = reproduce(
        tmp_path,
        rows=rows,
        n_updates=100,
        overrides=dict(depth=2, width=24, n_eval=300),
        log=None,
        figures=True,
        figure_workers=2,
    )
    results = content["rows"]
    assert list(results) == rows
    table = (tmp_path / "table1.md").read_text()
    for label in rows:
        assert f"| {label} |" in table
        assert f"{paper.TABLE1[label]['shapeset']:.2f}" in table
        assert 0.0 <= results[label]["ours"][0] <= 1.0
    assert (tmp_path / "fig11_test_error_shapeset.png").stat().st_size > 10_000
    assert "fig11_test_error_shapeset.png" in (tmp_path / "REPORT.md").read_text()
    # the rows' figures drawn by a pool of 2 processes are the files this process draws alone
    from glorot_ext.experiments import reproduction as reproduce_module

    pooled = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert "tanh_n_fig6_hist_act_init.png" in pooled and "sigmoid_fig2_activation_mean_std.png" in pooled
    (tmp_path / "serial").mkdir()
    paths = reproduce_module._figures(results, "shapeset", tmp_path / "serial", log=None, workers=1)
    assert sorted(p.name for p in (tmp_path / "serial" / "figures").iterdir()) == pooled
    assert {Path(p).name for p in paths.values()} >= set(pooled)


def test_reproduce_picks_the_learning_rate_with_the_best_validation_error(tmp_path):
    results = reproduce(
        tmp_path,
        rows=["Tanh N"],
        lr_grid=[1e-6, 0.05],
        n_updates=200,
        overrides=dict(depth=2, width=24, n_eval=300),
        log=None,
        figures=False,
    )["rows"]
    grid = results["Tanh N"]["grid"]["200"]  # validation errors at the end, per rate
    best = min(grid, key=grid.get)
    assert float(best) == results["Tanh N"]["lr"]
    assert grid["0.05"] < grid["1e-06"]  # a step of 1e-6 learns nothing in 200 updates


def test_successive_halving_keeps_the_best_rates_at_each_rung_and_continues_the_winner(tmp_path):
    from glorot_ext.experiments.reproduction import Budget

    b = Budget("test", 300, 50, 300, 0, lr_grid=(1e-6, 1e-3, 0.05), rungs=((100, 2), (200, 1)))
    content = reproduce(tmp_path, rows=["Tanh N"], budget=b, width=16, depth=2, log=None, figures=False)
    grid = content["rows"]["Tanh N"]["grid"]
    assert list(grid) == ["100", "200"] and len(grid["100"]) == 3 and len(grid["200"]) == 2
    kept = sorted(grid["100"], key=grid["100"].get)[:2]
    assert sorted(grid["200"]) == sorted(kept)
    winner = min(grid["200"], key=grid["200"].get)
    assert float(winner) == content["rows"]["Tanh N"]["lr"]
    ends = {
        json.loads((p / "result.json").read_text())["config"]["lr"]: json.loads((p / "result.json").read_text())[
            "curve"
        ]["n_updates"][-1]
        for p in (tmp_path / "runs").iterdir()
    }
    assert ends == {float(r): (300 if r == winner else 200 if r in kept else 100) for r in grid["100"]}


def test_reproduce_rejects_unknown_rows(tmp_path):
    with pytest.raises(ValueError, match="rows must be among"):
        reproduce(tmp_path, rows=["Relu N"], n_updates=10, log=None)


SMALL = dict(width=16, depth=2, overrides=dict(n_eval=300), log=None, figures=False)


def test_a_small_reproduction_writes_a_report_with_a_verdict_for_every_claim(tmp_path):
    content = reproduce(tmp_path, n_updates=200, **SMALL)
    report = (tmp_path / "REPORT.md").read_text()
    saved = json.loads((tmp_path / "results-shapeset.json").read_text())  # strict JSON: no NaN
    assert saved["rows"]["Tanh N"]["ours"] == content["rows"]["Tanh N"]["ours"]
    # paths relative to the results file, so the folder can move; load_results joins them back
    record, run_dir = saved["rows"]["Tanh N"]["records"][0], saved["rows"]["Tanh N"]["run_dirs"][0]
    assert not Path(record).is_absolute() and (tmp_path / record).is_file() and (tmp_path / run_dir).is_dir()
    moved = shutil.copytree(tmp_path, tmp_path.parent / (tmp_path.name + "-moved"))
    loaded = load_results(moved / "results-shapeset.json")
    assert Path(loaded["rows"]["Tanh N"]["records"][0]).is_relative_to(moved)
    assert Path(loaded["rows"]["Tanh N"]["records"][0]).is_file()
    ids = {c["id"] for c in saved["claims"]}
    assert {
        "fig6_standard_narrows",
        "fig7_standard_shrinks",
        "fig8_weight_gradients_equal",
        "jacobian_standard",
        "jacobian_normalized",
        "fig2_sigmoid_top_saturates",
        "fig11_sigmoid_at_prior",
        "fig3_tanh_saturates_from_layer1",
        "fig3_softsign_saturates_less",
        "normalized_beats_standard_tanh",
        "normalized_beats_standard_softsign",
        "softsign_beats_tanh_standard",
        "table1_order",
    } <= ids
    for c in saved["claims"]:
        assert c["verdict"] in ("PASS", "FAIL", "NOT RESOLVED", "NOT REACHED")
        assert c["verdict"] in report
        # 200 updates reach only the claims made at initialization; the others are no test
        assert (c["verdict"] == "NOT REACHED") == (c["horizon_updates"] > 200), c["id"]
        assert c["updates"] == (0 if c["horizon_updates"] == 0 else 200)
        assert c["p_value"] is None or 0.0 <= c["p_value"] <= 1.0
    for label, _, _ in paper.TABLE1_ROWS:
        assert f"| {label} |" in report
    assert "What the paper leaves unknown" in report
    assert "300 images each in these runs" in report  # the unknowns table says what ran (n_eval=300)
    # the order's pairs are still shown, as a measurement, not as the claim's verdict
    assert "measured at 200 updates, where the paper makes no claim" in report
    from glorot_ext.experiments.report import _span

    assert "Ours cover updates 0–200, epochs 0–0.01" in _span("tanh_fig3_activation_percentiles", content)
    assert _span("tanh_fig6_hist_act_init", content) == ""


def test_the_standard_protocol_continues_the_chosen_rate_and_a_second_call_trains_nothing(tmp_path):
    kw = dict(
        rows=["Tanh N"],
        budget="standard",
        lr_grid=[1e-6, 0.05],
        n_updates=200,
        grid_updates=100,
        width=16,
        depth=2,
        overrides=dict(n_eval=300, eval_every=50),
        log=None,
        figures=False,
    )
    first = reproduce(tmp_path, **kw)
    row = first["rows"]["Tanh N"]
    assert row["lr"] == 0.05 and row["n_updates"] == 200
    assert row["curves"][0]["n_updates"] == [0, 50, 100, 150, 200]  # continued from the grid's 100, not redone
    runs = {json.loads((p / "result.json").read_text())["config"]["lr"]: p for p in (tmp_path / "runs").iterdir()}
    assert sorted(runs) == [1e-6, 0.05]
    loser = json.loads((runs[1e-6] / "result.json").read_text())
    assert loser["curve"]["n_updates"][-1] == 100  # the losing rate stops at the grid's budget
    stamp = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("checkpoint.npz")}
    lines: List[str] = []
    again = reproduce(tmp_path, **dict(kw, log=lines.append))
    assert again["rows"]["Tanh N"]["ours"] == row["ours"]
    assert {p: p.stat().st_mtime_ns for p in stamp} == stamp  # nothing trained the second time
    # and its whole-job line counts no step time of the runs it only read
    whole = next(x for x in lines if x.startswith("whole job (this call)"))
    assert "step 0% (0.0 s)" in whole, whole
    # and the report's wall time says it is this call's, which read the run
    assert (
        first["settings"]["runs_read"] == 0 and again["settings"]["runs_read"] == again["settings"]["runs_total"] == 1
    )
    assert "(1 of 1 runs read, finished by earlier calls)" in (tmp_path / "REPORT.md").read_text()


def test_process_jobs_give_the_same_numbers_as_one_process(tmp_path):
    kw = dict(rows=["Tanh", "Tanh N"], n_updates=100, **SMALL)
    one = reproduce(tmp_path / "one", jobs=1, **kw)
    two = reproduce(tmp_path / "two", jobs=2, **kw)
    for label in ("Tanh", "Tanh N"):
        assert one["rows"][label]["ours"] == two["rows"][label]["ours"]
        assert one["rows"][label]["curves"] == two["rows"][label]["curves"]


def test_a_run_says_where_its_time_went(tmp_path):
    from glorot_ext.experiments.single_run import PROFILE_PARTS

    t0 = time.perf_counter()
    res, _ = run(RunConfig(n_updates=100, monitor_every=50, **TOY), tmp_path)
    wall = time.perf_counter() - t0
    prof = res["profile"]
    assert tuple(prof) == PROFILE_PARTS and all(v >= 0 for v in prof.values())
    assert all(prof[k] > 0 for k in ("step", "data", "monitor", "evaluate", "checkpoint", "other"))
    # the parts add up to the run's wall time (all but writing result.json, which holds them)
    assert 0.9 * wall <= sum(prof.values()) <= wall
    # the training chunks hold the steps (and the batches and measurements after the first)
    assert prof["step"] < res["train_seconds"]
    # a resumed run adds this call's time (said apart) to the profile its checkpoint carried, which
    # is the first call's up to its last checkpoint
    res2, _ = run(RunConfig(n_updates=150, monitor_every=50, **TOY), tmp_path)
    this = res2["profile_this_call"]
    assert tuple(this) == PROFILE_PARTS and all(v >= 0 for v in this.values()) and this["step"] > 0
    carried = {k: res2["profile"][k] - this[k] for k in PROFILE_PARTS}
    assert carried["step"] == pytest.approx(prof["step"])
    assert all(0 <= carried[k] <= prof[k] + 1e-9 for k in PROFILE_PARTS), (carried, prof)
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["profile"] == res2["profile"] and "profile_this_call" not in saved


def test_a_row_that_diverges_is_reported_as_diverged_not_as_a_number(tmp_path):
    content = reproduce(tmp_path, rows=["Tanh N", "Sigmoid"], lr=1e38, n_updates=100, **SMALL)
    statuses = {k: r["status"] for k, r in content["rows"].items()}
    assert "diverged" in statuses.values(), statuses
    report = (tmp_path / "REPORT.md").read_text()
    for label, status in statuses.items():
        if status == "diverged":
            assert f"| {label} | **diverged** |" in report
    json.loads((tmp_path / "results-shapeset.json").read_text())


def test_the_planned_work_of_a_search_counts_each_rungs_survivors():
    from glorot_ext.experiments.reproduction import _planned_runs, _planned_updates

    stages = [(20_000, 2), (60_000, 1), (200_000, None)]
    assert _planned_updates(stages, 3) == 3 * 20_000 + 2 * 40_000 + 140_000
    assert _planned_runs(stages, 3) == 3 + 2 + 1
    assert _planned_updates([(500, None)], 1) == 500 and _planned_runs([(500, None)], 1) == 1


def test_bad_settings_are_refused_before_any_folder_is_made(tmp_path):
    with pytest.raises(ValueError, match="initializer"):
        reproduce(tmp_path / "a", softmax_init="bogus", n_updates=10, log=None)
    with pytest.raises(ValueError, match="at least one seed"):
        reproduce(tmp_path / "b", seeds=(), n_updates=10, log=None)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_malformed_scheduler_is_refused_before_any_folder_is_made(tmp_path):
    with pytest.raises(ValueError, match="local:N needs a positive number"):
        reproduce(tmp_path / "c", executor="dask", scheduler="local:x", n_updates=10, log=None)
    assert not (tmp_path / "c").exists()


def test_both_table1_renderings_share_one_row_logic():
    from glorot_ext.experiments import report

    rows = {
        "Tanh": {
            "paper": 27.15,
            "ours": [0.30, 0.32],
            "ours_at_best_val": [0.29, 0.31],
            "lr": 0.1,
            "n_updates": 2000,
            "ms_per_update": 1.5,
            "grid": {"2000": {"0.1": 0.3}},
        },
        "Tanh N": {"paper": 15.6, "status": "diverged", "lr": 0.1, "n_updates": 61, "grid": {}},
        "Sigmoid": {"paper": None, "status": "missing", "grid": {}, "missing": ["x"]},
    }
    full = report.table1({"rows": rows}, report.REPORT_COLUMNS).splitlines()
    short = report.table1({"rows": rows}, report.SUMMARY_COLUMNS).splitlines()
    assert len(full) == len(short) == 2 + len(rows)
    # mean 31.00 ± std (ddof 1) 1.41; Δ from the mean; the rate search only in REPORT.md's rendering
    assert full[2] == "| Tanh | 31.00 ± 1.41 | 30.00 ± 1.41 | 27.15 | 0.1 | 2,000 | 2,000: 0.1 30.00 |"
    assert short[2] == "| Tanh | 31.00 ± 1.41 | 30.00 ± 1.41 | 27.15 | +3.85 | 0.1 | 2,000 | 1.50 |"
    assert full[3].startswith("| Tanh N | **diverged** |") and short[3].startswith("| Tanh N | **diverged** |")
    assert short[4] == "| Sigmoid | **missing** |  | n/a |  |  |  |  |"
    with pytest.raises(ValueError, match="unknown Table 1 column"):
        report.table1({"rows": rows}, ("type", "nope"))


def test_a_tie_in_validation_error_goes_to_the_lower_validation_loss():
    from glorot_ext.experiments.reproduction import _rank, _val_loss_at

    # all three at the class prior's error (Sigmoid on Shapeset): the rate whose loss moved wins
    errors = {0.01: 0.832, 0.03: 0.832, 0.1: 0.832}
    losses = {0.01: 1.61, 0.03: 1.58, 0.1: 1.60}
    assert _rank([0.01, 0.03, 0.1], errors, losses) == [0.03, 0.1, 0.01]
    # the error decides first; equal errors and losses go to the smaller rate
    assert _rank([0.1, 0.01], {0.01: 0.5, 0.1: 0.4}, {0.01: 0.1, 0.1: 9.0}) == [0.1, 0.01]
    assert _rank([0.1, 0.01], {0.01: 0.5, 0.1: 0.5}, {0.01: 1.0, 0.1: 1.0}) == [0.01, 0.1]
    curve = {"n_updates": [100, 200], "val_error": [0.5, 0.4], "val_loss": [1.2, None]}
    assert _val_loss_at({"curve": curve}, 150) == 1.2
    assert _val_loss_at({"curve": curve}, 200) == float("inf")  # NaN loss (stored as null) never wins a tie
    assert _val_loss_at({"status": "diverged", "curve": curve}, 200) == float("inf")


def test_the_claims_decompose_jacobians_only_of_the_networks_at_init(tmp_path, monkeypatch):
    # §4.2.2's Jacobian claims are about initialization; the trained networks' profiles feed claims
    # on activations only, so their (costly) spectra are not computed.
    from glorot_ext.experiments import claims

    seen = []
    real = claims.layer_profile

    def spy(net, X, y, jacobian_examples=claims.JACOBIAN_EXAMPLES, **kw):
        seen.append((net.n_updates, jacobian_examples))
        return real(net, X, y, jacobian_examples=jacobian_examples, **kw)

    monkeypatch.setattr(claims, "layer_profile", spy)
    content = reproduce(tmp_path, rows=["Tanh", "Tanh N"], n_updates=20, **SMALL)
    assert sorted(seen) == [(0, claims.JACOBIAN_EXAMPLES)] * 2 + [(20, 0)] * 2
    assert {"jacobian_standard", "jacobian_normalized"} <= {c["id"] for c in content["claims"]}


def test_the_quick_budget_measures_jacobians_at_init_and_once_per_20k_updates():
    from glorot_ext.datasets import shapeset
    from glorot_ext.experiments.reproduction import budget_for
    from glorot_ext.experiments.single_run import _monitor

    probe = shapeset.generate(20, seed=0)
    for budget in ("quick", "standard", "full"):
        b = budget_for(budget, "shapeset")
        mon = _monitor(RunConfig(n_updates=b.n_updates, **b.run_fields()), probe)
        # Jacobian spectra at the measurements 0, 20k, 40k, ... (the quick budget: at init and at the end)
        assert mon.every * mon.jacobian_every == max(20_000, b.monitor_every)
    quick = budget_for("quick", "shapeset")
    assert quick.n_updates % quick.eval_every == 0 and quick.n_updates // quick.eval_every == 5


def test_the_checkpoint_holds_the_record_that_record_json_exports(tmp_path):
    # the record is encoded once and written to both; the checkpoint's state stays one JSON object
    from glorot_ext.record import Record, dumps

    run(RunConfig(n_updates=100, monitor_every=50, probe_size=20, **TOY), tmp_path)
    with np.load(tmp_path / "checkpoint.npz") as z:
        text = bytes(z["state"]).decode()
    state = json.loads(text)
    assert "\\u0000record" not in text and state["monitor"]["n_measured"] == 3
    exported = (tmp_path / "record.json").read_text()
    assert state["monitor"]["record"] == json.loads(exported)
    assert exported == dumps(Record.from_json(tmp_path / "record.json").to_dict())
    assert Record.from_json(tmp_path / "record.json").steps == [0, 50, 100]


def test_the_report_loads_no_network_and_reads_each_record_once(tmp_path, monkeypatch):

    from glorot_ext.experiments import reproduction as rep
    from glorot_ext.record import Record

    loads, reads = [], []
    monkeypatch.setattr(rep, "load_network", lambda *a: loads.append(a))
    real = Record.from_json.__func__
    monkeypatch.setattr(Record, "from_json", classmethod(lambda cls, p: reads.append(str(p)) or real(cls, p)))
    content = reproduce(tmp_path, rows=["Tanh", "Tanh N"], n_updates=100, **dict(SMALL, figures=True))
    assert loads == []  # the workers measured the networks they held
    assert sorted(reads) == sorted(set(reads)) and len(reads) == 2  # one record per run, figures included
    assert {"jacobian_standard", "fig6_standard_narrows"} <= {c["id"] for c in content["claims"]}


def test_runs_finished_without_evidence_give_the_same_report(tmp_path):
    """A run folder finished by an earlier version has no evidence in its result.json: the report
    measures its saved network instead, and says the same."""
    kw = dict(rows=["Tanh", "Tanh N"], n_updates=100, **SMALL)
    first = reproduce(tmp_path, **kw)
    for path in (tmp_path / "runs").rglob("result.json"):
        res = json.loads(path.read_text())
        assert "evidence" in res
        del res["evidence"]
        path.write_text(json.dumps(res))
    again = reproduce(tmp_path, **kw)
    assert json.dumps(again["claims"]) == json.dumps(first["claims"])  # NaN p-values compare as text
    for label in ("Tanh", "Tanh N"):
        assert again["rows"][label]["ours"] == first["rows"][label]["ours"]
    # and the report wrote what it measured into the results, so the folders can now lose their weights
    assert all("evidence" in json.loads(p.read_text()) for p in (tmp_path / "runs").rglob("result.json"))


def test_a_search_kept_without_weights_is_read_not_retrained(tmp_path):
    """docs/results keeps run folders without checkpoints: result.json (with the evidence),
    record.json and run.log. A reproduction over such folders trains nothing and says the same."""
    kw = dict(
        rows=["Tanh N"],
        budget="standard",
        lr_grid=[1e-6, 0.05],
        n_updates=200,
        grid_updates=100,
        **dict(SMALL, overrides=dict(n_eval=300, eval_every=50)),
    )
    first = reproduce(tmp_path / "a", **kw)
    shutil.copytree(tmp_path / "a" / "runs", tmp_path / "b" / "runs", ignore=shutil.ignore_patterns("checkpoint.npz"))
    again = reproduce(tmp_path / "b", **kw)
    assert not list((tmp_path / "b").rglob("checkpoint.npz"))  # nothing trained
    assert json.dumps(again["claims"]) == json.dumps(first["claims"])
    assert again["rows"]["Tanh N"]["ours"] == first["rows"]["Tanh N"]["ours"]
    assert again["rows"]["Tanh N"]["grid"] == first["rows"]["Tanh N"]["grid"]
    # asking for more updates than were kept trains again, from scratch: the weights are gone
    longer = reproduce(tmp_path / "b", **dict(kw, n_updates=250))
    assert longer["rows"]["Tanh N"]["n_updates"] == 250


def test_run_evidence_survives_its_json_bit_for_bit(rng):
    import glorot_ext as ge
    from glorot_ext.experiments import claims

    net = ge.MLP([8, 6, 6, 3], activation="tanh", dtype=np.float32, rng=rng)
    X, y = rng.uniform(0, 1, (400, 8)).astype(np.float32), rng.integers(0, 3, 400)
    ev = json.loads(json.dumps(claims.run_evidence(net, (X, y))))
    correct, profile = claims.read_evidence(ev)
    np.testing.assert_array_equal(correct, net.predict(X) == y)
    want = claims.layer_profile(net, X[: claims.PROBE_SIZE], y[: claims.PROBE_SIZE], jacobian_examples=0)
    assert profile.keys() == want.keys()
    for k in want:
        assert profile[k].dtype == np.float64 and profile[k].tobytes() == want[k].tobytes()


def test_a_folder_parses_its_checkpoint_once_per_write(tmp_path, monkeypatch):
    from glorot_ext.experiments.folder import RunFolder

    cfg = RunConfig(n_updates=50, **TOY)
    run(cfg, tmp_path)
    parsed = []
    real = np.load
    monkeypatch.setattr(np, "load", lambda *a, **k: parsed.append(a[0]) or real(*a, **k))
    folder = RunFolder(tmp_path)
    for _ in range(5):
        n, curve = folder.progress(cfg.identity())
    assert n == 50 and len(parsed) == 1
    curve["n_updates"].append(-1)  # the caller's copy: the next answer is not changed by it
    assert folder.progress(cfg.identity())[1]["n_updates"] == [0, 50]
    run(RunConfig(n_updates=100, **TOY), tmp_path)
    parsed.clear()
    assert folder.progress(cfg.identity())[0] == 100 and len(parsed) == 1  # a new write is read
    assert folder.progress(RunConfig(n_updates=50, **dict(TOY, lr=0.1)).identity()) is None  # another run's
