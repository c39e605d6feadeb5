"""The tests behind the claims: exact p-values and the verdicts they allow, on constructed cases."""

import math

import numpy as np
import pytest

from glorot_ext.experiments import evidence as ev
from glorot_ext.experiments.evidence import FAIL, NOT_RESOLVED, PASS


def test_binomial_two_sided_p_matches_hand_counts():
    assert ev.binomial_two_sided_p(0, 5) == pytest.approx(2 / 32)
    assert ev.binomial_two_sided_p(1, 5) == pytest.approx(2 * 6 / 32)
    assert ev.binomial_two_sided_p(2, 4) == 1.0  # the middle: capped at 1
    assert ev.binomial_two_sided_p(10, 10) == pytest.approx(2 / 1024)
    assert ev.binomial_two_sided_p(0, 0) == 1.0


def test_binomial_two_sided_p_stays_finite_for_thousands_of_pairs():
    p = ev.binomial_two_sided_p(400, 1000)
    # normal approximation: z = (400 - 500) / sqrt(250) = -6.32 -> p ~ 2.5e-10
    assert 1e-10 < p < 1e-9


@pytest.mark.parametrize(
    "t,df,tail", [(2.045, 29, 0.025), (12.706, 1, 0.025), (2.576, 1e6, 0.005), (0.0, 7, 0.5), (3.707, 6, 0.005)]
)
def test_student_t_tail_matches_the_tables(t, df, tail):
    assert ev.t_sf(t, df) == pytest.approx(tail, rel=2e-3)
    assert ev.t_sf(-t, df) == pytest.approx(1 - tail, rel=2e-3)


def test_student_t_quantile_inverts_the_tail():
    assert ev.t_ppf(0.975, 29) == pytest.approx(2.045, abs=1e-3)
    assert ev.t_ppf(0.995, 10) == pytest.approx(3.169, abs=1e-3)


def _pair(n, only_a, only_b, both=0):
    """Correctness arrays of two models on n examples: only_a right only by A, only_b only by B."""
    a = np.zeros(n, bool)
    b = np.zeros(n, bool)
    a[:only_a] = True
    b[only_a : only_a + only_b] = True
    a[only_a + only_b : only_a + only_b + both] = b[only_a + only_b : only_a + only_b + both] = True
    return a, b


def test_mcnemar_calls_a_noise_sized_gap_not_resolved():
    # 2.5 points of 5,000 is 125 examples, but what matters are the discordant pairs: 1,060 vs 1,000
    a, b = _pair(5000, 1060, 1000, both=1500)
    e = ev.mcnemar(a, b)
    assert e.verdict == NOT_RESOLVED and e.p_value > 0.1


def test_mcnemar_passes_a_clear_gap_and_fails_the_wrong_direction():
    a, b = _pair(5000, 400, 200, both=3000)
    assert ev.mcnemar(a, b).verdict == PASS
    assert ev.mcnemar(b, a).verdict == FAIL
    assert ev.mcnemar(a, b).p_value == pytest.approx(ev.mcnemar(b, a).p_value)


def test_mcnemar_pools_the_discordant_pairs_of_every_seed():
    a1, b1 = _pair(2000, 150, 100)
    a2, b2 = _pair(2000, 160, 100)
    pooled = ev.mcnemar([a1, a2], [b1, b2])
    assert pooled.verdict == PASS and pooled.n == 510
    assert pooled.p_value == pytest.approx(ev.binomial_two_sided_p(310, 510))


@pytest.mark.parametrize("t,df", [(14.089, 2), (5.598, 4), (3.690, 9)])
def test_seed_t_test_matches_the_two_sided_0_005_critical_values(t, df):
    # k = df + 1 differences with mean t * sd / sqrt(k): the p-value sits at the table's 0.005
    k = df + 1
    base = np.linspace(-1.0, 1.0, k)
    d = base / base.std(ddof=1) + t / math.sqrt(k)
    assert ev.seed_t_test(d).p_value == pytest.approx(0.005, rel=2e-3)


def test_seed_t_test_verdicts_and_degenerate_cases():
    assert ev.seed_t_test([5.0, 5.2, 4.9, 5.1]).verdict == PASS
    assert ev.seed_t_test([-5.0, -5.2, -4.9, -5.1]).verdict == FAIL
    assert ev.seed_t_test([1.0, -0.5, 0.8]).verdict == NOT_RESOLVED
    one = ev.seed_t_test([3.0])
    assert one.verdict == NOT_RESOLVED and math.isnan(one.p_value)
    same = ev.seed_t_test([0.02, 0.02, 0.02])
    assert same.verdict == PASS and same.p_value == 0.0


def test_error_comparison_with_one_seed_is_mcnemar():
    a, b = _pair(5000, 400, 200, both=3000)
    assert ev.error_comparison(a, b) == ev.mcnemar(a, b)


def test_error_comparison_needs_the_seeds_to_agree_not_only_the_pooled_pairs():
    # Pooled, the discordant pairs are decisive (p ~ 1e-9), but one seed of three points the other
    # way: over seeds, the mean gap cannot be told from the spread.
    seeds = [_pair(4000, 300, 150), _pair(4000, 320, 160), _pair(4000, 150, 180)]
    a, b = [s[0] for s in seeds], [s[1] for s in seeds]
    assert ev.mcnemar(a, b).verdict == PASS
    e = ev.error_comparison(a, b)
    assert e.verdict == NOT_RESOLVED and e.p_value > 0.005
    assert "-0.75" in e.statistic  # seed 3: 150 - 180 = -30 examples of 4,000


def test_error_comparison_passes_a_gap_every_seed_shows_alike():
    seeds = [_pair(4000, 600, 100), _pair(4000, 610, 110), _pair(4000, 605, 104)]
    a, b = [s[0] for s in seeds], [s[1] for s in seeds]
    e = ev.error_comparison(a, b)
    assert e.verdict == PASS and e.p_value < 0.005
    assert ev.error_comparison(b, a).verdict == FAIL
    # the pooled pairs alone pointing the other way do not make a FAIL over seeds
    seeds = [_pair(4000, 100, 300), _pair(4000, 100, 310), _pair(4000, 330, 100)]
    mixed = ev.error_comparison([s[0] for s in seeds], [s[1] for s in seeds])
    assert ev.mcnemar([s[0] for s in seeds], [s[1] for s in seeds]).verdict == FAIL
    assert mixed.verdict == NOT_RESOLVED


def test_mcnemar_refuses_unpaired_examples():
    with pytest.raises(ValueError, match="same examples"):
        ev.mcnemar(np.ones(10, bool), np.ones(11, bool))


def test_sign_test_verdicts():
    assert ev.sign_test(np.r_[np.ones(40), -np.ones(2)]).verdict == PASS
    assert ev.sign_test(-np.r_[np.ones(40), -np.ones(2)]).verdict == FAIL
    assert ev.sign_test(np.r_[np.ones(12), -np.ones(8)]).verdict == NOT_RESOLVED
    assert ev.sign_test(np.zeros(50)).verdict == NOT_RESOLVED  # ties carry no evidence


def test_equivalence_passes_inside_fails_outside_and_cannot_tell_at_the_edge():
    rng = np.random.default_rng(0)
    assert ev.equivalence(0.5 + 0.01 * rng.standard_normal(100), 0.4, 0.6).verdict == PASS
    assert ev.equivalence(0.9 + 0.01 * rng.standard_normal(100), 0.4, 0.6).verdict == FAIL
    assert ev.equivalence(0.6 + 0.05 * rng.standard_normal(100), 0.4, 0.6).verdict == NOT_RESOLVED
    # a wide spread cannot show equivalence even centred in the band
    assert ev.equivalence(0.5 + 1.0 * rng.standard_normal(20), 0.4, 0.6).verdict == NOT_RESOLVED


def test_binomial_equivalence_on_error_rates():
    assert ev.binomial_equivalence(4170, 5000, 0.813, 0.853).verdict == PASS
    assert ev.binomial_equivalence(3500, 5000, 0.813, 0.853).verdict == FAIL
    assert ev.binomial_equivalence(84, 100, 0.813, 0.853).verdict == NOT_RESOLVED


def test_combine_all_needs_every_part():
    p, f, n = (
        ev.Evidence("t", "", 1e-4, PASS, 10),
        ev.Evidence("t", "", 1e-4, FAIL, 10),
        ev.Evidence("t", "", 0.3, NOT_RESOLVED, 10),
    )
    assert ev.combine_all([p, p], "all").verdict == PASS
    assert ev.combine_all([p, n], "all").verdict == NOT_RESOLVED
    assert ev.combine_all([p, n, f], "all").verdict == FAIL
    assert ev.combine_all([], "all").verdict == NOT_RESOLVED


def test_verdict_never_passes_on_a_non_finite_p():
    assert ev.verdict(1.0, math.nan) == NOT_RESOLVED
    assert ev.verdict(0.0, 0.0) == NOT_RESOLVED


def test_sign_test_over_seeds_needs_the_seeds_to_agree():
    rng = np.random.default_rng(0)
    agree = np.concatenate([rng.normal(1.0, 1.0, 300) for _ in range(3)])
    e = ev.sign_test(agree, seeds=3)
    # seeds are the unit: n counts seeds; the pooled 900 probe examples are detail
    assert e.verdict == PASS and e.n == 3 and "t =" in e.statistic and "of 900 probe examples" in e.statistic
    assert ev.sign_test(-agree, seeds=3).verdict == FAIL
    # one seed of three pointing the other way: pooled signs still pass, the seeds do not
    split = np.concatenate([rng.normal(1.0, 1.0, 300), rng.normal(1.0, 1.0, 300), rng.normal(-0.8, 1.0, 300)])
    assert ev.sign_test(split).verdict == PASS
    assert ev.sign_test(split, seeds=3).verdict == NOT_RESOLVED
    assert ev.sign_test(agree, seeds=1) == ev.sign_test(agree)
    with pytest.raises(ValueError, match="seeds of equal size"):
        ev.sign_test(np.ones(10), seeds=3)


def test_equivalence_over_seeds_tests_the_seed_means_too():
    rng = np.random.default_rng(1)
    inside = np.concatenate([rng.normal(0.5, 0.05, 200) for _ in range(4)])
    assert ev.equivalence(inside, 0.4, 0.6, seeds=4).verdict == PASS
    # the seeds' means scatter across the band's edge: the pooled units alone would pass
    scattered = np.concatenate([rng.normal(m, 0.01, 200) for m in (0.45, 0.59, 0.52, 0.41)])
    assert ev.equivalence(scattered, 0.4, 0.6).verdict == PASS
    assert ev.equivalence(scattered, 0.4, 0.6, seeds=4).verdict == NOT_RESOLVED
    outside = np.concatenate([rng.normal(0.9, 0.01, 200) for _ in range(4)])
    assert ev.equivalence(outside, 0.4, 0.6, seeds=4).verdict == FAIL


def test_a_claim_over_seeds_names_both_tests_once():
    x = np.concatenate([np.full(5, 0.5) + 0.01 * np.arange(5) for _ in range(3)])
    e = ev.equivalence(x, 0.4, 0.6, seeds=3)
    assert (
        e.test == "the same over seeds (the verdict; seeds are the unit), beside TOST (two one-sided t-tests) (detail)"
    )
    assert "over 3 seeds" in e.statistic and "over 15 probe examples" in e.statistic


def test_over_seeds_the_verdict_is_the_seed_tests_whatever_the_pooled_one_says():
    pooled_pass = ev.Evidence("pooled", "", 1e-30, PASS, 900)
    for across in (NOT_RESOLVED, FAIL, PASS):
        e = ev.and_over_seeds(
            pooled_pass, ev.Evidence("over seeds", "", 0.5 if across == NOT_RESOLVED else 1e-4, across, 3)
        )
        assert e.verdict == across and e.n == 3


def test_the_seed_t_test_reports_its_interval_and_the_seeds_it_would_need():
    e = ev.seed_t_test([1.0, 1.2, 0.5])  # t = 4.3 on 2 df: not at p < 0.005
    assert e.verdict == NOT_RESOLVED and "99% interval" in e.statistic
    assert "would need ≥ 6 seeds" in e.statistic
    # the number it names does resolve an effect of that size and spread
    mean, sd = 0.9, float(np.std([1.0, 1.2, 0.5], ddof=1))
    assert abs(mean) / (sd / math.sqrt(6)) > ev.t_ppf(1 - ev.ALPHA / 2, 5)
    assert abs(mean) / (sd / math.sqrt(5)) <= ev.t_ppf(1 - ev.ALPHA / 2, 4)
    assert "would need" not in ev.seed_t_test([1.0, 1.01, 0.99, 1.02]).statistic  # resolved: no power line


def test_onset_order_passes_the_right_order_fails_the_reversed_and_leaves_ties_and_noise():
    right = [[0, 20_000, 60_000, 100_000, 200_000]] * 3
    assert ev.onset_order(right).verdict == PASS
    assert ev.onset_order([o[::-1] for o in right]).verdict == FAIL
    assert ev.onset_order([[None] * 5] * 3).verdict == NOT_RESOLVED  # no layer saturated: all tied
    assert ev.onset_order([[40_000] * 5] * 3).verdict == NOT_RESOLVED
    noise = [
        [60_000, 0, 100_000, 20_000, 200_000],
        [20_000, 100_000, 0, 200_000, 60_000],
        [0, 60_000, 20_000, 200_000, 100_000],
    ]
    assert ev.onset_order(noise).verdict == NOT_RESOLVED
    # a layer that never saturated comes after every one that did
    assert ev.onset_order([[0, 20_000, 40_000, None, None]] * 2).verdict == PASS
    # one network's 5 layers cannot reach p < 0.005 even in perfect order (p = 2/120)
    one = ev.onset_order(right[:1])
    assert one.verdict == NOT_RESOLVED and one.p_value == pytest.approx(2 / 120)


def test_onset_order_p_value_is_the_exact_permutation_tail():
    # two seeds of 3 layers: S per seed is uniform over the 6 permutations' values {-3,-1,-1,1,1,3}
    e = ev.onset_order([[1, 2, 3], [1, 3, 2]])  # S = 3 + 1 = 4
    per = [-3, -1, -1, 1, 1, 3]
    tail = sum(1 for a in per for b in per if abs(a + b) >= 4) / 36
    assert e.p_value == pytest.approx(tail)


def test_not_reached_is_no_test():
    e = ev.not_reached(2_500_000, 20_000)
    assert e.verdict == ev.NOT_REACHED and math.isnan(e.p_value) and "2,500,000" in e.statistic
