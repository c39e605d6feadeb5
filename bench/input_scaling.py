"""Figs. 6-8 at initialization under each candidate input scaling, beside the paper's read-offs.

A 5x1000 tanh network on Shapeset-3x2 at initialization, measured by ``glorot_ext.Monitor`` on
the paper's probe (the first 300 test images), for the standard (Eq. 1) and normalized (Eq. 16)
initializations, with pixels in [0, 1] or [-1, 1], and with the softmax layer initialized like
the hidden layers or with the normalized bound (what the author's code did, PAPER.md §2, §10.6).
Every number is the mean over ``--seeds`` network seeds. Peak heights are densities (the
paper's "normalized histograms") on fixed linear bins: Fig. 6 200 bins on [-1, 1], Fig. 7 200
bins on [-0.25, 0.25], Fig. 8 100 bins on the paper's axis (±0.005 standard, ±0.05 normalized);
a span is the half-width of the central 99% of the values.

    python3 bench/input_scaling.py [--seeds 3] [--markdown]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from glorot_ext import MLP, Monitor, init as ge_init, stats
from glorot_ext.datasets import shapeset

LAYERS = 5
PROBE = 300

#: PAPER.md §6 read-offs per hidden layer 1..5 (None: not read). Fig. 10 gives the activation
#: std and 98th percentile at epoch 0 of the normalized init.
PAPER = {
    "standard": {
        "act_peak": [1.3, 2.5, 4.3, 7.8, 13.7],
        "act_span": [0.9, None, None, None, 0.2],
        "bp_peak": [85, 45, 23, 13, 8],
        "bp_span": [0.03, None, None, None, 0.2],
        "wg_peak": [225, 270, 270, 270, 270],
        "wg_span": [0.005] * LAYERS,
        "wg_l1": [225 / 270],
    },
    "normalized": {
        "act_peak": [1.4] * LAYERS,
        "act_span": [0.95] * LAYERS,
        "act_std": [0.3] * LAYERS,
        "act_p98": [0.7] * LAYERS,
        "bp_peak": [9] * LAYERS,
        "bp_span": [0.25] * LAYERS,
        "wg_peak": [40] * LAYERS,
        "wg_span": [0.05] * LAYERS,
        "wg_l1": [1.0],
    },
}

#: (name, init of the hidden layers, pixels in [-1, 1], softmax layer normalized).
CANDIDATES = [
    ("standard, [0,1]", "standard", False, False),
    ("standard, [-1,1]", "standard", True, False),
    ("standard, [0,1], softmax N", "standard", False, True),
    ("standard, [-1,1], softmax N", "standard", True, True),
    ("normalized, [0,1]", "normalized", False, False),
    ("normalized, [-1,1]", "normalized", True, False),
]

ACT_BINS = stats.LinearBins(-1.0, 1.0, 200)
BP_BINS = stats.LinearBins(-0.25, 0.25, 200)
WG_SPAN = {"standard": 0.005, "normalized": 0.05}


def _peak(mass, bins):
    return float(stats.density(mass, bins.edges).max())


def _span(mass, edges):
    lo = stats.quantile_from_histogram(mass, edges, 0.005)
    hi = stats.quantile_from_histogram(mass, edges, 0.995)
    return max(-lo, hi)


def _peaks(mass, bins, linear):
    """Peak densities (layers,) of octave-binned histograms, moved onto ``linear`` bins."""
    return np.array([_peak(m, linear) for m in stats.rebin(mass, bins.edges, linear.edges)])


def measure(init: str, neg: bool, softmax_normalized: bool, seed: int) -> dict:
    """Per-layer read-offs, each a (5,) array, of one freshly initialized network."""
    X, y = shapeset.generate(PROBE, seed=shapeset.TEST_SEED, neg=neg)
    net = MLP([1024] + [1000] * LAYERS + [9], activation="tanh", init=init, rng=np.random.default_rng(seed))
    if softmax_normalized:
        W = net.weights[-1]
        W[...] = ge_init.get("normalized")(
            W.shape[0], W.shape[1], rng=np.random.default_rng(seed + 10_000), dtype=W.dtype
        )
    wg_bins = stats.LinearBins(-WG_SPAN[init], WG_SPAN[init], 100)
    # The Monitor's own conventions: per-example ∂C/∂s, weight gradients of minibatches of 10.
    m = Monitor((X, y), jacobian_examples=0).measure(net)
    sc, h = m["scalars"], m["hists"]
    out = {"act_std": sc["act_std"], "act_p98": sc["act_p98"], "bp_std": sc["bp_std"], "wg_std": sc["wg_std"]}
    for key in ("act", "bp", "wg"):
        mass, bins = h[key]
        out[f"{key}_span"] = np.array([_span(row, bins.edges) for row in mass])
    out["act_peak"] = np.array([_peak(row, h["act"][1]) for row in h["act"][0]])
    out["bp_peak"] = _peaks(*h["bp"], BP_BINS)
    out["wg_peak"] = _peaks(*h["wg"], wg_bins)
    # Per-example weight gradients (as Fig. 7's per-example ∂C/∂s), on the first 30 examples.
    one = Monitor((X[:30], y[:30]), jacobian_examples=0, weight_grad_batch=1).measure(net)
    mass, bins = one["hists"]["wg"]
    out["wg1_peak"] = _peaks(mass, bins, wg_bins)
    out["wg1_span"] = np.array([_span(row, bins.edges) for row in mass])
    for key in ("wg_peak", "wg1_peak"):
        out[key.replace("peak", "l1")] = np.array([out[key][0] / out[key][1:].mean()])
    return out


def table(seeds: int = 3) -> dict:
    """{candidate name: {read-off: (5,) mean over seeds}}."""
    res = {}
    for name, init, neg, smn in CANDIDATES:
        runs = [measure(init, neg, smn, s) for s in range(seeds)]
        res[name] = {k: np.mean([r[k] for r in runs], axis=0) for k in runs[0]}
    return res


def score(name: str, values: dict, per_example: bool = False) -> float:
    """Mean of |log(ours / paper)| over the paper's read-offs of this init (0: all equal;
    log(2) ≈ 0.69: a factor of 2 on average); ``per_example`` takes Fig. 8 per example."""
    init = "standard" if name.startswith("standard") else "normalized"
    logs = []
    for key, ref in PAPER[init].items():
        mine = key.replace("wg", "wg1") if per_example and key.startswith("wg_") and key != "wg_std" else key
        for ours, theirs in zip(values[mine], ref):
            if theirs is not None:
                logs.append(abs(math.log(ours / theirs)))
    return float(np.mean(logs))


ROWS = [
    ("act_peak", "Fig. 6 peak density", "{:.1f}"),
    ("act_std", "activation std", "{:.2f}"),
    ("act_p98", "activation 98th pct", "{:.2f}"),
    ("act_span", "Fig. 6 99% span ±", "{:.2f}"),
    ("bp_peak", "Fig. 7 peak density", "{:.0f}"),
    ("bp_span", "Fig. 7 99% span ±", "{:.3f}"),
    ("bp_std", "Fig. 7 std", "{:.4f}"),
    ("wg_peak", "Fig. 8 peak density", "{:.0f}"),
    ("wg_span", "Fig. 8 99% span ±", "{:.4f}"),
    ("wg_std", "Fig. 8 std", "{:.5f}"),
    ("wg_l1", "Fig. 8 peak, layer 1 / layers 2-5", "{:.2f}"),
    ("wg1_peak", "Fig. 8 peak, per example", "{:.0f}"),
    ("wg1_span", "Fig. 8 99% span ±, per example", "{:.4f}"),
    ("wg1_l1", "Fig. 8 peak per example, layer 1 / layers 2-5", "{:.2f}"),
]


def _cells(vals, fmt):
    return " / ".join("–" if v is None else fmt.format(v) for v in vals)


def render(res: dict) -> str:
    """Markdown: one table per init, a row per read-off, a column per candidate (layers 1/2/3/4/5)."""
    lines = []
    for init in ("standard", "normalized"):
        names = [n for n in res if n.startswith(init)]
        lines += [
            f"**{init} init** (layers 1 / 2 / 3 / 4 / 5)",
            "",
            "| read-off | paper | " + " | ".join(names) + " |",
            "|---|---|" + "---|" * len(names),
        ]
        for key, label, fmt in ROWS:
            paper = PAPER[init].get(key.replace("wg1", "wg"))
            cells = [_cells(res[n][key], fmt) for n in names]
            lines.append(f"| {label} | {_cells(paper, fmt) if paper else ''} | " + " | ".join(cells) + " |")
        for per_example, what in ((False, "Fig. 8 of minibatches of 10"), (True, "Fig. 8 per example")):
            lines.append(
                f"| mean abs log ratio to the paper ({what}) | 0 | "
                + " | ".join(f"{score(n, res[n], per_example):.2f}" for n in names)
                + " |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="network seeds averaged per candidate")
    args = ap.parse_args()
    print(render(table(args.seeds)))


if __name__ == "__main__":
    main()
