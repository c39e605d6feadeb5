import numpy as np
import pytest

import glorot_ext as ge
from glorot_ext import stats


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bins", [stats.GRADIENT_BINS, stats.SINGULAR_VALUE_BINS, stats.OctaveBins(-3, 2, 4)])
def test_octave_bins_count_exactly_as_numpy_histogram_on_their_edges(rng, dtype, bins):
    x = (rng.standard_normal(50_000) * np.exp(rng.uniform(-12, 1, 50_000))).astype(dtype)
    if not bins.signed:
        x = np.abs(x)
    x = x[np.abs(x) < bins.edges[-1]]
    counts, excluded = bins.counts(x)
    expected, _ = np.histogram(x, bins.edges)
    assert bins.edges.shape == (bins.n_bins + 1,)
    assert np.all(np.diff(bins.edges) > 0)
    np.testing.assert_array_equal(counts, expected)
    assert excluded == 0


def test_octave_bins_clip_large_values_and_leave_out_non_finite_ones():
    bins = stats.OctaveBins(-3, 2, 4)
    counts, excluded = bins.counts(np.array([1e9, -1e9, 0.0, 1e-9, np.nan, np.inf]))
    assert excluded == 2
    assert counts[-1] == 1 and counts[0] == 1
    assert counts[bins.n_bins // 2] == 2  # 0 and 1e-9 in the central bin
    assert counts.sum() == 4


def test_linear_bins_clip_into_the_end_bins_and_match_numpy_inside(rng):
    bins = stats.LinearBins(-1.0, 1.0, 50)
    x = rng.uniform(-1, 1, 10_000)
    np.testing.assert_array_equal(bins.counts(x)[0], np.histogram(x, bins.edges)[0])
    c, _ = bins.counts(np.array([-5.0, 5.0]))
    assert c[0] == 1 and c[-1] == 1


@pytest.mark.parametrize("bins", [stats.LinearBins(-1, 1, 100), stats.GRADIENT_BINS, stats.SINGULAR_VALUE_BINS])
def test_histogram_mass_sums_to_one_and_density_integrates_to_one(rng, bins):
    x = (
        np.abs(rng.standard_normal(20_000)) * 0.1
        if not getattr(bins, "signed", True)
        else np.tanh(rng.standard_normal(20_000))
    )
    mass = stats.histogram(x, bins)
    assert mass.shape == (bins.n_bins,)
    assert mass.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.sum(stats.density(mass, bins.edges) * np.diff(bins.edges)) == pytest.approx(1.0, abs=1e-12)


def test_histogram_accumulator_over_chunks_equals_one_histogram_of_everything(rng):
    x = rng.standard_normal(30_000) * 0.01
    acc = stats.HistogramAccumulator(stats.GRADIENT_BINS)
    for chunk in np.array_split(x, 7):
        acc.add(chunk)
    np.testing.assert_array_equal(acc.mass, stats.histogram(x, stats.GRADIENT_BINS))


def test_rebin_keeps_the_mass_inside_the_new_range_and_the_quantiles(rng):
    x = rng.standard_normal(50_000) * 0.01
    mass = stats.histogram(x, stats.GRADIENT_BINS)
    new = np.linspace(-0.1, 0.1, 81)
    coarse = stats.rebin(mass, stats.GRADIENT_BINS.edges, new)
    assert coarse.sum() == pytest.approx(1.0, abs=1e-9)
    assert stats.quantile_from_histogram(mass, stats.GRADIENT_BINS.edges, 0.98) == pytest.approx(
        np.percentile(x, 98), rel=0.02
    )


@pytest.mark.parametrize("q", [0.0, 0.0005, 0.0025, 0.5, 0.9975, 1.0])
def test_histogram_quantiles_of_a_distribution_with_empty_bins_stay_inside_its_support(rng, q):
    """A uniform on ±0.08 leaves the octave bins below its lower end empty: the quantile must not
    interpolate from the histogram's first edge (-16) across them."""
    x = rng.uniform(-0.08, 0.08, 50_000)
    mass = stats.histogram(x, stats.GRADIENT_BINS)
    got = stats.quantile_from_histogram(mass, stats.GRADIENT_BINS.edges, q)
    assert got == pytest.approx(np.quantile(x, q), abs=0.0025)


def test_the_quantile_of_an_empty_histogram_is_refused():
    with pytest.raises(ValueError, match="empty histogram"):
        stats.quantile_from_histogram(np.zeros(4), np.arange(5.0), 0.5)


def test_running_moments_over_float32_chunks_match_numpy_in_float64(rng):
    x = (rng.standard_normal(100_000) * 3e-3 + 1e-4).astype(np.float32)
    m = stats.RunningMoments()
    for chunk in np.array_split(x, 13):
        m.add(chunk)
    assert m.count == x.size
    assert m.mean == pytest.approx(np.mean(x, dtype=np.float64), rel=1e-12, abs=1e-15)
    assert m.std == pytest.approx(np.std(x, dtype=np.float64), rel=1e-10)


@pytest.mark.parametrize("activation", ["tanh", "softsign", "scaled_tanh", "sigmoid", "relu", "identity"])
def test_activation_stats_match_numpy_on_the_same_array(rng, activation):
    s = (rng.standard_normal((300, 200)) * 3).astype(np.float32)
    z = ge.reference.activation_forward(activation, s)
    got = stats.activation_stats(z, activation)
    z64 = z.astype(np.float64)
    assert got["mean"] == pytest.approx(z64.mean(), rel=1e-12, abs=1e-15)
    assert got["std"] == pytest.approx(z64.std(), rel=1e-12)
    for q in (2, 50, 98):
        assert got[f"p{q}"] == pytest.approx(np.percentile(z64, q), rel=1e-12, abs=1e-15)
    info = ge.activations.get(activation)
    if activation in ("tanh", "softsign", "scaled_tanh"):
        low, high = np.mean(z64 < -0.99 * info.high), np.mean(z64 > 0.99 * info.high)
    elif activation == "sigmoid":
        low, high = np.mean(z64 < 0.01), np.mean(z64 > 0.99)
    elif activation == "relu":
        low, high = np.mean(z64 == 0), 0.0
    else:
        low, high = 0.0, 0.0
    assert got["sat_low"] == pytest.approx(low) and got["sat_high"] == pytest.approx(high)
    assert got["saturated"] == pytest.approx(low + high)


def test_tanh_saturation_is_symmetric_and_counts_only_beyond_the_level():
    z = np.array([-1.0, -0.995, -0.98, 0.0, 0.5, 0.991, 1.0])
    assert stats.saturation(z, "tanh") == (2 / 7, 2 / 7)


def test_jacobian_singular_values_match_numpy_svd_of_explicit_jacobians(rng):
    for n_in, n_out in [(40, 30), (30, 40), (35, 35)]:
        W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        fprime = rng.uniform(0.1, 1.0, (5, n_out))
        explicit = np.stack([np.linalg.svd(stats.layer_jacobian(W, d), compute_uv=False) for d in fprime])
        got = stats.jacobian_singular_values(W, fprime)
        assert got.shape == (5, min(n_in, n_out))
        np.testing.assert_allclose(got, explicit, atol=1e-7)
        np.testing.assert_allclose(stats.jacobian_singular_values(W, fprime, method="svd"), explicit, atol=1e-12)


def test_layer_jacobian_matches_finite_differences_of_the_network(rng):
    net = ge.MLP([6, 5, 4, 3], activation="tanh", init="normalized", dtype=np.float64, rng=rng)
    x = rng.standard_normal(6)
    _, post = net.forward(x[None], hidden=True)
    J = stats.layer_jacobian(net.weights[1], stats.derivative("tanh", post[1][0]))

    def hidden2(z1):
        return np.tanh(z1 @ net.weights[1] + net.biases[1])

    z1, eps = post[0][0], 1e-6
    fd = np.stack([(hidden2(z1 + eps * e) - hidden2(z1 - eps * e)) / (2 * eps) for e in np.eye(5)], axis=1)
    assert J.shape == (4, 5)
    np.testing.assert_allclose(J, fd, atol=1e-8)


def test_jacobian_spectrum_mean_is_the_mean_of_all_singular_values(rng):
    W = rng.standard_normal((50, 50)) * 0.1
    fprime = rng.uniform(0.5, 1.0, (4, 50))
    spec = stats.jacobian_spectrum(W, fprime)
    sv = np.stack([np.linalg.svd(stats.layer_jacobian(W, d), compute_uv=False) for d in fprime])
    assert spec["mean"] == pytest.approx(sv.mean(), rel=1e-9)
    assert spec["max"] == pytest.approx(sv.max(), rel=1e-9)
    assert spec["mass"].sum() == pytest.approx(1.0)


def test_bad_arguments_raise_value_errors_that_name_them(rng):
    with pytest.raises(ValueError, match="per_octave"):
        stats.OctaveBins(per_octave=3)
    with pytest.raises(ValueError, match="lo < hi"):
        stats.LinearBins(1.0, -1.0)
    with pytest.raises(ValueError, match="method"):
        stats.jacobian_singular_values(np.eye(3), np.ones((1, 3)), method="qr")
    with pytest.raises(ValueError, match="4 columns but W has 3"):
        stats.jacobian_singular_values(np.eye(3), np.ones((1, 4)))
    with pytest.raises(ValueError, match="unknown activation"):
        stats.saturation(np.zeros(3), "swish")
    with pytest.raises(ValueError, match="kind"):
        stats.bins_from_spec({"kind": "log"})


def test_bins_round_trip_through_their_spec():
    for b in (stats.GRADIENT_BINS, stats.LinearBins(-2.0, 2.0, 10), stats.SINGULAR_VALUE_BINS):
        assert stats.bins_from_spec(b.spec()) == b


def _minibatch_gradients_by_numpy(z, d, batch):
    return np.stack(
        [
            z[i : i + batch].T @ d[i : i + batch] * z.dtype.type(1.0 / batch)
            for i in range(0, z.shape[0] - batch + 1, batch)
        ]
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_minibatch_gradient_histogram_bins_the_gradients_numpy_makes(rng, dtype):
    # 95 rows: nine minibatches of 10, the last 5 rows left out, as the Monitor's loop did
    z = rng.uniform(-1, 1, (95, 70)).astype(dtype)
    d = (rng.standard_normal((95, 130)) * 1e-3).astype(dtype)
    d[3, 7] = 0.0  # exact zeros and a gradient far below the smallest octave
    z[:10, 5] = 1e-30 if dtype == np.float64 else 1e-20
    got = stats.minibatch_gradient_histogram(z, d, 10, stats.GRADIENT_BINS)
    want = stats.HistogramAccumulator(stats.GRADIENT_BINS).add(_minibatch_gradients_by_numpy(z, d, 10))
    assert got.counts.sum() == 9 * 70 * 130 and got.n_excluded == 0
    # a sum of 10 products in another order may move a value across a bin edge: a handful at most
    assert np.abs(got.counts - want.counts).sum() <= 4
    # each moved value shifts one count's mass, 1 / (9 * 70 * 130) = 1.2e-5, between two bins
    np.testing.assert_allclose(got.mass, want.mass, atol=4.0 / got.counts.sum())


def test_minibatch_gradient_histogram_is_the_same_for_any_thread_count(rng):
    z = rng.standard_normal((60, 300)).astype(np.float32)
    d = rng.standard_normal((60, 257)).astype(np.float32)
    counts = []
    for threads in (1, 2):
        with ge.num_threads(threads):
            counts.append(stats.minibatch_gradient_histogram(z, d, 10, stats.GRADIENT_BINS).counts)
    np.testing.assert_array_equal(counts[0], counts[1])


def test_minibatch_gradient_histogram_on_linear_bins_and_its_errors(rng):
    z, d = rng.standard_normal((20, 6)), rng.standard_normal((20, 4))
    bins = stats.LinearBins(-2.0, 2.0, 40)
    got = stats.minibatch_gradient_histogram(z, d, 5, bins)
    want = stats.HistogramAccumulator(bins).add(_minibatch_gradients_by_numpy(z, d, 5))
    np.testing.assert_array_equal(got.counts, want.counts)
    with pytest.raises(ValueError, match="one row per example"):
        stats.minibatch_gradient_histogram(z, d[:19], 5, bins)
    with pytest.raises(ValueError, match="batch"):
        stats.minibatch_gradient_histogram(z, d, 0, bins)
    with pytest.raises(ValueError, match="shift"):
        ge._core.minibatch_gradient_key_counts(z, d, 5, 3)
    with pytest.raises(TypeError, match="same dtype"):
        ge._core.minibatch_gradient_key_counts(z.astype(np.float32), d, 5, 40)
