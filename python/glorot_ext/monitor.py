"""``Monitor``: the paper's instruments, measured on a fixed probe set during training (§3–4).

Attach it to ``fit``/``fit_stream`` as a callback, or call ``monitor.measure(net)`` by hand. At
initialization and every ``every`` updates (the paper: 20,000, its "epochs" of Figs. 2, 3, 9, 10)
it runs the network on a fixed probe set (the paper: 300 test examples) and appends to its
``Record``, for every hidden layer i = 1..L-1 (the quantities of layer i concern the map from
z^{i-1} to z^i, i.e. W^{i-1}, s^{i-1} and z^i; z^0 is the input):

* activations z^i (Figs. 2–4, 6, 10): mean, std, 2nd/50th/98th percentiles, saturation fractions
  (``stats.saturation``), and a histogram on fixed edges;
* back-propagated gradients ∂C/∂s^{i-1} (Fig. 7): std and histogram. C is **one example's**
  cost -log P(y|x): the paper histograms ∂Cost/∂s per example, and ``net.gradients`` returns
  the gradient of the probe-set *mean* cost, so it is multiplied by the probe size.
* weight gradients ∂C/∂W^{i-1} (Figs. 8, 9): std and histogram of the gradient of the **mean
  cost of a minibatch of 10** (``weight_grad_batch``), i.e. the g of the paper's update
  θ ← θ - εg, over the probe set cut into consecutive minibatches (30 of them for 300 examples):
  the paper's training takes steps of exactly this g. ``weight_grad_batch=None`` selects the
  probe-set mean (narrower).
* Jacobian singular values of J^i = diag(f'(s^{i-1}))·W^{i-1ᵀ} (Eq. 17, §4.2.2): mean (the
  paper's 0.5 vs 0.8), std, min, max and histogram, over the first ``jacobian_examples`` probe
  examples (exact, via ``stats.jacobian_singular_values``). This is the expensive part, so it
  runs every ``jacobian_every``-th measurement; ``jacobian_examples=0`` turns it off.
* run-level: probe loss and error, validation/test loss and error when given, the mean training
  batch loss since the previous measurement, and how long the measurement took.

What these read at initialization, and what they cost, measured: ``docs/instruments.md``.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Dict, Literal, Mapping, Optional, Sequence, Tuple, TypedDict

import numpy as np
from numpy.typing import ArrayLike, NDArray

from glorot_ext import activations as _activations, stats as _stats
from glorot_ext.record import Record
from glorot_ext.training import Callback

if TYPE_CHECKING:
    from glorot_ext.network import MLP

#: An (X, y) set: X (n, n_inputs), y (n,) labels.
Dataset = Tuple[ArrayLike, ArrayLike]


class Measurement(TypedDict):
    """What ``Monitor.measure`` returns (and appends to its ``Record``)."""

    step: int
    scalars: Dict[str, NDArray[np.float64]]
    globals: Dict[str, float]
    hists: Dict[str, Tuple[NDArray[np.float64], _stats.Bins]]


#: Per-layer scalars in each measurement.
SCALARS = (
    "act_mean",
    "act_std",
    "act_p2",
    "act_p50",
    "act_p98",
    "act_sat_low",
    "act_sat_high",
    "act_saturated",
    "bp_mean",
    "bp_std",
    "wg_mean",
    "wg_std",
    "jac_mean",
    "jac_std",
    "jac_min",
    "jac_max",
)
#: Histograms in each measurement: activations, back-propagated gradients, weight gradients, Jacobian SVs.
HISTOGRAMS = ("act", "bp", "wg", "jac")
_JACOBIAN_MOMENTS: Tuple[Literal["mean", "std", "min", "max"], ...] = ("mean", "std", "min", "max")


def _default_activation_bins(activations: Sequence[str]) -> _stats.Bins:
    infos = [_activations.get(a) for a in activations]
    if all(math.isfinite(i.low) and math.isfinite(i.high) for i in infos):
        return _stats.LinearBins(min(i.low for i in infos), max(i.high for i in infos), 200)
    return _stats.activation_bins("identity")


class Monitor(Callback):
    """Measures every hidden layer on a fixed probe set at init and every ``every`` updates.

    Args:
        probe: (X, y), the fixed probe set (the paper: 300 test examples); X (n, n_inputs), y (n,).
        every: measure when ``net.n_updates`` is a multiple of this (the paper: 20,000).
        validation, test: optional (X, y) sets whose loss and error are recorded at each measurement.
        jacobian_examples: probe examples whose Jacobians are decomposed (0: none); default 5
            (``stats.JACOBIAN_EXAMPLES``).
        jacobian_every: decompose Jacobians at every this-many-th measurement (1: always).
        weight_grad_batch: minibatch size of the weight gradients (10, the paper's); None: probe mean.
        histograms: record histograms (False keeps only the scalars).
        act_bins, grad_bins, sv_bins: fixed bins (default: the activations' range; ``stats``'s).
        measure_at_end: also measure after the last update if that step was not measured.
        meta: provenance for the ``Record`` (e.g. ``{"dataset": "shapeset", "seed": 0}``).

    Example:
        >>> mon = Monitor((X_probe, y_probe), every=20_000, validation=(X_val, y_val))
        >>> net.fit_stream(stream, 2_000_000, 0.01, callbacks=[mon])
        >>> mon.record.to_json("run.json")
    """

    def __init__(
        self,
        probe: Dataset,
        every: int = 20_000,
        *,
        validation: Optional[Dataset] = None,
        test: Optional[Dataset] = None,
        jacobian_examples: int = _stats.JACOBIAN_EXAMPLES,
        jacobian_every: int = 1,
        weight_grad_batch: Optional[int] = 10,
        histograms: bool = True,
        act_bins: Optional[_stats.Bins] = None,
        grad_bins: _stats.Bins = _stats.GRADIENT_BINS,
        sv_bins: _stats.Bins = _stats.SINGULAR_VALUE_BINS,
        measure_at_end: bool = True,
        meta: Optional[Mapping[str, Any]] = None,
    ) -> None:
        X, y = probe
        X = np.asarray(X)
        y = np.asarray(y)
        if X.ndim != 2 or y.shape != (X.shape[0],) or X.shape[0] == 0:
            raise ValueError(f"probe must be (X, y) with X (n, d) and y (n,), got {X.shape} and {y.shape}")
        for name, v in (("every", every), ("jacobian_every", jacobian_every)):
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not isinstance(jacobian_examples, (int, np.integer)) or jacobian_examples < 0:
            raise ValueError(f"jacobian_examples must be an integer >= 0, got {jacobian_examples!r}")
        if weight_grad_batch is not None and (
            not isinstance(weight_grad_batch, (int, np.integer)) or not 0 < weight_grad_batch <= X.shape[0]
        ):
            raise ValueError(
                f"weight_grad_batch must be None or an integer in [1, {X.shape[0]}], got {weight_grad_batch!r}"
            )
        self.probe = (X, y.astype(np.int64))
        self.every = int(every)
        self.validation, self.test = validation, test
        self.jacobian_examples = min(int(jacobian_examples), X.shape[0])
        self.jacobian_every = int(jacobian_every)
        self.weight_grad_batch = weight_grad_batch
        self.histograms = histograms
        self.act_bins, self.grad_bins, self.sv_bins = act_bins, grad_bins, sv_bins
        self.measure_at_end = measure_at_end
        self.record = Record(meta)
        self.record.meta["monitor"] = {
            "every": self.every,
            "probe_size": int(X.shape[0]),
            "jacobian_examples": self.jacobian_examples,
            "jacobian_every": self.jacobian_every,
            "weight_grad_batch": weight_grad_batch,
            "saturation_level": _stats.SATURATION_LEVEL,
        }
        self._probe_cast: Dict[np.dtype[Any], NDArray[Any]] = {}
        self._loss_sum = 0.0
        self._loss_count = 0
        self._n_measured = 0

    # -- state, for a checkpoint ----------------------------------------------------------------

    def state(self) -> Dict[str, Any]:
        """What a resumed run needs besides ``record``: the count of measurements (it decides
        which of them measure the Jacobian) and the training loss summed since the last one."""
        return {"n_measured": self._n_measured, "loss_sum": self._loss_sum, "loss_count": self._loss_count}

    def load_state(self, record: Record, state: Mapping[str, Any]) -> None:
        """Continues from ``record`` and a ``state()``, as if this monitor had measured them."""
        self.record = record
        self._n_measured = int(state["n_measured"])
        self._loss_sum = float(state["loss_sum"])
        self._loss_count = int(state["loss_count"])

    # -- callback hooks ---------------------------------------------------------------------------

    def _measured_now(self, net: MLP) -> bool:
        return self.record.n_steps > 0 and self.record.steps[-1] == net.n_updates

    def on_train_begin(self, net: MLP) -> None:
        # only on schedule (step 0 always is): a run trained in chunks must not add a step per chunk
        if net.n_updates % self.every == 0 and not self._measured_now(net):
            self.measure(net)

    def on_step_end(self, net: MLP, loss: float) -> None:
        self._loss_sum += float(loss)
        self._loss_count += 1
        if net.n_updates % self.every == 0:
            self.measure(net)

    def on_train_end(self, net: MLP) -> None:
        if self.measure_at_end and not self._measured_now(net):
            self.measure(net)

    # -- measuring ------------------------------------------------------------------------------------

    def _probe_for(self, net: MLP) -> NDArray[Any]:
        X = self._probe_cast.get(net.dtype)
        if X is None:
            X = self._probe_cast[net.dtype] = np.ascontiguousarray(self.probe[0], dtype=net.dtype)
        return X

    def measure(self, net: MLP) -> Measurement:
        """Measures ``net`` now, appends to ``self.record`` and returns this step's values.

        Returns:
            dict: ``step``; per-layer ``scalars`` {name: (n_layers,) array}; ``globals``
            {name: float}; ``hists`` {name: ((n_layers, n_bins) masses, bins)}.
        """
        t0 = time.perf_counter()
        if "config" not in self.record.meta:
            self.record.meta["config"] = net.config()
        elif self.record.meta["config"]["layer_sizes"] != list(net.layer_sizes):
            raise ValueError(
                f"this monitor recorded a {self.record.meta['config']['layer_sizes']} network, "
                f"not {list(net.layer_sizes)}"
            )
        X, y = self._probe_for(net), self.probe[1]
        n = X.shape[0]
        g = net.gradients(X, y)
        n_hidden = len(net.layer_sizes) - 2
        acts = list(net.activations)
        act_bins = self.act_bins or _default_activation_bins(acts)
        do_jac = self.jacobian_examples > 0 and self._n_measured % self.jacobian_every == 0
        sc = {k: np.full(n_hidden, np.nan) for k in SCALARS}
        hs = {
            k: np.zeros((n_hidden, b.n_bins))
            for k, b in zip(HISTOGRAMS, (act_bins, self.grad_bins, self.grad_bins, self.sv_bins))
        }
        for l in range(n_hidden):
            z = g["post"][l]
            a = _stats.activation_stats(z, acts[l])
            for key in ("mean", "std", "p2", "p50", "p98", "sat_low", "sat_high", "saturated"):
                sc[f"act_{key}"][l] = a[key]
            bp = g["delta"][l] * n  # one example's ∂Cost/∂s (see the module docstring)
            m = _stats.RunningMoments().add(bp)
            sc["bp_mean"][l], sc["bp_std"][l] = m.mean, m.std
            wg_m, wg_h = self._weight_gradients(X if l == 0 else g["post"][l - 1], bp, g["dW"][l])
            sc["wg_mean"][l], sc["wg_std"][l] = wg_m.mean, wg_m.std
            if self.histograms:
                hs["act"][l] = _stats.histogram(z, act_bins)
                hs["bp"][l] = _stats.histogram(bp, self.grad_bins)
                hs["wg"][l] = wg_h.mass
            if do_jac:
                fprime = _stats.derivative(acts[l], z[: self.jacobian_examples])
                spec = _stats.jacobian_spectrum(net.weights[l], fprime, self.sv_bins)
                for key in _JACOBIAN_MOMENTS:
                    sc[f"jac_{key}"][l] = spec[key]
                hs["jac"][l] = spec["mass"]
        gl = {
            "probe_loss": float(g["loss"]),
            "probe_error": int(g["errors"]) / n,
            "train_loss": self._loss_sum / self._loss_count if self._loss_count else np.nan,
        }
        for name, data in (("val", self.validation), ("test", self.test)):
            if data is not None:
                loss, err = net.evaluate(np.ascontiguousarray(data[0], dtype=net.dtype), np.asarray(data[1]))
                gl[f"{name}_loss"], gl[f"{name}_error"] = loss, err
        self._loss_sum, self._loss_count = 0.0, 0
        gl["measure_seconds"] = time.perf_counter() - t0
        hists = {}
        if self.histograms:
            hists = {
                k: (hs[k], b)
                for k, b in zip(HISTOGRAMS, (act_bins, self.grad_bins, self.grad_bins, self.sv_bins))
                if k != "jac" or self.jacobian_examples > 0
            }
        scalars = {k: v for k, v in sc.items() if not k.startswith("jac_") or self.jacobian_examples > 0}
        self.record.append(net.n_updates, scalars, gl, hists)
        self._n_measured += 1
        return {"step": net.n_updates, "scalars": scalars, "globals": gl, "hists": hists}

    def _weight_gradients(
        self, z: NDArray[Any], bp: NDArray[Any], dW_mean: NDArray[Any]
    ) -> Tuple[_stats.RunningMoments, _stats.HistogramAccumulator]:
        """Moments and histogram of the weight gradients of one layer (see the module docstring).

        z: (n, n_in) layer input; bp: (n, n_out) per-example ∂Cost/∂s; dW_mean: the probe-mean
        gradient, used when ``weight_grad_batch`` is None.
        """
        moments = _stats.RunningMoments()
        hist = _stats.HistogramAccumulator(self.grad_bins)
        B = self.weight_grad_batch
        if B is None:
            moments.add(dW_mean)
            if self.histograms:
                hist.add(dW_mean)
            return moments, hist
        n_in, n_out = z.shape[1], bp.shape[1]
        if self.histograms:  # every minibatch's (n_in, n_out) gradient, binned as it is computed
            hist = _stats.minibatch_gradient_histogram(z, bp, B, self.grad_bins)
        for start in range(0, z.shape[0] - B + 1, B):
            zb, db = z[start : start + B], bp[start : start + B]
            # Exact float64 moments without a pass over the (n_in, n_out) gradient:
            # sum(Zᵀ·D) = (1ᵀZ)·(Dᵀ1) and ||Zᵀ·D||² = sum((Z·Zᵀ) ⊙ (D·Dᵀ)), both on B x B Grams.
            z64, d64 = zb.astype(np.float64), db.astype(np.float64)
            total = float(z64.sum(axis=1) @ d64.sum(axis=1)) / B
            sq = float(np.sum((z64 @ z64.T) * (d64 @ d64.T))) / (B * B)
            count = n_in * n_out
            mean = total / count
            moments.add_moments(count, mean, max(sq - count * mean * mean, 0.0))
        return moments, hist
