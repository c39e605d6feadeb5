"""Command line: ``python -m glorot_ext`` (or ``glorot-ext``) COMMAND [options].

Commands:
    reproduce   Table 1 and the error-curve figure, side by side with the paper's numbers.
    train       one network on one dataset, checkpointed and resumable.
    shapeset    save a grid of Shapeset-3x2 samples (the paper's Fig. 1, top) as PNG.
    bench       time the training step against NumPy (and PyTorch when installed).
    info        how the native module was built.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def _positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return v


def _float_list(text):
    return [_positive_float(t) for t in text.split(",") if t.strip()]


def _int_list(text):
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated non-negative integers, got {text!r}")
    return values


def _parser():
    from glorot_ext.experiments import paper

    p = argparse.ArgumentParser(prog="glorot-ext", description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=_positive_int, default=None, help="kernel threads (default: all cores)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("reproduce", help="Table 1 and Fig. 11/12 next to the paper's numbers")
    r.add_argument("--dataset", choices=["shapeset", "mnist", "cifar10"], default="shapeset")
    budget = r.add_mutually_exclusive_group()
    budget.add_argument("--quick", dest="budget", action="store_const", const="quick", default="quick",
                        help="laptop budget: 20k updates per row at fixed rates (default)")
    budget.add_argument("--standard", dest="budget", action="store_const", const="standard",
                        help="the paper's protocol on 2 cores: a learning-rate grid per row on validation, the "
                             "chosen rate continued to 250k updates (MNIST about 1 hour)")
    budget.add_argument("--full", dest="budget", action="store_const", const="full",
                        help="the paper's budget: 2.5M updates per run")
    r.add_argument("--updates", type=_positive_int, help="updates per model (overrides the budget)")
    r.add_argument("--seeds", type=_int_list, default=[0], help="comma-separated seeds (default 0)")
    r.add_argument("--rows", help="comma-separated Table 1 rows, e.g. 'Tanh,Tanh N' (default all: "
                   + ", ".join(row[0] for row in paper.TABLE1_ROWS) + ")")
    r.add_argument("--lr", type=_positive_float, help="one learning rate for all rows")
    r.add_argument("--lr-grid", type=_float_list, help="learning rates to search per row on validation error")
    r.add_argument("--grid-updates", type=_positive_int,
                   help="updates per rate of the grid before the choice (standard: 30k, Shapeset 20k)")
    r.add_argument("--width", type=_positive_int, default=1000, help="units per hidden layer (the paper: 1000)")
    r.add_argument("--depth", type=_positive_int, default=5, help="hidden layers (the paper: 5)")
    r.add_argument("--jobs", type=_positive_int, default=1,
                   help="runs at once, each in its own process with cores/jobs threads (default 1)")
    r.add_argument("--data-dir", help="folder with the MNIST/CIFAR-10 files (else $GLOROT_EXT_DATA)")
    r.add_argument("--out", default="runs/reproduce", help="output folder (default runs/reproduce)")
    r.add_argument("--restart", action="store_true", help="ignore checkpoints and start every run over")
    r.add_argument("--no-figures", action="store_true")
    r.add_argument("--progress", action="store_true", help="progress bars (needs tqdm)")

    t = sub.add_parser("train", help="train one network, checkpointed and resumable")
    t.add_argument("--dataset", choices=["shapeset", "mnist", "cifar10"], default="shapeset")
    t.add_argument("--activation", default="tanh", choices=["tanh", "softsign", "sigmoid", "relu", "scaled_tanh"])
    t.add_argument("--init", default="normalized", help="standard, normalized, or any glorot_ext.init name")
    t.add_argument("--depth", type=_positive_int, default=5, help="hidden layers (default 5)")
    t.add_argument("--width", type=_positive_int, default=1000, help="units per hidden layer (default 1000)")
    t.add_argument("--updates", type=_positive_int, default=20_000)
    t.add_argument("--lr", type=_positive_float, default=0.03)
    t.add_argument("--batch-size", type=_positive_int, default=10)
    t.add_argument("--eval-every", type=_positive_int, default=2_000)
    t.add_argument("--n-eval", type=_positive_int, default=10_000, help="Shapeset validation/test set size")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    t.add_argument("--data-dir")
    t.add_argument("--out", default="runs/train")
    t.add_argument("--restart", action="store_true", help="ignore a checkpoint and start over")
    t.add_argument("--save-model", help="also write the trained model to this .npz")
    t.add_argument("--progress", action="store_true")

    s = sub.add_parser("shapeset", help="save a grid of Shapeset-3x2 samples as PNG")
    s.add_argument("path", help="output PNG")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-n", type=_positive_int, default=50, help="number of images (default 50)")
    s.add_argument("--cols", type=_positive_int, default=10)
    s.add_argument("--size", type=_positive_int, default=64, help="image side (the paper's figure: 64)")

    b = sub.add_parser("bench", help="time the training step against NumPy (and PyTorch if installed)",
                       add_help=False)
    b.add_argument("args", nargs=argparse.REMAINDER, help="options of the benchmark (see 'bench --help')")

    sub.add_parser("info", help="how the native module was built")
    return p


def _cmd_reproduce(a):
    from glorot_ext.experiments import reproduce

    rows = [x.strip() for x in a.rows.split(",")] if a.rows else None
    reproduce(a.out, dataset=a.dataset, budget=a.budget, seeds=a.seeds, rows=rows, lr=a.lr, lr_grid=a.lr_grid,
              n_updates=a.updates, grid_updates=a.grid_updates, width=a.width, depth=a.depth, data_dir=a.data_dir, resume=not a.restart,
              jobs=a.jobs, threads=a.threads, progress=a.progress, figures=not a.no_figures,
              command="python -m glorot_ext " + " ".join(a.argv))


def _cmd_train(a):
    from glorot_ext.experiments import RunConfig, run
    from glorot_ext.experiments.run import DivergedError

    cfg = RunConfig(dataset=a.dataset, activation=a.activation, init=a.init, depth=a.depth, width=a.width,
                    n_updates=a.updates, lr=a.lr, batch_size=a.batch_size, eval_every=min(a.eval_every, a.updates),
                    seed=a.seed, dtype=a.dtype, n_eval=a.n_eval, data_dir=a.data_dir)
    from pathlib import Path

    try:
        res, net = run(cfg, Path(a.out) / cfg.key(), resume=not a.restart, progress=a.progress, log=print)
    except DivergedError as e:
        print(f"glorot-ext: error: {e}", file=sys.stderr)
        return 3
    if a.save_model:
        net.save(a.save_model)
        print(f"model written to {a.save_model}")
    print(json.dumps({k: res[k] for k in ("final_test_error", "test_error_at_best_val", "best_val_updates",
                                          "ms_per_update")}, indent=1))


def _cmd_shapeset(a):
    from glorot_ext.datasets import shapeset

    shapeset.save_grid(a.path, n=a.n, ncols=a.cols, seed=a.seed, size=a.size)
    print(f"wrote {a.path}")


def _cmd_bench(a):
    try:
        from glorot_ext import benchmark
    except ImportError:
        raise SystemExit("glorot-ext: error: the benchmark module is not available in this build")
    return benchmark.main(a.args)


def _cmd_info(_):
    import glorot_ext

    print(json.dumps(dict(glorot_ext.build_info(), numpy=np.__version__), indent=1))


def main(argv=None):
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.command == "bench":  # everything after 'bench' belongs to the benchmark's own parser
        args.args = extra + args.args
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    import glorot_ext

    if args.threads is not None:
        glorot_ext.set_num_threads(args.threads)
    handler = {"reproduce": _cmd_reproduce, "train": _cmd_train, "shapeset": _cmd_shapeset, "bench": _cmd_bench,
               "info": _cmd_info}[args.command]
    try:
        return handler(args) or 0
    except KeyboardInterrupt:
        print("\ninterrupted: completed work is checkpointed; run the same command again to resume",
              file=sys.stderr)
        return 130
    except (FileNotFoundError, ValueError, TypeError) as e:
        print(f"glorot-ext: error: {e}", file=sys.stderr)
        return 1
