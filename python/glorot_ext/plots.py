"""The paper's figure types, drawn from ``Record``s as PNG files (matplotlib, Agg).

Only this module imports matplotlib, and it never touches pyplot's global state: each function
builds a ``matplotlib.figure.Figure`` on an Agg canvas and writes it atomically. Training never
needs matplotlib.

| function                      | paper figure | what                                             |
|-------------------------------|--------------|--------------------------------------------------|
| ``activation_mean_std``       | Fig. 2       | mean (± std bars) of activations per layer       |
| ``activation_percentiles``    | Figs. 3, 10  | 98th/2nd percentiles (markers) and ±std (lines)  |
| ``histograms``                | Figs. 4, 6–8 | per-layer normalized histograms at one step      |
| ``weight_gradient_bands``     | Fig. 9       | ±std bands of the weight gradients per layer     |
| ``error_curves``              | Figs. 11, 12 | error (%) vs examples seen, several runs         |
| ``jacobian_mean``             | §4.2.2       | mean Jacobian singular value per layer           |
| ``cost_surface``              | Fig. 5       | NLL vs quadratic cost over two weights           |

The x-axis is the paper's "Epochs of 20k mini-batch updates" when the record spans at least
20,000 updates, else "updates". Titles start with the paper's figure number and name the
activation, the init and the dataset; ``all_figures`` puts the number in the file names too
(``fig2_activation_mean_std.png``). Legends sit outside the axes, never over the data. Layers are
coloured from dark blue to pink (matplotlib's "plasma", cut before its pale yellow end, so the last
layer stays readable on white). Histograms whose layers differ in spread by more than
``SYMLOG_RATIO`` (the weight gradients of the sigmoid network: layers 1–3 would collapse into one
spike) are drawn on their log-spaced bins on a symmetric-log axis, so every layer shows.

Every per-record figure also takes a list of records, one per seed: it then draws each layer's
median over the seeds and shades the band from the lowest to the highest seed, so a multi-seed
report shows how much of a curve is the seed. The dynamics figures (2, 3, 9, 10, Eq. 17) say in
their title which updates they cover and how far that is along the paper's axis.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray

from glorot_ext import stats as _stats
from glorot_ext._io import atomic_write
from glorot_ext.record import Record

if TYPE_CHECKING:
    from glorot_ext.training import History

PathLike = Union[str, "os.PathLike[str]"]
Float64Array = NDArray[np.float64]
#: An RGBA colour.
Color = Tuple[float, float, float, float]
#: What ``error_curves`` draws: a Record, a training History, or a dict of History's lists.
Run = Union[Record, "History", Mapping[str, Sequence[float]]]

#: Updates per plotted "epoch" (the paper's x-axis of Figs. 2, 3, 9, 10).
PAPER_EPOCH = 20_000

#: The paper's x-range, in its epochs, of each dynamics figure (the paper's axes: Fig. 2 spans 0-140, Figs. 3,
#: 9 and 10 span 0-95; Eq. 17's Jacobian has no figure over training).
PAPER_EPOCHS = {"Fig. 2": 140, "Figs. 3, 10": 95, "Fig. 9": 95}

#: Mass left out of a histogram's displayed range on each side.
DISPLAY_TAIL = 0.0005

#: Spread ratio between the widest and the narrowest layer above which histograms use a symlog axis.
SYMLOG_RATIO = 8.0

_XLABELS = {
    "act": "Activation value",
    "bp": "Back-propagated gradient",
    "wg": "Weight gradient",
    "jac": "Singular values of the layer Jacobian",
}
_TITLES = {
    "act": "Activation values",
    "bp": "Back-propagated gradients ∂C/∂s (per example)",
    "wg": "Weight gradients ∂C/∂W (minibatch of 10)",
    "jac": "Jacobian singular values (Eq. 17)",
}


def _figure(size: Tuple[float, float] = (8.0, 4.5)) -> Figure:
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: PathLike, dpi: int = 110) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    atomic_write(path, buf.getvalue())
    return Path(path)


def _layer_colors(n: int) -> List[Color]:
    from matplotlib import colormaps

    cmap = colormaps["plasma"]
    return [cmap(0.65 * i / max(n - 1, 1)) for i in range(n)]  # plasma(0.65): contrast 2.9 on white


def _legend(ax: Axes, **kwargs: Any) -> None:
    """The legend to the right of the axes: it never hides data (constrained layout makes room)."""
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kwargs)


#: One record, or one per seed.
Records = Union[Record, Sequence[Record]]


def _seeds(records: Records) -> List[Record]:
    """The records as a list, cut to the steps they all share (a run still going is shorter)."""
    rs = [records] if isinstance(records, Record) else list(records)
    if not rs:
        raise ValueError("no records to draw")
    n = min(r.n_steps for r in rs)
    if any(list(r.steps[:n]) != list(rs[0].steps[:n]) for r in rs):
        raise ValueError("the records were measured at different updates; they cannot share a figure")
    return rs


def _stacked(records: List[Record], name: str) -> Float64Array:
    """(seeds, steps, layers) of a per-layer scalar over the steps all records share."""
    n = min(r.n_steps for r in records)
    return np.stack([r.scalar(name)[:n] for r in records])


def _band(ax: Axes, x: Float64Array, values: Float64Array, color: Color, alpha: float = 0.18) -> Float64Array:
    """Shades the seeds' min-max band of ``values`` (seeds, steps) where finite; returns the median."""
    ok = np.all(np.isfinite(values), axis=0)
    if values.shape[0] > 1 and ok.any():
        ax.fill_between(x[ok], values[:, ok].min(axis=0), values[:, ok].max(axis=0), color=color, alpha=alpha, lw=0)
    med: Float64Array = np.median(values, axis=0)
    return med


def _x(records: List[Record]) -> Tuple[Float64Array, str]:
    n = min(r.n_steps for r in records)
    steps = np.asarray(records[0].steps[:n], dtype=np.float64)
    if steps.size and steps.max() >= PAPER_EPOCH:
        return steps / PAPER_EPOCH, "Epochs of 20k mini-batch updates"
    return steps, "updates"


def _title(ax: Axes, records: List[Record], what: str, figure: str, dynamics: bool = False) -> None:
    lines = [f"{figure}: {what}", records[0].label()]
    if len(records) > 1:
        lines[1] += f"; median of {len(records)} seeds, band min–max"
    if dynamics:
        last = int(min(r.steps[r.n_steps - 1] for r in records)) if records[0].n_steps else 0
        covered = f"updates 0–{last:,} = epochs 0–{last / PAPER_EPOCH:.3g}"
        paper = PAPER_EPOCHS.get(figure)
        lines.append(covered + (f" of the paper's 0–{paper}" if paper else ""))
    ax.set_title("\n".join(lines), fontsize=10)


def activation_mean_std(records: Records, path: PathLike) -> Path:
    """Fig. 2: mean activation per hidden layer over training, with ±std as vertical bars."""
    rs = _seeds(records)
    fig = _figure()
    ax = fig.add_subplot()
    x, xlabel = _x(rs)
    means, std = _stacked(rs, "act_mean"), np.median(_stacked(rs, "act_std"), axis=0)
    # shift the layers a little sideways so that their std bars, all at the same steps, stay apart
    spacing = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
    for l, c in enumerate(_layer_colors(rs[0].n_layers)):
        dx = (l - (rs[0].n_layers - 1) / 2) * 0.06 * spacing
        mean = _band(ax, x + dx, means[:, :, l], c)
        ax.errorbar(x + dx, mean, yerr=std[:, l], color=c, marker="o", ms=3, capsize=2, lw=1, label=f"Layer {l + 1}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Activation value")
    _legend(ax)
    _title(ax, rs, "Mean and standard deviation of the activations", "Fig. 2", dynamics=True)
    return _save(fig, path)


def activation_percentiles(records: Records, path: PathLike) -> Path:
    """Figs. 3, 10: 98th and 2nd percentiles (markers alone) and ±std (solid lines with markers)."""
    rs = _seeds(records)
    fig = _figure()
    ax = fig.add_subplot()
    x, xlabel = _x(rs)
    p98s, p2s, stds = _stacked(rs, "act_p98"), _stacked(rs, "act_p2"), _stacked(rs, "act_std")
    markers = "o^sDv*pP"
    for l, c in enumerate(_layer_colors(rs[0].n_layers)):
        m = markers[l % len(markers)]
        p98, p2 = _band(ax, x, p98s[:, :, l], c, 0.12), _band(ax, x, p2s[:, :, l], c, 0.12)
        std = np.median(stds[:, :, l], axis=0)
        ax.plot(x, p98, ls="none", marker=m, ms=4, color=c, label=f"Layer {l + 1}")
        ax.plot(x, p2, ls="none", marker=m, ms=4, color=c, mfc="none")
        ax.plot(x, std, ls="-", marker=m, ms=3, color=c)
        ax.plot(x, -std, ls="-", marker=m, ms=3, color=c)
    ax.axhline(0, color="0.7", lw=0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Activation value")
    _legend(ax)
    what = "98th / 2nd percentiles (markers) and ±std (lines) of the activations"
    _title(ax, rs, what, "Figs. 3, 10", dynamics=True)
    return _save(fig, path)


def _display_grid(
    record: Record, name: str, masses: Float64Array, n_display: int = 121
) -> Tuple[Float64Array, Float64Array]:
    """Edges to draw a histogram on: the bins themselves for linear bins, else a linear grid over
    the range holding 99.9% of every layer's mass and a tenth more, so that the widest layer's
    tails reach the axis inside the figure (a flat layer 5 of Fig. 7 used to run off its edges)."""
    bins, edges = record.bins[name], record.edges(name)
    if isinstance(bins, _stats.LinearBins):
        return edges, masses
    flat = masses.reshape(-1, masses.shape[-1])
    lo = min(_stats.quantile_from_histogram(m, edges, DISPLAY_TAIL) for m in flat if m.sum() > 0)
    hi = max(_stats.quantile_from_histogram(m, edges, 1 - DISPLAY_TAIL) for m in flat if m.sum() > 0)
    if bins.signed:
        r = 1.1 * max(abs(lo), abs(hi))
        grid = np.linspace(-r, r, n_display + 1)
    else:
        grid = np.linspace(0.0, hi * 1.1, n_display + 1)
    return grid, _stats.rebin(masses, edges, grid)


def histograms(records: Records, path: PathLike, quantity: str = "act", step: int = -1) -> Path:
    """Figs. 4, 6, 7, 8: per-layer normalized histograms (density) of one quantity at one step.

    Args:
        records: a ``Record`` with histograms, or one per seed (median and min-max band per bin).
        path: PNG to write.
        quantity: "act" (activations, Figs. 4, 6), "bp" (back-propagated gradients, Fig. 7),
            "wg" (weight gradients, Fig. 8) or "jac" (Jacobian singular values).
        step: index into ``record.steps`` (default: the last; 0 is initialization).
    """
    rs = _seeds(records)
    record = rs[0]
    if quantity not in record.hists:
        raise ValueError(f"record has no {quantity!r} histograms; it has {sorted(record.hists)}")
    n = min(r.n_steps for r in rs)
    step = step % n if -n <= step < n else step
    masses = np.stack([r.hist(quantity)[:n][step] for r in rs])  # (seeds, layers, bins)
    if not masses.any():
        raise ValueError(
            f"no {quantity!r} histogram at step index {step} (update {record.steps[step]}); it was not measured there"
        )
    fig = _figure()
    ax = fig.add_subplot()
    drawn = [l for l in range(record.n_layers) if masses[:, l].sum() > 0]
    colors = _layer_colors(record.n_layers)
    pooled = masses.mean(axis=0)  # each seed's layer holds mass 1
    spreads = [_spread(record, quantity, pooled[l]) for l in drawn]
    bins = record.bins[quantity]
    if isinstance(bins, _stats.OctaveBins) and min(spreads) > 0 and max(spreads) / min(spreads) > SYMLOG_RATIO:
        # log-spaced bins: the mass per bin is a density in log|x|, fair to every layer's scale
        edges = record.edges(quantity)
        keep = _covering(record, quantity, pooled[drawn])
        centers = (edges[:-1] + edges[1:]) / 2
        for l in drawn:
            line = _band(ax, centers[keep], masses[:, l][:, keep], colors[l])
            ax.plot(centers[keep], line, color=colors[l], lw=1.2, label=f"Layer {l + 1}")
        ax.set_xscale("symlog", linthresh=min(spreads) / 10)
        ax.set_ylabel("Fraction per bin (log-spaced bins)")
        ax.set_xlabel(_XLABELS[quantity] + " (symmetric log scale)")
    else:
        edges, shown = _display_grid(record, quantity, masses)
        centers = (edges[:-1] + edges[1:]) / 2
        for l in drawn:
            density = np.stack([_stats.density(shown[i, l], edges) for i in range(len(rs))])
            ax.plot(centers, _band(ax, centers, density, colors[l]), color=colors[l], lw=1.2, label=f"Layer {l + 1}")
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylabel("Normalized histogram (density)")
        ax.set_xlabel(_XLABELS[quantity])
    ax.set_ylim(bottom=0)
    _legend(ax)
    updates = record.steps[step]
    when = "at initialization" if updates == 0 else f"after {updates:,} updates"
    _title(ax, rs, f"{_TITLES[quantity]} {when}", _hist_figure(quantity, updates))
    return _save(fig, path)


def _hist_figure(quantity: str, n_updates: int) -> str:
    """The paper's figure for a histogram: activations at init (Fig. 6) or later (Fig. 4), ..."""
    if quantity == "act":
        return "Fig. 6" if n_updates == 0 else "Fig. 4"
    return {"bp": "Fig. 7", "wg": "Fig. 8"}.get(quantity, "Eq. 17")


def _spread(record: Record, quantity: str, mass: Float64Array) -> float:
    """The 99.5% range half-width of one layer's histogram."""
    edges = record.edges(quantity)
    lo = _stats.quantile_from_histogram(mass, edges, 0.0025)
    hi = _stats.quantile_from_histogram(mass, edges, 0.9975)
    return max(abs(lo), abs(hi))


def _covering(record: Record, quantity: str, masses: Float64Array) -> NDArray[np.bool_]:
    """Boolean mask of the bins inside the range holding 99.5% of every layer's mass."""
    edges = record.edges(quantity)
    lo = min(_stats.quantile_from_histogram(m, edges, 0.0025) for m in masses)
    hi = max(_stats.quantile_from_histogram(m, edges, 0.9975) for m in masses)
    return (edges[1:] >= lo) & (edges[:-1] <= hi)


def weight_gradient_bands(records: Records, path: PathLike) -> Path:
    """Fig. 9: ±std intervals of the weight gradients of each layer over training."""
    rs = _seeds(records)
    fig = _figure()
    ax = fig.add_subplot()
    x, xlabel = _x(rs)
    stds = _stacked(rs, "wg_std")
    for l, c in enumerate(_layer_colors(rs[0].n_layers)):
        std = np.median(stds[:, :, l], axis=0)
        ax.fill_between(x, -std, std, color=c, alpha=0.08)
        _band(ax, x, stds[:, :, l], c, 0.3)
        _band(ax, x, -stds[:, :, l], c, 0.3)
        ax.plot(x, std, color=c, lw=1.2, marker="o", ms=2, label=f"Layer {l + 1}")
        ax.plot(x, -std, color=c, lw=1.2, marker="o", ms=2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Weight gradient")
    _legend(ax)
    _title(ax, rs, "Standard deviation intervals of the weight gradients", "Fig. 9", dynamics=True)
    return _save(fig, path)


def jacobian_mean(records: Records, path: PathLike) -> Path:
    """Mean singular value of each layer's Jacobian (Eq. 17) over training; 1 is the ideal."""
    rs = _seeds(records)
    fig = _figure()
    ax = fig.add_subplot()
    x, xlabel = _x(rs)
    jacs = _stacked(rs, "jac_mean")
    for l, c in enumerate(_layer_colors(rs[0].n_layers)):
        jac = _band(ax, x, jacs[:, :, l], c)
        ok = np.isfinite(jac)
        ax.plot(x[ok], jac[ok], color=c, marker="o", ms=3, label=f"Layer {l + 1}")
    ax.axhline(1.0, color="0.5", lw=0.8, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Mean singular value of ∂z$^{i}$/∂z$^{i-1}$")
    ax.set_ylim(bottom=0)
    _legend(ax)
    _title(ax, rs, "Mean Jacobian singular value per layer", "Eq. 17", dynamics=True)
    return _save(fig, path)


def _curve(run: Run, key: str, batch_size: int) -> Tuple[NDArray[Any], Float64Array]:
    """(examples seen, error %) from a Record (globals) or a training History."""
    if isinstance(run, Record):
        return np.asarray(run.steps) * batch_size, 100 * run.global_(key)
    hist = run.as_dict() if hasattr(run, "as_dict") else dict(run)
    hkey = {"test_error": "val_error"}.get(key, key) if key not in hist else key
    return np.asarray(hist["n_updates"]) * batch_size, 100 * np.asarray(hist[hkey], dtype=np.float64)


def error_curves(
    runs: Sequence[Union[Run, Sequence[Run]]],
    path: PathLike,
    labels: Optional[Sequence[str]] = None,
    key: str = "test_error",
    batch_size: int = 10,
    title: Optional[str] = None,
    ylim: Optional[Tuple[float, float]] = None,
) -> Path:
    """Figs. 11, 12: error (%) against examples seen, one curve per run.

    Args:
        runs: ``Record``s (their ``key`` global, e.g. "test_error" or "val_error") or ``History``s
            (their ``val_error``); an entry that is a list of them (one per seed) is drawn as the
            median over seeds with the band from the lowest to the highest seed shaded.
        labels: one legend entry per run (default: each Record's label).
        batch_size: examples per update, for the x-axis (the paper: 10).
        ylim: the error axis (%), e.g. the paper's Fig. 12 range; a curve that ends above it
            says so, with its final error, in its legend entry.
    """
    fig = _figure()
    ax = fig.add_subplot()
    records: List[Record] = []
    for i, entry in enumerate(runs):
        seeds: List[Run] = list(entry) if isinstance(entry, (list, tuple)) else [entry]  # type: ignore[arg-type,list-item]
        records += [r for r in seeds if isinstance(r, Record)]
        curves = [_curve(r, key, batch_size) for r in seeds]
        n = min(len(x) for x, _ in curves)
        x = curves[0][0][:n]
        errs = np.array([err[:n] for _, err in curves])
        err = np.median(errs, axis=0)
        ok = np.isfinite(err)
        first = seeds[0]
        label = labels[i] if labels else (first.label() if isinstance(first, Record) else f"run {i + 1}")
        if len(seeds) > 1:
            label += f", median of {len(seeds)} seeds, band min–max"
        if ylim is not None and ok.any() and err[ok][-1] > ylim[1]:
            label += f" (above the axis: {err[ok][-1]:.1f}% at the end)"
        (line,) = ax.plot(x[ok], err[ok], lw=1.3, label=label)
        if len(seeds) > 1:
            lo, hi = np.min(errs, axis=0), np.max(errs, axis=0)
            ax.fill_between(x[ok], lo[ok], hi[ok], color=line.get_color(), alpha=0.2, lw=0)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("# examples seen")
    ax.set_ylabel("Test error %" if "test" in key else key.replace("_", " ").capitalize() + " %")
    _legend(ax)
    datasets = {r.meta.get("dataset") for r in records} - {None}
    default = "Figs. 11, 12: error during training" + (f", {datasets.pop()}" if len(datasets) == 1 else "")
    ax.set_title(title or default, fontsize=10)
    return _save(fig, path)


# -- Fig. 5 ---------------------------------------------------------------------------------------


def cost_surface(
    n: int = 61, lim: float = 4.0, n_examples: int = 200, noise: float = 0.2, seed: int = 0
) -> Tuple[Float64Array, Float64Array, Float64Array, Float64Array]:
    """NLL and quadratic cost of a one-hidden-layer tanh network over two weights (Fig. 5).

    The paper gives only "a two-layer network (one hidden layer) with hyperbolic tangent units,
    and a random input and target signal" (§4.1: the paper gives no more). Our documented
    choice, the smallest network with one weight per layer: one input x ~ N(0, 1), one tanh hidden
    unit h = tanh(W1·x), a 2-class softmax output with logits (0, W2·h), zero biases; targets
    y = [x > 0] with a fraction ``noise`` flipped at random. The costs are the mean over
    ``n_examples`` of -log P(y|x) (NLL) and of ½·||P - onehot(y)||² (quadratic, on the same
    softmax output), computed by ``glorot_ext.MLP`` with cost "nll" and "quadratic".

    Returns:
        (W1, W2, nll, quadratic): (n,) grids and (n, n) costs indexed [i2, i1].
    """
    from glorot_ext.network import MLP

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_examples, 1))
    y = (x[:, 0] > 0).astype(np.int64)
    flip = rng.random(n_examples) < noise
    y[flip] = 1 - y[flip]
    w = np.linspace(-lim, lim, n)
    out = {}
    for cost in ("nll", "quadratic"):
        net = MLP([1, 1, 2], activation="tanh", init="zeros", cost=cost, dtype=np.float64)
        C = np.empty((n, n))
        for i2, w2 in enumerate(w):
            net.weights[1][0, 1] = w2
            for i1, w1 in enumerate(w):
                net.weights[0][0, 0] = w1
                C[i2, i1] = net.loss(x, y)
        out[cost] = C
    return w, w, out["nll"], out["quadratic"]


def plot_cost_surface(
    path: PathLike, *, n: int = 61, lim: float = 4.0, n_examples: int = 200, noise: float = 0.2, seed: int = 0
) -> Path:
    """Fig. 5: the NLL (black, top) and quadratic (red, bottom) cost surfaces over (W1, W2); the
    keywords are ``cost_surface``'s."""
    W1, W2, nll, quad = cost_surface(n=n, lim=lim, n_examples=n_examples, noise=noise, seed=seed)
    G1, G2 = np.meshgrid(W1, W2)
    fig = Figure(figsize=(7.0, 5.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(projection="3d")
    stride = max(len(W1) // 20, 1)
    ax.plot_wireframe(G1, G2, nll, color="black", lw=0.6, rstride=stride, cstride=stride, label="cross-entropy (NLL)")
    ax.plot_wireframe(G1, G2, quad, color="red", lw=0.6, rstride=stride, cstride=stride, label="quadratic")
    ax.set_xlabel("W1 (hidden layer)")
    ax.set_ylabel("W2 (output layer)")
    ax.set_zlabel("cost")
    ax.view_init(elev=25, azim=-60)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(
        "Cost over two weights of a 1-1-2 tanh network\n(random inputs, noisy targets: see cost_surface)", fontsize=10
    )
    fig.subplots_adjust(left=0.0, right=0.95, bottom=0.02, top=0.92)
    return _save(fig, path)


def all_figures(records: Records, out_dir: PathLike, prefix: str = "") -> List[Path]:
    """Every per-record figure type into ``out_dir`` (of one record, or of one per seed with their
    band); returns the written paths."""
    rs = _seeds(records)
    record = rs[0]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [
        activation_mean_std(rs, out / f"{prefix}fig2_activation_mean_std.png"),
        activation_percentiles(rs, out / f"{prefix}fig3_activation_percentiles.png"),
        weight_gradient_bands(rs, out / f"{prefix}fig9_weight_gradient_bands.png"),
    ]
    if "jac_mean" in record.scalars:
        paths.append(jacobian_mean(rs, out / f"{prefix}eq17_jacobian_mean.png"))
    n = min(r.n_steps for r in rs)
    for q in record.hists:
        measured = np.flatnonzero(record.hist(q)[:n].sum(axis=(1, 2)) > 0)  # e.g. Jacobians every k-th step
        if measured.size:
            for step, tag in (
                (measured[0], "init" if record.steps[measured[0]] == 0 else "first"),
                (measured[-1], "end"),
            ):
                number = _hist_figure(q, record.steps[step]).lower().replace(". ", "")
                paths.append(histograms(rs, out / f"{prefix}{number}_hist_{q}_{tag}.png", q, int(step)))
    return paths
