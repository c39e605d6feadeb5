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
    net.fit_stream(iter([(X[i:i + 10], y[i:i + 10]) for i in range(0, 50, 10)] * 4), 20, 0.1, callbacks=[mon])
    return mon.record


def _is_png(path):
    data = path.read_bytes()
    return data[:8] == PNG_MAGIC and len(data) > 5000


@pytest.mark.parametrize("draw", [plots.activation_mean_std, plots.activation_percentiles,
                                  plots.weight_gradient_bands, plots.jacobian_mean])
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


def test_histograms_of_a_step_whose_jacobian_was_skipped_raise_and_all_figures_skips_it(tmp_path, rng):
    net = ge.MLP([8, 6, 6, 3], activation="tanh", dtype=np.float64, rng=rng)
    X, y = rng.uniform(0, 1, (20, 8)), rng.integers(0, 3, 20)
    mon = Monitor((X, y), every=2, jacobian_examples=2, jacobian_every=2)
    net.fit_stream(iter([(X[:10], y[:10])] * 3), 3, 0.1, callbacks=[mon])
    assert mon.record.steps == [0, 2, 3]
    with pytest.raises(ValueError, match="not measured"):
        plots.histograms(mon.record, tmp_path / "j.png", "jac", 1)
    paths = plots.all_figures(mon.record, tmp_path / "all")
    assert (tmp_path / "all" / "hist_jac_init.png") in paths and all(_is_png(p) for p in paths)


def test_unknown_histogram_quantity_raises(tmp_path, record):
    with pytest.raises(ValueError, match="no 'zz' histograms"):
        plots.histograms(record, tmp_path / "x.png", "zz")


def test_training_and_monitoring_never_import_matplotlib():
    code = ("import sys, numpy as np, glorot_ext as ge; from glorot_ext import monitor, record, stats, theory; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
