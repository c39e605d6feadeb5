"""Glorot & Bengio (2010) on the CPU: glorot-ext (or python -m glorot_ext) COMMAND [options].

Commands:
    reproduce   Table 1 and the error-curve figure, side by side with the paper's numbers.
    sweep       your own grid of runs from a TOML file, on this machine or a Dask cluster.
    train       one network on one dataset, checkpointed and resumable.
    shapeset    save a grid of Shapeset-3x2 samples (the paper's Fig. 1, top) as PNG.
    bench       time the training step against NumPy (and PyTorch when installed).
    info        how the native module was built.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Sequence, TypedDict, Union

import numpy as np

PathLike = Union[str, "os.PathLike[str]"]


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return v


def _float_list(text: str) -> List[float]:
    return [_positive_float(t) for t in text.split(",") if t.strip()]


def _int_list(text: str) -> List[int]:
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated non-negative integers, got {text!r}")
    return values


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows each option's default, unless its help already says it or there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default is None
            or default is False
            or default == argparse.SUPPRESS
            or action.nargs == 0
            or not action.option_strings
        ):
            return text
        shown = ",".join(map(str, default)) if isinstance(default, (list, tuple)) else default
        return f"{text} (default: {shown})".lstrip()


def _add_global_options(p: argparse.ArgumentParser, default: Optional[str]) -> None:
    """--threads and --quiet, accepted before the command and after it (``train --threads 2``)."""
    p.add_argument("--threads", type=_positive_int, default=default, help="kernel threads (default: all cores)")
    p.add_argument(
        "--quiet",
        action="store_true",
        default=False if default is None else default,
        help="no progress bars and no per-evaluation log lines",
    )


class _CommandParser(argparse.ArgumentParser):
    """A command's parser: the shared help format, and the global options unless ``globals_=False``."""

    def __init__(self, *args: Any, globals_: bool = True, **kwargs: Any) -> None:  # ArgumentParser's arguments
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)
        if globals_:  # SUPPRESS: given after the command, they override; absent, the global value stays
            _add_global_options(self, argparse.SUPPRESS)


_SWEEP_EXAMPLE = """\
    [grid]
    activation = ["tanh", "softsign"]
    init = ["standard", "normalized"]
    depth = 2
    width = 32
    lr = [0.01, 0.1]
    seed = [0, 1]
    [budget]
    updates = 2000
    eval_every = 500
    [run]
    n_eval = 1000
"""


def _add_executor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--executor",
        choices=["local", "dask"],
        default="local",
        help="where runs train: 'local' (this process, or --jobs processes) or 'dask' (a Dask "
        "cluster, see --scheduler; pip install 'glorot_ext[dask]')",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="for --executor dask: a scheduler address (tcp://host:8786), or local:N to start a "
        "LocalCluster of N worker processes here; run folders must be on a filesystem the "
        "workers share",
    )
    p.add_argument(
        "--jobs",
        type=_positive_int,
        default=1,
        help="--executor local: runs at once, each in its own process with cores/jobs threads",
    )


class _ExecutorArgs(TypedDict):
    executor: str
    scheduler: Optional[str]


def _executor_args(a: argparse.Namespace) -> _ExecutorArgs:
    if a.executor == "dask" and not a.scheduler:
        raise ValueError("--executor dask needs --scheduler ADDRESS (tcp://host:8786) or local:N")
    if a.executor == "local" and a.scheduler:
        raise ValueError("--scheduler is for --executor dask")
    return _ExecutorArgs(executor=a.executor, scheduler=a.scheduler)


#: ``train``'s settings without --budget (0: no monitor).
_TRAIN_DEFAULTS = {"updates": 20_000, "eval_every": 2_000, "n_eval": 10_000, "monitor_every": 0}


def _parser() -> argparse.ArgumentParser:
    from glorot_ext import datasets
    from glorot_ext.activations import ACTIVATIONS
    from glorot_ext.experiments import paper
    from glorot_ext.experiments.reproduction import BUDGETS
    from glorot_ext.runtime import __version__

    p = argparse.ArgumentParser(prog="glorot-ext", description=__doc__.split("\n")[0], formatter_class=_HelpFormatter)
    p.add_argument("--version", action="version", version=f"glorot-ext {__version__}")
    _add_global_options(p, None)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_CommandParser)

    r = sub.add_parser("reproduce", help="Table 1 and Fig. 11/12 next to the paper's numbers")
    r.add_argument("--dataset", choices=list(datasets.PAPER_DATASETS), default="shapeset")
    budget = r.add_mutually_exclusive_group()
    budget.add_argument(
        "--quick",
        dest="budget",
        action="store_const",
        const="quick",
        default="quick",
        help="laptop budget: 20k updates per row at fixed rates (default)",
    )
    budget.add_argument(
        "--standard",
        dest="budget",
        action="store_const",
        const="standard",
        help="the paper's protocol on 2 cores: rates 0.01, 0.03, 0.1 per row searched on "
        "validation error (successive halving at 20k and 60k updates), the chosen one "
        "continued to 200k updates",
    )
    budget.add_argument(
        "--full",
        dest="budget",
        action="store_const",
        const="full",
        help="the paper's horizon: the standard search, the chosen rate continued to 2.5M updates",
    )
    r.add_argument("--updates", type=_positive_int, help="updates per model (overrides the budget)")
    r.add_argument("--seeds", type=_int_list, default=[0], help="comma-separated seeds (default 0)")
    r.add_argument(
        "--rows",
        help="comma-separated Table 1 rows, e.g. 'Tanh,Tanh N' (default all: "
        + ", ".join(row[0] for row in paper.TABLE1_ROWS)
        + ")",
    )
    r.add_argument("--lr", type=_positive_float, help="one learning rate for all rows")
    r.add_argument("--lr-grid", type=_float_list, help="learning rates to search per row on validation error")
    r.add_argument(
        "--grid-updates",
        type=_positive_int,
        help="one round of rate search: every rate runs this many updates, the best goes on",
    )
    r.add_argument(
        "--softmax-init",
        default="normalized",
        help="the softmax layer's weights: 'normalized' (Eq. 16 whatever the row's init, as the "
        "author's code) or 'same' (the row's init)",
    )
    r.add_argument("--width", type=_positive_int, default=1000, help="units per hidden layer (the paper: 1000)")
    r.add_argument("--depth", type=_positive_int, default=5, help="hidden layers (the paper: 5)")
    _add_executor_options(r)
    r.add_argument("--data-dir", help="folder with the MNIST/CIFAR-10 files (else $GLOROT_EXT_DATA)")
    r.add_argument("--out", default="runs/reproduce", help="output folder (default runs/reproduce)")
    r.add_argument("--restart", action="store_true", help="ignore checkpoints and start every run over")
    r.add_argument("--no-figures", action="store_true")
    r.add_argument(
        "--progress",
        action="store_true",
        help="one progress bar over the whole grid even when not in a terminal (needs tqdm)",
    )

    w = sub.add_parser(
        "sweep",
        help="your own grid of runs from a TOML file (see glorot_ext.experiments.sweep)",
        description="Runs every combination of the values in CONFIG.toml's [grid] table and writes\n"
        "results.csv, results.json and SUMMARY.md under --out. [grid] keys (a value or a\n"
        "list): dataset, depth, width, activation, init, lr, seed. [budget]: updates (per\n"
        "run, required), eval_every. [run] (one value each): n_eval, batch_size,\n"
        "monitor_every, probe_size, softmax_init, dtype, data_dir. Example:\n\n" + _SWEEP_EXAMPLE,
    )
    w.add_argument("config", metavar="CONFIG.toml", help="the grid (see the example above)")
    w.add_argument("--out", default="runs/sweep", help="output folder")
    _add_executor_options(w)
    w.add_argument("--restart", action="store_true", help="ignore checkpoints and start every run over")
    w.add_argument("--progress", action="store_true", help="progress bar even when not in a terminal (needs tqdm)")

    t = sub.add_parser("train", help="train one network, checkpointed and resumable")
    t.add_argument("--dataset", choices=list(datasets.PAPER_DATASETS), default="shapeset", help="training data")
    t.add_argument("--activation", default="tanh", choices=list(ACTIVATIONS), help="hidden-layer activation")
    t.add_argument("--init", default="normalized", help="standard, normalized, or any glorot_ext.init name")
    t.add_argument("--depth", type=_positive_int, default=5, help="hidden layers")
    t.add_argument("--width", type=_positive_int, default=1000, help="units per hidden layer")
    t.add_argument(
        "--budget",
        choices=list(BUDGETS),
        help="reproduce's settings for one run ("
        + "; ".join(
            f"{k}: {v['*'].n_updates:,} updates, evaluated every {v['*'].eval_every:,}" for k, v in BUDGETS.items()
        )
        + "), with its evaluation set size and instrument density; the options below override "
        "it, and the learning rate stays --lr",
    )
    t.add_argument(
        "--updates", type=_positive_int, help=f"SGD updates (default: {_TRAIN_DEFAULTS['updates']}, or --budget's)"
    )
    t.add_argument("--lr", type=_positive_float, default=0.03, help="learning rate")
    t.add_argument("--batch-size", type=_positive_int, default=10, help="examples per update")
    t.add_argument(
        "--eval-every",
        type=_positive_int,
        help=f"updates between evaluations and checkpoints (default: {_TRAIN_DEFAULTS['eval_every']}, or --budget's)",
    )
    t.add_argument(
        "--n-eval",
        type=_positive_int,
        help=f"Shapeset validation/test set size (default: {_TRAIN_DEFAULTS['n_eval']}, or --budget's)",
    )
    t.add_argument(
        "--monitor-every",
        type=_positive_int,
        metavar="N",
        help="measure the paper's instruments every N updates; writes record.json and figures/ "
        "(default: never, or --budget's)",
    )
    t.add_argument("--seed", type=int, default=0, help="seed of the weights and the data order")
    t.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="floating-point type")
    t.add_argument("--data-dir", metavar="DIR", help="folder with the MNIST/CIFAR-10 files (else $GLOROT_EXT_DATA)")
    t.add_argument("--out", default="runs/train", metavar="DIR", help="output folder; the run gets a subfolder")
    t.add_argument("--restart", action="store_true", help="ignore a checkpoint and start over")
    t.add_argument("--save-model", metavar="FILE", help="also write the trained model to this .npz")
    t.add_argument(
        "--progress", action="store_true", help="progress bar even when the output is not a terminal (needs tqdm)"
    )

    s = sub.add_parser("shapeset", help="save a grid of Shapeset-3x2 samples as PNG")
    s.add_argument("path", help="output PNG (its folder is created)")
    s.add_argument("--seed", type=int, default=0, help="seed of the samples")
    s.add_argument("-n", type=_positive_int, default=50, help="number of images")
    s.add_argument("--cols", type=_positive_int, default=10, help="images per row")
    s.add_argument("--size", type=_positive_int, default=64, help="image side in pixels (the paper's figure: 64)")

    b = sub.add_parser(
        "bench", help="time the training step against NumPy (and PyTorch if installed)", add_help=False, globals_=False
    )
    b.add_argument("args", nargs=argparse.REMAINDER, help="options of the benchmark (see 'bench --help')")

    sub.add_parser("info", help="how the native module was built")
    return p


def _cmd_reproduce(a: argparse.Namespace) -> None:
    from glorot_ext.experiments import reproduce

    rows = [x.strip() for x in a.rows.split(",")] if a.rows else None
    reproduce(
        a.out,
        dataset=a.dataset,
        budget=a.budget,
        seeds=a.seeds,
        rows=rows,
        lr=a.lr,
        lr_grid=a.lr_grid,
        n_updates=a.updates,
        grid_updates=a.grid_updates,
        softmax_init=a.softmax_init,
        width=a.width,
        depth=a.depth,
        data_dir=a.data_dir,
        resume=not a.restart,
        jobs=a.jobs,
        threads=a.threads,
        progress=a.progress,
        figures=not a.no_figures,
        figure_workers=os.cpu_count() or 1,  # spawned: safe from the CLI, whose main module is guarded
        command="python -m glorot_ext " + " ".join(a.argv),
        **_executor_args(a),
    )


def _cmd_sweep(a: argparse.Namespace) -> int:
    from glorot_ext.experiments.sweep import sweep

    content = sweep(
        a.config,
        a.out,
        jobs=a.jobs,
        threads=a.threads,
        resume=not a.restart,
        progress=a.progress,
        echo_runs=not a.quiet,
        **_executor_args(a),
    )
    return 4 if content["missing"] else 0


@contextlib.contextmanager
def _no_empty_folders_on_failure(path: PathLike) -> Iterator[None]:
    """Removes the folders created under ``path``'s first missing ancestor if the block fails."""
    path = Path(path).absolute()
    missing = [d for d in [path, *path.parents] if not d.exists()]
    try:
        yield
    except BaseException:
        for d in missing:  # deepest first
            with contextlib.suppress(OSError):  # not empty (or gone): keep it
                d.rmdir()
        raise


def _cmd_train(a: argparse.Namespace) -> Optional[int]:
    from glorot_ext.experiments import RunConfig, run
    from glorot_ext.experiments.reproduction import budget_for
    from glorot_ext.experiments.single_run import DivergedError, profile_line

    preset = dict(_TRAIN_DEFAULTS)
    if a.budget:
        b = budget_for(a.budget, a.dataset)
        preset = {
            "updates": b.n_updates,
            "eval_every": b.eval_every,
            "n_eval": b.n_eval,
            "monitor_every": b.monitor_every,
        }
    for name, value in preset.items():
        if getattr(a, name) is None:
            setattr(a, name, value)

    cfg = RunConfig(
        dataset=a.dataset,
        activation=a.activation,
        init=a.init,
        depth=a.depth,
        width=a.width,
        n_updates=a.updates,
        lr=a.lr,
        batch_size=a.batch_size,
        eval_every=min(a.eval_every, a.updates),
        seed=a.seed,
        dtype=a.dtype,
        n_eval=a.n_eval,
        data_dir=a.data_dir,
        monitor_every=min(a.monitor_every, a.updates),
    )
    out = Path(a.out) / cfg.key()
    try:
        with _no_empty_folders_on_failure(out):
            res, net = run(cfg, out, resume=not a.restart, progress=a.progress, log=None if a.quiet else print)
    except DivergedError as e:
        print(f"glorot-ext: error: {e}", file=sys.stderr)
        return 3
    written = [out / "checkpoint.npz", out / "result.json"]
    if res["record"]:
        written.append(Path(res["record"]))
        written += _figures(res["record"], out / "figures")
    if a.save_model:
        with _no_empty_folders_on_failure(Path(a.save_model).parent):
            Path(a.save_model).parent.mkdir(parents=True, exist_ok=True)
            net.save(a.save_model)
        written.append(Path(a.save_model))
    for path in written:
        print(f"wrote {path}")
    print(
        f"final test error {100 * res['final_test_error']:.2f}%, "
        f"test error at the best validation error {100 * res['test_error_at_best_val']:.2f}% "
        f"(update {res['best_val_updates']:,}), {res['ms_per_update']:.2f} ms/update"
    )
    if res.get("profile"):
        print("time: " + profile_line(res["profile"]))
    return 0


def _figures(record_path: PathLike, out: Path) -> List[Path]:
    try:
        from glorot_ext import plots
    except ImportError:
        print("figures skipped: matplotlib is not installed (pip install 'glorot_ext[plots]')", file=sys.stderr)
        return []
    from glorot_ext.record import Record

    return plots.all_figures(Record.from_json(record_path), out)


def _cmd_shapeset(a: argparse.Namespace) -> None:
    from glorot_ext.datasets import shapeset

    path = Path(a.path)
    with _no_empty_folders_on_failure(path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
        shapeset.save_grid(path, n=a.n, ncols=a.cols, seed=a.seed, size=a.size)
    print(f"wrote {path}")


def _cmd_bench(a: argparse.Namespace) -> int:
    from glorot_ext import benchmark

    return benchmark.main(a.args)


def _cmd_info(_: argparse.Namespace) -> None:
    from glorot_ext import runtime

    print(json.dumps(dict(runtime.build_info(), numpy=np.__version__), indent=1))


def _close_progress_bars() -> int:
    """Closes the tqdm bars a Ctrl-C left open (each ends its line); returns how many."""
    tqdm = sys.modules.get("tqdm.std")
    bars = list(getattr(getattr(tqdm, "tqdm", None), "_instances", ()))
    for bar in bars:
        bar.close()
    return len(bars)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.command == "bench":  # everything after 'bench' belongs to the benchmark's own parser
        args.args = extra + args.args
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    from glorot_ext import runtime

    if args.threads is not None:
        runtime.set_num_threads(args.threads)
    if hasattr(args, "progress"):  # bars by default in a terminal; never with --quiet
        args.progress = (args.progress or sys.stderr.isatty()) and not args.quiet
    handler: Callable[[argparse.Namespace], Optional[int]] = {
        "reproduce": _cmd_reproduce,
        "sweep": _cmd_sweep,
        "train": _cmd_train,
        "shapeset": _cmd_shapeset,
        "bench": _cmd_bench,
        "info": _cmd_info,
    }[args.command]
    try:
        return handler(args) or 0
    except KeyboardInterrupt:
        closed = _close_progress_bars()  # else tqdm redraws them after the message, at exit
        print(
            ("" if closed else "\n") + "interrupted: completed work is checkpointed; run the same command "
            "again to resume",
            file=sys.stderr,
        )
        return 130
    except (OSError, ValueError, TypeError, ImportError) as e:
        print(f"glorot-ext: error: {e}", file=sys.stderr)
        return 1
