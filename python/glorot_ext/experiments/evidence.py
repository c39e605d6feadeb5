"""Statistical tests behind every claim a reproduction makes, and the verdict they allow.

A claim passes only on a difference its test can tell from noise at the paper's level
(Table 1: "statistically different ... with p = 0.005"). The kinds of evidence:

* ``mcnemar``: two classifiers on the same test examples (paired): exact two-sided binomial test
  on the discordant pairs (McNemar's exact test). Several seeds pool their discordant pairs
  (each seed's pairs are a stratum; under the null every discordant pair is a fair coin).
  It counts test-set noise only: the networks compared are taken as given.
* ``seed_t_test``: one number per seed (e.g. an error difference): paired t-test over seeds, whose
  spread carries training noise (weights, data order) and test-set noise alike.
* ``sign_test``: paired per-unit differences (e.g. per probe example, layer 5 vs layer 1):
  exact two-sided binomial test on the number of positive differences, zeros dropped.
* ``equivalence``: "x is about v": two one-sided t-tests (TOST) that the mean of per-unit values
  lies inside a band; the (1 - 2α) interval is reported.

Units pooled over several seeds come from a few networks, so over seeds every test has a twin
over the seeds themselves, which gives the verdict (``and_over_seeds``: seeds are the unit, the
pooled test is detail): ``error_comparison``, and ``sign_test`` and ``equivalence`` with ``seeds``.

Each returns an ``Evidence`` with the two-sided p-value (for TOST, the larger one-sided p) and a
verdict: PASS (the claimed direction, p < α), FAIL (the opposite direction, p < α; for an
equivalence, the whole interval outside the band) or NOT RESOLVED (anything the test cannot tell).
``not_reached`` stands in for a test whose claim lies past the updates the runs reached.

* ``onset_order``: do saturation onsets come later in higher layers? Kendall's S between layer
  index and onset step, exact under the permutations of each seed's onsets, summed over seeds.

Everything here is plain Python/NumPy (no SciPy): the binomial tail in log space and Student's t
through the regularized incomplete beta function (continued fraction).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Dict, Final, List, Literal, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: The paper's significance level (Table 1's caption).
ALPHA = 0.005

#: A test's outcome. NOT REACHED: the runs stopped before the point where the paper makes the
#: claim, or made no measurement there, so no test was made (a budget is not a finding).
Verdict = Literal["PASS", "FAIL", "NOT RESOLVED", "NOT REACHED"]
PASS: Final = "PASS"
FAIL: Final = "FAIL"
NOT_RESOLVED: Final = "NOT RESOLVED"
NOT_REACHED: Final = "NOT REACHED"
#: Every verdict, in the order reports count them.
VERDICTS = (PASS, FAIL, NOT_RESOLVED, NOT_REACHED)
#: Per-example values of one seed (an array) or of several (a sequence of arrays).
PerSeed = Union[NDArray[Any], Sequence[ArrayLike]]


@dataclass(frozen=True)
class Evidence:
    """One test's outcome: ``test`` names it, ``statistic`` says what it counted."""

    test: str
    statistic: str
    p_value: float
    verdict: Verdict
    n: int

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


# -- distributions ---------------------------------------------------------------------------


def binomial_two_sided_p(k: int, n: int) -> float:
    """Exact two-sided p of k successes in n fair trials: 2·P(X <= min(k, n-k)), capped at 1."""
    if n <= 0:
        return 1.0
    m = min(k, n - k)
    log_terms = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2.0) for i in range(m + 1)
    ]
    top = max(log_terms)
    tail = math.exp(top) * sum(math.exp(t - top) for t in log_terms)
    return min(1.0, 2.0 * tail)


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for num in (
            m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom."""
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


def t_ppf(q: float, df: float) -> float:
    """The q-quantile of Student's t (bisection on ``t_sf``; q in (0, 1))."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q}")
    lo, hi = -1e3, 1e3
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if 1.0 - t_sf(mid, df) < q:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


# -- verdicts ------------------------------------------------------------------------------


def not_reached(horizon: int, reached: int) -> Evidence:
    """No test: the paper makes the claim at ``horizon`` updates and the runs stopped at ``reached``."""
    return Evidence(
        "none: the runs stopped before the paper's point",
        f"needs ≥ {horizon:,} updates; the runs reached {reached:,}",
        float("nan"),
        NOT_REACHED,
        0,
    )


def not_measured(point: int, measured_at: Sequence[int]) -> Evidence:
    """No test: the runs went past ``point`` but their instruments measured nothing there."""
    shown = ", ".join(f"{x:,}" for x in measured_at[:4]) + (", …" if len(measured_at) > 4 else "")
    return Evidence(
        "none: no measurement at the paper's point",
        f"needs a measurement at {point:,} updates; the instruments measured at {shown}",
        float("nan"),
        NOT_REACHED,
        0,
    )


def verdict(difference: float, p_value: float, alpha: float = ALPHA) -> Verdict:
    """PASS when the claimed direction (``difference`` > 0) is significant, FAIL when the opposite
    one is, NOT RESOLVED otherwise."""
    if not (math.isfinite(difference) and math.isfinite(p_value)) or p_value >= alpha or difference == 0:
        return NOT_RESOLVED
    return PASS if difference > 0 else FAIL


def mcnemar(correct_better: PerSeed, correct_worse: PerSeed, alpha: float = ALPHA) -> Evidence:
    """Does the first classifier err less than the second on the same test examples?

    Args:
        correct_better: per-example correctness (bool) of the model claimed better, one array per
            seed (or one array), aligned with ``correct_worse``.
        correct_worse: the same for the model claimed worse.

    Returns:
        ``Evidence`` of McNemar's exact test on the discordant pairs pooled over seeds.
    """
    a_list = [np.asarray(a, dtype=bool) for a in _per_seed(correct_better)]
    b_list = [np.asarray(b, dtype=bool) for b in _per_seed(correct_worse)]
    if len(a_list) != len(b_list) or any(a.shape != b.shape for a, b in zip(a_list, b_list)):
        raise ValueError("mcnemar: the two models must be scored on the same examples (same seeds and shapes)")
    per_seed = [(int(np.count_nonzero(a & ~b)), int(np.count_nonzero(~a & b))) for a, b in zip(a_list, b_list)]
    only_better = sum(x for x, _ in per_seed)
    only_worse = sum(y for _, y in per_seed)
    n = only_better + only_worse
    p = binomial_two_sided_p(only_better, n)
    v = verdict(only_better - only_worse, p, alpha)
    statistic = f"{only_better} examples right only by the claimed better model, {only_worse} only by the other"
    if len(per_seed) == 1:
        test = "McNemar exact (paired test examples; one seed: test-set noise only)"
    else:
        test = "McNemar exact (paired test examples, seeds pooled: test-set noise only)"
    return Evidence(test, statistic, p, v, n)


def seed_t_test(differences: ArrayLike, alpha: float = ALPHA, unit: str = "seeds") -> Evidence:
    """Is the mean of one difference per seed (claimed direction positive) away from 0?

    A two-sided one-sample t-test with ``len(differences) - 1`` degrees of freedom: the seeds are
    the units, so the test is about the training procedure, not about the networks at hand. At
    p < 0.005 (two-sided) it needs |t| > 14.1 with 3 seeds, 5.60 with 5 and 3.69 with 10.
    """
    d = np.asarray(differences, dtype=np.float64).ravel()
    d = d[np.isfinite(d)]
    k = d.size
    test = f"paired t-test over {unit} (seed-to-seed spread)"
    if k < 2:
        return Evidence(test, f"{k} {unit}: a spread needs at least 2", float("nan"), NOT_RESOLVED, k)
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0.0:
        t = math.copysign(math.inf, mean) if mean != 0.0 else 0.0
        p = 0.0 if mean != 0.0 else 1.0
    else:
        t = mean / (sd / math.sqrt(k))
        p = min(1.0, 2.0 * t_sf(abs(t), k - 1))
    half = t_ppf(1.0 - alpha, k - 1) * sd / math.sqrt(k)
    v = verdict(mean, p, alpha)
    power = "" if v != NOT_RESOLVED else f"; {seeds_to_resolve(mean, sd, alpha)}"
    return Evidence(
        test,
        f"mean {mean:.4g} [{mean - half:.4g}, {mean + half:.4g}] ({100 * (1 - 2 * alpha):g}% interval), "
        f"sd {sd:.3g} over {k} {unit}, t = {t:.3g} on {k - 1} df{power}",
        p,
        v,
        k,
    )


def seeds_to_resolve(mean: float, sd: float, alpha: float = ALPHA, most: int = 1000) -> str:
    """How many seeds the observed effect (``mean`` with seed-to-seed ``sd``) would need for a
    two-sided t-test at ``alpha`` to resolve it, if the next seeds spread as these did."""
    if not (math.isfinite(mean) and math.isfinite(sd)) or mean == 0.0:
        return "no effect to resolve"
    if sd == 0.0:
        return "resolved by 2 seeds at this spread"
    for k in range(2, most + 1):
        if abs(mean) / (sd / math.sqrt(k)) > t_ppf(1.0 - alpha / 2, k - 1):
            return f"the observed effect would need ≥ {k} seeds"
    return f"the observed effect would need more than {most} seeds"


def and_over_seeds(pooled: Evidence, across: Evidence) -> Evidence:
    """A claim over several seeds: the seeds are the unit. The verdict and p-value are the test's
    over the seeds themselves, which carries training noise (weights, data order); the test on the
    units pooled over the seeds' few networks is shown beside it as supporting detail only."""
    twin = "the same over seeds" if across.test == pooled.test else across.test
    return Evidence(
        f"{twin} (the verdict; seeds are the unit), beside {pooled.test} (detail)",
        f"{across.statistic} (p {fmt_p(across.p_value)}); pooled: {pooled.statistic} (p {fmt_p(pooled.p_value)})",
        across.p_value,
        across.verdict,
        across.n,
    )


def _seed_means(x: NDArray[np.float64], seeds: int) -> List[float]:
    """The mean of each seed's finite values, for values stacked seed after seed in equal numbers."""
    if not isinstance(seeds, int) or seeds < 1 or x.size % seeds:
        raise ValueError(f"{x.size} values cannot be split into {seeds!r} seeds of equal size")
    return [float(np.mean(c[np.isfinite(c)])) for c in x.reshape(seeds, -1)]


def error_comparison(correct_better: PerSeed, correct_worse: PerSeed, alpha: float = ALPHA) -> Evidence:
    """Does the first model err less than the second, on the same test examples and seeds?

    One seed: McNemar's exact test, which can speak only for the two networks trained. Several
    seeds: a paired t-test over the seeds' error differences gives the verdict, McNemar's on the
    pooled pairs is detail (``and_over_seeds``).
    """
    within = mcnemar(correct_better, correct_worse, alpha)
    a_list, b_list = _per_seed(correct_better), _per_seed(correct_worse)
    if len(a_list) == 1:
        return within
    # in points of error: the claimed better model's accuracy minus the other's, per seed
    gaps = [
        100 * (float(np.mean(np.asarray(a, bool))) - float(np.mean(np.asarray(b, bool))))
        for a, b in zip(a_list, b_list)
    ]
    gap_text = ", ".join(f"{g:+.2f}" for g in gaps)
    across = seed_t_test(gaps, alpha)
    across = replace(
        across,
        statistic=f"per seed, the other's error minus the claimed better's, in points: {gap_text}; {across.statistic}",
    )
    return and_over_seeds(within, across)


def sign_test(differences: ArrayLike, alpha: float = ALPHA, unit: str = "probe examples", seeds: int = 1) -> Evidence:
    """Are the paired differences (claimed direction positive) positive more often than chance?

    ``seeds`` > 1: the differences are stacked seed after seed, in equal numbers, and the verdict
    is ``seed_t_test``'s over the seeds' mean differences (``and_over_seeds``).
    """
    d = np.asarray(differences, dtype=np.float64).ravel()
    if seeds != 1:
        return and_over_seeds(sign_test(d, alpha, unit), seed_t_test(_seed_means(d, seeds), alpha))
    d = d[np.isfinite(d) & (d != 0)]
    pos = int(np.count_nonzero(d > 0))
    n = d.size
    p = binomial_two_sided_p(pos, n)
    return Evidence(
        f"exact sign test over {unit}",
        f"{pos} of {n} {unit} in the claimed direction",
        p,
        verdict(pos - (n - pos), p, alpha),
        n,
    )


def tost(
    mean: float, se: float, df: int, low: float, high: float, alpha: float = ALPHA
) -> Tuple[float, float, float, Verdict]:
    """TOST of a mean with standard error ``se`` on ``df`` degrees of freedom against [low, high]:
    (p, the 1 - 2α interval's ends, verdict). PASS: both one-sided tests reject; FAIL: the interval
    lies wholly outside the band; NOT RESOLVED: it straddles an edge."""
    if se == 0.0:
        p = 0.0 if low < mean < high else 1.0
        lo_ci = hi_ci = mean
    else:
        p = max(t_sf((mean - low) / se, df), t_sf((high - mean) / se, df))
        half = t_ppf(1.0 - alpha, df) * se
        lo_ci, hi_ci = mean - half, mean + half
    v: Verdict = PASS if p < alpha else (FAIL if hi_ci < low or lo_ci > high else NOT_RESOLVED)
    return p, lo_ci, hi_ci, v


def equivalence(
    values: ArrayLike, low: float, high: float, alpha: float = ALPHA, unit: str = "probe examples", seeds: int = 1
) -> Evidence:
    """Is the mean of ``values`` inside [low, high]? Two one-sided t-tests (TOST) at ``alpha``.

    PASS: both one-sided tests reject (the 1 - 2α interval lies inside the band). FAIL: the
    interval lies wholly outside the band. NOT RESOLVED: it straddles an edge. ``seeds`` > 1: the
    values are stacked seed after seed, in equal numbers, and the verdict is the TOST's on the
    seeds' means (``and_over_seeds``).
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    if seeds != 1:
        means = _seed_means(x, seeds)
        return and_over_seeds(equivalence(x, low, high, alpha, unit), equivalence(means, low, high, alpha, "seeds"))
    x = x[np.isfinite(x)]
    n = x.size
    if n < 2:
        return Evidence("TOST (two one-sided t-tests)", "fewer than 2 values", float("nan"), NOT_RESOLVED, n)
    mean = float(x.mean())
    p, lo_ci, hi_ci, v = tost(mean, float(x.std(ddof=1)) / math.sqrt(n), n - 1, low, high, alpha)
    return Evidence(
        "TOST (two one-sided t-tests)",
        f"mean {mean:.4g} over {n} {unit}, {100 * (1 - 2 * alpha):g}% interval "
        f"[{lo_ci:.4g}, {hi_ci:.4g}] against the band [{low:g}, {high:g}]",
        p,
        v,
        n,
    )


def binomial_equivalence(errors: int, n: int, low: float, high: float, alpha: float = ALPHA) -> Evidence:
    """Is an error rate (``errors`` of ``n``) inside [low, high]? TOST with the normal approximation."""
    if n <= 0:
        return Evidence("TOST on an error rate", "no examples", float("nan"), NOT_RESOLVED, 0)
    rate = errors / n
    se = math.sqrt(max(rate * (1 - rate), 1.0 / n) / n)
    z_lo, z_hi = (rate - low) / se, (high - rate) / se
    p = max(0.5 * math.erfc(z_lo / math.sqrt(2)), 0.5 * math.erfc(z_hi / math.sqrt(2)))
    half = _normal_ppf(1 - alpha) * se
    lo_ci, hi_ci = rate - half, rate + half
    v: Verdict = PASS if p < alpha else (FAIL if hi_ci < low or lo_ci > high else NOT_RESOLVED)
    return Evidence(
        "TOST on an error rate (normal approximation)",
        f"{errors} errors of {n} = {100 * rate:.2f}%, {100 * (1 - 2 * alpha):g}% interval "
        f"[{100 * lo_ci:.2f}, {100 * hi_ci:.2f}]% against the band [{100 * low:.2f}, {100 * high:.2f}]%",
        p,
        v,
        n,
    )


def _kendall_s(x: Sequence[float]) -> int:
    """Kendall's S between position and value: pairs in increasing order minus pairs in decreasing."""
    n = len(x)
    return sum((x[j] > x[i]) - (x[j] < x[i]) for i in range(n) for j in range(i + 1, n))


def onset_order(onsets: Sequence[Sequence[Optional[float]]], alpha: float = ALPHA) -> Evidence:
    """Do onsets come later in higher layers (claimed direction: increasing with the layer)?

    Args:
        onsets: per seed, per layer (lowest first), the first step at which the layer crossed its
            threshold, or None if it never did within the run (later than any onset; two such
            layers tie).

    Kendall's S between layer index and onset, summed over seeds; its exact null distribution is
    the convolution over seeds of S under every permutation of that seed's onsets (ties kept).
    Two-sided p = P(|S| ≥ |S observed|). With 5 layers one seed's perfect order has p = 2/120, so
    one network cannot resolve the order at p < 0.005; two seeds can.
    """
    import itertools

    seqs = [[math.inf if v is None else float(v) for v in seed] for seed in onsets]
    if not seqs or any(len(q) < 2 for q in seqs):
        return Evidence("exact rank test of onset order", "fewer than 2 layers", float("nan"), NOT_RESOLVED, 0)
    total: Dict[int, float] = {0: 1.0}
    observed = 0
    for q in seqs:
        observed += _kendall_s(q)
        perms = list(itertools.permutations(q))
        dist: Dict[int, float] = {}
        for perm in perms:
            k = _kendall_s(perm)
            dist[k] = dist.get(k, 0.0) + 1.0 / len(perms)
        nxt: Dict[int, float] = {}
        for a, pa in total.items():
            for b, pb in dist.items():
                nxt[a + b] = nxt.get(a + b, 0.0) + pa * pb
        total = nxt
    p = min(1.0, sum(pr for k, pr in total.items() if abs(k) >= abs(observed) - 1e-9)) if observed else 1.0
    n_layers = len(seqs[0])
    most = len(seqs) * n_layers * (n_layers - 1) // 2
    text = "; ".join("[" + ", ".join("never" if v == math.inf else f"{v:,.0f}" for v in q) + "]" for q in seqs)
    return Evidence(
        f"exact rank test of onset order (Kendall's S over {len(seqs)} seed(s), permutations within each seed)",
        f"onsets per layer {text}; S = {observed} of ±{most}",
        p,
        verdict(observed, p, alpha),
        len(seqs),
    )


def combine_all(parts: Sequence[Evidence], what: str) -> Evidence:
    """A claim that holds only if every part holds (intersection-union: no correction needed).

    PASS if every part passes, FAIL if any fails, NOT RESOLVED otherwise; p is the largest.
    """
    if not parts:
        return Evidence(what, "no comparisons", float("nan"), NOT_RESOLVED, 0)
    verdicts = [e.verdict for e in parts]
    v: Verdict = FAIL if FAIL in verdicts else (PASS if all(x == PASS for x in verdicts) else NOT_RESOLVED)
    p = max(e.p_value for e in parts)
    counts = f"{verdicts.count(PASS)} PASS, {verdicts.count(FAIL)} FAIL, {verdicts.count(NOT_RESOLVED)} NOT RESOLVED"
    return Evidence(what, counts, p, v, sum(e.n for e in parts))


def _normal_ppf(q: float) -> float:
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if 0.5 * math.erfc(-mid / math.sqrt(2)) < q:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _per_seed(x: PerSeed) -> List[ArrayLike]:
    if isinstance(x, np.ndarray) and x.ndim == 1:
        return [x]
    return list(x)


def fmt_p(p: Optional[float]) -> str:
    """p-values as a reader scans them: 3 significant digits, '< 1e-300' at the floor."""
    if p is None or not math.isfinite(p):
        return "n/a"
    if p == 0.0:
        return "< 1e-300"
    return f"{p:.3g}"
