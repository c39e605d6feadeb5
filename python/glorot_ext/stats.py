"""The paper's per-layer statistics as pure functions of arrays (Glorot & Bengio 2010, §3–4).

Everything here takes NumPy arrays and returns NumPy arrays or plain floats; nothing knows about
networks or training (``glorot_ext.monitor`` wires these to an ``MLP``). Sums, means and
variances accumulate in float64 whatever the input dtype.

Conventions (the package's): a layer maps z (n, n_in) to s = z·W + b (n, n_out) with W of shape
(n_in, n_out), and z' = f(s). Hidden layer i (1-based, as in the paper) is z^i = f(s^{i-1}).

Histograms use *fixed* bin edges per quantity, so that histograms of different layers, steps and
runs are directly comparable and can be averaged; memory is O(bins), not O(samples). Two kinds:

* ``LinearBins``: equal-width bins on [lo, hi] (activations of bounded functions, as in the
  paper's Figs. 4 and 6); values outside are clipped into the end bins.
* ``OctaveBins``: for quantities whose scale spans decades (back-propagated and weight gradients
  grow about 15x from the standard to the normalized init and again during training, Figs. 7–9;
  Jacobian singular values). Every octave [2^(e-1), 2^e) is split into ``per_octave`` equal
  bins (a power of two), mirrored for negative values, with one central bin for |x| below the
  smallest octave; values above the largest octave are clipped into the outer bins. The bin of a
  value is read from its IEEE-754 exponent and leading mantissa bits, so binning costs one pass
  and one ``bincount`` and is exact: the edges are dyadic numbers.

A histogram is stored as its *mass* (bin counts / number of values, summing to 1); ``density``
divides by the bin widths (the paper's "normalized histograms"), ``rebin`` moves the mass onto
other edges (e.g. a linear display grid for plots).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, Literal, Mapping, Sequence, Tuple, TypedDict, Union, cast

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from glorot_ext import _core, activations as _activations

#: Fraction of the asymptote beyond which a unit counts as saturated (tanh, softsign, scaled_tanh).
SATURATION_LEVEL = 0.99
#: The percentiles the paper plots (Figs. 3, 10: 98th, and the mirrored 2nd) plus the median.
PERCENTILES = (2.0, 50.0, 98.0)
#: Default number of probe examples whose Jacobians are decomposed (see ``jacobian_singular_values``):
#: enough for the layer mean, the bulk of a default measurement's time (``docs/instruments.md``).
JACOBIAN_EXAMPLES = 5

Float64Array = NDArray[np.float64]
#: A bins object as plain JSON-able values (``LinearBins.spec``, ``OctaveBins.spec``).
BinsSpec = Dict[str, Union[str, int, float, bool]]


# -- bins and histograms ----------------------------------------------------------------------


@dataclass(frozen=True)
class LinearBins:
    """``n`` equal-width bins on [lo, hi]; out-of-range values are clipped into the end bins."""

    lo: float
    hi: float
    n: int = 200

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lo) and math.isfinite(self.hi) and self.hi > self.lo):
            raise ValueError(f"LinearBins needs finite lo < hi, got lo={self.lo}, hi={self.hi}")
        if not isinstance(self.n, (int, np.integer)) or self.n <= 0:
            raise ValueError(f"LinearBins needs a positive integer n, got {self.n!r}")

    @property
    def edges(self) -> Float64Array:
        """(n + 1,) float64 bin edges."""
        return np.linspace(self.lo, self.hi, self.n + 1)

    @property
    def n_bins(self) -> int:
        return int(self.n)

    def counts(self, x: ArrayLike) -> Tuple[Float64Array, int]:
        """(n,) float64 counts of the finite values of ``x`` (clipped into range), and the number
        of non-finite values left out."""
        x = np.asarray(x).ravel()
        finite = np.isfinite(x)
        n_bad = x.size - int(np.count_nonzero(finite))
        if n_bad:
            x = x[finite]
        x = np.clip(x, self.lo, self.hi)
        c, _ = np.histogram(x, bins=self.n, range=(self.lo, self.hi))
        return c.astype(np.float64), n_bad

    def spec(self) -> BinsSpec:
        return {"kind": "linear", "lo": float(self.lo), "hi": float(self.hi), "n": int(self.n)}


@dataclass(frozen=True)
class OctaveBins:
    """Fixed bins that split each octave [2^(e-1), 2^e), e = min_exp..max_exp, into ``per_octave``.

    Args:
        min_exp: values with |x| < 2^(min_exp-1) fall in the central bin (signed) or the first bin.
        max_exp: values with |x| >= 2^max_exp are clipped into the outermost bins.
        per_octave: bins per octave, a power of two up to 64 (relative width <= 1/per_octave).
        signed: mirror the bins for negative values (gradients); False for x >= 0 (singular values).
    """

    min_exp: int = -26
    max_exp: int = 4
    per_octave: int = 32
    signed: bool = True

    def __post_init__(self) -> None:
        p = self.per_octave
        if not isinstance(p, (int, np.integer)) or p <= 0 or p > 64 or p & (p - 1):
            raise ValueError(f"per_octave must be a power of two between 1 and 64, got {p!r}")
        if not (-1000 < self.min_exp < self.max_exp < 1000):
            raise ValueError(f"need min_exp < max_exp within float64's range, got {self.min_exp}, {self.max_exp}")

    @property
    def _n_side(self) -> int:
        return (self.max_exp - self.min_exp + 1) * self.per_octave

    @property
    def n_bins(self) -> int:
        return 2 * self._n_side + 1 if self.signed else self._n_side + 1

    @property
    def edges(self) -> Float64Array:
        """Bin edges, float64, increasing; dyadic numbers, so comparisons with them are exact."""
        e = np.arange(self.min_exp, self.max_exp + 1, dtype=np.float64)[:, None]
        j = np.arange(self.per_octave, dtype=np.float64)[None, :]
        side = np.append((np.exp2(e - 1) * (1 + j / self.per_octave)).ravel(), 2.0**self.max_exp)
        if self.signed:
            return np.concatenate([-side[::-1], side])
        return np.concatenate([[0.0], side])

    def _lut(self, dtype: np.dtype[Any]) -> Tuple[NDArray[np.int64], int]:
        """Lookup table from the top bits of a float (sign, exponent, log2(per_octave) mantissa
        bits) to the bin index; -1 for inf/NaN."""
        info = np.finfo(dtype)
        nexp = info.nexp
        p = int(self.per_octave).bit_length() - 1
        keys = np.arange(1 << (1 + nexp + p), dtype=np.int64)
        sign = keys >> (nexp + p)
        biased = (keys >> p) & ((1 << nexp) - 1)
        j = keys & ((1 << p) - 1)
        # frexp exponent: |x| = m·2^e with m in [0.5, 1) <=> biased exponent = e - 1 + bias
        e = biased - info.maxexp + 2
        pos = (e - self.min_exp) * self.per_octave + j
        pos = np.clip(pos, -1, self._n_side - 1)  # -1: below the smallest octave
        if self.signed:
            idx = np.where(sign == 1, self._n_side - 1 - pos, self._n_side + 1 + pos)
        else:
            idx = np.where(sign == 1, -1, pos + 1)  # negative values are out of range for unsigned
            idx = np.where((sign == 1) & (pos == -1), 0, idx)  # -0.0 and tiny negatives: first bin
        idx = np.where(biased == (1 << nexp) - 1, -1, idx)  # inf and NaN
        return idx, p

    def counts(self, x: ArrayLike) -> Tuple[Float64Array, int]:
        """(n_bins,) float64 counts of ``x`` (float32 or float64), and the number of values left
        out (non-finite, or negative for unsigned bins)."""
        x = np.ascontiguousarray(x)
        if x.dtype not in (np.float32, np.float64):
            x = x.astype(np.float64)
        bits = x.ravel().view(np.uint32 if x.dtype == np.float32 else np.uint64)
        keys = bits >> np.array(self.key_shift(x.dtype), dtype=bits.dtype)
        lut, _ = self._lut_for(x.dtype)
        return self.counts_of_keys(np.bincount(keys.astype(np.intp, copy=False), minlength=lut.size), x.dtype)

    def _lut_for(self, dtype: DTypeLike) -> Tuple[NDArray[np.int64], int]:
        dtype = np.dtype(dtype)
        return _LUTS.get((self, dtype.str)) or _LUTS.setdefault((self, dtype.str), self._lut(dtype))

    def key_shift(self, dtype: DTypeLike) -> int:
        """The right shift that turns a value's bit pattern into its key: sign, exponent and the
        log2(per_octave) leading mantissa bits (float32 or float64)."""
        return int(np.finfo(dtype).nmant) - (int(self.per_octave).bit_length() - 1)

    def counts_of_keys(self, key_counts: ArrayLike, dtype: DTypeLike) -> Tuple[Float64Array, int]:
        """(n_bins,) float64 counts, and the number of values left out, from the counts of the
        values per key (``key_shift``) of a float32 or float64 array."""
        lut, _ = self._lut_for(dtype)
        kc = np.asarray(key_counts).astype(np.float64)
        ok = lut >= 0
        # with weights, bincount returns float64 (NumPy's stubs say intp whatever the weights)
        c: Float64Array = np.bincount(lut[ok], weights=kc[ok], minlength=self.n_bins)  # type: ignore[assignment]
        return c, int(round(kc.sum() - c.sum()))

    def spec(self) -> BinsSpec:
        return {
            "kind": "octave",
            "min_exp": int(self.min_exp),
            "max_exp": int(self.max_exp),
            "per_octave": int(self.per_octave),
            "signed": bool(self.signed),
        }


#: Fixed histogram bins of either kind.
Bins = Union[LinearBins, OctaveBins]

_LUTS: Dict[Tuple[OctaveBins, str], Tuple[NDArray[np.int64], int]] = {}


def bins_from_spec(spec: Mapping[str, Any]) -> Bins:
    """Rebuilds a ``LinearBins`` or ``OctaveBins`` from its ``spec()`` dict."""
    spec = dict(spec)
    kind = spec.pop("kind", None)
    if kind == "linear":
        return LinearBins(**spec)
    if kind == "octave":
        return OctaveBins(**spec)
    raise ValueError(f"unknown bins kind {kind!r}; expected 'linear' or 'octave'")


def activation_bins(activation: str, n: int = 200) -> Bins:
    """Default fixed bins for the activations of ``activation``: its output range for bounded
    functions (the paper's x-axis of Figs. 4 and 6), octave bins for relu and identity."""
    info = _activations.get(activation)
    if math.isfinite(info.low) and math.isfinite(info.high):
        return LinearBins(info.low, info.high, n)
    return OctaveBins(min_exp=-20, max_exp=6, per_octave=16, signed=True)


#: Default bins of the gradients (∂C/∂s per example and ∂C/∂W): |g| from 2^-27 to 2^4.
GRADIENT_BINS = OctaveBins(min_exp=-26, max_exp=4, per_octave=32, signed=True)
#: Default bins of Jacobian singular values: from 2^-21 to 2^8.
SINGULAR_VALUE_BINS = OctaveBins(min_exp=-20, max_exp=8, per_octave=32, signed=False)


def histogram(x: ArrayLike, bins: Bins) -> Float64Array:
    """Normalized histogram of ``x`` at fixed bins.

    Args:
        x: array of any shape (float32 or float64); non-finite values are left out.
        bins: ``LinearBins`` or ``OctaveBins``.

    Returns:
        (n_bins,) float64 mass per bin, summing to 1 (all zeros if ``x`` has no finite value).
    """
    c, _ = bins.counts(x)
    total = c.sum()
    return c / total if total > 0 else c


class HistogramAccumulator:
    """Counts values into fixed bins chunk by chunk: O(bins) memory however many values."""

    def __init__(self, bins: Bins) -> None:
        self.bins = bins
        self.counts = np.zeros(bins.n_bins, dtype=np.float64)
        self.n_excluded = 0

    def add(self, x: ArrayLike) -> HistogramAccumulator:
        return self.add_counts(*self.bins.counts(x))

    def add_counts(self, counts: ArrayLike, n_excluded: int = 0) -> HistogramAccumulator:
        """Adds counts already made on these bins (and the number of values they left out)."""
        self.counts += np.asarray(counts, dtype=np.float64)
        self.n_excluded += int(n_excluded)
        return self

    @property
    def mass(self) -> Float64Array:
        """(n_bins,) float64 mass per bin, summing to 1."""
        total = self.counts.sum()
        return self.counts / total if total > 0 else self.counts.copy()


def density(mass: ArrayLike, edges: ArrayLike) -> Float64Array:
    """Density (mass / bin width) of a histogram: the paper's 'normalized histogram' y-axis."""
    return np.asarray(mass, dtype=np.float64) / np.diff(np.asarray(edges, dtype=np.float64))


def rebin(mass: ArrayLike, edges: NDArray[np.floating[Any]], new_edges: NDArray[np.floating[Any]]) -> Float64Array:
    """Moves histogram mass onto other edges, spreading each bin's mass uniformly over its width.

    Used for display (e.g. octave bins onto a linear grid). Mass outside ``new_edges`` is dropped.

    Args:
        mass: (..., n) masses on ``edges`` (n + 1,).
        new_edges: (m + 1,) increasing edges.

    Returns:
        (..., m) float64 masses.
    """
    mass = np.asarray(mass, dtype=np.float64)
    cdf = np.concatenate([np.zeros(mass.shape[:-1] + (1,)), np.cumsum(mass, axis=-1)], axis=-1)
    flat = cdf.reshape(-1, cdf.shape[-1])
    out = np.stack([np.diff(np.interp(new_edges, edges, row)) for row in flat])
    return out.reshape(mass.shape[:-1] + (len(new_edges) - 1,))


def quantile_from_histogram(mass: ArrayLike, edges: ArrayLike, q: float) -> float:
    """The q-quantile (0 <= q <= 1) of a histogram, interpolating linearly within bins.

    Empty bins hold no quantile: q = 0 is the lower edge of the first bin with mass (not the first
    edge of the histogram), and a quantile never falls inside a run of empty bins."""
    m = np.asarray(mass, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    full = np.flatnonzero(m > 0)
    if full.size == 0:
        raise ValueError("the quantile of an empty histogram is undefined")
    cdf = np.cumsum(m[full]) / m[full].sum()
    k = min(int(np.searchsorted(cdf, q, side="left")), full.size - 1)
    b = full[k]
    below = cdf[k - 1] if k > 0 else 0.0
    frac = min(max((q - below) / (cdf[k] - below), 0.0), 1.0)
    return float(e[b] + frac * (e[b + 1] - e[b]))


def minibatch_gradient_histogram(z: ArrayLike, delta: ArrayLike, batch: int, bins: Bins) -> HistogramAccumulator:
    """Counts of the weight gradients of consecutive minibatches, the Monitor's Figs. 8-9 data.

    Minibatch m is rows m·batch .. (m+1)·batch - 1 of ``z`` and ``delta`` (a last partial one is
    left out); its gradient is g_m = (1/batch)·z_mᵀ·δ_m, (n_in, n_out), the gradient of the
    minibatch's mean cost when ``delta`` holds one example's ∂C/∂s per row. With ``OctaveBins``
    and float32/float64 inputs the native kernel computes and bins every g_m without storing it
    (``_core.minibatch_gradient_key_counts``);
    otherwise each g_m is made by NumPy. Each entry is a sum over the minibatch's rows in order by
    fused multiply-adds, so it can differ from NumPy's BLAS in the last bit: a value next to a bin
    edge can land in the neighbouring bin (tests check the histograms agree).

    Args:
        z: (n, n_in) layer inputs; delta: (n, n_out) per-example ∂C/∂s; same float dtype.
        batch: minibatch size (the paper's 10).
        bins: ``LinearBins`` or ``OctaveBins``.

    Returns:
        A ``HistogramAccumulator`` holding the counts of every g_m's entries.
    """
    z, delta = np.asarray(z), np.asarray(delta)
    if z.ndim != 2 or delta.ndim != 2 or z.shape[0] != delta.shape[0]:
        raise ValueError(
            f"minibatch_gradient_histogram: z and delta must be 2-D with one row per example, "
            f"got shapes {z.shape} and {delta.shape}"
        )
    if not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"minibatch_gradient_histogram: batch must be a positive integer, got {batch!r}")
    hist = HistogramAccumulator(bins)
    if isinstance(bins, OctaveBins) and z.dtype == delta.dtype and z.dtype in (np.float32, np.float64):
        z, delta = np.ascontiguousarray(z), np.ascontiguousarray(delta)
        kc = _core.minibatch_gradient_key_counts(z, delta, int(batch), bins.key_shift(z.dtype))
        return hist.add_counts(*bins.counts_of_keys(kc, z.dtype))
    dtype = np.result_type(z, delta)
    g = np.empty((z.shape[1], delta.shape[1]), dtype=dtype)
    for start in range(0, z.shape[0] - batch + 1, batch):
        np.matmul(z[start : start + batch].T, delta[start : start + batch], out=g)
        g *= g.dtype.type(1.0 / batch)
        hist.add(g)
    return hist


# -- moments ------------------------------------------------------------------------------


class RunningMoments:
    """Count, mean and variance of values added chunk by chunk, merged exactly in float64
    (Chan, Golub & LeVeque's pairwise update), so a std over 10^8 float32 values stays accurate."""

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0

    def add(self, x: ArrayLike) -> RunningMoments:
        x = np.asarray(x)
        n = x.size
        if n == 0:
            return self
        m = float(np.mean(x, dtype=np.float64))
        m2 = float(np.sum(np.square(x - m, dtype=np.float64)))
        return self.add_moments(n, m, m2)

    def add_moments(self, n: int, mean: float, m2: float) -> RunningMoments:
        """Merges a chunk given as (count, mean, sum of squared deviations from its mean)."""
        tot = self.count + n
        d = mean - self.mean
        self.m2 += m2 + d * d * self.count * n / tot
        self.mean += d * n / tot
        self.count = tot
        return self

    @property
    def var(self) -> float:
        return self.m2 / self.count if self.count else float("nan")

    @property
    def std(self) -> float:
        return math.sqrt(self.var) if self.count else float("nan")


# -- activations ----------------------------------------------------------------------------


def saturation(z: ArrayLike, activation: str, level: float = SATURATION_LEVEL) -> Tuple[float, float]:
    """Fractions of activation values at the low and at the high saturation.

    Definitions per activation:

    * tanh, softsign, scaled_tanh (symmetric, asymptotes ±a): low z < -level·a, high z > level·a;
    * sigmoid (asymptotes 0, 1): low z < 1 - level (0.01), high z > level (0.99);
    * relu: low = exact zeros ("dead" units for this example), high = 0;
    * identity: 0, 0 (never saturates).

    Args:
        z: activation values f(s), any shape.
        activation: activation name (``glorot_ext.activations``).
        level: the fraction of the asymptote that counts as saturated (default 0.99).

    Returns:
        (low, high) floats in [0, 1].
    """
    info = _activations.get(activation)
    z = np.asarray(z)
    n = max(z.size, 1)
    if activation == "relu":
        return np.count_nonzero(z == 0) / n, 0.0
    if not (math.isfinite(info.low) and math.isfinite(info.high)):
        return 0.0, 0.0
    if info.symmetric:
        lo, hi = level * info.low, level * info.high
    else:  # bounded, not symmetric (sigmoid): thresholds at the same distance from each asymptote
        width = info.high - info.low
        lo, hi = info.low + (1 - level) * width, info.high - (1 - level) * width
    return np.count_nonzero(z < lo) / n, np.count_nonzero(z > hi) / n


def activation_stats(
    z: ArrayLike, activation: str, percentiles: Sequence[float] = PERCENTILES, level: float = SATURATION_LEVEL
) -> Dict[str, float]:
    """Mean, std, percentiles and saturation fractions of one layer's activations (Figs. 2, 3, 10).

    Args:
        z: (n_examples, n_units) activation values (pooled over examples and units, as the paper).
        activation: activation name, for the saturation thresholds (see ``saturation``).
        percentiles: which percentiles (0–100) to report; keys ``p2``, ``p50``, ``p98`` by default.

    Returns:
        dict of floats: ``mean``, ``std``, ``p<q>`` per percentile, ``sat_low``, ``sat_high``,
        ``saturated`` (their sum).
    """
    z64 = np.asarray(z, dtype=np.float64).ravel()
    out = {"mean": float(z64.mean()), "std": float(z64.std())}
    for q, v in zip(percentiles, np.percentile(z64, percentiles)):
        out[f"p{q:g}"] = float(v)
    low, high = saturation(z64, activation, level)
    out.update(sat_low=float(low), sat_high=float(high), saturated=float(low + high))
    return out


def derivative(activation: str, z: ArrayLike) -> Float64Array:
    """f'(s) from the forward output z = f(s), as the kernels compute it (float64)."""
    fprime = _activations.get(activation).derivative(np.asarray(z, dtype=np.float64))
    return cast(Float64Array, fprime)  # the derivatives keep their input's dtype


# -- Jacobians (Eq. 17) ---------------------------------------------------------------------------

#: How ``jacobian_singular_values`` computes them.
JacobianMethod = Literal["gram", "svd"]


def layer_jacobian(W: ArrayLike, fprime: ArrayLike) -> Float64Array:
    """The explicit Jacobian J = ∂z'/∂z = diag(f'(s))·Wᵀ of one layer for one example (Eq. 17).

    Args:
        W: (n_in, n_out) weights.
        fprime: (n_out,) f'(s) of this example.

    Returns:
        (n_out, n_in) float64 Jacobian.
    """
    return np.asarray(fprime, dtype=np.float64)[:, None] * np.asarray(W, dtype=np.float64).T


def jacobian_singular_values(W: ArrayLike, fprime: ArrayLike, method: JacobianMethod = "gram") -> Float64Array:
    """Singular values of J = diag(f'(s))·Wᵀ for each example (Eq. 17), exactly.

    "gram" (default): the eigenvalues of the smaller Gram matrix by ``numpy.linalg.eigvalsh``:
    for n_out <= n_in, J·Jᵀ = D·(WᵀW)·D, where WᵀW is computed once for all examples and each
    example costs an O(n²) scaling plus one symmetric eigensolve (faster than an SVD); otherwise
    JᵀJ = (W·D²)·Wᵀ. Singular values are the square roots (absolute
    error <= sqrt(eps)·||J||, about 1e-8·σ_max). "svd": batched ``numpy.linalg.svd`` of the
    explicit Jacobians (the reference).

    Args:
        W: (n_in, n_out) weights.
        fprime: (k, n_out) f'(s) for k examples (or (n_out,) for one).
        method: "gram" or "svd".

    Returns:
        (k, min(n_in, n_out)) float64 singular values per example, in decreasing order.
    """
    W = np.asarray(W, dtype=np.float64)
    d = np.atleast_2d(np.asarray(fprime, dtype=np.float64))
    n_in, n_out = W.shape
    if d.shape[1] != n_out:
        raise ValueError(f"jacobian_singular_values: fprime has {d.shape[1]} columns but W has {n_out} outputs")
    if method == "svd":
        sv: Float64Array = np.linalg.svd(d[:, :, None] * W.T[None], compute_uv=False)
        return sv
    if method != "gram":
        raise ValueError(f"method must be 'gram' or 'svd', got {method!r}")
    if n_out <= n_in:
        G = W.T @ W
        K = d[:, :, None] * G[None] * d[:, None, :]
    else:
        K = np.stack([(W * (di * di)) @ W.T for di in d])
    ev: Float64Array = np.linalg.eigvalsh(K)[:, ::-1]
    return np.sqrt(np.clip(ev, 0.0, None))


class JacobianSpectrum(TypedDict):
    """What ``jacobian_spectrum`` returns."""

    mean: float
    std: float
    min: float
    max: float
    mass: Float64Array


def jacobian_spectrum(
    W: ArrayLike, fprime: ArrayLike, bins: Bins = SINGULAR_VALUE_BINS, method: JacobianMethod = "gram"
) -> JacobianSpectrum:
    """Mean singular value and the singular-value distribution of one layer's Jacobians.

    The paper's "average singular value" (§4.2.2) is the mean over the singular values of each
    example's Jacobian, averaged over the examples; the distribution is the histogram of all of
    them (every example weighted equally, since each has min(n_in, n_out) values).

    Args:
        W: (n_in, n_out) weights.
        fprime: (k, n_out) f'(s) for k probe examples.
        bins: fixed bins for the histogram.

    Returns:
        dict: ``mean`` (float), ``std``, ``min``, ``max`` (over all singular values), ``mass``
        ((n_bins,) float64 histogram mass).
    """
    sv = jacobian_singular_values(W, fprime, method)
    return {
        "mean": float(sv.mean()),
        "std": float(sv.std()),
        "min": float(sv.min()),
        "max": float(sv.max()),
        "mass": histogram(sv, bins),
    }
