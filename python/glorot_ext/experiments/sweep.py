"""A user's own grid of runs, from a TOML file, on any executor: ``glorot-ext sweep CONFIG.toml``.

The file has three tables; in ``[grid]`` each key is one value or a list of values, and the grid
is the product of the lists::

    [grid]                      # any of: dataset, depth, width, activation, init, lr, seed
    dataset = "shapeset"
    depth = [2, 5]
    width = 32
    activation = ["tanh", "softsign"]
    init = ["standard", "normalized"]
    lr = [0.01, 0.1]
    seed = [0, 1]

    [budget]
    updates = 20000             # SGD updates of 10 examples per run (required)
    eval_every = 2000           # updates between evaluations and checkpoints (default min(1000, updates))

    [run]                       # optional, one value each: n_eval, batch_size, monitor_every,
    n_eval = 1000               # probe_size, softmax_init, dtype, data_dir

Every run is a ``RunConfig`` with its folder ``OUT/runs/<key>`` (checkpointed, resumable, skipped
once finished); the results go to ``OUT/results.csv``, ``OUT/results.json`` and ``OUT/SUMMARY.md``
(mean over seeds per setting, best validation error first, and what did not finish).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from glorot_ext import datasets
from glorot_ext._io import atomic_write
from glorot_ext.experiments.single_run import RunConfig

if TYPE_CHECKING:
    from glorot_ext.experiments.executors import RunSpec
    from glorot_ext.experiments.folder import RunResult
    from glorot_ext.training import Callback

PathLike = Union[str, "os.PathLike[str]"]

GRID_KEYS = ("dataset", "depth", "width", "activation", "init", "lr", "seed")
BUDGET_KEYS = ("updates", "eval_every")
RUN_KEYS = ("n_eval", "batch_size", "monitor_every", "probe_size", "softmax_init", "dtype", "data_dir")
_INT_KEYS = {"depth", "width", "seed", "updates", "eval_every", "n_eval", "batch_size", "monitor_every", "probe_size"}
_STR_KEYS = {"dataset", "activation", "init", "softmax_init", "dtype", "data_dir"}
COLUMNS = (
    "key",
    "dataset",
    "activation",
    "init",
    "depth",
    "width",
    "lr",
    "seed",
    "n_updates",
    "status",
    "final_test_error",
    "best_val_error",
    "test_error_at_best_val",
    "best_val_updates",
    "ms_per_update",
    "resumed_from",
    "run_dir",
    "message",
)


def _load_toml(path: PathLike) -> Dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        try:
            import tomli as tomllib  # type: ignore[no-redef, import-not-found]  # absent where tomllib exists
        except ImportError:
            raise ImportError(
                f"reading {path} needs Python 3.11+ (tomllib) or the tomli package: pip install tomli"
            ) from None
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML ({e})") from None


def _check_value(where: str, key: str, v: Any) -> None:  # v: a value parsed from TOML
    if key in _INT_KEYS:
        low = 0 if key in ("seed", "monitor_every") else 1
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise ValueError(f"{where} {key} must be an integer >= {low}, got {v!r}")
    elif key == "lr":
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
            raise ValueError(f"{where} lr must be a finite number > 0, got {v!r}")
    elif key in _STR_KEYS and not isinstance(v, str):
        raise ValueError(f"{where} {key} must be a string, got {v!r}")
    if key == "activation":
        from glorot_ext import activations

        if v not in activations.ACTIVATIONS:
            raise ValueError(f"{where} activation {v!r} is not one of {sorted(activations.ACTIVATIONS)}")
    if key in ("init", "softmax_init") and not (key == "softmax_init" and v == "same"):
        from glorot_ext import init as _init

        try:
            _init.get(v)
        except ValueError as e:
            raise ValueError(f"{where} {key}: {e}") from None
    if key == "dataset" and v not in datasets.PAPER_DATASETS:
        raise ValueError(f"{where} dataset must be one of {', '.join(datasets.PAPER_DATASETS)}, got {v!r}")
    if key == "dtype" and v not in ("float32", "float64"):
        raise ValueError(f"{where} dtype must be float32 or float64, got {v!r}")


def _table(
    spec: Mapping[str, Any], name: str, allowed: Sequence[str], path: str, required: bool = False
) -> Dict[str, Any]:
    t = spec.get(name)
    if t is None:
        if required:
            raise ValueError(f"{path}: the table [{name}] is missing")
        return {}
    if not isinstance(t, dict):
        raise ValueError(f"{path}: [{name}] must be a table, got {t!r}")
    for key in t:
        if key not in allowed:
            raise ValueError(f"{path}: [{name}] has an unknown key {key!r}; allowed: {', '.join(allowed)}")
    return t


def grid_configs(spec: object, path: str = "sweep config") -> List[RunConfig]:
    """The ``RunConfig`` list of a sweep: ``spec`` is the parsed TOML (a dict). ValueError naming
    the table and key of the first bad entry."""
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: expected tables [grid], [budget], [run], got {type(spec).__name__}")
    for name in spec:
        if name not in ("grid", "budget", "run"):
            raise ValueError(f"{path}: unknown table or key {name!r}; allowed: [grid], [budget], [run]")
    grid = _table(spec, "grid", GRID_KEYS, path, required=True)
    budget = _table(spec, "budget", BUDGET_KEYS, path, required=True)
    fixed = _table(spec, "run", RUN_KEYS, path)
    axes: Dict[str, List[Any]] = {}
    for key in GRID_KEYS:
        if key not in grid:
            continue
        values = grid[key] if isinstance(grid[key], list) else [grid[key]]
        if not values:
            raise ValueError(f"{path}: [grid] {key} is an empty list; give at least one value")
        for v in values:
            _check_value(f"{path}: [grid]", key, v)
        if len(set(values)) != len(values):
            raise ValueError(f"{path}: [grid] {key} repeats a value: {values}")
        axes[key] = values
    if "updates" not in budget:
        raise ValueError(f"{path}: [budget] updates is missing (SGD updates per run)")
    for key, v in list(budget.items()) + list(fixed.items()):
        _check_value(f"{path}: [{'budget' if key in BUDGET_KEYS else 'run'}]", key, v)
    n = budget["updates"]
    fields = dict(fixed, n_updates=n, eval_every=min(budget.get("eval_every", 1000), n))
    configs: List[RunConfig] = []
    for combo in itertools.product(*axes.values()):
        d = dict(fields, **dict(zip(axes, combo)))
        if "lr" in d:
            d["lr"] = float(d["lr"])
        try:
            configs.append(RunConfig(**d))
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
    return configs


def sweep(
    config: Union[PathLike, Dict[str, Any]],
    out_dir: PathLike = "runs/sweep",
    *,
    executor: str = "local",
    scheduler: Optional[str] = None,
    jobs: int = 1,
    threads: Optional[int] = None,
    resume: bool = True,
    progress: bool = False,
    log: Optional[Callable[[str], object]] = print,
    echo_runs: bool = True,
) -> Dict[str, Any]:
    """Runs every configuration of a sweep (a TOML path, or its parsed dict) and writes the results.

    Args:
        config: path of the TOML file, or the dict it parses to (see the module docstring).
        out_dir: folder for ``runs/``, ``results.csv``, ``results.json`` and ``SUMMARY.md``.
        executor, scheduler, jobs, threads: where the runs train (``experiments.executors``).
        resume: continue runs from their checkpoints and skip finished ones.
        progress: one tqdm bar over the grid.
        log: a function taking a line of text, or None.
        echo_runs: also log each run's evaluations (when no bar is shown); run.log has them anyway.

    Returns:
        dict: the content of ``results.json`` ("settings", "runs": one row per run, "missing").
    """
    from glorot_ext.experiments.executors import (
        GridProgress,
        RunSpec,
        StepCounter,
        local_workers,
        make_executor,
        run_grid,
    )

    path = str(config) if not isinstance(config, dict) else "sweep config"
    spec = _load_toml(config) if not isinstance(config, dict) else config
    configs = grid_configs(spec, path)
    local_workers(scheduler)  # a malformed scheduler fails before any folder exists
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    def callbacks(s: RunSpec) -> List[Callback]:
        return [StepCounter(grid, s.key, 0)] if grid.bar is not None else []

    ex = make_executor(
        executor,
        jobs=jobs,
        threads=threads,
        scheduler=scheduler,
        echo=log if log and echo_runs and not progress else None,
        callbacks=callbacks,
        log=log,
    )
    t0 = time.perf_counter()
    if log:
        log(f"sweep of {len(configs)} run(s) on {ex.describe()}; run folders under {out / 'runs'}")
    grid = GridProgress(len(configs), sum(c.n_updates for c in configs), bar=progress, log=log)
    pending = [RunSpec(c, str(out / "runs" / c.key()), resume=resume) for c in configs]
    results: Dict[str, Mapping[str, Any]] = {}  # a RunResult, or a missing run's status and message

    def take() -> Optional[Tuple[str, RunSpec]]:
        return (pending[0].key, pending.pop(0)) if pending else None

    def done(key: str, s: RunSpec, res: Optional[RunResult], error: Optional[BaseException]) -> None:
        if res is None:  # a failed run is reported missing, the others go on
            results[key] = {"status": "missing", "message": f"{type(error).__name__}: {error}"}
            grid.finish(key, s.config.n_updates, 0, f"{key}: FAILED ({error})")
            return
        results[key] = res
        trained = s.config.n_updates - min(int(res.get("resumed_from", 0)), s.config.n_updates)
        grid.finish(
            key,
            s.config.n_updates,
            trained,
            f"{key}: "
            + (
                f"diverged at update {res['curve']['n_updates'][-1]}"
                if res.get("status") == "diverged"
                else f"val error {100 * res['best_val_error']:.2f}% (best), test {100 * res['final_test_error']:.2f}%"
            ),
        )

    try:
        run_grid(ex, take, done)
    finally:
        grid.close()
        ex.close()
    rows = [_row(c, results.get(c.key(), {"status": "missing", "message": "not run"}), out) for c in configs]
    content = {
        "settings": {
            "config": spec,
            "source": path,
            "executor": getattr(ex, "name", str(executor)),
            "n_runs": len(configs),
            "wall_seconds": time.perf_counter() - t0,
        },
        "runs": rows,
        "missing": [r["key"] for r in rows if r["status"] == "missing"],
    }
    atomic_write(out / "results.json", json.dumps(content, indent=1, default=str))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write(out / "results.csv", buf.getvalue())
    atomic_write(out / "SUMMARY.md", summary(content))
    if log:
        log(summary(content))
        log(f"wrote {out / 'results.csv'}, {out / 'results.json'} and {out / 'SUMMARY.md'}")
    return content


def _row(cfg: RunConfig, res: Mapping[str, Any], out: Path) -> Dict[str, Any]:
    row: Dict[str, Any] = {
        k: getattr(cfg, k) for k in ("dataset", "activation", "init", "depth", "width", "lr", "seed", "n_updates")
    }
    row.update(
        key=cfg.key(),
        run_dir=str(out / "runs" / cfg.key()),
        status=res.get("status", "ok"),
        message=res.get("message", ""),
        resumed_from=res.get("resumed_from"),
    )
    for k in ("final_test_error", "best_val_error", "test_error_at_best_val", "best_val_updates", "ms_per_update"):
        row[k] = res.get(k)
    return row


def summary(content: Mapping[str, Any]) -> str:
    """Markdown: one line per setting (mean ± std over seeds), lowest validation error first."""
    runs = content["runs"]
    groups: Dict[Tuple[Any, ...], List[Dict[str, Any]]] = {}
    for r in runs:
        setting = tuple(r[k] for k in ("dataset", "activation", "init", "depth", "width", "lr"))
        groups.setdefault(setting, []).append(r)

    def pct(vals: Sequence[float]) -> str:
        a = 100 * np.asarray(vals, dtype=np.float64)
        return f"{a.mean():.2f}" + (f" ± {a.std(ddof=1):.2f}" if a.size > 1 else "")

    lines = [
        f"# Sweep: {len(runs)} run(s) from {content['settings']['source']}",
        "",
        "| dataset | activation | init | depth | width | lr | seeds | best val error (%) | "
        "final test error (%) | test error at best val (%) | ms/update |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ranked = []
    for setting, rs in groups.items():
        ok = [r for r in rs if r["status"] == "ok"]
        key = float(np.mean([r["best_val_error"] for r in ok])) if len(ok) == len(rs) else float("inf")
        ranked.append((key, setting, rs, ok))
    for _, setting, rs, ok in sorted(ranked, key=lambda t: t[0]):
        d, a, i, depth, width, lr = setting
        if len(ok) < len(rs):
            status = ", ".join(sorted({r["status"] for r in rs if r["status"] != "ok"}))
            lines.append(f"| {d} | {a} | {i} | {depth} | {width} | {lr:g} | {len(rs)} | {status} | | | |")
            continue
        lines.append(
            f"| {d} | {a} | {i} | {depth} | {width} | {lr:g} | {len(rs)} | "
            f"{pct([r['best_val_error'] for r in ok])} | {pct([r['final_test_error'] for r in ok])} | "
            f"{pct([r['test_error_at_best_val'] for r in ok])} | "
            f"{np.mean([r['ms_per_update'] for r in ok]):.2f} |"
        )
    missing = [r for r in runs if r["status"] == "missing"]
    if missing:
        lines += [
            "",
            f"**Missing: {len(missing)} run(s) did not finish**; run the same command again to resume "
            "them (finished runs are skipped):",
            "",
        ]
        lines += [f"- {r['key']}: {r['message']}" for r in missing]
    return "\n".join(lines) + "\n"


__all__ = ["grid_configs", "summary", "sweep"]
