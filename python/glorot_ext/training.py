"""Training loops: minibatch SGD over a finite set (``fit``) or an endless stream (``fit_stream``).

Each update is one native call (``MLP.sgd_step``); the loops only pick batches, call
callbacks and keep a ``History``. All training state is explicit: the network's weights and
``n_updates``, the shuffling Generator, and the batch source's own position.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from glorot_ext import _validation
from glorot_ext.datasets import MinibatchIterator

if TYPE_CHECKING:
    from glorot_ext._validation import RngLike
    from glorot_ext.network import MLP

Batch = Tuple[NDArray[Any], NDArray[Any]]


class Callback:
    """Hooks called by ``fit`` and ``fit_stream``; subclass and override what you need."""

    def on_train_begin(self, net: MLP) -> None:
        """Before the first update."""

    def on_step_end(self, net: MLP, loss: float) -> None:
        """After each update; ``net.n_updates`` counts it already."""

    def on_epoch_end(self, net: MLP, epoch: int, history: History) -> None:
        """After each epoch of ``fit`` (or each evaluation point of ``fit_stream``)."""

    def on_train_end(self, net: MLP) -> None:
        """After the last update."""


@dataclass
class History:
    """What a training run recorded, one entry per epoch (fit) or evaluation point (fit_stream)."""

    n_updates: List[int] = field(default_factory=list)
    train_loss: List[float] = field(default_factory=list)  # mean batch cost since the previous entry
    train_error: List[float] = field(default_factory=list)  # mean batch error rate since the previous entry
    val_loss: List[float] = field(default_factory=list)
    val_error: List[float] = field(default_factory=list)
    step_seconds: List[float] = field(default_factory=list)  # wall time inside sgd_step since the previous entry

    def as_dict(self) -> Dict[str, List[Any]]:
        return {k: list(v) for k, v in self.__dict__.items()}


def _progress(total: int, enabled: bool, desc: str) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="upd", mininterval=0.5)


def _record(
    history: History,
    net: MLP,
    loss_sum: float,
    err_sum: float,
    count: int,
    validation: Optional[Tuple[ArrayLike, ArrayLike]],
    step_seconds: float,
) -> None:
    history.n_updates.append(net.n_updates)
    history.step_seconds.append(step_seconds)
    history.train_loss.append(loss_sum / max(count, 1))
    history.train_error.append(err_sum / max(count, 1))
    if validation is not None:
        vl, ve = net.evaluate(*validation)
        history.val_loss.append(vl)
        history.val_error.append(ve)


def fit(
    net: MLP,
    X: ArrayLike,
    y: ArrayLike,
    *,
    epochs: int,
    lr: float,
    batch_size: int = 10,
    validation: Optional[Tuple[ArrayLike, ArrayLike]] = None,
    rng: RngLike = None,
    shuffle: bool = True,
    callbacks: Iterable[Callback] = (),
    progress: bool = False,
) -> History:
    """Plain minibatch SGD over (X, y), reshuffled every epoch, θ ← θ - ε·g as in the paper.

    Args:
        net: an ``MLP``.
        X: (n, n_inputs) array-like (converted once to the network's dtype unless it already is
            a C-contiguous array of it); y: (n,) integer labels.
        epochs: passes over the data.
        lr: learning rate ε > 0.
        batch_size: examples per update (the paper: 10). A last partial batch is used too.
        validation: optional (X_val, y_val), evaluated after every epoch.
        rng: numpy Generator (or int seed) for the shuffling (default: unseeded); the order of
            epoch e depends only on one seed drawn from it and e (``datasets.MinibatchIterator``).
        shuffle: False visits the examples in their stored order every epoch.
        callbacks: ``Callback`` instances.
        progress: show a tqdm bar when tqdm is installed.

    Returns:
        A ``History`` with one entry per epoch.
    """

    lr = _validation.learning_rate(lr, "fit")
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be an integer >= 0, got {epochs!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    X, y = (
        _validation.inputs(X, net.dtype, "fit"),
        _validation.labels(y, "fit"),
    )  # array-likes: one copy, as MLP's methods
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y must be a 1-D array with one label per row of X ({X.shape[0]}), got shape {getattr(y, 'shape', None)}"
        )
    if X.shape[0] == 0:
        raise ValueError("fit: empty training set")
    batches = MinibatchIterator(X, y, batch_size, rng=np.random.default_rng() if rng is None else rng, shuffle=shuffle)
    history = History()
    bar = _progress(epochs * batches.batches_per_epoch, progress, "fit")
    for cb in callbacks:
        cb.on_train_begin(net)
    for epoch in range(epochs):
        loss_sum = err_sum = step_s = 0.0
        for Xb, yb in batches.epoch_batches():
            t0 = time.perf_counter()
            loss, errors = net.sgd_step(Xb, yb, lr)
            step_s += time.perf_counter() - t0
            loss_sum += loss
            err_sum += errors / yb.shape[0]
            for cb in callbacks:
                cb.on_step_end(net, loss)
            if bar is not None:
                bar.update()
        _record(history, net, loss_sum, err_sum, batches.batches_per_epoch, validation, step_s)
        for cb in callbacks:
            cb.on_epoch_end(net, epoch, history)
    for cb in callbacks:
        cb.on_train_end(net)
    if bar is not None:
        bar.close()
    return history


def fit_stream(
    net: MLP,
    batch_source: Union[Iterable[Batch], Callable[[], Batch]],
    n_updates: int,
    lr: float,
    *,
    eval_every: Optional[int] = None,
    validation: Optional[Tuple[ArrayLike, ArrayLike]] = None,
    callbacks: Iterable[Callback] = (),
    progress: bool = False,
) -> History:
    """SGD on an endless source of minibatches (the paper's online Shapeset training).

    Args:
        net: an ``MLP``.
        batch_source: an iterator of (X, y) minibatches, or a callable returning the next one.
        n_updates: number of updates to make.
        lr: learning rate ε > 0.
        eval_every: record a ``History`` entry every this many updates (default: only at the end).
        validation: optional (X_val, y_val) evaluated at each entry.
        callbacks: ``Callback`` instances.
        progress: show a tqdm bar when tqdm is installed.

    Returns:
        A ``History``.
    """

    lr = _validation.learning_rate(lr, "fit_stream")
    if not isinstance(n_updates, (int, np.integer)) or n_updates < 0:
        raise ValueError(f"n_updates must be an integer >= 0, got {n_updates!r}")
    if eval_every is not None and (not isinstance(eval_every, (int, np.integer)) or eval_every <= 0):
        raise ValueError(f"eval_every must be a positive integer, got {eval_every!r}")
    next_batch = batch_source if callable(batch_source) else iter(batch_source).__next__
    every = eval_every or max(n_updates, 1)
    history = History()
    bar = _progress(n_updates, progress, "fit_stream")
    for cb in callbacks:
        cb.on_train_begin(net)
    loss_sum = err_sum = step_s = 0.0
    count = 0
    clock = time.perf_counter
    for _ in range(n_updates):
        Xb, yb = next_batch()
        t0 = clock()
        loss, errors = net.sgd_step(Xb, yb, lr)
        step_s += clock() - t0
        loss_sum += loss
        err_sum += errors / Xb.shape[0]
        count += 1
        for cb in callbacks:
            cb.on_step_end(net, loss)
        if bar is not None:
            bar.update()
        if count == every:
            _record(history, net, loss_sum, err_sum, count, validation, step_s)
            for cb in callbacks:
                cb.on_epoch_end(net, len(history.n_updates) - 1, history)
            loss_sum = err_sum = step_s = 0.0
            count = 0
    if count:
        _record(history, net, loss_sum, err_sum, count, validation, step_s)
    for cb in callbacks:
        cb.on_train_end(net)
    if bar is not None:
        bar.close()
    return history
