"""Throughput of the Shapeset-3x2 generator, in images per second.

Configurations are measured in interleaved rounds (A, B, C, A, B, C, ...) so that a slow
moment of the machine hits all of them alike; min and median time per configuration.

    python3 bench/bench_shapeset.py [--images 20480] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from glorot_ext.datasets import shapeset


def _generate(n, threads):
    def run(round_index):
        # A new start offset each round: no block is ever served from a cache.
        shapeset.generate(n, seed=0, start=round_index * n, num_threads=threads)

    return run


def _stream(n, batch):
    def run(round_index):
        s = shapeset.ShapesetStream(batch, seed=1, position=round_index * n)
        for _ in range(n // batch):
            next(s)

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=20480, help="images per timed call")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    n = args.images
    configs = {
        "generate, 1 thread": _generate(n, 1),
        "generate, all threads": _generate(n, None),
        "stream, batches of 10": _stream(n, 10),
    }
    configs["generate, 1 thread"](10_000)  # warm-up (imports, page faults)
    times = {k: [] for k in configs}
    for r in range(args.rounds):
        for name, fn in configs.items():
            t0 = time.perf_counter()
            fn(r)
            times[name].append(time.perf_counter() - t0)
    print(f"Shapeset-3x2, {n} images of 32x32 per call, {args.rounds} interleaved rounds (numpy {np.__version__})")
    print(f"{'configuration':<24} {'best img/s':>12} {'median img/s':>13}")
    for name, ts in times.items():
        print(f"{name:<24} {n / min(ts):>12,.0f} {n / statistics.median(ts):>13,.0f}")


if __name__ == "__main__":
    main()
