"""One training run of the paper's protocol, checkpointed atomically so it can always resume.

A run trains a deep MLP with plain SGD on minibatches of 10 and, every ``eval_every`` updates,
records validation and test error and writes a checkpoint: weights, update count, the data
source's position and the curve so far. Killing the process loses at most the updates since
the last checkpoint; ``run(..., resume=True)`` continues bit-exactly (same weights, same batches)
as if it had never stopped.

The checkpoint is the run's one state: with a monitor attached it also holds the monitor's
record and counters, so weights, data position, curve and record always belong to the same
update; ``record.json`` is an export of that record, rewritten after each checkpoint and on
resume. A non-finite training loss (checked after every update, for free: the step returns it)
or non-finite weights, biases or evaluation losses (checked at every evaluation, before the
checkpoint is written) stop the run with ``DivergedError``; the last good checkpoint is kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union, cast

import numpy as np
from numpy.typing import NDArray

from glorot_ext import datasets, init as _init
from glorot_ext._io import atomic_write, ctrl_c_held
from glorot_ext.datasets._common import Split
from glorot_ext.experiments import folder
from glorot_ext.monitor import Monitor
from glorot_ext.network import MLP
from glorot_ext.record import Record, dumps as _dumps, write_json as _write_json
from glorot_ext.training import Batch, Callback

PathLike = Union[str, "os.PathLike[str]"]
Curve = folder.Curve
RunResult = folder.RunResult
#: A run's training batches: Shapeset's endless stream, or minibatches over a finite set.
Source = Union[datasets.ShapesetStream, datasets.MinibatchIterator]
#: A log function taking one line of text (e.g. print).
Log = Callable[[str], object]

_CHECKPOINT, _RESULT, _RECORD = folder.CHECKPOINT, folder.RESULT, folder.RECORD
_CURVE_KEYS = ("n_updates", "train_loss", "val_error", "val_loss", "test_error", "test_loss")


class DivergedError(RuntimeError):
    """Training produced a non-finite loss, weight or bias; the run stopped without saving it.

    Attributes:
        update: the update count at which the non-finite value was seen.
        layer: index l of the lowest layer (``net.weights[l]``, ``W{l}``/``b{l}`` in checkpoints)
            whose weights or biases are non-finite when the divergence is seen, or None when only
            a loss is. A NaN that appears in one layer reaches every layer below it through the
            next backward pass, so this is where the damage was found, not always where it began;
            the message lists every damaged layer.
        what: "loss" (the training loss of that update), "validation loss", "test loss",
            "weights" or "biases".
        run_dir: the run's folder; its checkpoint (if any) is the last good state.
    """

    def __init__(
        self, update: int, layer: Optional[int], what: Optional[str], run_dir: PathLike, damaged: Sequence[int] = ()
    ) -> None:
        self.update, self.layer, self.what, self.run_dir = int(update), layer, what, str(run_dir)
        self.damaged = list(damaged)
        where = f"the {what}" if layer is None else f"the {what} of layer {layer}"
        also = f", and the parameters of layers {', '.join(map(str, damaged))}" if len(damaged) > 1 else ""
        super().__init__(
            f"training diverged at update {self.update}: {where} became non-finite (NaN or inf{also}); "
            f"the last good checkpoint in {self.run_dir} is kept (try a smaller learning rate)"
        )

    def __reduce__(self) -> Tuple[Any, ...]:  # crosses process boundaries intact (reproduce --jobs)
        return DivergedError, (self.update, self.layer, self.what, self.run_dir, self.damaged)


class _Diverged(Exception):
    """Raised by ``_DivergenceGuard`` inside the training loop; ``run`` turns it into DivergedError."""

    def __init__(self, update: int, what: str) -> None:
        super().__init__(update, what)
        self.update, self.what = update, what


class _DivergenceGuard(Callback):
    """Stops training at the first non-finite loss (one ``math.isfinite`` per update)."""

    def on_step_end(self, net: MLP, loss: float) -> None:
        if not math.isfinite(loss):
            raise _Diverged(net.n_updates, "loss")


def _non_finite(net: MLP) -> List[Tuple[int, str]]:
    """[(layer, "weights" | "biases")] of the layers whose parameters hold a NaN or inf, lowest first."""
    found: List[Tuple[int, str]] = []
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        if not np.isfinite(W).all():
            found.append((l, "weights"))
        elif not np.isfinite(b).all():
            found.append((l, "biases"))
    return found


def _diverged(net: MLP, what: Optional[str], out: PathLike) -> DivergedError:
    """DivergedError naming the lowest damaged layer (``what`` when no parameter is damaged)."""
    found = _non_finite(net)
    layer, kind = found[0] if found else (None, what)
    return DivergedError(net.n_updates, layer, kind, out, damaged=[l for l, _ in found])


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run; two runs with equal configs compute the same numbers.

    The paper leaves the learning rate per model unknown (it was picked on validation error);
    ``lr`` is ours to choose. Shapeset trains online on a fresh stream (seed ``seed``), with
    fixed validation and test sets of ``n_eval`` images from seeds 2 and 0 (sizes unknown in the
    paper; 10,000 each as the author's later code). ``monitor_every`` > 0 attaches the paper's
    instruments (``glorot_ext.monitor.Monitor``) on the first ``probe_size`` test examples (the
    paper: 300), measuring at init and every ``monitor_every`` updates. ``softmax_init`` draws the
    softmax layer's weights ("normalized": Eq. 16's bound whatever ``init`` is, as the author's
    code did, where §4.2.1 says "each layer"; only so do our Figs. 7-8 at init match the paper's, see
    ``docs/input_scaling.md``; "same": like the hidden layers).
    """

    dataset: str = "shapeset"
    activation: str = "tanh"
    init: str = "normalized"
    depth: int = 5
    width: int = 1000
    n_updates: int = 10_000
    lr: float = 0.01
    batch_size: int = 10
    eval_every: int = 1_000
    seed: int = 0
    dtype: str = "float32"
    n_eval: int = 10_000
    monitor_every: int = 0
    probe_size: int = 300
    data_dir: Optional[str] = None
    softmax_init: str = "normalized"

    def __post_init__(self) -> None:
        if self.dataset not in datasets.PAPER_DATASETS:
            raise ValueError(f"dataset must be one of {', '.join(datasets.PAPER_DATASETS)}, got {self.dataset!r}")
        for name in (
            "depth",
            "width",
            "n_updates",
            "batch_size",
            "eval_every",
            "n_eval",
            "monitor_every",
            "probe_size",
        ):
            v = getattr(self, name)
            if (
                not isinstance(v, int)
                or isinstance(v, bool)
                or v < (0 if name in ("n_updates", "monitor_every") else 1)
            ):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if isinstance(self.lr, bool) or not (
            isinstance(self.lr, (int, float)) and np.isfinite(self.lr) and self.lr > 0
        ):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.softmax_init != "same":
            _init.get(self.softmax_init)  # a ValueError naming the choices

    def key(self) -> str:
        """A short stable name for the run's folder."""
        digest = hashlib.sha1(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:8]
        return f"{self.dataset}-{self.activation}-{self.init}-d{self.depth}-lr{self.lr:g}-s{self.seed}-{digest}"

    def identity(self) -> Dict[str, Any]:
        """The fields that change the numbers (not n_updates: a longer run extends a shorter one)."""
        d = dataclasses.asdict(self)
        d.pop("n_updates")
        d.pop("data_dir")
        if d["softmax_init"] == "same":
            # the behaviour before the field existed: run folders written then keep their names
            d.pop("softmax_init")
        return d


def _data(config: RunConfig) -> Tuple[Source, Split, Split]:
    """(training batch source, validation (X, y), test (X, y))."""
    dtype = np.dtype(config.dtype)
    if config.dataset == "shapeset":
        sh = datasets.shapeset
        source: Source = datasets.ShapesetStream(config.batch_size, seed=config.seed + 1000, dtype=dtype)
        val = sh.generate(config.n_eval, seed=sh.VALIDATION_SEED, dtype=dtype)
        test = sh.generate(config.n_eval, seed=sh.TEST_SEED, dtype=dtype)
        return source, val, test
    train, val, test = datasets.load(config.dataset, data_dir=config.data_dir, dtype=dtype)
    source = datasets.minibatches(*train, config.batch_size, rng=config.seed)
    return source, val, test


def _restore_source(config: RunConfig, source: Source, state: Mapping[str, Any]) -> Source:
    if config.dataset == "shapeset":
        return datasets.ShapesetStream.from_state(state)
    it = cast(datasets.MinibatchIterator, source)  # every dataset but Shapeset
    return datasets.MinibatchIterator.from_state(state, it.X, it.y)


def _build(config: RunConfig) -> MLP:
    n_in, n_out = datasets.PAPER_DATASETS[config.dataset]
    sizes = [n_in] + [config.width] * config.depth + [n_out]
    net = MLP(
        sizes,
        activation=config.activation,
        init=config.init,
        dtype=np.dtype(config.dtype),
        rng=np.random.default_rng(config.seed),
    )
    if config.softmax_init not in ("same", config.init):
        W = net.weights[-1]
        W[...] = _init.get(config.softmax_init)(*W.shape, rng=np.random.default_rng([config.seed, 1]), dtype=W.dtype)
    return net


def _save(
    path: Path,
    net: MLP,
    source: Source,
    curve: Curve,
    config: RunConfig,
    extra: Mapping[str, Any],
    monitor: Optional[Monitor] = None,
) -> Optional[str]:
    """Writes the whole run state to one .npz atomically: weights, biases, and a JSON ``state``
    (config, n_updates, source position, curve, extra, and the monitor's record and counters).

    Returns the record's JSON text (``Record.to_json``'s, byte for byte) when there is a monitor:
    the record, the bulk of the state, is encoded once for the checkpoint and ``record.json``."""
    state: Dict[str, Any] = {
        "config": config.identity(),
        "n_updates": net.n_updates,
        "source": source.state(),
        "curve": curve,
        "extra": extra,
    }
    record = None
    if monitor is not None:
        record = _dumps(monitor.record.to_dict())
        state["monitor"] = {"record": _RECORD_SLOT, **monitor.state()}
    text = _dumps(state)
    if record is not None:  # the slot's JSON string, replaced by the record's JSON object
        slot = json.dumps(_RECORD_SLOT)
        assert text.count(slot) == 1
        text = text.replace(slot, record)
    arrays: Dict[str, NDArray[Any]] = {f"W{l}": W for l, W in enumerate(net.weights)}
    arrays.update({f"b{l}": b for l, b in enumerate(net.biases)})
    arrays["state"] = np.frombuffer(text.encode(), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **arrays))  # type: ignore[arg-type]  # **arrays vs allow_pickle: bool
    return record


def _export_record(path: Path, text: str) -> None:
    """Writes ``record.json``: the record's JSON text ``_save`` returned, atomically."""
    atomic_write(path, text)


#: Stands for the record in a checkpoint's state while the rest is encoded (no JSON value is this string).
_RECORD_SLOT = "\x00record\x00"


def _is_int(v: object, low: int = 0) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _check_state(
    path: Path, state: Dict[str, Any], net: MLP, config: RunConfig, fresh_source: Optional[Source]
) -> None:
    """Checks every field of a checkpoint's JSON state against the run; ValueError naming the
    file and the field."""

    def bad(field: str, why: str) -> ValueError:
        return ValueError(f"{path}: checkpoint field {field!r} {why}; delete the file or pass restart to start over")

    if not isinstance(state, dict):
        raise bad("state", f"must be a JSON object, got {type(state).__name__}")
    for key in ("config", "n_updates", "source", "curve", "extra"):
        if key not in state:
            raise bad(key, "is missing")
    if state["config"] != config.identity():
        raise ValueError(f"{path} belongs to another configuration: {state['config']}")
    n = state["n_updates"]
    if not _is_int(n):
        raise bad("n_updates", f"must be an integer >= 0, got {n!r}")
    curve = state["curve"]
    if not isinstance(curve, dict) or not set(_CURVE_KEYS) <= set(curve):
        raise bad("curve", f"must hold {list(_CURVE_KEYS)}")
    lengths = {len(v) if isinstance(v, list) else -1 for v in curve.values()}
    if len(lengths) != 1 or lengths == {-1} or lengths == {0}:
        raise bad("curve", "must hold lists of one common, non-zero length")
    steps = curve["n_updates"]
    if not all(_is_int(v) for v in steps) or steps != sorted(set(steps)):
        raise bad("curve.n_updates", f"must be increasing integers, got {steps}")
    if steps[-1] != n:
        raise bad("n_updates", f"is {n} but the curve ends at update {steps[-1]}")
    if not all(v is None or (isinstance(v, (int, float)) and math.isfinite(v)) for v in curve["train_loss"]):
        raise bad("curve.train_loss", "must hold finite numbers or null")
    for key in _CURVE_KEYS[2:]:
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in curve[key]):
            raise bad(f"curve.{key}", "must hold finite numbers")
    if not isinstance(state["extra"], dict):
        raise bad("extra", "must be a JSON object")
    secs = state["extra"].get("train_seconds", 0.0)
    if not (isinstance(secs, (int, float)) and not isinstance(secs, bool) and math.isfinite(secs) and secs >= 0):
        raise bad("extra.train_seconds", f"must be a finite number >= 0, got {secs!r}")
    src = state["source"]
    want = fresh_source.state() if fresh_source is not None else src
    if not isinstance(src, dict) or set(src) != set(want):
        raise bad("source", f"must hold the keys {sorted(want)}")
    for key, v in want.items():
        if key in ("position", "epoch", "index"):
            if not _is_int(src[key]):
                raise bad(f"source.{key}", f"must be an integer >= 0, got {src[key]!r}")
        elif src[key] != v:
            raise bad(f"source.{key}", f"is {src[key]!r}, the run's data source has {v!r}")
    if "monitor" in state:
        mon = state["monitor"]
        if not isinstance(mon, dict) or set(mon) != {"record", "n_measured", "loss_sum", "loss_count"}:
            raise bad("monitor", "must hold record, n_measured, loss_sum and loss_count")
        if not (
            _is_int(mon["n_measured"])
            and _is_int(mon["loss_count"])
            and isinstance(mon["loss_sum"], (int, float))
            and not isinstance(mon["loss_sum"], bool)
        ):
            raise bad("monitor", "counters must be integers >= 0 and loss_sum a number")


def _check_arrays(path: Path, arrays: Mapping[str, NDArray[Any]], net: MLP) -> None:
    """Each W{l}, b{l} present with exactly the network's shape and dtype, and nothing else."""
    want = {}
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        want[f"W{l}"], want[f"b{l}"] = W, b
    for key, ref in want.items():
        if key not in arrays:
            raise ValueError(f"{path}: checkpoint array {key!r} is missing")
        a = arrays[key]
        if a.shape != ref.shape or a.dtype != ref.dtype:
            raise ValueError(
                f"{path}: checkpoint array {key!r} is {a.dtype} {a.shape}, the run's network "
                f"needs {ref.dtype} {ref.shape}"
            )
    extra = sorted(set(arrays) - set(want))
    if extra:
        raise ValueError(f"{path}: checkpoint has arrays {extra} that the run's network does not")


def _load(path: Path, net: MLP, config: RunConfig, fresh_source: Optional[Source] = None) -> Dict[str, Any]:
    """Reads and validates a checkpoint (its data position against ``fresh_source`` when given),
    then copies its weights into ``net``; returns the state dict."""
    try:  # Ctrl-C held: raised inside zipfile it could come out as this "unreadable checkpoint"
        with ctrl_c_held(), np.load(path, allow_pickle=False) as z:
            if "state" not in z.files:
                raise KeyError("no 'state' entry")
            state: Dict[str, Any] = json.loads(bytes(z["state"]).decode())
            arrays = {k: z[k] for k in z.files if k != "state"}
    except Exception as e:  # whatever np.load or json says of a damaged file
        raise ValueError(f"{path}: unreadable checkpoint ({e}); delete it or pass restart to start over") from e
    _check_state(path, state, net, config, fresh_source)
    _check_arrays(path, arrays, net)
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        W[...] = arrays[f"W{l}"]
        b[...] = arrays[f"b{l}"]
    net.n_updates = state["n_updates"]
    return state


def _restore_monitor(path: Path, monitor: Monitor, state: Mapping[str, Any], out: Path) -> None:
    """Puts the checkpoint's record and counters back into ``monitor``; rewrites record.json."""
    mon = state.get("monitor")
    if mon is None:
        raise ValueError(
            f"{path}: checkpoint field 'monitor' is missing but this run has a monitor; "
            "delete the file or pass restart to start over"
        )
    try:
        record = Record.from_dict(mon["record"])
    except Exception as e:
        raise ValueError(f"{path}: checkpoint field 'monitor.record' is not a valid record ({e})") from e
    if record.n_steps and record.steps[-1] > state["n_updates"]:
        raise ValueError(f"{path}: checkpoint field 'monitor.record' has steps past update {state['n_updates']}")
    monitor.load_state(record, mon)
    record.to_json(out / _RECORD)


def checkpoint_progress(config: RunConfig, out_dir: PathLike) -> Optional[Tuple[int, Curve]]:
    """(update count, curve) of the checkpoint of ``config`` in ``out_dir``, or None when there is
    none or it belongs to another configuration (``run`` then says why)."""
    return folder.RunFolder(out_dir).progress(config.identity())


def load_network(config: RunConfig, out_dir: PathLike) -> MLP:
    """The network of ``config`` as its run's last checkpoint in ``out_dir`` left it."""
    ckpt = Path(out_dir) / _CHECKPOINT
    if not ckpt.exists():
        raise FileNotFoundError(f"{ckpt}: no checkpoint of run {config.key()}")
    net = _build(config)
    _load(ckpt, net, config)
    return net


def run(
    config: RunConfig,
    out_dir: PathLike,
    *,
    resume: bool = True,
    callbacks: Iterable[Callback] = (),
    progress: bool = False,
    log: Optional[Log] = None,
    evidence: Optional[Callable[[MLP, Split], Mapping[str, Any]]] = None,
) -> Tuple[RunResult, MLP]:
    """Trains one configuration, evaluating and checkpointing every ``eval_every`` updates.

    Args:
        config: the ``RunConfig``.
        out_dir: folder for this run's checkpoint and result (created).
        resume: continue from a checkpoint in ``out_dir`` when there is one.
        callbacks: ``glorot_ext.Callback`` objects (e.g. a monitor) passed to training.
        progress: tqdm progress bar where tqdm is installed.
        log: a function taking one line of text (e.g. print), or None.
        evidence: a function of the final network and the test set whose JSON-able answer the
            result keeps as ``evidence`` (``claims.run_evidence``: what a report needs of the
            network, measured while it is in memory), or None.

    Returns:
        dict with the config, the curve (updates, validation/test error and loss, train loss),
        the final test error, the test error at the best validation error, and timings.
    """
    profile = _Profile()
    out = Path(out_dir)
    folder.RunFolder(out).prepare()
    ckpt = out / _CHECKPOINT
    net = _build(config)
    with profile.part("data"):
        source, val, test = _data(config)
    curve: Curve = {
        "n_updates": [],
        "train_loss": [],
        "val_error": [],
        "val_loss": [],
        "test_error": [],
        "test_loss": [],
    }
    elapsed = 0.0
    monitor = _monitor(config, test) if config.monitor_every else None
    if resume and ckpt.exists():
        with profile.part("checkpoint"):
            state = _load(ckpt, net, config, source)
        try:
            source = _restore_source(config, source, state["source"])
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{ckpt}: checkpoint field 'source' cannot be restored ({e})") from e
        curve = state["curve"]
        elapsed = float(state["extra"].get("train_seconds", 0.0))
        profile.resume(state["extra"].get("profile", {}))
        if net.n_updates > config.n_updates:  # a longer run of the same configuration: read, don't train
            res = _earlier_result(ckpt, config, curve, elapsed, net, out, monitor, log, profile.parts)
            if evidence is not None:
                res["evidence"] = dict(evidence(net, test))
            return res, net
        if monitor is not None:
            with profile.part("checkpoint"):
                _restore_monitor(ckpt, monitor, state, out)
        if log:
            log(f"resumed {config.key()} at update {net.n_updates}")
    bar = _ProgressBar(config, net.n_updates) if progress else None
    if bar is not None and bar._bar is None:  # no tqdm: keep the log lines instead of showing nothing
        bar = None
    if not curve["n_updates"]:
        with profile.part("evaluate"):
            _evaluate(net, val, test, curve, None)  # no training loss before the first update
            _check_finite(net, config, curve, out, bar)
        if monitor is not None:
            with profile.part("monitor"):
                monitor.measure(net)
    while net.n_updates < config.n_updates:
        k = min(config.eval_every, config.n_updates - net.n_updates)
        t0 = time.perf_counter()
        measured = _monitor_seconds(monitor)
        timed = _TimedSource(source)
        try:
            history = net.fit_stream(
                timed,
                k,
                config.lr,
                callbacks=[_DivergenceGuard()] + list(callbacks) + [c for c in (monitor, bar) if c is not None],
            )
        except _Diverged as d:
            raise _stop(_diverged(net, d.what, out), config, curve, out, bar) from None
        t1 = time.perf_counter()
        elapsed += t1 - t0
        # The chunk's time: inside sgd_step, drawing batches, measuring; the rest (the loop,
        # callbacks, the progress bar) is "other", settled by profile.settle().
        profile.add("step", float(sum(history.step_seconds)))
        profile.add("data", timed.seconds)
        profile.add("monitor", _monitor_seconds(monitor) - measured)
        with profile.part("evaluate"):
            _evaluate(net, val, test, curve, history.train_loss[-1])
            _check_finite(net, config, curve, out, bar)
        with profile.part("checkpoint"):
            # The checkpoint holds the record: one file, one state; record.json is its export.
            record = _save(
                ckpt, net, source, curve, config, {"train_seconds": elapsed, "profile": profile.settle()}, monitor
            )
            if record is not None:
                _export_record(out / _RECORD, record)
        if bar is not None:
            bar.show(curve)
        elif log:  # the bar shows the errors when there is one
            log(
                f"{config.key()}: {net.n_updates} updates, val error {100 * curve['val_error'][-1]:.2f}%, "
                f"test error {100 * curve['test_error'][-1]:.2f}%"
            )
    if bar is not None:
        bar.close()
    result = _result(config, curve, elapsed, net.n_updates, out, monitor, profile.settle())
    if evidence is not None:
        result["evidence"] = dict(evidence(net, test))
    if log and sum(profile.parts.values()) > 0:
        log(f"{config.key()}: time " + profile_line(profile.parts))
    _write_json(out / _RESULT, result, indent=1)
    # In memory only: a result read back from result.json later was not timed by that later call.
    result["profile_this_call"] = profile.this_call()
    return result, net


def _result(
    config: RunConfig,
    curve: Curve,
    elapsed: float,
    n_updates: int,
    out: Path,
    monitor: Optional[Monitor],
    profile: Dict[str, float],
) -> RunResult:
    best = int(np.argmin(curve["val_error"]))
    return {
        "status": "ok",
        "config": dataclasses.asdict(config),
        "curve": curve,
        "final_test_error": curve["test_error"][-1],
        "best_val_error": curve["val_error"][best],
        "test_error_at_best_val": curve["test_error"][best],
        "best_val_updates": curve["n_updates"][best],
        "train_seconds": elapsed,
        "ms_per_update": 1000 * elapsed / max(n_updates, 1),
        "record": str(out / _RECORD) if monitor is not None else None,
        "profile": profile,
    }


def _earlier_result(
    ckpt: Path,
    config: RunConfig,
    curve: Curve,
    elapsed: float,
    net: MLP,
    out: Path,
    monitor: Optional[Monitor],
    log: Optional[Log],
    profile: Dict[str, float],
) -> RunResult:
    """The result at update ``config.n_updates`` of a run whose checkpoint is further on, read
    from its curve; it says so in ``result["note"]`` (and ``log``), with ``checkpoint_updates``.
    Nothing is trained or written. ValueError when the curve has no evaluation at that update."""
    n, m = net.n_updates, config.n_updates
    if m not in curve["n_updates"]:
        raise ValueError(
            f"{ckpt}: the checkpoint is at update {n}, past the {m} updates asked for, and its curve "
            f"has no evaluation at update {m}; ask for at least {n} to continue it, or pass restart "
            f"(--restart) to train {m} updates from scratch"
        )
    note = (
        f"{ckpt}: the checkpoint is at update {n}, past the {m} updates asked for: the result is read from "
        f"its curve up to update {m} and the network returned is the one at update {n}; nothing was trained "
        f"(ask for at least {n} to continue the run, or restart to train {m} from scratch)"
    )
    if log:
        log(note)
    i = curve["n_updates"].index(m) + 1
    result = _result(config, {k: v[:i] for k, v in curve.items()}, elapsed, n, out, monitor, profile)
    result["checkpoint_updates"], result["note"] = n, note
    return result


#: Where a run's wall time goes: inside the SGD steps (``MLP.sgd_step``), drawing minibatches and
#: making the validation and test sets, the Monitor's measurements, evaluating validation and test
#: error, reading and writing checkpoints, and everything else (building the network, the training
#: loop's own Python, callbacks, the progress bar). The parts add up to the run's wall time.
PROFILE_PARTS = ("step", "data", "monitor", "evaluate", "checkpoint", "other")


class _Profile:
    """A run's time profile: the parts measured as they happen, "other" the rest of the wall time
    since the run (or this session of a resumed run) started."""

    def __init__(self) -> None:
        self.parts = dict.fromkeys(PROFILE_PARTS, 0.0)
        self._start = time.perf_counter()
        self._before = dict(self.parts)  # what earlier sessions of the run measured

    def resume(self, saved: object) -> None:
        """Adds the profile of the earlier sessions a checkpoint saved."""
        for k in PROFILE_PARTS:
            v = saved.get(k, 0.0) if isinstance(saved, dict) else 0.0
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0:
                self.parts[k] += float(v)
                self._before[k] += float(v)

    def add(self, part: str, seconds: float) -> None:
        self.parts[part] += max(float(seconds), 0.0)

    @contextlib.contextmanager
    def part(self, name: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - t)

    def settle(self) -> Dict[str, float]:
        """Sets "other" so that the parts add up to the wall time so far; returns the parts."""
        wall = time.perf_counter() - self._start
        measured = sum(self.parts[k] - self._before[k] for k in PROFILE_PARTS if k != "other")
        self.parts["other"] = self._before["other"] + max(wall - measured, 0.0)
        return dict(self.parts)

    def this_call(self) -> Dict[str, float]:
        """The parts of this session alone as of the last ``settle``, without what a checkpoint carried."""
        return {k: self.parts[k] - self._before[k] for k in PROFILE_PARTS}


def sum_profiles(profiles: Iterable[Mapping[str, float]]) -> Dict[str, float]:
    """The part-by-part sum of several runs' time profiles (missing parts count 0)."""
    profiles = list(profiles)
    return {k: float(sum(p.get(k, 0.0) for p in profiles)) for k in PROFILE_PARTS}


def profile_line(profile: Mapping[str, float]) -> str:
    """'step 91% (612 s), data 2% (...), ..., other 1% (5 s) of 673 s' for a run's time profile."""
    total = sum(profile.values()) or 1.0
    parts = ", ".join(f"{k} {100 * v / total:.0f}% ({v:,.1f} s)" for k, v in profile.items())
    return f"{parts} of {sum(profile.values()):,.1f} s"


class _TimedSource:
    """A batch source that counts the time spent drawing batches."""

    def __init__(self, source: Union[Iterable[Batch], Callable[[], Batch]]) -> None:
        self._next: Callable[[], Batch]
        self._next = source if callable(source) else iter(source).__next__
        self.seconds = 0.0

    def __call__(self) -> Batch:
        t = time.perf_counter()
        batch = self._next()
        self.seconds += time.perf_counter() - t
        return batch


def _monitor_seconds(monitor: Optional[Monitor]) -> float:
    if monitor is None or "measure_seconds" not in monitor.record.globals:
        return 0.0
    return float(np.nansum(monitor.record.global_("measure_seconds")))


def _check_finite(net: MLP, config: RunConfig, curve: Curve, out: Path, bar: Optional[_ProgressBar]) -> None:
    """Stops the run (``_stop``) if a weight, bias or the latest validation/test loss is not finite."""
    if _non_finite(net):
        raise _stop(_diverged(net, None, out), config, curve, out, bar)
    for key, what in (("val_loss", "validation loss"), ("test_loss", "test loss")):
        if not math.isfinite(curve[key][-1]):
            raise _stop(DivergedError(net.n_updates, None, what, out), config, curve, out, bar)


def _stop(err: DivergedError, config: RunConfig, curve: Curve, out: Path, bar: Optional[_ProgressBar]) -> DivergedError:
    """Writes result.json of a diverged run and closes the bar; returns ``err`` to raise. The
    checkpoint is left as it was: the last state whose every number was finite."""
    if bar is not None:
        bar.close()
    _write_json(
        out / _RESULT,
        {
            "status": "diverged",
            "update": err.update,
            "layer": err.layer,
            "what": err.what,
            "run_dir": err.run_dir,
            "message": str(err),
            "config": dataclasses.asdict(config),
            "curve": curve,
        },
        indent=1,
    )
    return err


class _ProgressBar(Callback):
    """One tqdm bar for a whole run (across its evaluation chunks), with the latest errors."""

    def __init__(self, config: RunConfig, start: int) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._bar: Any = None  # a tqdm bar (untyped)
            return
        self._bar = tqdm(
            total=config.n_updates,
            initial=start,
            desc=f"{config.activation} {config.init}",
            unit="upd",
            mininterval=0.5,
            leave=True,
        )

    def on_step_end(self, net: MLP, loss: float) -> None:
        if self._bar is not None:
            self._bar.update()

    def show(self, curve: Curve) -> None:
        if self._bar is not None:
            self._bar.set_postfix(val_err=f"{100 * curve['val_error'][-1]:.1f}%", refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _monitor(config: RunConfig, test: Split) -> Monitor:
    n = min(config.probe_size, test[0].shape[0])
    meta = {"dataset": config.dataset, "seed": config.seed, "lr": config.lr, "run": config.key()}
    # Jacobian spectra are the costly part of a measurement (8 times the rest of it): at init (where
    # §4.2.2 reports them) and then at most once per 20,000 updates, the paper's "epoch".
    jacobian_every = max(1, 20_000 // config.monitor_every)
    # measure_at_end off: a run trains in chunks of eval_every updates, and its record must hold the
    # same steps (multiples of monitor_every) however often it was stopped and resumed.
    return Monitor(
        (test[0][:n], test[1][:n]),
        every=config.monitor_every,
        jacobian_every=jacobian_every,
        measure_at_end=False,
        meta=meta,
    )


def _evaluate(net: MLP, val: Split, test: Split, curve: Curve, train_loss: Optional[float]) -> None:
    vl, ve = net.evaluate(*val)
    tl, te = net.evaluate(*test)
    curve["n_updates"].append(net.n_updates)
    curve["train_loss"].append(train_loss)
    curve["val_error"].append(ve)
    curve["val_loss"].append(vl)
    curve["test_error"].append(te)
    curve["test_loss"].append(tl)
