"""One training run of the paper's protocol, checkpointed atomically so it can always resume.

A run trains a deep MLP with plain SGD on minibatches of 10 and, every ``eval_every`` updates,
records validation and test error and writes a checkpoint: weights, update count, the data
source's position and the curve so far. Killing the process loses at most the updates since
the last checkpoint; ``run(..., resume=True)`` continues bit-exactly (same weights, same batches)
as if it had never stopped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Optional

import numpy as np

from glorot_ext import datasets, init as _init
from glorot_ext.experiments.paper import DATASET_SHAPES
from glorot_ext.monitor import Monitor
from glorot_ext.network import MLP
from glorot_ext.record import Record
from glorot_ext.training import Callback

_CHECKPOINT = "checkpoint.npz"
_RESULT = "result.json"
_RECORD = "record.json"


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
    code did, PAPER.md §10.6; only so do our Figs. 7-8 at init match the paper's, see
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

    def __post_init__(self):
        if self.dataset not in ("shapeset", "mnist", "cifar10"):
            raise ValueError(f"dataset must be shapeset, mnist or cifar10, got {self.dataset!r}")
        for name in ("depth", "width", "n_updates", "batch_size", "eval_every", "n_eval", "monitor_every",
                     "probe_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < (0 if name in ("n_updates", "monitor_every") else 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not (isinstance(self.lr, (int, float)) and np.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.softmax_init != "same":
            _init.get(self.softmax_init)  # a ValueError naming the choices

    def key(self):
        """A short stable name for the run's folder."""
        digest = hashlib.sha1(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:8]
        return f"{self.dataset}-{self.activation}-{self.init}-d{self.depth}-lr{self.lr:g}-s{self.seed}-{digest}"

    def identity(self):
        """The fields that change the numbers (not n_updates: a longer run extends a shorter one)."""
        d = dataclasses.asdict(self)
        d.pop("n_updates")
        d.pop("data_dir")
        return d


def _atomic_write(path: Path, write):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _data(config):
    """(training batch source, validation (X, y), test (X, y))."""
    dtype = np.dtype(config.dtype)
    if config.dataset == "shapeset":
        sh = datasets.shapeset
        source = datasets.ShapesetStream(config.batch_size, seed=config.seed + 1000, dtype=dtype)
        val = sh.generate(config.n_eval, seed=sh.VALIDATION_SEED, dtype=dtype)
        test = sh.generate(config.n_eval, seed=sh.TEST_SEED, dtype=dtype)
        return source, val, test
    train, val, test = datasets.load(config.dataset, data_dir=config.data_dir, dtype=dtype)
    source = datasets.minibatches(*train, config.batch_size, rng=config.seed)
    return source, val, test


def _restore_source(config, source, state):
    if config.dataset == "shapeset":
        return datasets.ShapesetStream.from_state(state)
    return datasets.MinibatchIterator.from_state(state, source.X, source.y)


def _build(config):
    n_in, n_out = DATASET_SHAPES[config.dataset]
    sizes = [n_in] + [config.width] * config.depth + [n_out]
    net = MLP(sizes, activation=config.activation, init=config.init, dtype=np.dtype(config.dtype),
              rng=np.random.default_rng(config.seed))
    if config.softmax_init not in ("same", config.init):
        W = net.weights[-1]
        W[...] = _init.get(config.softmax_init)(*W.shape, rng=np.random.default_rng([config.seed, 1]), dtype=W.dtype)
    return net


def _save(path, net, source, curve, config, extra):
    state = {"config": config.identity(), "n_updates": net.n_updates, "source": source.state(), "curve": curve,
             "extra": extra}
    arrays = {f"W{l}": W for l, W in enumerate(net.weights)}
    arrays.update({f"b{l}": b for l, b in enumerate(net.biases)})
    arrays["state"] = np.frombuffer(json.dumps(state).encode(), dtype=np.uint8)
    _atomic_write(path, lambda f: np.savez(f, **arrays))


def _load(path, net, config):
    try:
        with np.load(path) as z:
            state = json.loads(bytes(z["state"]).decode())
            arrays = {k: z[k] for k in z.files if k != "state"}
    except Exception as e:  # whatever np.load or json says of a damaged file
        raise ValueError(f"{path}: unreadable checkpoint ({e}); delete it or pass restart to start over") from e
    if state.get("config") != config.identity():
        raise ValueError(f"{path} belongs to another configuration: {state.get('config')}")
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        W[...] = arrays[f"W{l}"]
        b[...] = arrays[f"b{l}"]
    net.n_updates = int(state["n_updates"])
    return state


def run(config: RunConfig, out_dir, *, resume=True, callbacks=(), progress=False, log=None):
    """Trains one configuration, evaluating and checkpointing every ``eval_every`` updates.

    Args:
        config: the ``RunConfig``.
        out_dir: folder for this run's checkpoint and result (created).
        resume: continue from a checkpoint in ``out_dir`` when there is one.
        callbacks: ``glorot_ext.Callback`` objects (e.g. a monitor) passed to training.
        progress: tqdm progress bar where tqdm is installed.
        log: a function taking one line of text (e.g. print), or None.

    Returns:
        dict with the config, the curve (updates, validation/test error and loss, train loss),
        the final test error, the test error at the best validation error, and timings.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / _CHECKPOINT
    net = _build(config)
    source, val, test = _data(config)
    curve = {"n_updates": [], "train_loss": [], "val_error": [], "val_loss": [], "test_error": [], "test_loss": []}
    elapsed = 0.0
    monitor = _monitor(config, test) if config.monitor_every else None
    if resume and ckpt.exists():
        state = _load(ckpt, net, config)
        source = _restore_source(config, source, state["source"])
        curve = state["curve"]
        elapsed = float(state["extra"].get("train_seconds", 0.0))
        if monitor is not None and (out / _RECORD).exists():
            monitor.record = Record.from_json(out / _RECORD)
        if log:
            log(f"resumed {config.key()} at update {net.n_updates}")
    bar = _ProgressBar(config, net.n_updates) if progress else None
    if not curve["n_updates"]:
        _evaluate(net, val, test, curve, None)  # no training loss before the first update
        if monitor is not None:
            monitor.measure(net)
    while net.n_updates < config.n_updates:
        k = min(config.eval_every, config.n_updates - net.n_updates)
        t0 = time.perf_counter()
        history = net.fit_stream(source, k, config.lr,
                                 callbacks=list(callbacks) + [c for c in (monitor, bar) if c is not None])
        elapsed += time.perf_counter() - t0
        _evaluate(net, val, test, curve, history.train_loss[-1])
        if monitor is not None:  # the record first: a checkpoint never points past its record
            monitor.record.to_json(out / _RECORD)
        _save(ckpt, net, source, curve, config, {"train_seconds": elapsed})
        if bar is not None:
            bar.show(curve)
        elif log:  # the bar shows the errors when there is one
            log(f"{config.key()}: {net.n_updates} updates, val error {100 * curve['val_error'][-1]:.2f}%, "
                f"test error {100 * curve['test_error'][-1]:.2f}%")
    if bar is not None:
        bar.close()
    best = int(np.argmin(curve["val_error"]))
    result = {
        "config": dataclasses.asdict(config),
        "curve": curve,
        "final_test_error": curve["test_error"][-1],
        "best_val_error": curve["val_error"][best],
        "test_error_at_best_val": curve["test_error"][best],
        "best_val_updates": curve["n_updates"][best],
        "train_seconds": elapsed,
        "ms_per_update": 1000 * elapsed / max(net.n_updates, 1),
        "record": str(out / _RECORD) if monitor is not None else None,
    }
    _atomic_write(out / _RESULT, lambda f: f.write(json.dumps(result, indent=1).encode()))
    return result, net


class _ProgressBar(Callback):
    """One tqdm bar for a whole run (across its evaluation chunks), with the latest errors."""

    def __init__(self, config, start):
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._bar = None
            return
        self._bar = tqdm(total=config.n_updates, initial=start, desc=f"{config.activation} {config.init}",
                         unit="upd", mininterval=0.5, leave=True)

    def on_step_end(self, net, loss):
        if self._bar is not None:
            self._bar.update()

    def show(self, curve):
        if self._bar is not None:
            self._bar.set_postfix(val_err=f"{100 * curve['val_error'][-1]:.1f}%", refresh=False)

    def close(self):
        if self._bar is not None:
            self._bar.close()


def _monitor(config, test):
    n = min(config.probe_size, test[0].shape[0])
    meta = {"dataset": config.dataset, "seed": config.seed, "lr": config.lr, "run": config.key()}
    # Jacobian spectra are the costly part of a measurement: at most one per 10,000 updates.
    jacobian_every = max(1, 10_000 // config.monitor_every)
    return Monitor((test[0][:n], test[1][:n]), every=config.monitor_every, jacobian_every=jacobian_every, meta=meta)


def _evaluate(net, val, test, curve, train_loss):
    vl, ve = net.evaluate(*val)
    tl, te = net.evaluate(*test)
    curve["n_updates"].append(net.n_updates)
    curve["train_loss"].append(train_loss)
    curve["val_error"].append(ve)
    curve["val_loss"].append(vl)
    curve["test_error"].append(te)
    curve["test_loss"].append(tl)
