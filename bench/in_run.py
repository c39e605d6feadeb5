"""Where a run's per-update cost goes beyond the bare step, measured side by side in one process:
the same network stepping (a) on one fixed minibatch, the bare loop of BENCHMARKS.md, (b) on
fresh Shapeset minibatches drawn from the stream as a run draws them (step and drawing timed
apart), (c) as (b) through ``MLP.fit_stream`` with its callbacks, the run's training loop.
Interleaved rounds; min and median ms per update.

python bench/in_run.py [--updates 300] [--rounds 7] [--threads 2] [--activation softsign]

A run adds evaluation and the Monitor at its own interval on top of (c); each run's record holds
that profile (``profile`` in record.json; the run log prints it at the end).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import glorot_ext as ge
from glorot_ext.datasets import shapeset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--updates", type=int, default=300, help="updates per contender per round")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--activation", default="softsign")
    ap.add_argument("--lr", type=float, default=0.03)
    args = ap.parse_args()
    ge.set_num_threads(args.threads)
    sizes = [1024] + [1000] * 5 + [9]
    net = ge.MLP(sizes, activation=args.activation, init="standard", rng=np.random.default_rng(0))
    stream = shapeset.ShapesetStream(10, seed=1)
    X, y = next(stream)
    n = args.updates
    results: dict[str, list[float]] = {"a bare": [], "b stream: step": [], "b stream: total": [], "c fit_stream": []}

    for _ in range(args.rounds):
        time.sleep(0.2)
        t0 = time.perf_counter()
        for _ in range(n):
            net.sgd_step(X, y, args.lr)
        results["a bare"].append((time.perf_counter() - t0) / n)

        time.sleep(0.2)
        step = 0.0
        t0 = time.perf_counter()
        for _ in range(n):
            Xb, yb = next(stream)
            t1 = time.perf_counter()
            net.sgd_step(Xb, yb, args.lr)
            step += time.perf_counter() - t1
        results["b stream: total"].append((time.perf_counter() - t0) / n)
        results["b stream: step"].append(step / n)

        time.sleep(0.2)
        t0 = time.perf_counter()
        net.fit_stream(stream, n, args.lr)
        results["c fit_stream"].append((time.perf_counter() - t0) / n)

    print(
        f"Shapeset {sizes}, {args.activation}, batch 10, {args.threads} thread(s), {args.rounds} rounds of {n} updates"
    )
    base = min(results["a bare"])
    for name, t in results.items():
        print(
            f"{name:18s} min {1e3 * min(t):6.3f}  median {1e3 * statistics.median(t):6.3f} ms/update  (min / bare min {min(t) / base:.3f})"
        )


if __name__ == "__main__":
    main()
