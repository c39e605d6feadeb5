"""The numbers docs/instruments.md quotes about the instruments, measured at initialization.

A 1024-1000x5-9 tanh network on Shapeset (float32), probe = the first 300 test examples, for the
standard (Eq. 1) and the normalized (Eq. 16) init, with the softmax layer drawn like the hidden
ones ("same") and from the normalized bound as the author's code ("normalized"):

* back-propagated gradients per example: std per layer and the layer-1/layer-5 ratio of the peaks
  of their normalized histograms (100 bins shared by the layers, Fig. 7);
* weight gradients of minibatches of 10 (30 of them) and of the probe mean: std, and the peak of
  the normalized histogram on Fig. 8's spans (±0.005 standard, ±0.05 normalized, 100 bins);
* the Jacobian spectra: the spread of the per-example mean singular value over 20 examples, the
  seconds per example and layer (``stats.jacobian_singular_values``, "gram" and "svd");
* ``OctaveBins.counts``: nanoseconds per float32 value.

    python bench/instruments.py [--threads N]

Timings vary with the machine's load: run it alone (``flock /tmp/timing.lock``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import glorot_ext as ge
from glorot_ext import init as _init, stats
from glorot_ext.datasets import shapeset

SPANS = {"standard": 0.005, "normalized": 0.05}


def _net(init_name, softmax_init):
    net = ge.MLP([1024] + [1000] * 5 + [9], activation="tanh", init=init_name, rng=np.random.default_rng(0))
    if softmax_init != "same":
        W = net.weights[-1]
        W[...] = _init.get(softmax_init)(*W.shape, rng=np.random.default_rng([0, 1]), dtype=W.dtype)
    return net


def _peak(values, span, bins=100):
    counts, edges = np.histogram(np.clip(values, -span, span), bins=bins, range=(-span, span))
    return float(np.max(counts / counts.sum() / np.diff(edges)))


def gradients(X, y):
    for init_name in ("standard", "normalized"):
        for softmax_init in ("same", "normalized"):
            net = _net(init_name, softmax_init)
            g = net.gradients(X, y)
            n = X.shape[0]
            bp = [g["delta"][l].astype(np.float64) * n for l in range(5)]
            span = max(float(np.percentile(np.abs(b), 99.5)) for b in bp)
            bp_peaks = [_peak(b, span) for b in bp]
            wg_std, wg_peak, mean_std, mean_peak = [], [], [], []
            for l in range(5):
                z = (X if l == 0 else g["post"][l - 1]).astype(np.float64)
                batches = [z[i : i + 10].T @ bp[l][i : i + 10] / 10 for i in range(0, n, 10)]
                all_wg = np.concatenate([b.ravel() for b in batches])
                wg_std.append(all_wg.std())
                wg_peak.append(_peak(all_wg, SPANS[init_name]))
                mean = g["dW"][l].astype(np.float64).ravel()
                mean_std.append(mean.std())
                mean_peak.append(_peak(mean, SPANS[init_name]))
            print(f"init={init_name} softmax={softmax_init}")
            print(
                f"  bp std per layer: {' '.join(f'{b.std():.2e}' for b in bp)}; "
                f"peak ratio layer 1 / layer 5: {bp_peaks[0] / bp_peaks[4]:.1f}"
            )
            print(
                f"  wg (batch 10) std: {' '.join(f'{s:.1e}' for s in wg_std)}; "
                f"peaks on ±{SPANS[init_name]}: {' '.join(f'{p:.0f}' for p in wg_peak)}"
            )
            print(
                f"  wg (probe mean) std: {' '.join(f'{s:.1e}' for s in mean_std)}; "
                f"peaks: {' '.join(f'{p:.0f}' for p in mean_peak)}"
            )


def jacobians(X):
    net = _net("standard", "normalized")
    pre, post = net.forward(X[:20], hidden=True)
    W = net.weights[2]
    fprime = stats.derivative("tanh", post[1])
    sv = stats.jacobian_singular_values(W, fprime)
    per_example = sv.mean(axis=1)
    cv = per_example.std() / per_example.mean()
    print(
        f"Jacobian, layer 3: per-example mean singular value varies by {100 * cv:.1f}% (20 examples), "
        f"so 5 examples give the layer mean to ±{100 * cv / np.sqrt(5):.1f}%"
    )
    for method in ("gram", "svd"):
        t0 = time.perf_counter()
        stats.jacobian_singular_values(W, fprime[:5], method)
        print(f"  {method}: {(time.perf_counter() - t0) / 5:.3f} s per 1000x1000 example and layer")


def binning():
    x = np.random.default_rng(0).normal(0, 1e-3, 10_000_000).astype(np.float32)
    stats.GRADIENT_BINS.counts(x[:10])  # builds the lookup table
    best = min(_timed(lambda: stats.GRADIENT_BINS.counts(x)) for _ in range(3))
    print(f"OctaveBins.counts: {1e9 * best / x.size:.1f} ns per float32 value")


def _timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=None)
    a = p.parse_args()
    ge.set_num_threads(a.threads)
    X, y = shapeset.generate(300, seed=shapeset.TEST_SEED)
    print(f"glorot_ext {ge.__version__}, {ge.get_num_threads()} threads")
    gradients(X, y)
    jacobians(X)
    binning()


if __name__ == "__main__":
    main()
