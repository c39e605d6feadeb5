import subprocess
import sys

import numpy as np
import pytest

import glorot_ext as ge
from glorot_ext import plots
from glorot_ext.monitor import Monitor
from glorot_ext.training import History

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def record():
    rng = np.random.default_rng(5)
    net = ge.MLP([16, 12, 12, 12, 3], activation="tanh", init="standard", dtype=np.float64, rng=rng)
    X, y = rng.uniform(0, 1, (60, 16)), rng.integers(0, 3, 60)
    mon = Monitor((X, y), every=4, jacobian_examples=3, test=(X, y), meta={"dataset": "synthetic"})
    net.fit_stream(iter([(X[i : i + 10], y[i : i + 10]) for i in range(0, 50, 10)] * 4), 20, 0.1, callbacks=[mon])
    return mon.record


def _is_png(path):
    data = path.read_bytes()
    return data[:8] == PNG_MAGIC and len(data) > 5000


@pytest.mark.parametrize(
    "draw", [plots.activation_mean_std, plots.activation_percentiles, plots.weight_gradient_bands, plots.jacobian_mean]
)
def test_every_curve_figure_writes_a_non_empty_png(tmp_path, record, draw):
    assert _is_png(draw(record, tmp_path / "f.png"))


@pytest.mark.parametrize("quantity", ["act", "bp", "wg", "jac"])
@pytest.mark.parametrize("step", [0, -1])
def test_every_histogram_figure_writes_a_non_empty_png(tmp_path, record, quantity, step):
    assert _is_png(plots.histograms(record, tmp_path / "h.png", quantity, step))


def test_error_curves_accept_records_and_histories(tmp_path, record):
    hist = History(n_updates=[0, 10, 20], val_error=[0.9, 0.5, 0.3])
    assert _is_png(plots.error_curves([record, hist], tmp_path / "e.png", labels=["monitored", "history"]))


def test_cost_surface_shows_the_quadratic_plateau_below_the_nll(tmp_path):
    w1, w2, nll, quad = plots.cost_surface(n=21)
    assert nll.shape == quad.shape == (21, 21)
    assert nll[10, 10] == pytest.approx(np.log(2))  # both weights 0: P = (1/2, 1/2)
    assert np.all(quad <= 1.0) and np.all(nll >= 0)
    assert np.ptp(quad) < np.ptp(nll) / 2
    assert _is_png(plots.plot_cost_surface(tmp_path / "c.png", n=21))


def test_all_figures_writes_every_figure_type(tmp_path, record):
    paths = plots.all_figures(record, tmp_path / "out")
    assert len(paths) == 4 + 2 * len(record.hists)
    assert all(_is_png(p) for p in paths)
    names = {p.name for p in paths}
    assert {
        "fig2_activation_mean_std.png",
        "fig3_activation_percentiles.png",
        "fig9_weight_gradient_bands.png",
        "eq17_jacobian_mean.png",
        "fig6_hist_act_init.png",
        "fig4_hist_act_end.png",
        "fig7_hist_bp_init.png",
        "fig8_hist_wg_init.png",
    } <= names


@pytest.fixture
def figures(monkeypatch):
    """The matplotlib Figures the plot functions would save."""
    drawn = []
    monkeypatch.setattr(plots, "_save", lambda fig, path, dpi=110: drawn.append(fig) or path)
    return drawn


def _spread_record(scales):
    """A record whose weight-gradient histograms have one normal layer per scale."""
    from glorot_ext import stats
    from glorot_ext.record import Record

    rng = np.random.default_rng(0)
    bins = stats.GRADIENT_BINS
    mass = np.stack([bins.counts(rng.standard_normal(20_000) * s)[0] for s in scales])
    rec = Record({"config": {"activations": ["sigmoid"] * len(scales), "init": "standard"}})
    rec.append(0, scalars={"wg_std": list(scales)}, hists={"wg": (mass / mass.sum(axis=1, keepdims=True), bins)})
    return rec


def test_weight_gradient_histograms_of_very_different_spreads_all_show(tmp_path, figures):
    plots.histograms(_spread_record([1e-4, 3e-4, 1e-3, 3e-2]), tmp_path / "h.png", "wg", 0)
    (ax,) = figures[0].axes
    assert ax.get_xscale() == "symlog"
    peaks = [line.get_ydata().max() for line in ax.get_lines()]
    assert len(peaks) == 4 and min(peaks) > 0.3 * max(peaks)  # on a linear axis layer 1 is a 1/300 sliver


def test_histograms_of_alike_layers_stay_on_a_linear_axis(tmp_path, figures):
    plots.histograms(_spread_record([1e-3, 1.5e-3, 2e-3]), tmp_path / "h.png", "wg", 0)
    assert figures[0].axes[0].get_xscale() == "linear"


@pytest.mark.parametrize(
    "draw",
    [
        plots.activation_mean_std,
        plots.activation_percentiles,
        plots.weight_gradient_bands,
        plots.jacobian_mean,
        lambda r, p: plots.histograms(r, p, "act", 0),
    ],
)
def test_legends_sit_outside_the_data_and_titles_carry_the_figure_number(tmp_path, record, figures, draw):
    draw(record, tmp_path / "f.png")
    fig = figures[0]
    fig.canvas.draw()
    ax = fig.axes[0]
    legend, frame = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend.x0 >= frame.x1  # to the right of the axes
    assert ax.get_title().startswith(("Fig. ", "Figs. ", "Eq. "))


def test_the_last_layer_colour_is_readable_on_white():
    *_, last = plots._layer_colors(5)
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in last[:3])
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    assert 1.05 / (luminance + 0.05) >= 2.9  # contrast against white (WCAG); the former viridis(0.9): 1.5


def test_histograms_of_a_step_whose_jacobian_was_skipped_raise_and_all_figures_skips_it(tmp_path, rng):
    net = ge.MLP([8, 6, 6, 3], activation="tanh", dtype=np.float64, rng=rng)
    X, y = rng.uniform(0, 1, (20, 8)), rng.integers(0, 3, 20)
    mon = Monitor((X, y), every=2, jacobian_examples=2, jacobian_every=2)
    net.fit_stream(iter([(X[:10], y[:10])] * 3), 3, 0.1, callbacks=[mon])
    assert mon.record.steps == [0, 2, 3]
    with pytest.raises(ValueError, match="not measured"):
        plots.histograms(mon.record, tmp_path / "j.png", "jac", 1)
    paths = plots.all_figures(mon.record, tmp_path / "all")
    assert (tmp_path / "all" / "eq17_hist_jac_init.png") in paths and all(_is_png(p) for p in paths)


def test_unknown_histogram_quantity_raises(tmp_path, record):
    with pytest.raises(ValueError, match="no 'zz' histograms"):
        plots.histograms(record, tmp_path / "x.png", "zz")


def test_training_and_monitoring_never_import_matplotlib():
    code = (
        "import sys, numpy as np, glorot_ext as ge; from glorot_ext import monitor, record, stats, theory; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_error_curves_draw_seed_bands_and_flag_curves_above_the_axis(tmp_path, monkeypatch):
    seen = {}
    real_legend = plots._legend

    def spy(ax, **kwargs):
        seen["labels"] = [line.get_label() for line in ax.get_lines()]
        seen["ylim"] = ax.get_ylim()
        seen["bands"] = len(ax.collections)
        real_legend(ax, **kwargs)

    monkeypatch.setattr(plots, "_legend", spy)
    low = [History(n_updates=[0, 10, 20], val_error=[0.9, 0.03, 0.02 + d]) for d in (0.0, 0.002, 0.004)]
    high = History(n_updates=[0, 10, 20], val_error=[0.9, 0.9, 0.88])
    plots.error_curves([low, high], tmp_path / "e.png", labels=["tanh", "sigmoid"], ylim=(1.0, 4.0))
    assert seen["labels"] == ["tanh, median of 3 seeds, band min–max", "sigmoid (above the axis: 88.0% at the end)"]
    assert seen["ylim"] == (1.0, 4.0)
    assert seen["bands"] == 1  # one shaded band, for the row with seeds


@pytest.fixture(scope="module")
def seed_records():
    """Three seeds of one small monitored network."""
    out = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        net = ge.MLP([16, 12, 12, 3], activation="tanh", init="standard", dtype=np.float64, rng=rng)
        X, y = rng.uniform(0, 1, (60, 16)), rng.integers(0, 3, 60)
        mon = Monitor((X, y), every=4, jacobian_examples=3, meta={"dataset": "synthetic"})
        net.fit_stream(iter([(X[i : i + 10], y[i : i + 10]) for i in range(0, 50, 10)] * 4), 20, 0.1, callbacks=[mon])
        out.append(mon.record)
    return out


@pytest.mark.parametrize(
    "draw",
    [
        plots.activation_mean_std,
        plots.activation_percentiles,
        plots.weight_gradient_bands,
        plots.jacobian_mean,
        lambda r, p: plots.histograms(r, p, "bp", 0),
    ],
)
def test_figures_of_several_seeds_draw_the_median_with_the_seeds_band(tmp_path, seed_records, figures, draw):
    draw(seed_records[:1], tmp_path / "one.png")
    draw(seed_records, tmp_path / "three.png")
    one, three = figures[0].axes[0], figures[1].axes[0]
    assert "median of 3 seeds, band min–max" in three.get_title() and "median of" not in one.get_title()
    assert len(three.collections) > len(one.collections)  # a shaded band per layer
    assert three.get_legend_handles_labels()[1] == ["Layer 1", "Layer 2"]


def test_dynamics_figures_say_which_part_of_the_paper_axis_they_cover(tmp_path, seed_records, figures):
    plots.activation_percentiles(seed_records[0], tmp_path / "f.png")
    plots.activation_mean_std(seed_records[0], tmp_path / "g.png")
    assert "updates 0–20 = epochs 0–0.001 of the paper's 0–95" in figures[0].axes[0].get_title()
    assert "of the paper's 0–140" in figures[1].axes[0].get_title()


def test_records_measured_at_different_updates_cannot_share_a_figure(tmp_path, seed_records):
    from glorot_ext.record import Record

    other = Record.from_dict(seed_records[1].to_dict())
    other.steps = [s + 1 for s in other.steps]
    with pytest.raises(ValueError, match="different updates"):
        plots.activation_percentiles([seed_records[0], other], tmp_path / "f.png")


def test_a_histogram_axis_holds_the_widest_layers_tails(tmp_path, figures):
    """A flat (uniform) widest layer, as layer 5 of Fig. 7, ends inside the axis, not at its edge."""
    from glorot_ext import stats
    from glorot_ext.record import Record

    rng = np.random.default_rng(1)
    bins = stats.GRADIENT_BINS
    layers = [rng.standard_normal(50_000) * 0.01, rng.uniform(-0.08, 0.08, 50_000)]
    mass = np.stack([bins.counts(v)[0] for v in layers])
    rec = Record({"config": {"activations": ["tanh"] * 2, "init": "standard"}})
    rec.append(0, scalars={"bp_std": [0.01, 0.046]}, hists={"bp": (mass / mass.sum(axis=1, keepdims=True), bins)})
    plots.histograms(rec, tmp_path / "h.png", "bp", 0)
    ax = figures[0].axes[0]
    assert ax.get_xscale() == "linear" and ax.get_xlim()[1] > 0.08 * 1.05
    flat = next(line for line in ax.get_lines() if line.get_label() == "Layer 2")
    assert np.asarray(flat.get_ydata())[-1] == 0.0  # the density has fallen to zero inside the axis
