"""``REPORT.md``: the one page a researcher reads first, from the content of ``results-<dataset>.json``.

Settings and budget, Table 1 beside the paper's, every claim with its test, p-value and verdict,
the figures next to what the paper's figures show, and the paper's unknowns with our choices.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence, Union

import numpy as np
from numpy.typing import ArrayLike

from glorot_ext.experiments import evidence as ev

#: Figures of a run's record (plots.all_figures names, per row slug) beside the paper's read-offs.
FIGURES = [
    (
        "tanh_fig6_hist_act_init",
        "Fig. 6 (top): tanh, standard init, activations at init",
        "layer 1 broad (peak ≈1.3), peaks ≈2.5, 4.3, 7.8, 13.7 for layers 2–5; layer 5 within ±0.2",
    ),
    (
        "tanh_n_fig6_hist_act_init",
        "Fig. 6 (bottom): tanh, normalized init, activations at init",
        "all five layers overlap, each a bell over ±0.95 with a peak ≈1.3–1.5",
    ),
    (
        "tanh_fig7_hist_bp_init",
        "Fig. 7 (top): back-propagated gradients at init, standard",
        "layer 1 very narrow (peak ≈85, within ±0.03), peaks ≈45, 23, 13, 8; layer 5 spans ±0.2",
    ),
    (
        "tanh_n_fig7_hist_bp_init",
        "Fig. 7 (bottom): back-propagated gradients at init, normalized",
        "all layers overlap, peak ≈8–10, span ±0.25. Our softmax layer takes the normalized init under "
        "either scheme (the author's code; the paper does not say), the choice that fits Fig. 7 (top) "
        "best: see the unknowns table",
    ),
    (
        "tanh_fig8_hist_wg_init",
        "Fig. 8 (top): weight gradients at init, standard",
        "all layers nearly identical, peak ≈270 within ±0.005 (layer 1 ≈225). A known gap: our histograms "
        "are 2–3× narrower than the paper's (its ∂C/∂W scaling is not stated); the claim compares layers "
        "within one network, which the scale does not change",
    ),
    (
        "tanh_n_fig8_hist_wg_init",
        "Fig. 8 (bottom): weight gradients at init, normalized",
        "all layers nearly identical, peak ≈40 within ±0.05",
    ),
    (
        "sigmoid_fig2_activation_mean_std",
        "Fig. 2: sigmoid, mean and std of activations during training",
        "top layer's mean falls from ≈0.5 to ≈0.02 within 1–2 epochs of 20k updates; layers 1–3 above 0.5",
    ),
    (
        "tanh_fig3_activation_percentiles",
        "Fig. 3 (top): tanh, 98th percentiles and std during training",
        "layer 1 reaches ±1 by epoch ≈0–5, layer 2 ≈15–20, 3 ≈30, 4 ≈55–60, 5 ≈75–90",
    ),
    (
        "softsign_fig3_activation_percentiles",
        "Fig. 3 (bottom): softsign during training",
        "98th percentiles rise to ≈0.8–0.9 for all layers together, never 1",
    ),
    (
        "tanh_fig4_hist_act_end",
        "Fig. 4 (top): tanh activations at the end",
        "spikes at ±1 for the lower layers, layer 5 peaked at 0",
    ),
    (
        "softsign_fig4_hist_act_end",
        "Fig. 4 (bottom): softsign activations at the end",
        "humps around ±0.6 for layers 1–3 (the knees), layer 5 peaked at 0",
    ),
    (
        "tanh_fig9_weight_gradient_bands",
        "Fig. 9 (top): tanh, weight-gradient std during training, standard",
        "bands start near ±0.005 and diverge, larger in the lower layers",
    ),
    (
        "tanh_n_fig9_weight_gradient_bands",
        "Fig. 9 (bottom): the same, normalized",
        "bands about ±0.03–0.05 for all layers from epoch ≈3",
    ),
    (
        "tanh_n_fig3_activation_percentiles",
        "Fig. 10: tanh, normalized init, during training",
        "std ≈0.3 and 98th percentile ≈0.7 at epoch 0 for all layers; all at ±1 by epoch ≈4, together",
    ),
    (
        "tanh_n_eq17_jacobian_mean",
        "§4.2.2: mean Jacobian singular value per layer, normalized",
        "around 0.8 (standard: 0.5)",
    ),
    (
        "fig5_cost_surface",
        "Fig. 5: cross-entropy vs quadratic cost surface",
        "the quadratic surface has far more severe plateaus",
    ),
]


def _pct(values: ArrayLike) -> str:
    a = 100 * np.asarray(values, dtype=np.float64)
    return f"{a.mean():.2f}" + (f" ± {a.std(ddof=1):.2f}" if a.size > 1 else "")


#: Table 1's columns: header and alignment. REPORT.md shows the rate search; ``table1.md`` (the
#: summary printed at the end of a reproduction) shows the gap to the paper and the speed instead.
_TABLE1_COLUMNS = {
    "type": ("TYPE", "---"),
    "final": ("ours, final (%)", "---:"),
    "best": ("ours, at best validation (%)", "---:"),
    "paper": ("paper (%)", "---:"),
    "delta": ("Δ vs paper", "---:"),
    "lr": ("lr chosen", "---:"),
    "updates": ("updates", "---:"),
    "ms": ("ms/update", "---:"),
    "grid": ("rate search: validation error (%) per rate at each rung", "---"),
}
REPORT_COLUMNS = ("type", "final", "best", "paper", "lr", "updates", "grid")
SUMMARY_COLUMNS = ("type", "final", "best", "paper", "delta", "lr", "updates", "ms")


def _table1_cells(label: str, r: Mapping[str, Any]) -> dict[str, str]:
    """Every column's cell for one row; a diverged or missing row says so where its error would be."""
    grid = "; ".join(
        f"{int(step):,}: " + ", ".join(f"{k} {100 * v:.2f}" for k, v in vals.items())
        for step, vals in r.get("grid", {}).items()
    )
    paper = r["paper"]
    cells = dict.fromkeys(_TABLE1_COLUMNS, "")
    cells.update(type=label, paper="n/a" if paper is None else f"{paper:.2f}", grid=grid or "fixed rate")
    status = r.get("status")
    if status == "missing":
        cells["final"] = "**missing**"
        return cells
    cells.update(lr=f"{r['lr']:g}", updates=f"{r['n_updates']:,}")
    if status == "diverged":
        cells["final"] = "**diverged**"
        return cells
    cells.update(final=_pct(r["ours"]), best=_pct(r["ours_at_best_val"]))
    if paper is not None:
        cells["delta"] = f"{100 * float(np.mean(r['ours'])) - paper:+.2f}"
    if "ms_per_update" in r:
        cells["ms"] = f"{r['ms_per_update']:.2f}"
    return cells


def table1(content: Mapping[str, Any], columns: Sequence[str] = REPORT_COLUMNS) -> str:
    """Markdown Table 1 of ``content["rows"]``, one row per model, in ``columns`` (keys of ``_TABLE1_COLUMNS``)."""
    unknown = [c for c in columns if c not in _TABLE1_COLUMNS]
    if unknown:
        raise ValueError(f"unknown Table 1 column(s) {unknown}; known: {list(_TABLE1_COLUMNS)}")
    lines = [
        "| " + " | ".join(_TABLE1_COLUMNS[c][0] for c in columns) + " |",
        "|" + "|".join(_TABLE1_COLUMNS[c][1] for c in columns) + "|",
    ]
    for label, r in content["rows"].items():
        cells = _table1_cells(label, r)
        lines.append("| " + " | ".join(cells[c] for c in columns) + " |")
    return "\n".join(lines)


def claims_table(claims: Sequence[Mapping[str, Any]]) -> str:
    lines = [
        "| claim | paper | measured | paper's point / reached (updates) | test | p | verdict |",
        "|---|---|---|---:|---|---:|---|",
    ]
    for c in claims:
        horizon, reached = c.get("horizon_updates", 0), c.get("updates", 0)
        unit = c.get("unit")
        scope = f" ({unit})" if unit and c["verdict"] in (ev.PASS, ev.FAIL, ev.NOT_RESOLVED) else ""
        lines.append(
            f"| **{c['statement']}** ({c['source']}) | {c['paper']} | {c['measured']} | "
            f"{horizon:,} / {reached:,} | {c['test']}: {c['statistic']} | {ev.fmt_p(c['p_value'])} | "
            f"**{c['verdict']}**{scope} |"
        )
    lines.append("")
    lines.append(verdict_counts(claims) + ".")
    return "\n".join(lines)


def verdict_counts(claims: Sequence[Mapping[str, Any]]) -> str:
    """'11 PASS, 0 FAIL, 1 NOT RESOLVED, 5 NOT REACHED of 17 claims'."""
    verdicts = [c["verdict"] for c in claims]
    return ", ".join(f"{verdicts.count(v)} {v}" for v in ev.VERDICTS) + f" of {len(claims)} claims"


def _read_note(settings: Mapping[str, Any]) -> str:
    """' (N of M runs read, finished by earlier calls)' when this call did not train them all."""
    read, total = settings.get("runs_read"), settings.get("runs_total")
    if not read or not total:
        return ""
    return f" ({read} of {total} runs read, finished by earlier calls)"


def render(
    content: Mapping[str, Any],
    figure_paths: Mapping[str, Union[str, os.PathLike[str]]],
    out_dir: Union[str, os.PathLike[str]],
) -> str:
    s = content["settings"]
    b = s["budget"]
    out = Path(out_dir)
    rungs = b.get("rungs") or []
    if b.get("lr_grid") and rungs:
        protocol = (
            f"learning rates {b['lr_grid']} searched per row on validation error by successive halving ("
            + ", ".join(f"the best {k} at {u:,} updates go on" for u, k in rungs)
            + f"), the chosen rate's run continued to {b['n_updates']:,} updates"
        )
    elif b.get("lr_grid"):
        protocol = f"every rate of {b['lr_grid']} ran {b['n_updates']:,} updates; the lowest final validation error won"
    else:
        protocol = f"fixed learning rates, {b['n_updates']:,} updates"
    lines = [
        f"# Glorot & Bengio (2010) reproduced: {s['dataset']}, {b['name']} budget",
        "",
        f"Command: `{s.get('command') or 'glorot_ext.experiments.reproduce(...)'}` · wall time "
        f"{s['wall_seconds'] / 60:.1f} min{_read_note(s)} · {s['jobs']} job(s) × {s['threads']} thread(s)",
        "",
        f"Networks: {s['depth']} hidden layers of {s['width']} units, softmax output, biases 0; plain SGD on "
        f"minibatches of 10; {protocol}. Seeds {s['seeds']}. Validation/test error every {b['eval_every']:,} "
        f"updates; instruments every {b['monitor_every']:,} updates on 300 test examples. Every claim is tested at "
        f"p < {s['alpha']} (Table 1's level): **PASS** = the claimed direction is significant, **FAIL** = the "
        "opposite one is, **NOT RESOLVED** = the test cannot tell it from noise, **NOT REACHED** = the runs "
        "stopped before the point where the paper makes the claim, or measured nothing there (no test is made). Over several seeds "
        "the seeds are the unit; one seed's verdicts speak for one network.",
        "",
        "Where the chosen runs' time went: " + _profile(content) + ".",
        "",
        "## Table 1",
        "",
        table1(content),
        "",
        *_missing(content),
        "The paper's numbers are after about 2.5M updates with rates chosen on validation after 5M; "
        "ours are after the updates shown. Choosing a rate early favours rates that learn fast.",
        "",
        "## The paper's claims",
        "",
        claims_table(content["claims"]),
        "",
    ]
    order_claim = next((c for c in content["claims"] if c["id"] == "table1_order"), None)
    if order_claim:
        head = "Pairs of the column-order claim (each by the test the claim names"
        if order_claim["verdict"] == ev.NOT_REACHED:
            head += f"; measured at {order_claim['updates']:,} updates, where the paper makes no claim"
        lines += [head + "):", ""]
        lines += [f"- {p}" for p in order_claim["details"].get("pairs", [])]
        lines.append("")
    lines += ["## Figures beside the paper's", ""]
    if figure_paths.get("error_curves"):
        lines += [
            f"![test error]({_rel(figure_paths['error_curves'], out)})",
            "",
            "Paper (Figs. 11–12): on Shapeset at 2.5×10⁷ examples Sigmoid ≈83.5% (flat), Tanh ≈27–28%, "
            "Softsign ≈17%, Softsign N ≈16.5–17%, Tanh N ≈16%; on MNIST the curves flatten after "
            "0.3–0.5×10⁷ examples between 1.6% and 2.1%.",
            "",
        ]
    shown = 0
    for stem, title, readoff in FIGURES:
        path = figure_paths.get(stem)
        if path:
            lines += [f"**{title}.** Paper: {readoff}.{_span(stem, content)}", "", f"![{stem}]({_rel(path, out)})", ""]
            shown += 1
    if not figure_paths:
        lines += ["(figures not written: run without --no-figures, with matplotlib installed)", ""]
    lines += ["## What the paper leaves unknown, and what we chose", "", "| unknown | our choice |", "|---|---|"]
    lines += [f"| {u} | {c} |" for u, c in content["unknowns"]]
    lines += [
        "",
        f"Everything above is in `results-{s['dataset']}.json` beside this file; each run's folder under "
        "`runs/` holds its checkpoint, curve and record.",
    ]
    return "\n".join(lines) + "\n"


#: Figures drawn over training, whose paper axes run over "epochs of 20k updates".
_DYNAMICS = ("fig2", "fig3", "fig9", "fig10")


def _span(stem: str, content: Mapping[str, Any]) -> str:
    """' Ours cover epochs 0–N ...' for a figure over training; '' for the others."""
    if not any(f"_{d}_" in stem for d in _DYNAMICS):
        return ""
    n = max((int(r.get("n_updates") or 0) for r in content["rows"].values()), default=0)
    return (
        f" Ours cover updates 0–{n:,}, epochs 0–{n / 20_000:g} of 20k updates (the paper's axes run to epoch ≈95–125)."
    )


def _missing(content: Mapping[str, Any]) -> list[str]:
    """Lines naming the runs that did not finish (their rows are missing above), or none."""
    failed = [(label, m) for label, r in content["rows"].items() if r.get("status") == "missing" for m in r["missing"]]
    if not failed:
        return []
    return (
        [
            f"**Missing: {len(failed)} run(s) did not finish**, so their rows are missing above and the claims "
            "that need them are not tested. Run the same command again: finished runs are skipped and the "
            "others resume from their checkpoints.",
            "",
        ]
        + [f"- {label}: {m}" for label, m in failed]
        + [""]
    )


def _profile(content: Mapping[str, Any]) -> str:
    from glorot_ext.experiments.single_run import profile_line, sum_profiles

    total = sum_profiles(r.get("profile", {}) for r in content["rows"].values())
    return profile_line(total) if sum(total.values()) else "not measured"


def _rel(path: Union[str, os.PathLike[str]], out: Path) -> str:
    return os.path.relpath(Path(path), out)
