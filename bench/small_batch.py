"""Focused timing of the small-batch SGD step (batch 10, the paper's MNIST network): ms per step
min and median per dtype and thread count, interleaved rounds, and the per-phase breakdown.

python bench/small_batch.py [--rounds 5] [--steps 60] [--threads 2] [--dtypes float32,float64] [--phases]
                            [--numpy] [--gemm]

Run it under `flock /tmp/timing.lock` on a shared machine; the full comparison is bench_step.py.
"""

import argparse
import time

import numpy as np

from glorot_ext import _core
from glorot_ext.benchmark import LR, NETWORKS, _data, _numpy_step, _params


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--threads", default="2")
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--dtypes", default="float32,float64")
    p.add_argument("--network", default="mnist")
    p.add_argument("--phases", action="store_true", help="also print the per-phase breakdown (thread 0)")
    p.add_argument("--numpy", action="store_true", help="also time the NumPy reference, interleaved")
    p.add_argument("--gemm", action="store_true", help='also time kernels="gemm" (the GEMM path), interleaved')
    args = p.parse_args()
    sizes = NETWORKS[args.network]
    threads = [int(t) for t in args.threads.split(",")]
    contenders = {}
    for dt in args.dtypes.split(","):
        dtype = np.dtype(dt)
        for nt in threads:
            for kernels in ("auto", "gemm") if args.gemm else ("auto",):
                w, b = _params(sizes, dtype)
                net = _core.Network(w, b, ["tanh"] * (len(sizes) - 2), "nll", kernels=kernels)
                X, y = _data(sizes, args.batch, dtype)
                contenders[(dt, nt, kernels)] = (net, X, y)
        if args.numpy:
            contenders[(dt, "numpy", "")] = (_numpy_step(sizes, args.batch, dtype), None, None)
    times = {k: [] for k in contenders}
    phases = {k: None for k in contenders}
    for _ in range(args.rounds):
        for key, (net, X, y) in contenders.items():
            time.sleep(0.1)
            if key[1] == "numpy":
                net()
                n = max(3, args.steps // 6)
                for _ in range(n):
                    t0 = time.perf_counter()
                    net()
                    times[key].append(time.perf_counter() - t0)
                continue
            _core.set_num_threads(key[1])
            net.sgd_step(X, y, LR)
            net.set_profiling(args.phases)
            net.phase_seconds()
            for _ in range(args.steps):
                t0 = time.perf_counter()
                net.sgd_step(X, y, LR)
                times[key].append(time.perf_counter() - t0)
            if args.phases:
                ph = np.array(net.phase_seconds()) / args.steps
                phases[key] = ph if phases[key] is None else np.minimum(phases[key], ph)
            net.set_profiling(False)
    for key, t in times.items():
        t = np.array(t) * 1e3
        line = f"{key[0]:8s} threads={key[1]!s:6s} {key[2]:5s} min {t.min():7.3f} ms  median {np.median(t):7.3f} ms"
        if phases[key] is not None:
            line += "  phases(ms, best round): " + " ".join(f"{1e3 * x:.3f}" for x in phases[key])
        print(line)


if __name__ == "__main__":
    main()
