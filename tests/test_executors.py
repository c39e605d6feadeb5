"""The grid's runs on any executor: same bits in this process, in a pool and on a Dask cluster; a
worker killed mid-run costs only the updates since its run's last checkpoint; finished runs are
read, not submitted; a user's own grid from a TOML file (``sweep``)."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from glorot_ext.experiments import reproduce
from glorot_ext.experiments.executors import (
    GridProgress,
    LocalExecutor,
    RunSpec,
    execute_spec,
    make_executor,
    resumed_from,
)
from glorot_ext.experiments.reproduction import DEFAULT_LR
from glorot_ext.experiments.single_run import RunConfig
from glorot_ext.experiments.sweep import grid_configs, sweep

# The brief's small grid: 2 rows, 2 hidden layers of 32, a few thousand updates, checkpoints every 250.
GRID = dict(
    rows=["Tanh", "Tanh N"],
    n_updates=2000,
    width=32,
    depth=2,
    overrides=dict(n_eval=300, eval_every=250),
    log=None,
    figures=False,
)


def _weights(run_dir):
    with np.load(run_dir / "checkpoint.npz") as z:
        return {k: z[k] for k in z.files if k != "state"}


def _assert_same_runs(a, b):
    """Two reproductions' rows have the same curves and their run folders the same weights, bitwise."""
    assert list(a["rows"]) == list(b["rows"])
    for label in a["rows"]:
        ra, rb = a["rows"][label], b["rows"][label]
        assert ra["curves"] == rb["curves"] and ra["ours"] == rb["ours"]
        for da, db in zip(ra["run_dirs"], rb["run_dirs"]):
            wa, wb = _weights(Path(da)), _weights(Path(db))
            assert wa.keys() == wb.keys()
            for k in wa:
                np.testing.assert_array_equal(wa[k], wb[k])


@pytest.fixture(scope="module")
def local_grid(tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    return out, reproduce(out, **GRID, threads=1)  # one thread: fast on a loaded machine, same bits


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as c,
        distributed.Client(c) as client,
    ):
        yield client


def test_a_finished_run_is_read_not_submitted(tmp_path):
    cfg = RunConfig(n_updates=100, depth=2, width=16, eval_every=50, n_eval=200)
    spec = RunSpec(cfg, str(tmp_path / cfg.key()))
    ex = LocalExecutor(1, 1)
    first = ex.wait([ex.submit(spec)])[0].result()
    again = ex.wait([ex.submit(spec)])[0].result()
    assert ex.submitted == 1
    assert again["curve"] == first["curve"] and again["resumed_from"] == 100 and first["resumed_from"] == 0
    assert resumed_from(spec.run_dir) == [0]  # one attempt, in the run's own log


def test_an_interrupted_task_resumes_from_its_checkpoint_and_says_so_in_its_log(tmp_path):
    cfg = RunConfig(n_updates=200, depth=2, width=16, eval_every=50, n_eval=200)
    straight = execute_spec(RunSpec(cfg, str(tmp_path / "a")))
    execute_spec(RunSpec(RunConfig(**dict(cfg.__dict__, n_updates=100)), str(tmp_path / "b")))  # "killed" at 100
    resumed = execute_spec(RunSpec(cfg, str(tmp_path / "b")))
    assert resumed["resumed_from"] == 100 and resumed_from(tmp_path / "b") == [0, 100]
    assert resumed["curve"] == straight["curve"]
    assert "resumed" in (tmp_path / "b" / "run.log").read_text()


def test_restart_clears_the_run_once_so_a_retried_attempt_resumes(tmp_path):
    cfg = RunConfig(n_updates=100, depth=2, width=16, eval_every=50, n_eval=200)
    ex = LocalExecutor(1, 1)
    ex.wait([ex.submit(RunSpec(cfg, str(tmp_path)))])
    res = ex.wait([ex.submit(RunSpec(cfg, str(tmp_path), resume=False))])[0].result()
    assert res["resumed_from"] == 0 and ex.submitted == 2
    assert "restart asked" in (tmp_path / "run.log").read_text()


def test_the_executor_settings_are_checked():
    with pytest.raises(ValueError, match="executor must be"):
        make_executor("spark")
    with pytest.raises(ValueError, match="needs --scheduler"):
        make_executor("dask")
    with pytest.raises(ValueError, match="--scheduler belongs to --executor dask"):
        make_executor("local", scheduler="local:2")
    with pytest.raises(ValueError, match="jobs must be a positive integer"):
        LocalExecutor(0)


def test_the_grid_eta_comes_from_the_updates_trained_in_this_invocation():
    g = GridProgress(4, 4000, n_rows=2, bar=False, log=None)
    assert g.eta_seconds() is None
    g.finish("a", 1000, 0)  # a run found finished: counted as done, but it measures no speed
    assert g.eta_seconds() is None and g.runs_done == 1
    g.update_live("b", 500, 500)
    time.sleep(0.05)
    eta = g.eta_seconds()
    elapsed = time.perf_counter() - g.t0
    assert eta == pytest.approx(elapsed / 500 * 2500, rel=0.05)
    g.finish("b", 1000, 1000, row_done=True)
    assert g.done_updates == 2000 and g.trained_updates == 1000 and g.rows_done == 1


def test_the_grid_bar_shows_runs_rows_and_eta_and_log_lines_stay_without_tqdm(tmp_path, capsys, monkeypatch):
    pytest.importorskip("tqdm")
    kw = dict(GRID, n_updates=200, overrides=dict(n_eval=200, eval_every=100))
    reproduce(tmp_path / "bar", **dict(kw, log=print), progress=True, threads=1)
    err = capsys.readouterr().err
    assert "grid:" in err and "run 2/2" in err and "rows 2/2 done" in err and "left" in err
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # tqdm missing: import fails
    reproduce(tmp_path / "plain", **dict(kw, log=print), progress=True, threads=1)
    out = capsys.readouterr()
    assert "grid:" not in out.err and "[run 2/2, rows 2/2 done" in out.out


def test_the_dask_executor_gives_the_local_executors_bits_and_a_second_call_submits_nothing(
    local_grid, cluster, tmp_path
):
    from glorot_ext.experiments.executors import DaskExecutor

    _, local = local_grid
    lines = []
    dask = reproduce(tmp_path, **GRID, executor="dask", scheduler=cluster)
    _assert_same_runs(local, dask)
    ex = DaskExecutor(cluster, log=lines.append)
    assert "dashboard" in lines[0]
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("checkpoint.npz")}
    again = reproduce(tmp_path, **GRID, executor=ex)
    assert ex.submitted == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    _assert_same_runs(local, again)


def test_a_killed_dask_worker_costs_only_the_updates_since_the_last_checkpoint(local_grid, cluster, tmp_path):
    _, local = local_grid
    with ThreadPoolExecutor(1) as pool:
        job = pool.submit(reproduce, tmp_path, **GRID, executor="dask", scheduler=cluster)
        victim = None
        deadline = time.monotonic() + 60
        while victim is None and time.monotonic() < deadline and not job.done():
            for addr, keys in cluster.processing().items():
                for key in keys:
                    run_key = str(key).split("-", 1)[1].rsplit("-", 2)[0]
                    ckpt = tmp_path / "runs" / run_key / "checkpoint.npz"
                    if ckpt.exists():
                        with np.load(ckpt) as z:
                            n = json.loads(bytes(z["state"]).decode())["n_updates"]
                        if 0 < n < GRID["n_updates"] - 250:
                            victim = (addr, run_key)
                            break
                if victim:
                    break
            time.sleep(0.02)
        assert victim is not None, "no run was caught mid-way"
        pid = cluster.run(os.getpid, workers=[victim[0]])[victim[0]]
        os.kill(pid, signal.SIGKILL)
        killed = job.result(timeout=120)
    starts = resumed_from(tmp_path / "runs" / victim[1])
    assert len(starts) == 2 and starts[0] == 0 and starts[1] > 0, starts  # resumed, not restarted
    _assert_same_runs(local, killed)


TOML = """
[grid]
activation = ["tanh", "softsign"]
init = ["standard", "normalized"]
depth = 2
width = 16
lr = [0.01, 0.1]
seed = 0

[budget]
updates = 100
eval_every = 50

[run]
n_eval = 200
"""


def test_sweep_runs_the_product_of_the_grid_and_writes_csv_json_and_a_summary(tmp_path):
    (tmp_path / "grid.toml").write_text(TOML)
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "glorot_ext",
            "sweep",
            str(tmp_path / "grid.toml"),
            "--out",
            str(out),
            "--quiet",
            "--threads",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 2 * 2 and {r["status"] for r in rows} == {"ok"}
    assert {(r["activation"], r["init"], float(r["lr"])) for r in rows} == {
        (a, i, lr) for a in ("tanh", "softsign") for i in ("standard", "normalized") for lr in (0.01, 0.1)
    }
    content = json.loads((out / "results.json").read_text())
    assert content["missing"] == [] and len(content["runs"]) == 8
    summary = (out / "SUMMARY.md").read_text()
    assert summary.count("| shapeset |") == 8 and "Missing" not in summary
    assert (out / "runs" / rows[0]["key"] / "run.log").exists()
    again = sweep(tmp_path / "grid.toml", out, log=None, threads=1)  # finished runs are read
    assert [r["final_test_error"] for r in again["runs"]] == [float(r["final_test_error"]) for r in rows]


@pytest.mark.parametrize(
    "text,match",
    [
        ("[grid]\nwidht = 3\n[budget]\nupdates = 10", r"\[grid\] has an unknown key 'widht'"),
        ("[grid]\nwidth = 3\n", r"the table \[budget\] is missing"),
        ("[grid]\nwidth = 3\n[budget]\neval_every = 10", r"\[budget\] updates is missing"),
        ("[grid]\nwidth = '32'\n[budget]\nupdates = 10", r"\[grid\] width must be an integer"),
        ("[grid]\nlr = [0.1, -1]\n[budget]\nupdates = 10", r"\[grid\] lr must be a finite number > 0, got -1"),
        ("[grid]\nactivation = 'relu6'\n[budget]\nupdates = 10", r"\[grid\] activation 'relu6' is not one of"),
        ("[grid]\ninit = 'xavierr'\n[budget]\nupdates = 10", r"\[grid\] init"),
        ("[grid]\nseed = []\n[budget]\nupdates = 10", r"\[grid\] seed is an empty list"),
        ("[grid]\ndataset = 'imagenet'\n[budget]\nupdates = 10", r"\[grid\] dataset must be"),
        ("[grid]\n[budget]\nupdates = 10\n[run]\nmomentum = 0.9", r"\[run\] has an unknown key 'momentum'"),
        ("[grids]\nwidth = 3", r"unknown table or key 'grids'"),
        ("[grid\nwidth = 3", "not valid TOML"),
    ],
)
def test_a_bad_sweep_config_is_refused_naming_the_key(tmp_path, text, match):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        sweep(path, tmp_path / "out", log=None)
    assert not (tmp_path / "out").exists()


def test_a_bad_sweep_config_through_the_cli_is_one_clear_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[grid]\nwidht = 3\n[budget]\nupdates = 10\n")
    proc = subprocess.run(
        [sys.executable, "-m", "glorot_ext", "sweep", str(path), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"glorot-ext: error: {path}: [grid] has an unknown key 'widht'; allowed: "
        "dataset, depth, width, activation, init, lr, seed"
    )


def test_the_grid_of_a_sweep_is_the_product_of_its_lists():
    cfgs = grid_configs({"grid": {"depth": [1, 2], "seed": [0, 1, 2]}, "budget": {"updates": 5}})
    assert len(cfgs) == 6 and {(c.depth, c.seed) for c in cfgs} == {(d, s) for d in (1, 2) for s in (0, 1, 2)}
    assert all(c.n_updates == 5 and c.eval_every == 5 for c in cfgs)


def test_a_failed_run_leaves_its_row_missing_and_the_report_says_so_and_the_rest_is_kept(tmp_path):
    kw = dict(GRID, n_updates=100, overrides=dict(n_eval=200, eval_every=50))
    cfg = RunConfig(
        dataset="shapeset",
        activation="tanh",
        init="standard",
        lr=DEFAULT_LR["Tanh"],
        seed=0,
        n_updates=100,
        width=32,
        depth=2,
        n_eval=200,
        eval_every=50,
        monitor_every=100,
    )
    bad = tmp_path / "runs" / cfg.key()
    bad.mkdir(parents=True)
    (bad / "checkpoint.npz").write_bytes(b"\x00garbage")  # this run's task raises
    content = reproduce(tmp_path, **kw, threads=1)
    assert content["rows"]["Tanh"]["status"] == "missing" and content["rows"]["Tanh N"]["status"] == "ok"
    assert "unreadable checkpoint" in content["rows"]["Tanh"]["missing"][0]
    report = (tmp_path / "REPORT.md").read_text()
    assert "| Tanh | **missing** |" in report and "Missing: 1 run(s) did not finish" in report
    assert "| Tanh | **missing** |" in (tmp_path / "table1.md").read_text()


def test_sweep_on_a_dask_local_cluster_prints_the_dashboard_and_matches_the_local_results(tmp_path):
    pytest.importorskip("distributed")
    toml = TOML.replace('activation = ["tanh", "softsign"]', 'activation = "tanh"').replace(
        'init = ["standard", "normalized"]', 'init = "normalized"'
    )
    (tmp_path / "grid.toml").write_text(toml)
    local = sweep(tmp_path / "grid.toml", tmp_path / "local", log=None, threads=1)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "glorot_ext",
            "sweep",
            str(tmp_path / "grid.toml"),
            "--out",
            str(tmp_path / "dask"),
            "--executor",
            "dask",
            "--scheduler",
            "local:2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "dashboard http" in proc.stdout and "2 worker(s)" in proc.stdout
    dask = json.loads((tmp_path / "dask" / "results.json").read_text())
    assert [r["final_test_error"] for r in dask["runs"]] == [r["final_test_error"] for r in local["runs"]]
    for r in dask["runs"]:
        np.testing.assert_array_equal(
            _weights(Path(r["run_dir"]))["W0"], _weights(tmp_path / "local" / "runs" / r["key"])["W0"]
        )


def test_reproduce_shows_one_bar_over_the_grid_with_progress_and_none_with_quiet(tmp_path):
    pytest.importorskip("tqdm")
    cmd = [
        sys.executable,
        "-m",
        "glorot_ext",
        "reproduce",
        "--width",
        "8",
        "--depth",
        "1",
        "--updates",
        "50",
        "--rows",
        "Tanh,Sigmoid",
        "--no-figures",
        "--threads",
        "1",
    ]
    shown = subprocess.run(
        cmd + ["--out", str(tmp_path / "a"), "--progress"], capture_output=True, text=True, timeout=120
    )
    quiet = subprocess.run(
        cmd + ["--out", str(tmp_path / "b"), "--progress", "--quiet"], capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0 and quiet.returncode == 0, shown.stderr + quiet.stderr
    assert "grid: run 2/2, rows 2/2 done" in shown.stderr and "% of the updates" in shown.stderr
    assert "grid:" not in quiet.stderr and "[run 2/2, rows 2/2 done" in quiet.stdout  # log lines instead


def test_without_tomllib_or_tomli_sweep_says_what_to_install(tmp_path, monkeypatch):
    (tmp_path / "grid.toml").write_text(TOML)
    monkeypatch.setitem(sys.modules, "tomllib", None)  # as on Python < 3.11
    monkeypatch.setitem(sys.modules, "tomli", None)
    with pytest.raises(ImportError, match=r"needs Python 3.11\+ \(tomllib\) or the tomli package: pip install tomli"):
        sweep(tmp_path / "grid.toml", tmp_path / "out", log=None)


def test_more_threads_than_cores_over_the_jobs_is_warned_about():
    import os

    from glorot_ext.experiments.executors import make_executor

    lines = []
    cores = os.cpu_count() or 1
    ex = make_executor("local", jobs=2, threads=cores, log=lines.append)
    ex.close()
    assert len(lines) == 1 and f"2 jobs x {cores} threads" in lines[0]
    lines.clear()
    make_executor("local", jobs=2, log=lines.append).close()  # the threads split the cores
    assert lines == []
