"""The paper's checkable claims (§3–§5, Figs. 2–8, 11–12, §4.2.2, Table 1), each with its evidence.

Every claim is measured on per-unit data so that a test can tell it from noise: probe examples
(the paper's fixed set of 300 test examples) for the per-layer statistics, minibatches of 10 of
the probe set for weight gradients (the paper's g), and test examples for error comparisons
(paired: both models see the same examples). Over several seeds the seeds are the unit: the
verdict is the test's over the seeds themselves, the pooled units are detail
(``evidence.and_over_seeds``); one seed's verdicts speak for one network. A claim reports what we
measured, what the paper shows, the test, its p-value and a verdict (``evidence``).

Every claim also says where the paper makes it (``horizon_updates``, read off its figure or text:
0 at initialization, Fig. 2's first two epochs of 20k updates, Fig. 3's onsets up to epoch ≈90,
Table 1 and Fig. 11 at 2.5M updates) and how far the runs got (``updates``). A run that stopped
short gets NOT REACHED, never PASS or FAIL; a claim about the first epochs is tested at those
epochs (from the run's Record) even in a longer run.

Bands for "about equal" / "about v" claims are ours (the paper gives none) and are stated in each
claim: ×/÷1.25 for "alike across layers" read off overlapping histograms, ×/÷1.5 for Fig. 8's
"nearly identical" weight gradients (its own layer 1 is ≈1.2× broader), ±0.1 around the paper's
0.5 and 0.8 Jacobian singular values, ±2 points around the class prior's error.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from glorot_ext import stats as _stats
from glorot_ext.experiments import evidence as ev, paper

if TYPE_CHECKING:
    from glorot_ext.network import MLP
    from glorot_ext.record import Record

#: ``layer_profile``'s per-layer statistics: name -> (units, n_hidden) float64.
Profile = Dict[str, NDArray[np.float64]]

#: Per-example layer statistics are taken on this many probe examples (the paper: 300).
PROBE_SIZE = 300
#: Probe examples whose Jacobians are decomposed per layer (one SVD of a 1000x1000 matrix each).
JACOBIAN_EXAMPLES = 20
#: Minibatch of the weight gradients (the paper's update uses minibatches of 10).
WEIGHT_GRAD_BATCH = 10
ALIKE = 1.25  # "alike across layers": ratio within [1/1.25, 1.25]
ABOUT_EQUAL = 1.5  # Fig. 8 "nearly identical": ratio within [1/1.5, 1.5]
JACOBIAN_TOLERANCE = 0.1
PRIOR_TOLERANCE = 0.02
SIGMOID_SATURATED = 0.1  # "saturates toward 0": mean top-layer activation below this (Fig. 2: ≈0.02)
#: "Epochs of 20k mini-batch updates" (the paper's figure axes).
EPOCH = 20_000
#: Fig. 2: the sigmoid's top layer reaches ≈0 "very quickly", within 1-2 epochs.
HORIZON_FIG2 = 2 * EPOCH
#: Fig. 3: tanh's layer 5 saturates by epoch ≈75-90; Figs. 3-4's comparisons are made there.
HORIZON_FIG3 = 90 * EPOCH
#: Table 1 and Fig. 11: test errors after 2.5e7 examples (2.5M updates of 10).
HORIZON_TABLE1 = 2_500_000
#: A unit is "on a flat part" of its activation when f'(s) is below this fraction of f's largest
#: slope (tanh |z| > 0.95, softsign |z| > 0.68, sigmoid z < 0.026 or > 0.974): one measure of
#: saturation for every activation, where a fraction of the asymptote favours softsign's slow tail.
LOW_SLOPE = 0.1
#: Table 1 differences smaller than this fraction of the smaller error are ties (the paper's bold
#: cells, which would say which differences it found significant, were lost in transcription).
TIE_FRACTION = 0.10


@dataclass
class Claim:
    """One claim of the paper and what this reproduction found."""

    id: str
    statement: str
    source: str
    paper: str
    measured: str
    evidence: ev.Evidence
    details: Dict[str, Any] = field(default_factory=dict)
    horizon_updates: int = 0  # where the paper makes the claim
    updates: int = 0  # how far the runs behind the measurement got
    seeds: int = 1

    @property
    def verdict(self) -> ev.Verdict:
        return self.evidence.verdict

    def at_horizon(self) -> Claim:
        """This claim, or NOT REACHED in place of its test if the runs stopped short of the paper's point."""
        if self.updates >= self.horizon_updates:
            return self
        return replace(self, evidence=ev.not_reached(self.horizon_updates, self.updates))

    def as_dict(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "statement": self.statement,
            "source": self.source,
            "paper": self.paper,
            "measured": self.measured,
            "test": self.evidence.test,
            "statistic": self.evidence.statistic,
            "p_value": self.evidence.p_value,
            "verdict": self.evidence.verdict,
            "n": self.evidence.n,
            "details": self.details,
            "horizon_updates": self.horizon_updates,
            "updates": self.updates,
            "unit": "one network" if self.seeds == 1 else f"{self.seeds} seeds",
        }


# -- per-unit measurements -------------------------------------------------------------------------


def layer_profile(
    net: MLP,
    X: ArrayLike,
    y: ArrayLike,
    jacobian_examples: int = JACOBIAN_EXAMPLES,
    weight_grad_batch: int = WEIGHT_GRAD_BATCH,
) -> Profile:
    """Per-example (and per-minibatch) statistics of every hidden layer, for the tests.

    Returns:
        dict of arrays, each (units, n_hidden): ``act_std``, ``act_mean``, ``act_abs_p98``,
        ``saturated`` (fraction of units past 0.99 of an asymptote, ``stats.saturation``),
        ``low_slope`` (fraction of units with f'(s) below ``LOW_SLOPE`` of f's largest slope) and
        ``bp_std`` (one example's ∂Cost/∂s) per probe example; ``wg_std`` (std of the entries of
        the minibatch-mean ∂C/∂W) per minibatch; ``jac_mean`` (mean singular value of
        diag(f'(s))·Wᵀ, Eq. 17) per Jacobian example.
    """
    X = np.ascontiguousarray(X, dtype=net.dtype)
    n = X.shape[0]
    g = net.gradients(X, y)
    n_hidden = len(net.layer_sizes) - 2
    keys = ("act_std", "act_mean", "act_abs_p98", "saturated", "low_slope", "bp_std")
    out = {k: np.empty((n, n_hidden)) for k in keys}
    n_batches = n // weight_grad_batch
    out["wg_std"] = np.empty((n_batches, n_hidden))
    k = min(jacobian_examples, n)
    out["jac_mean"] = np.empty((k, n_hidden))
    for l in range(n_hidden):
        z = np.asarray(g["post"][l], dtype=np.float64)
        act = net.activations[l]
        out["act_std"][:, l] = z.std(axis=1)
        out["act_mean"][:, l] = z.mean(axis=1)
        out["act_abs_p98"][:, l] = np.percentile(np.abs(z), 98, axis=1)
        out["saturated"][:, l] = [sum(_stats.saturation(row, act)) for row in z]
        out["low_slope"][:, l] = np.mean(_stats.derivative(act, z) < LOW_SLOPE * _max_slope(act), axis=1)
        bp = np.asarray(g["delta"][l], dtype=np.float64) * n  # one example's gradient (C = mean over n)
        out["bp_std"][:, l] = bp.std(axis=1)
        zin = X.astype(np.float64) if l == 0 else np.asarray(g["post"][l - 1], dtype=np.float64)
        B = weight_grad_batch
        count = zin.shape[1] * bp.shape[1]
        for b in range(n_batches):
            zb, db = zin[b * B : (b + 1) * B], bp[b * B : (b + 1) * B]
            # moments of Zᵀ·D/B without forming it: sum = (1ᵀZ)(Dᵀ1), ||·||² = Σ (Z·Zᵀ)⊙(D·Dᵀ)
            mean = float(zb.sum(axis=1) @ db.sum(axis=1)) / B / count
            sq = float(np.sum((zb @ zb.T) * (db @ db.T))) / (B * B) / count
            out["wg_std"][b, l] = np.sqrt(max(sq - mean * mean, 0.0))
        if k:
            fprime = _stats.derivative(act, z[:k])
            out["jac_mean"][:, l] = _stats.jacobian_singular_values(net.weights[l], fprime).mean(axis=1)
    return out


#: The bands every "alike / about equal" claim is also judged at, so a reader sees how much the
#: verdict owes to the band chosen (the paper gives none).
SENSITIVITY_BANDS = (1.1, 1.25, 1.5)


def run_evidence(net: MLP, test: Tuple[NDArray[Any], NDArray[Any]]) -> Dict[str, Any]:
    """What the claims need of a trained network, as JSON: its per-example test correctness and the
    ``layer_profile`` of its layers on the probe (the first ``PROBE_SIZE`` test examples, no
    Jacobians). A run's worker measures it on the network it holds, so a report loads no network."""
    correct = net.predict(test[0]) == test[1]
    n = min(PROBE_SIZE, test[0].shape[0])
    profile = layer_profile(net, test[0][:n], test[1][:n], jacobian_examples=0)
    return {
        "n_test": int(correct.size),
        "correct": np.packbits(correct).tobytes().hex(),
        "profile": {
            k: [list(v.shape), base64.b64encode(v.astype("<f8").tobytes()).decode()] for k, v in profile.items()
        },
    }


def read_evidence(evidence: Mapping[str, Any]) -> Tuple[NDArray[np.bool_], Profile]:
    """(per-example correctness, layer profile) from ``run_evidence``'s JSON, bit for bit."""
    n = int(evidence["n_test"])
    correct = np.unpackbits(np.frombuffer(bytes.fromhex(evidence["correct"]), dtype=np.uint8), count=n).astype(bool)
    profile = {
        k: np.frombuffer(base64.b64decode(data), dtype="<f8").astype(np.float64).reshape(shape)
        for k, (shape, data) in evidence["profile"].items()
    }
    return correct, profile


def _band_sensitivity(ratio: NDArray[np.float64], seeds: int, unit: str = "probe examples") -> Dict[str, str]:
    """The verdict of "ratio is about 1" at each of ``SENSITIVITY_BANDS``."""
    return {f"{b:g}": ev.equivalence(ratio, 1 / b, b, unit=unit, seeds=seeds).verdict for b in SENSITIVITY_BANDS}


def _sensitivity_text(verdicts: Mapping[str, str]) -> str:
    return "; verdict at band ÷/× " + ", ".join(f"{b}: {v}" for b, v in verdicts.items())


def _max_slope(activation: str) -> float:
    """f's largest slope, at s = 0 for the activations here (tanh, softsign: 1; sigmoid: 1/4)."""
    from glorot_ext.activations import get

    info = get(activation)
    return float(_stats.derivative(activation, info.forward(np.zeros(1)))[0])


def _stack(profiles: Sequence[Profile], key: str) -> NDArray[np.float64]:
    return np.concatenate([p[key] for p in profiles], axis=0)


def _per_layer(a: NDArray[np.float64], fmt: str = "{:.3g}") -> str:
    return ", ".join(fmt.format(v) for v in np.mean(a, axis=0))


# -- claims at initialization (Figs. 6-8, §4.2.2) ---------------------------------------------------


def _jacobian_claim(profiles: Sequence[Profile], init: str, statement: str) -> Claim:
    """The mean Jacobian singular value at init is about the paper's value for ``init`` (§4.2.2)."""
    j = _stack(profiles, "jac_mean")
    t = paper.JACOBIAN_MEAN_SINGULAR_VALUE[init]
    return Claim(
        f"jacobian_{init}",
        statement,
        "§4.2.2, Eq. 17",
        f"≈{t}",
        f"{j.mean():.3f} (per layer {_per_layer(j)}; band {t} ± {JACOBIAN_TOLERANCE})",
        ev.equivalence(
            j.mean(axis=1),
            t - JACOBIAN_TOLERANCE,
            t + JACOBIAN_TOLERANCE,
            unit="Jacobian examples",
            seeds=len(profiles),
        ),
        {"jac_mean": j.mean(axis=0).tolist()},
    )


def _alike_claim(
    profiles: Sequence[Profile],
    key: str,
    claim_id: str,
    statement: str,
    source: str,
    paper_says: str,
    measured: str,
    top_over_first: bool,
) -> Claim:
    """ "Alike across layers": the ratio of the top and first layers' ``key`` (top/first, or
    first/top) within ÷/× ``ALIKE`` of 1, with the verdict at the other bands beside it."""
    a = _stack(profiles, key)
    ratio = a[:, -1] / a[:, 0] if top_over_first else a[:, 0] / a[:, -1]
    bands = _band_sensitivity(ratio, len(profiles))
    return Claim(
        claim_id,
        statement,
        source,
        paper_says,
        measured.format(per_layer=_per_layer(a), ratio=f"{ratio.mean():.3f}")
        + f" (band ÷/× {ALIKE})"
        + _sensitivity_text(bands),
        ev.equivalence(ratio, 1 / ALIKE, ALIKE, seeds=len(profiles)),
        {key: a.mean(axis=0).tolist(), "band_sensitivity": bands},
    )


def init_claims(profiles: Dict[str, List[Profile]]) -> List[Claim]:
    """Claims about tanh networks at initialization, from ``layer_profile`` of each seed's net.

    Args:
        profiles: {"Tanh": [profile per seed], "Tanh N": [...]} measured at initialization.
    """
    claims = []
    std, nrm = profiles.get("Tanh"), profiles.get("Tanh N")
    if std:
        a = _stack(std, "act_std")
        claims.append(
            Claim(
                "fig6_standard_narrows",
                "Standard init, tanh: activation histograms narrow with depth",
                "Fig. 6 (top)",
                "peak heights ≈1.3, 2.5, 4.3, 7.8, 13.7 for layers 1–5; layer 5 within ±0.2",
                f"activation std per layer {_per_layer(a)}; top/first = {np.mean(a[:, -1] / a[:, 0]):.3f}",
                ev.sign_test(a[:, 0] - a[:, -1], seeds=len(std)),
                {"act_std": a.mean(axis=0).tolist()},
            )
        )
        b = _stack(std, "bp_std")
        claims.append(
            Claim(
                "fig7_standard_shrinks",
                "Standard init, tanh: back-propagated gradients shrink toward the input",
                "Fig. 7 (top), §4.3",
                "peaks ≈85 (layer 1), 45, 23, 13, 8 (layer 5): layer 1 ≈10× narrower",
                f"∂C/∂s std per layer {_per_layer(b)}; first/top = {np.mean(b[:, 0] / b[:, -1]):.3f}",
                ev.sign_test(b[:, -1] - b[:, 0], seeds=len(std)),
                {"bp_std": b.mean(axis=0).tolist()},
            )
        )
        w = _stack(std, "wg_std")
        ratio = w[:, 0] / w[:, -1]
        bands = _band_sensitivity(ratio, len(std), "minibatches")
        claims.append(
            Claim(
                "fig8_weight_gradients_equal",
                "Standard init, tanh: weight-gradient variance about equal across layers despite shrinking "
                "back-propagated gradients (Eq. 14)",
                "Fig. 8 (top), Eq. 14",
                "all layers nearly identical, peak ≈270 within ±0.005 (layer 1 slightly broader, ≈225)",
                f"∂C/∂W std per layer {_per_layer(w)} (minibatches of {WEIGHT_GRAD_BATCH}); "
                f"layer 1 / top = {ratio.mean():.3f} (band ÷/× {ABOUT_EQUAL})" + _sensitivity_text(bands),
                ev.equivalence(ratio, 1 / ABOUT_EQUAL, ABOUT_EQUAL, unit="minibatches", seeds=len(std)),
                {"wg_std": w.mean(axis=0).tolist(), "band_sensitivity": bands},
            )
        )
        claims.append(_jacobian_claim(std, "standard", "Standard init: mean Jacobian singular value drops to ≈0.5"))
    if nrm:
        claims.append(
            _alike_claim(
                nrm,
                "act_std",
                "fig6_normalized_alike",
                "Normalized init, tanh: activation histograms alike across layers",
                "Fig. 6 (bottom)",
                "all five layers overlap, peak ≈1.3–1.5",
                "activation std per layer {per_layer}; top/first = {ratio}",
                top_over_first=True,
            )
        )
        claims.append(
            _alike_claim(
                nrm,
                "bp_std",
                "fig7_normalized_alike",
                "Normalized init, tanh: back-propagated gradients alike across layers",
                "Fig. 7 (bottom)",
                "all layers overlap, peak ≈8–10, span ±0.25",
                "∂C/∂s std per layer {per_layer}; first/top = {ratio}",
                top_over_first=False,
            )
        )
        claims.append(_jacobian_claim(nrm, "normalized", "Normalized init: mean Jacobian singular value ≈0.8"))
    seeds = len(std or nrm or [])
    if std and nrm:
        js, jn = _stack(std, "jac_mean").mean(axis=1), _stack(nrm, "jac_mean").mean(axis=1)
        claims.append(
            Claim(
                "jacobian_normalized_closer_to_1",
                "Normalized init keeps Jacobian singular values closer to 1",
                "§4.2.2, abstract",
                "0.8 vs 0.5",
                f"{jn.mean():.3f} vs {js.mean():.3f}",
                ev.sign_test(jn - js, unit="Jacobian examples (same probe examples, same seed)", seeds=len(std)),
            )
        )
    return [replace(c, seeds=seeds) for c in claims]  # at initialization: horizon 0, always reached


# -- claims during and after training (Figs. 2-4, 11, 12, Table 1) -------------------------------------


@dataclass
class RowOutcome:
    """What one Table 1 row left at the end of its runs, per seed."""

    label: str
    correct: List[NDArray[np.bool_]]  # per-example test correctness, one array per seed
    profiles: List[Profile] = field(default_factory=list)  # ``layer_profile`` of the final nets
    record: Optional[Record] = None  # the first seed's ``Record`` (trajectories), if monitored
    records: List[Record] = field(default_factory=list)  # every seed's, if monitored
    updates: int = 0  # updates the row's runs reached (the fewest over seeds)

    @property
    def seeds(self) -> int:
        return len(self.correct)

    @property
    def error(self) -> float:
        return 1.0 - float(np.mean(np.concatenate(self.correct)))


def _onsets(record: Optional[Record], level: float = 0.99, until: Optional[int] = None) -> List[Optional[int]]:
    """Per layer, the first measured step (up to ``until``) whose 98th percentile of |activation|
    passed ``level`` (Fig. 3's "reaches ±1"), or None."""
    if record is None or "act_p98" not in record.scalars:
        return []
    p98 = np.maximum(np.abs(record.scalar("act_p98")), np.abs(record.scalar("act_p2")))
    steps = [int(x) for x in record.steps]
    last = len(steps) if until is None else sum(x <= until for x in steps)
    return [next((steps[i] for i in range(last) if p98[i, l] >= level), None) for l in range(p98.shape[1])]


def _at_step(record: Record, key: str, step: int) -> Optional[NDArray[np.float64]]:
    """A per-layer scalar at the measurement made at ``step``, or None if there was none."""
    steps = [int(x) for x in record.steps]
    return record.scalar(key)[steps.index(step)] if step in steps else None


def _fig2_window(sig: RowOutcome) -> Tuple[str, ev.Evidence, int]:
    """Fig. 2's top layer at epoch 2 (``HORIZON_FIG2``), from the runs' Records: (measured, evidence,
    the updates the records reached)."""
    records = [r for r in sig.records if "act_mean" in r.scalars]
    if len(records) != sig.seeds:  # no trajectory, nothing measured past init
        return "no Record of the trajectory", ev.not_reached(HORIZON_FIG2, 0), 0
    reached = min(int(r.steps[-1]) for r in records)
    means = [_at_step(r, "act_mean", HORIZON_FIG2) for r in records]
    if reached < HORIZON_FIG2:
        return "", ev.not_reached(HORIZON_FIG2, reached), reached
    if any(m is None for m in means):
        return "", ev.not_measured(HORIZON_FIG2, [int(x) for x in records[0].steps]), reached
    top = [float(cast(NDArray[np.float64], m)[-1]) for m in means]
    traj = ", ".join(
        f"{int(x):,}: {v:.3f}"
        for x, v in zip(records[0].steps, records[0].scalar("act_mean")[:, -1])
        if x <= HORIZON_FIG2
    )
    measured = f"top-layer mean at {HORIZON_FIG2:,} updates {np.mean(top):.3f} (seed 0 over training {traj})"
    if len(records) > 1:
        return measured, ev.equivalence(top, 0.0, SIGMOID_SATURATED, unit="seeds"), reached
    # One network: the Record keeps the layer's mean and std over probe examples x units; std/√n
    # bounds the standard error of the mean over the n probe examples from above (a conservative TOST).
    std = float(cast(NDArray[np.float64], _at_step(records[0], "act_std", HORIZON_FIG2))[-1])
    n = int(records[0].meta.get("monitor", {}).get("probe_size", PROBE_SIZE))
    return measured, _tost_from_moments(top[0], std, n, 0.0, SIGMOID_SATURATED), reached


def _tost_from_moments(mean: float, std: float, n: int, low: float, high: float) -> ev.Evidence:
    """TOST of a mean known by its value, an upper bound ``std`` on its units' spread and ``n`` units."""
    p, lo, hi, v = ev.tost(mean, std / np.sqrt(n), n - 1, low, high)
    return ev.Evidence(
        "TOST from the Record's mean and std over probe examples x units (a bound on the standard error)",
        f"mean {mean:.4g}, std ≤ {std:.3g} over {n} probe examples, 99% interval [{lo:.4g}, {hi:.4g}] "
        f"against the band [{low:g}, {high:g}]",
        float(p),
        v,
        n,
    )


def _at_prior(correct: Sequence[NDArray[np.bool_]], errors: int, n: int, prior: float) -> ev.Evidence:
    """The error rate (``errors`` of ``n``, pooled) is within ``PRIOR_TOLERANCE`` of the class
    prior's, and (several seeds) so is the seeds' mean error rate."""
    low, high = prior - PRIOR_TOLERANCE, prior + PRIOR_TOLERANCE
    pooled = ev.binomial_equivalence(errors, n, low, high)
    if len(correct) == 1:
        return pooled
    return ev.and_over_seeds(pooled, ev.equivalence([1 - float(np.mean(c)) for c in correct], low, high, unit="seeds"))


def training_claims(rows: Dict[str, RowOutcome], dataset: str) -> List[Claim]:
    """Claims about trained networks and their test errors, for the rows that were run, each judged
    at its horizon (``Claim.at_horizon``)."""
    claims = []
    sig, tanh, soft = rows.get("Sigmoid"), rows.get("Tanh"), rows.get("Softsign")
    note = "" if dataset == "shapeset" else " (the paper's figure is on Shapeset; §3.1: similar on the other datasets)"
    if sig is not None:
        measured, evidence, reached = _fig2_window(sig)
        claims.append(
            Claim(
                "fig2_sigmoid_top_saturates",
                "Sigmoid: the top hidden layer is pushed to its lower saturation 0 early" + note,
                "Fig. 2, §3.1",
                "top-layer mean falls from ≈0.5 to ≈0.02 within 1–2 epochs of 20k updates",
                measured,
                evidence,
                horizon_updates=HORIZON_FIG2,
                updates=reached,
                seeds=sig.seeds,
            )
        )
    if sig is not None and sig.profiles:
        top = _stack(sig.profiles, "act_mean")[:, -1]
        claims.append(
            Claim(
                "fig2_sigmoid_top_stays",
                "Depth-5 sigmoid: the top hidden layer stays saturated at 0 (it never escapes)" + note,
                "Fig. 2, Fig. 11, §3.1",
                "depth 5 does not leave the saturated regime within 2.5M updates (depth 4 escapes)",
                f"top-layer mean activation at the end ({sig.updates:,} updates) {top.mean():.3f}",
                ev.equivalence(top, 0.0, SIGMOID_SATURATED, seeds=sig.seeds),
                {"top_mean": float(top.mean())},
                horizon_updates=HORIZON_TABLE1,
                updates=sig.updates,
                seeds=sig.seeds,
            )
        )
    if sig is not None and dataset == "shapeset":
        prior = paper.SHAPESET_CONSTANT_ERROR
        errors = sum(int(np.count_nonzero(~c)) for c in sig.correct)
        n = sum(c.size for c in sig.correct)
        claims.append(
            Claim(
                "fig11_sigmoid_at_prior",
                "Depth-5 sigmoid stays at the class prior's error on Shapeset",
                "Fig. 11, Table 1",
                f"flat ≈83.5% in Fig. 11; Table 1: {paper.TABLE1['Sigmoid']['shapeset']}% (prior {100 * prior:.1f}%)",
                f"{100 * errors / n:.2f}% (band {100 * prior:.1f} ± {100 * PRIOR_TOLERANCE:g})",
                _at_prior(sig.correct, errors, n, prior),
                horizon_updates=HORIZON_TABLE1,
                updates=sig.updates,
                seeds=sig.seeds,
            )
        )
    if tanh is not None:
        onsets = [_onsets(r, until=HORIZON_FIG3) for r in tanh.records]
        reached = min((int(r.steps[-1]) for r in tanh.records), default=0)
        claims.append(
            Claim(
                "fig3_tanh_saturates_from_layer1",
                "Tanh, standard init: saturation starts with layer 1 and propagates up, layer after layer" + note,
                "Fig. 3 (top), §3.2",
                "layer 1's 98th percentile reaches ±1 by epoch ≈0–5, layer 2 ≈15–20, 3 ≈30, 4 ≈55–60, 5 ≈75–90",
                "first measurement with |98th percentile| ≥ 0.99 per layer, up to epoch 90: "
                + "; ".join(str(o) for o in onsets),
                ev.onset_order(onsets) if onsets and all(onsets) else ev.not_reached(HORIZON_FIG3, reached),
                {"onsets": onsets},
                horizon_updates=HORIZON_FIG3,
                updates=min(reached, tanh.updates),
                seeds=tanh.seeds,
            )
        )
    if tanh is not None and soft is not None and tanh.profiles and soft.profiles and tanh.seeds == soft.seeds:
        pt, ps = _stack(tanh.profiles, "act_abs_p98"), _stack(soft.profiles, "act_abs_p98")
        lt, ls = _stack(tanh.profiles, "low_slope"), _stack(soft.profiles, "low_slope")
        reached = min(tanh.updates, soft.updates)
        claims.append(
            Claim(
                "fig3_softsign_saturates_less",
                "Softsign saturates less than tanh (standard init)" + note,
                "Figs. 3, 4, §3.3",
                "softsign 98th percentiles ≈0.8–0.9, never 1; tanh's reach ±1",
                f"fraction of units with f′(s) < {LOW_SLOPE:g}·max f′ per layer: softsign {_per_layer(ls)}, "
                f"tanh {_per_layer(lt)}; 98th percentile of |activation|: softsign {_per_layer(ps)}, "
                f"tanh {_per_layer(pt)}",
                ev.sign_test(lt.mean(axis=1) - ls.mean(axis=1), unit="probe examples (paired)", seeds=tanh.seeds),
                {"low_slope_tanh": lt.mean(axis=0).tolist(), "low_slope_softsign": ls.mean(axis=0).tolist()},
                horizon_updates=HORIZON_FIG3,
                updates=reached,
                seeds=tanh.seeds,
            )
        )
        claims.append(_layers_together(tanh, soft, note))
    claims += comparison_claims(rows, dataset)
    return [c.at_horizon() for c in claims]


def _rise_times(record: Record, until: int) -> List[float]:
    """Per layer, the first measured step (up to ``until``) at which the 98th percentile of
    |activation| has made half of its change from initialization to ``until``: when the layer moved."""
    p98 = np.maximum(np.abs(record.scalar("act_p98")), np.abs(record.scalar("act_p2")))
    steps = [int(x) for x in record.steps]
    last = max(sum(x <= until for x in steps), 1)
    times = []
    for l in range(p98.shape[1]):
        start, end = p98[0, l], p98[last - 1, l]
        half = start + 0.5 * (end - start)
        sign = 1.0 if end >= start else -1.0  # the direction of the move
        times.append(float(next(steps[i] for i in range(last) if sign * (p98[i, l] - half) >= 0)))
    return times


def _layers_together(tanh: RowOutcome, soft: RowOutcome, note: str) -> Claim:
    """Fig. 3: softsign's layers move at the same time, tanh's one after another: the spread over
    layers (max - min) of the time each layer made half of its move, tanh's minus softsign's, per seed."""
    reached = min(tanh.updates, soft.updates)
    pairs = [
        (_rise_times(t, HORIZON_FIG3), _rise_times(s, HORIZON_FIG3))
        for t, s in zip(tanh.records, soft.records)
        if "act_p98" in t.scalars and "act_p98" in s.scalars
    ]
    if not pairs or len(pairs) != tanh.seeds:
        evidence = ev.not_reached(HORIZON_FIG3, 0)
        measured = "no Record of the trajectories"
    else:
        gaps = [(max(t) - min(t) - (max(s) - min(s))) / EPOCH for t, s in pairs]
        t0, s0 = pairs[0]
        measured = (
            "epoch at which each layer's 98th percentile made half its move, up to epoch 90: tanh "
            + ", ".join(f"{x / EPOCH:g}" for x in t0)
            + "; softsign "
            + ", ".join(f"{x / EPOCH:g}" for x in s0)
            + f"; tanh's spread over layers minus softsign's: {', '.join(f'{g:+g}' for g in gaps)} epochs"
        )
        if len(gaps) > 1:
            evidence = ev.seed_t_test(gaps)
        else:
            evidence = ev.Evidence(
                "none over one network: one spread per row, no unit to test over (needs ≥ 2 seeds)",
                f"tanh's spread minus softsign's {gaps[0]:+g} epochs",
                float("nan"),
                ev.NOT_RESOLVED,
                1,
            )
    return Claim(
        "fig3_softsign_layers_together",
        "Softsign layers move together, tanh layers one after another" + note,
        "Fig. 3 (bottom), §3.3",
        'softsign: "all layers move together" (98th percentiles rise together by epoch ≈4); tanh: layer after '
        "layer, epochs ≈0–90",
        measured,
        evidence,
        horizon_updates=HORIZON_FIG3,
        updates=reached,
        seeds=tanh.seeds,
    )


def _compare(
    rows: Dict[str, RowOutcome], better: str, worse: str, dataset: str, cid: str, statement: str, source: str
) -> Claim:
    a, b = rows[better], rows[worse]
    col = {k: v.get(dataset) for k, v in paper.TABLE1.items()}
    pa, pb = col.get(better), col.get(worse)
    return Claim(
        cid,
        statement,
        source,
        f"{better} {pa}% vs {worse} {pb}%" if pa is not None else "n/a",
        f"{better} {100 * a.error:.2f}% vs {worse} {100 * b.error:.2f}%",
        ev.error_comparison(a.correct, b.correct),
        horizon_updates=HORIZON_TABLE1,
        updates=min(a.updates, b.updates),
        seeds=a.seeds,
    )


def comparison_claims(rows: Dict[str, RowOutcome], dataset: str) -> List[Claim]:
    """Pairwise error claims of §5 and the order of Table 1's column (``evidence.error_comparison``)."""
    claims = []
    pairs = [
        (
            "Tanh N",
            "Tanh",
            "normalized_beats_standard_tanh",
            "Normalized init beats the standard one (tanh)",
            "§5, Table 1, Figs. 11–12",
        ),
        (
            "Softsign N",
            "Softsign",
            "normalized_beats_standard_softsign",
            "Normalized init beats the standard one (softsign)",
            "§5, Table 1",
        ),
        (
            "Softsign",
            "Tanh",
            "softsign_beats_tanh_standard",
            "Softsign beats tanh with the standard init (more robust to the initialization)",
            "§5, Table 1",
        ),
    ]
    for better, worse, cid, statement, source in pairs:
        if better in rows and worse in rows:
            claims.append(_compare(rows, better, worse, dataset, cid, statement, source))
    order = ordering_claim(rows, dataset)
    if order is not None:
        claims.append(order)
    return claims


def paper_groups(dataset: str, labels: Sequence[str]) -> List[List[str]]:
    """The rows of Table 1's column for ``dataset``, worst first, in tie groups (see TIE_FRACTION)."""
    col = sorted(
        ((paper.TABLE1[k][dataset], k) for k in labels if paper.TABLE1[k].get(dataset) is not None), reverse=True
    )
    groups: List[List[str]] = []
    prev = None
    for value, label in col:
        if prev is not None and prev - value < TIE_FRACTION * value:
            groups[-1].append(label)
        else:
            groups.append([label])
        prev = value
    return groups


def ordering_claim(rows: Dict[str, RowOutcome], dataset: str) -> Optional[Claim]:
    """Table 1's column order: every row of a worse group errs more than every row of a better one."""
    groups = paper_groups(dataset, list(rows))
    if len(groups) < 2:
        return None
    parts, lines = [], []
    for i, worse_group in enumerate(groups):
        for better_group in groups[i + 1 :]:
            for worse in worse_group:
                for better in better_group:
                    e = ev.error_comparison(rows[better].correct, rows[worse].correct)
                    parts.append(e)
                    lines.append(f"{better} < {worse}: {e.verdict} (p {ev.fmt_p(e.p_value)})")
    text = " > ".join("{" + ", ".join(g) + "}" if len(g) > 1 else g[0] for g in groups)
    ours = ", ".join(f"{k} {100 * rows[k].error:.2f}%" for g in groups for k in g)
    return Claim(
        "table1_order",
        f"Table 1's column order on {dataset}: {text} (error, worst first)",
        "Table 1",
        ", ".join(f"{k} {paper.TABLE1[k][dataset]}" for g in groups for k in g),
        ours,
        ev.combine_all(parts, f"{parts[0].test}, per pair; all pairs must hold (intersection-union)"),
        {"pairs": lines, "groups": groups},
        horizon_updates=HORIZON_TABLE1,
        updates=min(rows[k].updates for g in groups for k in g),
        seeds=min(rows[k].seeds for g in groups for k in g),
    )
