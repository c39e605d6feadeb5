"""Table 1 and the paper's claims, reproduced side by side with its numbers and tested against noise.

``reproduce`` runs each Table 1 row (Softsign, Softsign N, Tanh, Tanh N, Sigmoid; 5 hidden layers
of 1000 by default) on a dataset for one or more seeds, every run checkpointed and resumable
(``run``), then writes ``REPORT.md`` (settings, Table 1, every checkable claim with its test,
p-value and verdict, the figures, the paper's unknowns), ``results-<dataset>.json`` with the same
content, ``table1.md`` and the figures.

Budgets (``BUDGETS``):

* ``quick``: 20k updates per row at fixed learning rates, a few minutes on a laptop: the
  pipeline and the instruments, and whatever orderings appear that early. Validation and test
  error, the checkpoint and the Monitor every 4k updates (6 points per curve): an evaluation of
  the 2 x 5,000 images costs as much as 300 updates and a measurement as much as 100, so every
  2k they took a fifth of the run; every 4k keeps the updates where the rows' best validation
  errors fell (12k, 16k, 20k), so Table 1 is unchanged, and the run spends its time training.
* ``standard``: the paper's protocol shrunk to fit 2 cores: the rates {0.01, 0.03, 0.1} per row
  searched on validation error by successive halving (all three for 20k updates, the best two
  continued to 60k, the best of those continued to 200k, where MNIST's curves have about
  flattened, Fig. 12); runs are continued from their checkpoints, never restarted. The paper
  chose rates on validation after 5M updates; a choice after 20k alone favours rates that learn
  fast but end worse, which the 60k rung is there to catch.
* ``full``: the paper's 2.5M updates per run: the standard search (rungs at 20k and 60k), the
  chosen rate continued to 2.5M. The paper chose on validation after 5M updates; a horizon-long
  search is out of reach of 2 cores, and the 60k rung is the closest it affords.

The runs go to an executor (``experiments.executors``): this process, a pool of processes, or a
Dask cluster; finished runs are read, not rerun, and a run that fails leaves its row "missing" in
the report, which says so.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections import deque
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Deque,
    Dict,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypedDict,
    Union,
    cast,
)

import numpy as np

from glorot_ext import datasets
from glorot_ext._io import atomic_write
from glorot_ext.experiments import claims as _claims, evidence as ev, paper
from glorot_ext.experiments.folder import RunFolder, RunResult
from glorot_ext.experiments.single_run import (
    RunConfig,
    _build,
    _data,
    checkpoint_progress,
    load_network,
    profile_line,
    sum_profiles,
)
from glorot_ext.record import Record, dumps

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from glorot_ext.datasets._common import Split
    from glorot_ext.experiments.claims import Profile
    from glorot_ext.experiments.executors import Executor, RunSpec
    from glorot_ext.training import Callback

PathLike = Union[str, "os.PathLike[str]"]
#: A run's result (its result.json).
Result = Dict[str, Any]
#: The stages of a row's search: (updates, rates kept; None for the final stage).
Stages = List[Tuple[int, Optional[int]]]
#: (label, learning rate, seed, stage) of one task of the grid.
Task = Tuple[str, float, int, int]
#: ``make_config(label, rate, seed, n_updates)``.
MakeConfig = Callable[[str, float, int, int], RunConfig]


class _RowState(TypedDict):
    alive: List[float]
    stage: int
    stages: Stages
    grid: Dict[str, Dict[str, float]]
    results: Dict[float, List[Optional[RunResult]]]
    pending: int
    failed: List[str]


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
    lr_grid: Optional[Tuple[float, ...]] = None
    rungs: Tuple[Tuple[int, int], ...] = ()

    def run_fields(self) -> Dict[str, int]:
        return {"eval_every": self.eval_every, "n_eval": self.n_eval, "monitor_every": self.monitor_every}


BUDGETS = {
    "quick": {"*": Budget("quick", 20_000, 4_000, 5_000, 4_000)},
    # MNIST's curves flatten after 3-5M examples (Fig. 12); 200k updates of 10 are 2M. The search:
    # three rates at 20k updates, the best two go on to 60k, the best of those to the end.
    "standard": {
        "*": Budget("standard", 200_000, 10_000, 10_000, 50_000, LR_GRID, ((20_000, 2), (60_000, 1))),
        "shapeset": Budget("standard", 200_000, 10_000, 10_000, 20_000, LR_GRID, ((20_000, 2), (60_000, 1))),
    },
}
# The paper's horizon, 2.5M updates: the standard search's rungs, its chosen rate continued from
# its checkpoint. With the same evaluation and instrument settings the runs are the standard ones
# (same folders), so a full run passes through the standard budget's results on its way.
BUDGETS["full"] = {k: dataclasses.replace(v, name="full", n_updates=2_500_000) for k, v in BUDGETS["standard"].items()}

#: The error axis (%) of the Table 1 error-curve figure, where the paper's has one that shows the
#: differences: Fig. 12 (MNIST) spans about 1-4%, where its curves flatten between 1.6 and 2.1%.
ERROR_AXIS = {"mnist": (1.0, 4.0)}


def budget_for(name: str, dataset: str) -> Budget:
    if name not in BUDGETS:
        raise ValueError(f"budget must be one of {sorted(BUDGETS)}, got {name!r}")
    return BUDGETS[name].get(dataset, BUDGETS[name]["*"])


# -- executing the grid of runs -----------------------------------------------------------------------


def _curve_at(res: Mapping[str, Any], step: int, key: str) -> float:
    """``curve[key]`` of a run at its last evaluation at or before ``step``; inf if the run diverged
    or the value is NaN (stored as null), so such a rate never wins a rung."""
    if res.get("status") == "diverged":
        return float("inf")
    c = res["curve"]
    i = max(k for k, n in enumerate(c["n_updates"]) if n <= step)
    value = c[key][i]
    return float("inf") if value is None else float(value)


def _val_at(res: Mapping[str, Any], step: int) -> float:
    """Validation error of a run at its last evaluation at or before ``step``."""
    return _curve_at(res, step, "val_error")


def _val_loss_at(res: Mapping[str, Any], step: int) -> float:
    """Validation loss (mean NLL) at the same evaluation as ``_val_at``."""
    return _curve_at(res, step, "val_loss")


def _rank(rates: Sequence[float], errors: Mapping[float, float], losses: Mapping[float, float]) -> List[float]:
    """Rates best first: by validation error, ties (all rates at the class prior, say) by validation
    loss, which still tells a rate that is moving from one that is not, then by the smaller rate."""
    return sorted(rates, key=lambda r: (errors[r], losses[r], r))


def _planned_updates(stages: Stages, n_rates: int) -> int:
    """Updates a row's search and final run take: each rung's survivors go from one rung to the next."""
    total, alive, prev = 0, n_rates, 0
    for updates, keep in stages:
        total += alive * (updates - prev)
        prev = updates
        alive = min(alive, keep) if keep is not None else alive
    return total


def _planned_runs(stages: Stages, n_rates: int) -> int:
    total, alive = 0, n_rates
    for _, keep in stages:
        total += alive
        alive = min(alive, keep) if keep is not None else alive
    return total


def _execute(
    rows: Sequence[Tuple[str, str, str]],
    seeds: List[int],
    budget: Budget,
    lrs: Mapping[str, List[float]],
    make_config: MakeConfig,
    out: Path,
    resume: bool,
    executor: Union[Executor, Callable[[Callable[[RunSpec], List[Callback]]], Executor]],
    progress: bool,
    log: Optional[Callable[[str], object]],
) -> Dict[str, Dict[str, Any]]:
    """Runs every row's rate search (successive halving over ``budget.rungs``) and continues the
    chosen rate to ``budget.n_updates``, on ``executor`` (``experiments.executors``).

    At each rung (updates, keep) every surviving rate has run that many updates; the ``keep`` with
    the lowest validation error (mean over seeds) there go on, the others stop (ties: ``_rank``). Runs are continued
    from their checkpoints, never restarted. A run that fails (its task raised, or Dask gave up on
    it) stops its row, which is reported missing; the other rows go on.

    ``executor`` is a ready executor, or a function (callbacks-factory) -> executor so that
    in-process runs can report their steps to the grid's progress bar.

    Returns {label: {"lr": chosen, "grid": {rung updates: {lr: mean val error}}, "results": [run
    result per seed], "configs": [RunConfig per seed]}}, or for a row with failed runs {"status":
    "missing", "grid": ..., "missing": [what failed]}.
    """
    from glorot_ext.experiments.executors import GridProgress, RunSpec, StepCounter, run_grid

    state: Dict[str, _RowState] = {}
    ready: Deque[Task] = deque()
    for label, _, _ in rows:
        # several rates and no rung: they all run the full budget and the best final one wins
        rungs = (list(budget.rungs) or [(budget.n_updates, 1)]) if len(lrs[label]) > 1 else []
        stages: Stages = [*rungs, (budget.n_updates, None)]
        state[label] = {
            "alive": list(lrs[label]),
            "stage": 0,
            "stages": stages,
            "grid": {},
            "results": {r: [None] * len(seeds) for r in lrs[label]},
            "pending": 0,
            "failed": [],
        }
    final: Dict[str, Dict[str, Any]] = {}

    def launch(label: str) -> None:
        st = state[label]
        st["pending"] = len(st["alive"]) * len(seeds)
        ready.extend((label, rate, seed, st["stage"]) for rate in st["alive"] for seed in seeds)

    for label, _, _ in rows:
        launch(label)
    # The whole job in updates, as planned (a search keeps `keep` rates at each rung): the ETA.
    planned = sum(_planned_updates(st["stages"], len(st["alive"])) * len(seeds) for st in state.values())
    total_runs = sum(_planned_runs(st["stages"], len(st["alive"])) * len(seeds) for st in state.values())
    spans: Dict[
        Tuple[str, int], Tuple[int, int, RunSpec, int]
    ] = {}  # task -> (stage start, stage end, spec, updates counted when submitted)

    def span_of(spec: RunSpec, start: int, end: int) -> int:
        got = checkpoint_progress(spec.config, spec.run_dir) if spec.resume else None
        return min(max((got[0] if got else 0) - start, 0), end - start)

    def callbacks(spec: RunSpec) -> List[Callback]:  # in-process runs count their steps into the grid's bar
        task = (spec.key, spec.config.n_updates)
        start, end = spans[task][:2]
        counted = span_of(spec, start, end)
        grid.update_live(task, counted, 0)
        return [StepCounter(grid, task, counted)] if grid.bar is not None else []

    ex = executor(callbacks) if callable(executor) else executor  # before the bar: it may print
    grid = GridProgress(total_runs, planned, n_rows=len(rows), bar=progress, log=log)

    def take() -> Optional[Tuple[Tuple[Task, Tuple[str, int]], RunSpec]]:
        if not ready:
            return None
        # later stages are longer: start them as early as their rung allows
        task = max(ready, key=lambda t: t[3])
        ready.remove(task)
        label, rate, seed, stage = task
        stages = state[label]["stages"]
        cfg = make_config(label, rate, seed, stages[stage][0])
        # a later stage continues the run the first one (re)started
        chosen = stages[stage][1] is None  # the chosen rate's run: the report measures its network
        spec = RunSpec(
            cfg, str(out / "runs" / cfg.key()), resume=resume or stage > 0, past_ok=not chosen, evidence=chosen
        )
        start = stages[stage - 1][0] if stage else 0
        spans[(spec.key, cfg.n_updates)] = (start, cfg.n_updates, spec, span_of(spec, start, cfg.n_updates))
        return (task, (spec.key, cfg.n_updates)), spec

    def poll(flying: List[Tuple[Tuple[Task, Tuple[str, int]], RunSpec]]) -> None:  # the bar follows the checkpoints
        for (_, skey), _ in flying:
            start, end, spec, base = spans[skey]
            counted = span_of(spec, start, end)
            grid.update_live(skey, counted, max(counted - base, 0))

    def done(
        tag: Tuple[Task, Tuple[str, int]], spec: RunSpec, res: Optional[RunResult], error: Optional[BaseException]
    ) -> None:
        (label, rate, seed, stage), tkey = tag
        st = state[label]
        step, keep = st["stages"][stage]
        start = spans[tkey][0]
        row = [r[0] for r in rows].index(label) + 1
        what = f"{label} lr {rate:g} seed {seed} at {step:,} updates"
        st["pending"] -= 1
        if res is None:  # the task raised: its run is missing
            st["failed"].append(f"{what} ({spec.run_dir}): {type(error).__name__}: {error}")
            grid.finish(tkey, step - start, 0, f"row {row}: {what}: FAILED ({error})", row_done=not st["pending"])
            if not st["pending"]:
                final[label] = {"status": "missing", "grid": st["grid"], "missing": st["failed"]}
            return
        st["results"][rate][seeds.index(seed)] = res
        first = min(max(int(res.get("resumed_from", 0)) - start, 0), step - start)
        last = res["curve"]["n_updates"][-1] if res.get("curve") else step
        trained = max(min(last, step) - start - first, 0)
        row_done = not st["pending"] and (keep is None or bool(st["failed"]))
        grid.finish(
            tkey,
            step - start,
            trained,
            f"row {row}/{len(rows)}: {what}: "
            + (
                f"diverged ({res.get('message')})"
                if res.get("status") == "diverged"
                else f"val error {100 * _val_at(res, step):.2f}%"
            )
            if log or grid.bar
            else None,
            row_done=row_done,
        )
        if st["pending"]:
            return
        if st["failed"]:
            final[label] = {"status": "missing", "grid": st["grid"], "missing": st["failed"]}
            return
        if keep is None:  # the full budget: done
            rate = st["alive"][0]
            final[label] = {
                "lr": rate,
                "grid": st["grid"],
                "results": st["results"][rate],
                "configs": [make_config(label, rate, s, step) for s in seeds],
            }
            return
        vals = {
            r: float(np.mean([_val_at(cast(Result, x), step) for x in st["results"][r]]))  # all in
            for r in st["alive"]
        }
        losses = {
            r: float(np.mean([_val_loss_at(cast(Result, x), step) for x in st["results"][r]])) for r in st["alive"]
        }
        st["grid"][str(step)] = {str(r): v for r, v in vals.items()}
        st["alive"] = _rank(st["alive"], vals, losses)[:keep]
        grid.write(
            f"{label}: at {step:,} updates "
            + ", ".join(f"lr {r:g} {100 * v:.2f}%" for r, v in vals.items())
            + f" (validation); going on with {', '.join(f'{r:g}' for r in st['alive'])}"
        )
        st["stage"] += 1
        launch(label)

    try:
        run_grid(ex, take, done, poll)
    finally:
        grid.close()
        ex.close()
    return final


# -- the job ---------------------------------------------------------------------------------------


def reproduce(
    out_dir: PathLike = "runs/reproduce",
    *,
    dataset: str = "shapeset",
    budget: Union[str, Budget] = "quick",
    seeds: Sequence[int] = (0,),
    rows: Optional[Sequence[str]] = None,
    lr: Optional[float] = None,
    lr_grid: Optional[Sequence[float]] = None,
    n_updates: Optional[int] = None,
    grid_updates: Optional[int] = None,
    softmax_init: str = "normalized",
    width: int = 1000,
    depth: int = 5,
    data_dir: Optional[PathLike] = None,
    resume: bool = True,
    jobs: int = 1,
    threads: Optional[int] = None,
    progress: bool = False,
    log: Optional[Callable[[str], object]] = print,
    figures: bool = True,
    figure_workers: int = 1,
    overrides: Optional[Mapping[str, Any]] = None,
    command: Optional[str] = None,
    executor: Union[str, Executor] = "local",
    scheduler: object = None,
) -> Dict[str, Any]:
    """Runs the Table 1 rows on ``dataset``, tests the paper's claims and writes the report.

    Args:
        out_dir: folder for runs, report, table and figures.
        dataset: "shapeset" (default, built in), "mnist" or "cifar10" (need ``data_dir``).
        budget: "quick", "standard" or "full" (see ``BUDGETS``), or a ``Budget``.
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
        jobs: runs at once, each in its own process (1: in this process); local executor only.
        threads: kernel threads per run (default: all cores divided among the jobs, or among a
            Dask worker's task slots).
        progress: one tqdm bar over the whole grid (runs done, rows done, ETA).
        log: function taking a line of text, or None.
        figures: write the PNG figures (needs matplotlib).
        figure_workers: processes drawing the rows' figures (the CLI: one per core). They are
            spawned, so a script that asks for more than 1 needs ``if __name__ == "__main__":``.
        overrides: other ``RunConfig`` fields for every run.
        command: the command line that asked for this, written into the report.
        executor: "local" (this process or ``jobs`` processes), "dask", or an executor object
            (``experiments.executors``).
        scheduler: for "dask": a scheduler address, "local:N" (a ``LocalCluster`` of N workers), a
            ``distributed.Client`` or a cluster object. The run folders must be on a filesystem
            the workers share.

    Returns:
        dict: the content of ``results-<dataset>.json`` (rows, claims, settings).
    """
    b = budget if isinstance(budget, Budget) else budget_for(budget, dataset)
    if n_updates is not None:
        n = int(n_updates)
        b = dataclasses.replace(
            b,
            n_updates=n,
            eval_every=max(1, min(b.eval_every, n)),
            monitor_every=min(b.monitor_every, n),
            rungs=tuple((min(u, n), k) for u, k in b.rungs if u < n),
        )
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
    if isinstance(executor, str):
        if executor not in ("local", "dask"):
            raise ValueError(f"executor must be 'local' or 'dask', got {executor!r}")
        if (executor == "dask") != (scheduler is not None):
            raise ValueError("the dask executor needs a scheduler (an address or local:N), and only it takes one")
        from glorot_ext.experiments.executors import local_workers

        local_workers(scheduler)  # a malformed scheduler fails before any folder exists
    cores = os.cpu_count() or 1
    run_threads = threads  # None: each executor's default
    threads = threads or max(1, cores // jobs)
    seeds = [int(s) for s in seeds]
    wanted = [r for r in paper.TABLE1_ROWS if rows is None or r[0] in rows]
    if rows is not None and len(wanted) != len(set(rows)):
        raise ValueError(f"rows must be among {[r[0] for r in paper.TABLE1_ROWS]}, got {list(rows)}")
    fields: Dict[str, Any] = dict(b.run_fields(), width=int(width), depth=int(depth), softmax_init=softmax_init)
    fields.update(overrides or {})
    acts = {label: (a, i) for label, a, i in wanted}

    def make_config(label: str, rate: float, seed: int, n: int) -> RunConfig:
        a, i = acts[label]
        return RunConfig(
            dataset=dataset,
            activation=a,
            init=i,
            lr=float(rate),
            seed=int(seed),
            n_updates=int(n),
            data_dir=None if data_dir is None else str(data_dir),
            **fields,
        )

    if not seeds or not wanted:
        raise ValueError(f"reproduce needs at least one seed and one row, got seeds {seeds} and rows {rows}")
    make_config(wanted[0][0], lr or 0.01, seeds[0], b.n_updates)  # bad settings fail before any folder exists
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lrs = {
        label: list(b.lr_grid) if b.lr_grid else [lr if lr is not None else DEFAULT_LR[label]] for label, _, _ in wanted
    }
    t_start = time.perf_counter()
    from glorot_ext import runtime
    from glorot_ext.experiments.executors import make_executor

    echo = log if log and not progress else None  # a bar shows progress; run.log keeps every line

    def executor_for(callbacks: Callable[[RunSpec], List[Callback]]) -> Executor:
        return make_executor(
            executor,
            jobs=jobs,
            threads=run_threads if executor == "dask" else threads,
            scheduler=scheduler,
            echo=echo,
            callbacks=callbacks,
            log=log,
        )

    with runtime.num_threads(threads):
        final = _execute(wanted, seeds, b, lrs, make_config, out, resume, executor_for, progress, log)
        missing = {k: f["missing"] for k, f in final.items() if f.get("status") == "missing"}
        if log:
            log(
                "runs done; measuring the claims"
                if not missing
                else f"{sum(map(len, missing.values()))} run(s) failed, rows {', '.join(missing)} missing; measuring the "
                "claims on the rows that finished (run the same command again to resume the others)"
            )
        results, outcomes, init_profiles = _assemble(final, wanted, seeds, dataset, make_config, out)
    claims = _claims.init_claims(init_profiles) + _claims.training_claims(outcomes, dataset)
    chosen = [x for f in final.values() for x in f.get("results", ()) if isinstance(x, dict)]
    settings = {
        "dataset": dataset,
        "budget": dataclasses.asdict(b),
        "seeds": seeds,
        "width": int(width),
        "softmax_init": softmax_init,
        "depth": int(depth),
        "alpha": ev.ALPHA,
        "jobs": jobs,
        "threads": threads,
        "executor": executor if isinstance(executor, str) else getattr(executor, "name", "custom"),
        "wall_seconds": time.perf_counter() - t_start,
        # the chosen runs this call only read (an earlier call trained them): the wall time is this call's
        "runs_read": sum(not x.get("profile_this_call") for x in chosen),
        "runs_total": len(chosen),
        "overrides": dict(overrides or {}),
        "command": command,
    }
    content: Dict[str, Any] = {
        "settings": settings,
        "rows": results,
        "claims": [c.as_dict() for c in claims],
        "unknowns": [(u, c.replace("{n_eval:,}", f"{fields['n_eval']:,}")) for u, c in paper.UNKNOWNS_CHOSEN],
    }
    loaded = {k: o.records for k, o in outcomes.items()}
    fig_paths = _figures(results, dataset, out, log, figure_workers, loaded) if figures else {}
    from glorot_ext.experiments import report as _report

    atomic_write(out / f"results-{dataset}.json", dumps(_relative_paths(content, out), indent=1))
    table = format_table(results, dataset, b, seeds, width, depth)
    atomic_write(out / "table1.md", table)
    text = _report.render(content, fig_paths, out)
    atomic_write(out / "REPORT.md", text)
    if log:
        log(table)
        log("time of the chosen runs: " + profile_line(sum_profiles(r.get("profile", {}) for r in results.values())))
        log(_report.claims_table(content["claims"]))
        log(f"wrote {out / 'REPORT.md'}")
        # this call's wall time: what the chosen runs trained in it (a run read from disk adds
        # nothing), and the rest (other rates' runs, claims, figures, report)
        runs = sum_profiles(x.get("profile_this_call", {}) for x in chosen)
        wall = time.perf_counter() - t_start
        log(
            "whole job (this call): the chosen runs' "
            + profile_line(dict(runs, rest=max(wall - sum(runs.values()), 0.0)))
        )
    return content


def _ok(results: Mapping[str, Result]) -> Dict[str, Result]:
    return {k: r for k, r in results.items() if r.get("status") not in ("diverged", "missing")}


def _assemble(
    final: Mapping[str, Dict[str, Any]],
    wanted: Sequence[Tuple[str, str, str]],
    seeds: List[int],
    dataset: str,
    make_config: MakeConfig,
    out: Path,
) -> Tuple[Dict[str, Result], Dict[str, _claims.RowOutcome], Dict[str, List[Profile]]]:
    """Table rows from the runs, and the per-example evidence from their final networks."""
    results: Dict[str, Result] = {}
    outcomes: Dict[str, _claims.RowOutcome] = {}
    test: Optional[Split] = None
    probe: Optional[Split] = None
    for label, activation, init in wanted:
        f = final[label]
        if f.get("status") == "missing":
            results[label] = {
                "activation": activation,
                "init": init,
                "status": "missing",
                "grid": f["grid"],
                "paper": paper.TABLE1[label].get(dataset),
                "missing": f["missing"],
            }
            continue
        res = f["results"]
        if any(x.get("status") == "diverged" for x in res):
            results[label] = {
                "activation": activation,
                "init": init,
                "lr": f["lr"],
                "grid": f["grid"],
                "status": "diverged",
                "paper": paper.TABLE1[label].get(dataset),
                "n_updates": max(x["curve"]["n_updates"][-1] for x in res),
                "message": next(x.get("message") for x in res if x.get("status") == "diverged"),
                "curves": [x["curve"] for x in res],
                "run_dirs": [str(out / "runs" / c.key()) for c in f["configs"]],
            }
            continue
        correct: List[NDArray[np.bool_]] = []
        profiles: List[Profile] = []
        for cfg, x in zip(f["configs"], res):
            if "evidence" not in x:  # a run finished by an earlier version: measure its saved network
                if test is None:
                    _, _, test = _data(cfg)
                where = RunFolder(out / "runs" / cfg.key())
                x = dict(x, evidence=_claims.run_evidence(load_network(cfg, where.path), test))
                where.add_to_result(x["config"], evidence=x["evidence"])  # so the folder can be kept without weights
            # The claims on trained networks read activations only; Jacobian spectra, the costly
            # part of a profile, are claimed at initialization (§4.2.2) and measured there, below.
            c, p = _claims.read_evidence(x["evidence"])
            correct.append(c)
            profiles.append(p)
        # the record of the run folder itself (a folder copied elsewhere keeps the path it was written at)
        record_paths = [
            str(RunFolder(out / "runs" / c.key()).record) if x.get("record") else None
            for c, x in zip(f["configs"], res)
        ]
        records = [Record.from_json(p) for p in record_paths if p]
        record = records[0] if records else None
        reached = min(int(x["curve"]["n_updates"][-1]) for x in res)
        outcomes[label] = _claims.RowOutcome(label, correct, profiles, record, records, reached)
        results[label] = {
            "status": "ok",
            "activation": activation,
            "init": init,
            "lr": f["lr"],
            "grid": f["grid"],
            "n_updates": res[0]["config"]["n_updates"],
            "ours": [x["final_test_error"] for x in res],
            "ours_at_best_val": [x["test_error_at_best_val"] for x in res],
            "best_val_updates": [x["best_val_updates"] for x in res],
            "paper": paper.TABLE1[label].get(dataset),
            "curves": [x["curve"] for x in res],
            "ms_per_update": float(np.mean([x["ms_per_update"] for x in res])),
            "train_seconds": float(np.sum([x["train_seconds"] for x in res])),
            "profile": sum_profiles(x.get("profile", {}) for x in res),
            "records": record_paths,
            "run_dirs": [str(out / "runs" / c.key()) for c in f["configs"]],
            "jacobian_at_init": _jacobian_at_init(record),
        }
    init_profiles: Dict[str, List[Profile]] = {}
    for label in ("Tanh", "Tanh N"):
        a, i = next((a, i) for lab, a, i in paper.TABLE1_ROWS if lab == label)
        profs: List[Profile] = []
        for seed in seeds:
            cfg = RunConfig(**dict(dataclasses.asdict(make_config(wanted[0][0], 0.01, seed, 1)), activation=a, init=i))
            if probe is None:
                probe = _probe(cfg)
            profs.append(_claims.layer_profile(_build(cfg), *probe))
        init_profiles[label] = profs
    return results, outcomes, init_profiles


def _probe(cfg: RunConfig) -> Split:
    """The claims' probe: the first ``PROBE_SIZE`` test examples (Shapeset's test set is made in
    fixed blocks, so its first examples do not depend on how many are made)."""
    if cfg.dataset == "shapeset":
        sh = datasets.shapeset
        return sh.generate(min(_claims.PROBE_SIZE, cfg.n_eval), seed=sh.TEST_SEED, dtype=np.dtype(cfg.dtype))
    _, _, test = _data(cfg)
    n = min(_claims.PROBE_SIZE, test[0].shape[0])
    return test[0][:n], test[1][:n]


def _jacobian_at_init(record: Optional[Record]) -> Optional[List[float]]:
    """Mean singular value of each hidden layer's Jacobian at initialization (§4.2.2), from a Record."""
    if record is None or "jac_mean" not in record.scalars:
        return None
    return [float(v) for v in record.scalar("jac_mean")[0]]


def format_table(
    results: Mapping[str, Result], dataset: str, budget: Budget, seeds: Sequence[int], width: int = 1000, depth: int = 5
) -> str:
    """Markdown: our test error next to the paper's, one row per model."""
    grid = (
        f"learning rate per row chosen on validation error from {list(budget.lr_grid)}"
        if budget.lr_grid
        else "fixed learning rates"
    )
    from glorot_ext.experiments import report as _report

    title = (
        f"Table 1 on {dataset}: test error (%) of {depth}x{width} networks after {budget.n_updates:,} updates of 10 "
        f"examples (the paper: about 2.5M); {grid}; seeds {list(seeds)}"
    )
    return f"{title}\n\n{_report.table1({'rows': results}, _report.SUMMARY_COLUMNS)}\n"


def _slug(label: str) -> str:
    return label.lower().replace(" ", "_")


def _row_figures(records: Sequence[Union[str, Record]], out_dir: str, prefix: str) -> List[str]:
    """``plots.all_figures`` of one row's records, one per seed: Records, or paths to read (a
    worker task of ``_figures``)."""
    from glorot_ext import plots

    loaded = [r if isinstance(r, Record) else Record.from_json(r) for r in records]
    return [str(p) for p in plots.all_figures(loaded, out_dir, prefix=prefix)]


def _figures(
    results: Mapping[str, Result],
    dataset: str,
    out: Path,
    log: Optional[Callable[[str], object]],
    workers: int = 1,
    loaded: Optional[Mapping[str, List[Record]]] = None,
) -> Dict[str, Path]:
    """Figures per row and the error curves; returns {name: path} for the report. ``loaded``:
    the rows' Records already in memory, drawn from there unless a pool of workers draws them.

    Matplotlib draws on one core: with ``workers`` > 1 the rows' figures are drawn in a pool of
    that many spawned processes (at most one per row) while this process draws the error curves
    and the cost surface. The files are the same either way."""
    try:
        from glorot_ext import plots
    except ImportError:
        if log:
            log("matplotlib not installed: no figures (pip install 'glorot_ext[plots]')")
        return {}
    results = _ok(results)
    order = sorted(results, key=lambda k: -float(np.mean(results[k]["ours"])))  # as the paper: worst first
    number = 11 if dataset == "shapeset" else 12
    records = [
        ([str(r) for r in recs], str(out / "figures"), f"{_slug(k)}_")
        for k in order
        if (recs := [r for r in results[k].get("records", []) if r])
    ]
    row_labels = [k for k in order if any(results[k].get("records", []))]
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"figure_workers must be a positive integer, got {workers!r}")
    workers = min(len(records), workers)
    pool = None
    if workers > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        try:
            pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"))
        except (OSError, NotImplementedError):  # no process pool here (e.g. no semaphores): draw them here
            pool = None
    try:
        futures = [pool.submit(_row_figures, *r) for r in records] if pool is not None else []
        paths = {
            "error_curves": plots.error_curves(
                [list(results[k]["curves"]) for k in order],
                out / f"fig{number}_test_error_{dataset}.png",
                labels=[f"{k} (paper: {results[k]['paper']}%)" for k in order],
                title=f"Test error during training, {dataset} (cf. Fig. {number})",
                ylim=ERROR_AXIS.get(dataset),
            )
        }
        surface = plots.plot_cost_surface(out / "fig5_cost_surface.png")
        if pool is not None:
            rows = [f.result() for f in futures]
        else:
            rows = [_row_figures((loaded or {}).get(k) or recs, *rest) for k, (recs, *rest) in zip(row_labels, records)]
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    for row in rows:
        paths.update((Path(p).stem, Path(p)) for p in row)
    paths["fig5_cost_surface"] = surface
    if log:
        log(f"wrote {len(paths)} figures under {out}")
    return paths


def _relative_paths(content: Mapping[str, Any], out: Path) -> Dict[str, Any]:
    """``content`` with each row's run folders and records relative to ``out``, where the results
    file sits, so a results folder can be moved, committed or shared without naming this machine."""

    def rel(p: Optional[str]) -> Optional[str]:
        return None if p is None else os.path.relpath(p, out)

    rows = {
        label: {**r, **{k: [rel(p) for p in r[k]] for k in ("records", "run_dirs") if k in r}}
        for label, r in content["rows"].items()
    }
    return {**content, "rows": rows}


def load_results(path: PathLike) -> Result:
    """Reads a ``results-<dataset>.json`` written by ``reproduce``. Its run folders and records are
    stored relative to the file's folder; they are returned joined to it."""
    with open(path, "rb") as f:
        content: Result = json.loads(f.read())
    here = Path(path).parent
    for r in content.get("rows", {}).values():
        for k in ("records", "run_dirs"):
            if k in r:
                r[k] = [None if p is None else str(here / p) for p in r[k]]
    return content


__all__ = ["BUDGETS", "Budget", "DEFAULT_LR", "LR_GRID", "budget_for", "format_table", "load_results", "reproduce"]
