"""Table 1 and the paper's claims, reproduced side by side with its numbers and tested against noise.

``reproduce`` runs each Table 1 row (Softsign, Softsign N, Tanh, Tanh N, Sigmoid; 5 hidden layers
of 1000 by default) on a dataset for one or more seeds, every run checkpointed and resumable
(``run``), then writes ``REPORT.md`` (settings, Table 1, every checkable claim with its test,
p-value and verdict, the figures, the paper's unknowns), ``results-<dataset>.json`` with the same
content, ``table1.md`` and the figures.

Budgets (``BUDGETS``):

* ``quick``: 20k updates per row at fixed learning rates, a few minutes on a laptop: the
  pipeline and the instruments, and whatever orderings appear that early.
* ``standard``: the paper's protocol shrunk to fit 2 cores: the rates {0.01, 0.03, 0.1} per row
  searched on validation error by successive halving (all three for 20k updates, the best two
  continued to 60k, the best of those continued to 200k, where MNIST's curves have about
  flattened, Fig. 12); runs are continued from their checkpoints, never restarted. The paper
  chose rates on validation after 5M updates; a choice after 20k alone favours rates that learn
  fast but end worse, which the 60k rung is there to catch.
* ``full``: the paper's 2.5M updates per run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from glorot_ext._io import atomic_write
from glorot_ext.experiments import claims as _claims, evidence as ev, paper
from glorot_ext.experiments.run import (
    DivergedError,
    RunConfig,
    _build,
    _data,
    checkpoint_progress,
    load_network,
    profile_line,
    run,
    sum_profiles,
)
from glorot_ext.record import Record, dumps

#: Learning rates per Table 1 row at the quick budget: the best final validation errors of the grid
#: {0.01, 0.03, 0.1} on Shapeset at 20k updates, seed 0. Sigmoid sits at the class prior's error for
#: all three (a tie), and the first is kept.
DEFAULT_LR = {"Softsign": 0.03, "Softsign N": 0.01, "Tanh": 0.1, "Tanh N": 0.01, "Sigmoid": 0.01}

#: The learning rates the standard budget searches per row (the paper's grid is unknown).
LR_GRID = (0.01, 0.03, 0.1)


@dataclasses.dataclass(frozen=True)
class Budget:
    """How long runs are and how their learning rate is chosen.

    ``lr_grid`` None: each row uses ``DEFAULT_LR`` (or the caller's ``lr``). Otherwise the rates
    are searched by successive halving: at each rung ``(updates, keep)`` the ``keep`` rates with
    the lowest validation error go on; the last one left runs to ``n_updates``. No rungs: every
    rate runs the full budget and the lowest final validation error wins.
    """

    name: str
    n_updates: int
    eval_every: int
    n_eval: int
    monitor_every: int
    lr_grid: Optional[tuple] = None
    rungs: tuple = ()

    def run_fields(self):
        return {"eval_every": self.eval_every, "n_eval": self.n_eval, "monitor_every": self.monitor_every}


BUDGETS = {
    "quick": {"*": Budget("quick", 20_000, 2_000, 5_000, 2_000)},
    # MNIST's curves flatten after 3-5M examples (Fig. 12); 200k updates of 10 are 2M. The search:
    # three rates at 20k updates, the best two go on to 60k, the best of those to the end.
    "standard": {"*": Budget("standard", 200_000, 10_000, 10_000, 50_000, LR_GRID, ((20_000, 2), (60_000, 1))),
                 "shapeset": Budget("standard", 200_000, 10_000, 10_000, 20_000, LR_GRID, ((20_000, 2), (60_000, 1)))},
    # The paper's instruments are measured every 20k updates ("Epochs of 20k mini-batch updates").
    "full": {"*": Budget("full", 2_500_000, 20_000, 10_000, 20_000)},
}


def budget_for(name: str, dataset: str) -> Budget:
    if name not in BUDGETS:
        raise ValueError(f"budget must be one of {sorted(BUDGETS)}, got {name!r}")
    return BUDGETS[name].get(dataset, BUDGETS[name]["*"])


def _summary(values):
    a = 100 * np.asarray(values, dtype=np.float64)
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


# -- executing the grid of runs -----------------------------------------------------------------------


def _worker_init(threads):
    import glorot_ext

    glorot_ext.set_num_threads(threads)


def _flushed_print(line):
    print(line, flush=True)  # a worker's stdout is a pipe or file: without a flush lines come late


def _run_guarded(cfg, run_dir, resume, **kwargs):
    """``run``, with a divergence returned as its result.json (status "diverged") instead of raised."""
    try:
        res, _ = run(cfg, run_dir, resume=resume, **kwargs)
    except DivergedError as e:
        res = load_results(Path(run_dir) / "result.json")
        res["message"] = str(e)
    return res


def _run_task(config_fields, run_dir, resume, log_lines):
    return _run_guarded(RunConfig(**config_fields), run_dir, resume, log=_flushed_print if log_lines else None)


class _Executor:
    """Runs run-tasks in this process (jobs=1) or in a pool of ``jobs`` processes of
    ``threads`` kernel threads each (jobs·threads <= cores: no oversubscription). Results do
    not depend on either: the kernels give the same bits for any thread count."""

    def __init__(self, jobs, threads, progress, log):
        self.jobs = jobs
        self.progress = progress
        self.log = log
        self.pool = None
        if jobs > 1:
            import multiprocessing as mp

            self.pool = ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"), initializer=_worker_init,
                                            initargs=(threads,))

    def submit(self, cfg, run_dir, resume, past_ok=False):
        if past_ok and resume:
            # a rung only needs the curve: a run already past it (an earlier, longer search) is read
            done = checkpoint_progress(cfg, run_dir)
            if done is not None and done[0] >= cfg.n_updates:
                return _Done({"curve": done[1], "config": dataclasses.asdict(cfg)})
        if self.pool is None:
            return _Done(_run_guarded(cfg, run_dir, resume, progress=self.progress, log=self.log))
        return self.pool.submit(_run_task, dataclasses.asdict(cfg), str(run_dir), resume, self.log is not None)

    def close(self):
        if self.pool is not None:
            self.pool.shutdown()


class _Done:
    """A finished in-process task with the interface of a Future."""

    def __init__(self, result):
        self._result = result

    def result(self):
        return self._result

    def done(self):
        return True


def _val_at(res, step):
    """Validation error of a run at its last evaluation at or before ``step``."""
    if res.get("status") == "diverged":
        return float("inf")  # a rate that diverged never wins a rung
    c = res["curve"]
    i = max(k for k, n in enumerate(c["n_updates"]) if n <= step)
    return c["val_error"][i]


def _planned_updates(stages, n_rates):
    """Updates a row's search and final run take: each rung's survivors go from one rung to the next."""
    total, alive, prev = 0, n_rates, 0
    for updates, keep in stages:
        total += alive * (updates - prev)
        prev = updates
        alive = min(alive, keep) if keep is not None else alive
    return total


def _planned_runs(stages, n_rates):
    total, alive = 0, n_rates
    for _, keep in stages:
        total += alive
        alive = min(alive, keep) if keep is not None else alive
    return total


def _execute(rows, seeds, budget, lrs, make_config, out, resume, jobs, threads, progress, log):
    """Runs every row's rate search (successive halving over ``budget.rungs``) and continues the
    chosen rate to ``budget.n_updates``.

    At each rung (updates, keep) every surviving rate has run that many updates; the ``keep`` with
    the lowest validation error (mean over seeds) there go on, the others stop. Runs are continued
    from their checkpoints, never restarted.

    Returns {label: {"lr": chosen, "grid": {rung updates: {lr: mean val error}}, "results": [run
    result per seed], "configs": [RunConfig per seed]}}.
    """
    state, ready = {}, deque()
    for label, _, _ in rows:
        # several rates and no rung: they all run the full budget and the best final one wins
        rungs = (list(budget.rungs) or [(budget.n_updates, 1)]) if len(lrs[label]) > 1 else []
        stages = rungs + [(budget.n_updates, None)]
        state[label] = {"alive": list(lrs[label]), "stage": 0, "stages": stages, "grid": {},
                        "results": {r: [None] * len(seeds) for r in lrs[label]}, "pending": 0}
    final: Dict[str, dict] = {}

    def launch(label):
        st = state[label]
        st["pending"] = len(st["alive"]) * len(seeds)
        ready.extend((label, rate, seed, st["stage"]) for rate in st["alive"] for seed in seeds)

    for label, _, _ in rows:
        launch(label)
    executor = _Executor(jobs, threads, progress, log)
    in_flight = {}
    done, t0 = 0, time.perf_counter()
    # The whole job in updates, as planned (a search keeps `keep` rates at each rung): the ETA.
    planned = {label: _planned_updates(st["stages"], len(st["alive"])) * len(seeds) for label, st in state.items()}
    total_runs = {label: _planned_runs(st["stages"], len(st["alive"])) * len(seeds) for label, st in state.items()}
    trained = 0
    try:
        while ready or in_flight:
            while ready and len(in_flight) < max(jobs, 1):
                # later stages are longer: start them as early as their rung allows
                task = max(ready, key=lambda t: t[3])
                ready.remove(task)
                label, rate, seed, stage = task
                cfg = make_config(label, rate, seed, state[label]["stages"][stage][0])
                is_rung = state[label]["stages"][stage][1] is not None
                in_flight[executor.submit(cfg, out / "runs" / cfg.key(), resume, past_ok=is_rung)] = task
                if executor.pool is None:
                    break
            finished = [f for f in in_flight if f.done()] if executor.pool is None else \
                list(wait(list(in_flight), return_when=FIRST_COMPLETED).done)
            for fut in finished:
                label, rate, seed, stage = in_flight.pop(fut)
                res = fut.result()
                st = state[label]
                st["results"][rate][seeds.index(seed)] = res
                st["pending"] -= 1
                done += 1
                step, keep = st["stages"][stage]
                trained += step - (st["stages"][stage - 1][0] if stage else 0)
                if log:
                    elapsed = time.perf_counter() - t0
                    left = elapsed / max(trained, 1) * max(sum(planned.values()) - trained, 0)
                    row = [r[0] for r in rows].index(label) + 1
                    log(f"[row {row}/{len(rows)}, run {done}/{sum(total_runs.values())}, {elapsed / 60:.0f} min, about "
                        f"{left / 60:.0f} min left] {label} lr {rate:g} seed {seed} at {step:,} updates: "
                        + (f"diverged ({res.get('message')})" if res.get("status") == "diverged"
                           else f"val error {100 * _val_at(res, step):.2f}%"))
                if st["pending"]:
                    continue
                if keep is None:  # the full budget: done
                    rate = st["alive"][0]
                    final[label] = {"lr": rate, "grid": st["grid"], "results": st["results"][rate],
                                    "configs": [make_config(label, rate, s, step) for s in seeds]}
                    continue
                vals = {r: float(np.mean([_val_at(x, step) for x in st["results"][r]])) for r in st["alive"]}
                st["grid"][str(step)] = {str(r): v for r, v in vals.items()}
                st["alive"] = sorted(st["alive"], key=lambda r: (vals[r], r))[:keep]
                if log:
                    log(f"{label}: at {step:,} updates " + ", ".join(f"lr {r:g} {100 * v:.2f}%" for r, v in vals.items())
                        + f" (validation); going on with {', '.join(f'{r:g}' for r in st['alive'])}")
                st["stage"] += 1
                launch(label)
    finally:
        executor.close()
    return final


# -- the job ---------------------------------------------------------------------------------------


def reproduce(out_dir="runs/reproduce", *, dataset="shapeset", budget="quick", quick=None, seeds=(0,), rows=None,
              lr=None, lr_grid=None, n_updates=None, grid_updates=None, softmax_init="normalized", width=1000, depth=5, data_dir=None, resume=True, jobs=1,
              threads=None, progress=False, log=print, figures=True, overrides=None, command=None):
    """Runs the Table 1 rows on ``dataset``, tests the paper's claims and writes the report.

    Args:
        out_dir: folder for runs, report, table and figures.
        dataset: "shapeset" (default, built in), "mnist" or "cifar10" (need ``data_dir``).
        budget: "quick", "standard" or "full" (see ``BUDGETS``), or a ``Budget``.
        quick: deprecated spelling: True is "quick", False is "full".
        seeds: one run per seed and row; Table 1 shows mean ± std over seeds, the tests pool them.
        rows: subset of Table 1 labels (default all five).
        lr: one learning rate for every row (no grid).
        lr_grid: learning rates to search per row on validation error (overrides the budget's).
        n_updates: override the budget's number of updates (the grid stage is cut to fit).
        grid_updates: one rung instead of the budget's: every rate runs this many updates, the best
            on validation goes on to the full budget.
        softmax_init: the softmax layer's init, "normalized" (the author's code) or "same" as the row's.
        width, depth: hidden layers' size and number (the paper: 1000 and 5); small values make a
            demo or a test of the whole pipeline take seconds.
        data_dir: where MNIST/CIFAR-10 files are (else ``GLOROT_EXT_DATA``).
        resume: continue interrupted runs from their checkpoints and skip finished ones.
        jobs: runs at once, each in its own process (1: in this process).
        threads: kernel threads per run (default: all cores divided among the jobs).
        progress: tqdm bars (in-process runs only).
        log: function taking a line of text, or None.
        figures: write the PNG figures (needs matplotlib).
        overrides: other ``RunConfig`` fields for every run.
        command: the command line that asked for this, written into the report.

    Returns:
        dict: the content of ``results-<dataset>.json`` (rows, claims, settings).
    """
    if quick is not None:
        budget = "quick" if quick else "full"
    b = budget if isinstance(budget, Budget) else budget_for(budget, dataset)
    if n_updates is not None:
        n = int(n_updates)
        b = dataclasses.replace(b, n_updates=n, eval_every=max(1, min(b.eval_every, n)),
                                monitor_every=min(b.monitor_every, n),
                                rungs=tuple((min(u, n), k) for u, k in b.rungs if u < n))
    if lr_grid:
        b = dataclasses.replace(b, lr_grid=tuple(float(r) for r in lr_grid))
    if grid_updates is not None:
        if not isinstance(grid_updates, int) or not 0 < grid_updates <= b.n_updates:
            raise ValueError(f"grid_updates must be an integer in [1, {b.n_updates}], got {grid_updates!r}")
        b = dataclasses.replace(b, rungs=((grid_updates, 1),))
    if lr is not None:
        b = dataclasses.replace(b, lr_grid=None, rungs=())
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    cores = os.cpu_count() or 1
    threads = threads or max(1, cores // jobs)
    seeds = [int(s) for s in seeds]
    wanted = [r for r in paper.TABLE1_ROWS if rows is None or r[0] in rows]
    if rows is not None and len(wanted) != len(set(rows)):
        raise ValueError(f"rows must be among {[r[0] for r in paper.TABLE1_ROWS]}, got {list(rows)}")
    fields = dict(b.run_fields(), width=int(width), depth=int(depth), softmax_init=softmax_init)
    fields.update(overrides or {})
    acts = {label: (a, i) for label, a, i in wanted}

    def make_config(label, rate, seed, n):
        a, i = acts[label]
        return RunConfig(dataset=dataset, activation=a, init=i, lr=float(rate), seed=int(seed), n_updates=int(n),
                         data_dir=None if data_dir is None else str(data_dir), **fields)

    if not seeds or not wanted:
        raise ValueError(f"reproduce needs at least one seed and one row, got seeds {seeds} and rows {rows}")
    make_config(wanted[0][0], lr or 0.01, seeds[0], b.n_updates)  # bad settings fail before any folder exists
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lrs = {label: list(b.lr_grid) if b.lr_grid else [lr if lr is not None else DEFAULT_LR[label]]
           for label, _, _ in wanted}
    t_start = time.perf_counter()
    import glorot_ext

    with glorot_ext.num_threads(threads):
        final = _execute(wanted, seeds, b, lrs, make_config, out, resume, jobs, threads, progress, log)
        if log:
            log("runs done; measuring the claims")
        results, outcomes, init_profiles = _assemble(final, wanted, seeds, dataset, make_config, out)
    claims = _claims.init_claims(init_profiles) + _claims.training_claims(outcomes, dataset)
    settings = {"dataset": dataset, "budget": dataclasses.asdict(b), "seeds": seeds, "width": int(width),
                "softmax_init": softmax_init,
                "depth": int(depth), "alpha": ev.ALPHA, "jobs": jobs, "threads": threads,
                "wall_seconds": time.perf_counter() - t_start, "overrides": dict(overrides or {}), "command": command}
    content = {"settings": settings, "rows": results, "claims": [c.as_dict() for c in claims],
               "unknowns": paper.UNKNOWNS_CHOSEN}
    fig_paths = _figures(results, dataset, out, log) if figures else {}
    from glorot_ext.experiments import report as _report

    atomic_write(out / f"results-{dataset}.json", dumps(content, indent=1))
    table = format_table(results, dataset, b, seeds, width, depth)
    atomic_write(out / "table1.md", table)
    text = _report.render(content, fig_paths, out)
    atomic_write(out / "REPORT.md", text)
    if log:
        log(table)
        log("time of the chosen runs: " + profile_line(sum_profiles(r.get("profile", {}) for r in results.values())))
        log(_report.claims_table(content["claims"]))
        log(f"wrote {out / 'REPORT.md'}")
    return content


def _ok(results):
    return {k: r for k, r in results.items() if r.get("status") != "diverged"}


def _assemble(final, wanted, seeds, dataset, make_config, out):
    """Table rows from the runs, and the per-example evidence from their final networks."""
    results, outcomes = {}, {}
    test = probe = None
    for label, activation, init in wanted:
        f = final[label]
        res = f["results"]
        if any(x.get("status") == "diverged" for x in res):
            results[label] = {"activation": activation, "init": init, "lr": f["lr"], "grid": f["grid"],
                              "status": "diverged", "paper": paper.TABLE1[label].get(dataset),
                              "n_updates": max(x["curve"]["n_updates"][-1] for x in res),
                              "message": next(x.get("message") for x in res if x.get("status") == "diverged"),
                              "curves": [x["curve"] for x in res], "run_dirs": [str(out / "runs" / c.key())
                                                                               for c in f["configs"]]}
            continue
        correct, profiles = [], []
        for cfg in f["configs"]:
            if test is None:
                _, _, test = _data(cfg)
                n = min(_claims.PROBE_SIZE, test[0].shape[0])
                probe = (test[0][:n], test[1][:n])
            net = load_network(cfg, out / "runs" / cfg.key())
            correct.append(net.predict(test[0]) == test[1])
            profiles.append(_claims.layer_profile(net, *probe))
        record = Record.from_json(res[0]["record"]) if res[0].get("record") else None
        outcomes[label] = _claims.RowOutcome(label, correct, profiles, record)
        results[label] = {
            "status": "ok", "activation": activation, "init": init, "lr": f["lr"], "grid": f["grid"],
            "n_updates": res[0]["config"]["n_updates"],
            "ours": [x["final_test_error"] for x in res],
            "ours_at_best_val": [x["test_error_at_best_val"] for x in res],
            "best_val_updates": [x["best_val_updates"] for x in res],
            "paper": paper.TABLE1[label].get(dataset),
            "curves": [x["curve"] for x in res],
            "ms_per_update": float(np.mean([x["ms_per_update"] for x in res])),
            "train_seconds": float(np.sum([x["train_seconds"] for x in res])),
            "profile": sum_profiles(x.get("profile", {}) for x in res),
            "records": [x["record"] for x in res],
            "run_dirs": [str(out / "runs" / c.key()) for c in f["configs"]],
            "jacobian_at_init": _jacobian_at_init(record),
        }
    init_profiles = {}
    for label in ("Tanh", "Tanh N"):
        a, i = next((a, i) for lab, a, i in paper.TABLE1_ROWS if lab == label)
        profs = []
        for seed in seeds:
            cfg = RunConfig(**dict(dataclasses.asdict(make_config(wanted[0][0], 0.01, seed, 1)), activation=a, init=i))
            if probe is None:
                _, _, test = _data(cfg)
                n = min(_claims.PROBE_SIZE, test[0].shape[0])
                probe = (test[0][:n], test[1][:n])
            profs.append(_claims.layer_profile(_build(cfg), *probe))
        init_profiles[label] = profs
    return results, outcomes, init_profiles


def _jacobian_at_init(record):
    """Mean singular value of each hidden layer's Jacobian at initialization (§4.2.2), from a Record."""
    if record is None or "jac_mean" not in record.scalars:
        return None
    return [float(v) for v in record.scalar("jac_mean")[0]]


def format_table(results, dataset, budget, seeds, width=1000, depth=5):
    """Markdown: our test error next to the paper's, one row per model."""
    grid = (f"learning rate per row chosen on validation error from {list(budget.lr_grid)}" if budget.lr_grid
            else "fixed learning rates")
    lines = [
        f"Table 1 on {dataset}: test error (%) of {depth}x{width} networks after {budget.n_updates:,} updates of 10 "
        f"examples (the paper: about 2.5M); {grid}; seeds {list(seeds)}",
        "",
        "| TYPE | ours (final) | ours (at best validation) | paper | Δ vs paper | lr | updates | ms/update |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, r in results.items():
        if r.get("status") == "diverged":
            lines.append(f"| {label} | diverged | diverged | {r['paper']} | | {r['lr']:g} | {r['n_updates']:,} | |")
            continue
        m, s = _summary(r["ours"])
        mb, sb = _summary(r["ours_at_best_val"])
        spread = f" ± {s:.2f}" if len(r["ours"]) > 1 else ""
        spread_b = f" ± {sb:.2f}" if len(r["ours"]) > 1 else ""
        p = r["paper"]
        lines.append(f"| {label} | {m:.2f}{spread} | {mb:.2f}{spread_b} | {'n/a' if p is None else f'{p:.2f}'} | "
                     f"{'' if p is None else f'{m - p:+.2f}'} | {r['lr']:g} | {r['n_updates']:,} | "
                     f"{r['ms_per_update']:.2f} |")
    return "\n".join(lines) + "\n"


def _slug(label):
    return label.lower().replace(" ", "_")


def _figures(results, dataset, out, log):
    """Figures per row and the error curves; returns {name: path} for the report."""
    try:
        from glorot_ext import plots
    except ImportError:
        if log:
            log("matplotlib not installed: no figures (pip install 'glorot_ext[plots]')")
        return {}
    results = _ok(results)
    order = sorted(results, key=lambda k: -float(np.mean(results[k]["ours"])))  # as the paper: worst first
    number = 11 if dataset == "shapeset" else 12
    paths = {"error_curves": plots.error_curves(
        [results[k]["curves"][0] for k in order], out / f"fig{number}_test_error_{dataset}.png",
        labels=[f"{k} (paper: {results[k]['paper']}%)" for k in order],
        title=f"Test error during training, {dataset} (cf. Fig. {number})")}
    for label in order:
        record = results[label].get("records", [None])[0]
        if record:
            for p in plots.all_figures(Record.from_json(record), out / "figures", prefix=f"{_slug(label)}_"):
                paths[Path(p).stem] = p
    paths["fig5_cost_surface"] = plots.plot_cost_surface(out / "fig5_cost_surface.png")
    if log:
        log(f"wrote {len(paths)} figures under {out}")
    return paths


def load_results(path) -> dict:
    """Reads a ``results-<dataset>.json`` written by ``reproduce``."""
    with open(path, "rb") as f:
        return json.loads(f.read())


__all__ = ["BUDGETS", "Budget", "DEFAULT_LR", "LR_GRID", "budget_for", "format_table", "load_results", "reproduce"]
