"""A ``Record`` as TensorBoard event files, so the paper's instruments show in TensorBoard.

Needs the optional ``tensorboardX`` writer (``pip install 'glorot_ext[tensorboard]'``); nothing
else in the package imports it. What is written, at each measured update count (``record.steps``):

* ``<scalar>/layer<i>``: every per-layer scalar (``act_mean``, ``act_std``, ``bp_std``, ``wg_std``,
  ``jac_mean``, ...), one curve per hidden layer (the paper's layer numbering, from 1);
* ``run/<global>``: run-level scalars (``val_error``, ``test_error``, ``probe_loss``, ...);
* ``<hist>/layer<i>``: the histograms of activations (``act``), back-propagated gradients (``bp``),
  weight gradients (``wg``) and Jacobian singular values (``jac``) on their fixed bins, the
  masses as bucket counts (each measurement sums to 1).

NaN (not measured at that step) and empty histograms are skipped.

    >>> from glorot_ext.tensorboard import write_record
    >>> write_record(Record.from_json("runs/train/<run>/record.json"), "runs/tb")
    $ tensorboard --logdir runs/tb
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import List, Protocol, Union

import numpy as np
from numpy.typing import NDArray

from glorot_ext.record import Record


class _Writer(Protocol):
    """The part of ``tensorboardX.SummaryWriter`` used here."""

    def add_scalar(self, tag: str, scalar_value: float, global_step: int) -> object: ...

    def add_histogram_raw(
        self,
        tag: str,
        min: float,
        max: float,
        num: float,
        sum: float,
        sum_squares: float,
        bucket_limits: List[float],
        bucket_counts: List[float],
        global_step: int,
    ) -> object: ...

    def close(self) -> object: ...


def _writer(logdir: Path) -> _Writer:
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("TensorBoard export needs tensorboardX: pip install 'glorot_ext[tensorboard]'") from None
    writer: _Writer = SummaryWriter(logdir=str(logdir))
    return writer


def write_record(record: Record, logdir: Union[str, os.PathLike[str]]) -> Path:
    """Writes every measurement of ``record`` as TensorBoard events under ``logdir`` (created).

    Returns:
        ``logdir`` as a ``Path``; point ``tensorboard --logdir`` at it or at its parent.
    """
    logdir = Path(logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    writer = _writer(logdir)
    try:
        for name in record.scalars:
            values = record.scalar(name)
            for k, step in enumerate(record.steps):
                for layer, v in enumerate(values[k], start=1):
                    if math.isfinite(v):
                        writer.add_scalar(f"{name}/layer{layer}", float(v), global_step=int(step))
        for name in record.globals:
            for step, v in zip(record.steps, record.global_(name)):
                if math.isfinite(v):
                    writer.add_scalar(f"run/{name}", float(v), global_step=int(step))
        for name in record.hists:
            edges = np.asarray(record.edges(name), dtype=np.float64)
            masses = record.hist(name)
            for k, step in enumerate(record.steps):
                for layer, mass in enumerate(masses[k], start=1):
                    _histogram(writer, f"{name}/layer{layer}", edges, mass, int(step))
    finally:
        writer.close()
    return logdir


def _histogram(writer: _Writer, tag: str, edges: NDArray[np.float64], mass: NDArray[np.float64], step: int) -> None:
    filled = np.flatnonzero(mass > 0)
    if filled.size == 0:
        return
    lo, hi = edges[filled[0]], edges[filled[-1] + 1]
    # infinite outer edges (overflow bins) are drawn at the last finite edge
    finite = edges[np.isfinite(edges)]
    lo = float(lo) if math.isfinite(lo) else float(finite[0])
    hi = float(hi) if math.isfinite(hi) else float(finite[-1])
    right = np.clip(edges[1:], finite[0], finite[-1])
    left = np.clip(edges[:-1], finite[0], finite[-1])
    centers = (left + right) / 2
    writer.add_histogram_raw(
        tag,
        min=lo,
        max=hi,
        num=float(mass.sum()),
        sum=float(mass @ centers),
        sum_squares=float(mass @ centers**2),
        bucket_limits=right.tolist(),
        bucket_counts=mass.tolist(),
        global_step=step,
    )
