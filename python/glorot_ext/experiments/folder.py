"""A run's folder: the one owner of its files' names, its progress, its result and its log.

Layout of a folder (every name is defined here and nowhere else)::

    checkpoint.npz   weights, biases and the JSON state (experiments.checkpoint)
    result.json      the run's result once it finished or diverged
    record.json      the Monitor's record, an export of the checkpoint's copy
    run.log          one line per attempt, resume, divergence and restart

Reading a folder's progress parses the checkpoint's state, whose bulk is the record; a folder
remembers what it read against the file's size and modification time, so the grid's progress bar
and the executors ask as often as they like and a checkpoint is parsed once per write.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, TypedDict, Union, cast

from glorot_ext._io import atomic_write

PathLike = Union[str, "os.PathLike[str]"]
#: A run's curve: per evaluation, n_updates, train_loss (None before the first update), val/test error and loss.
Curve = Dict[str, List[Any]]


class RunResult(TypedDict, total=False):
    """A run's ``result.json``, as ``run`` writes it and every reader relies on."""

    status: str  # "ok", or "diverged" (then update, layer, what, run_dir, message say where)
    config: Dict[str, Any]  # the RunConfig's fields
    curve: Curve
    final_test_error: float
    best_val_error: float
    test_error_at_best_val: float
    best_val_updates: int
    train_seconds: float
    ms_per_update: float
    record: Optional[str]  # record.json's path when the run was monitored
    profile: Dict[str, float]  # run.PROFILE_PARTS -> seconds
    evidence: Dict[str, Any]  # claims.run_evidence of the final network, for a report's chosen runs
    checkpoint_updates: int  # a run asked for fewer updates than its checkpoint holds (with note)
    note: str
    update: int
    layer: Optional[int]
    what: Optional[str]
    run_dir: str
    message: str
    resumed_from: int  # in memory only: the update the attempt started at (executors)
    profile_this_call: Dict[str, float]  # in memory only: this call's share of profile


CHECKPOINT = "checkpoint.npz"
RESULT = "result.json"
RECORD = "record.json"
LOG = "run.log"
#: What a restart removes: everything but the log, which keeps the folder's history.
STATE_FILES = (CHECKPOINT, RESULT, RECORD)

#: (path, inode, size, mtime_ns) -> the checkpoint's config identity, n_updates and curve.
_PROGRESS_CACHE: Dict[Tuple[str, int, int, int], Optional[Tuple[Any, Any, Any]]] = {}


class RunFolder:
    """The folder of one run (it need not exist yet)."""

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self.checkpoint, self.result, self.record, self.log = (self.path / n for n in (CHECKPOINT, RESULT, RECORD, LOG))

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    def prepare(self) -> None:
        """Creates the folder and deletes the temporary files a killed run left in it."""
        self.path.mkdir(parents=True, exist_ok=True)
        for name in STATE_FILES:
            for tmp in self.path.glob(f".{name}.*.tmp"):  # atomic_write's
                tmp.unlink(missing_ok=True)

    def progress(self, identity: Mapping[str, Any]) -> Optional[Tuple[int, Curve]]:
        """(update count, curve) of the checkpoint when it is of the run whose config identity is
        ``identity``; None when there is none, it is unreadable, or it belongs to another run
        (``run`` then says why)."""
        try:
            st = os.stat(self.checkpoint)
        except OSError:
            return None
        key = (str(self.checkpoint), st.st_ino, st.st_size, st.st_mtime_ns)
        if key not in _PROGRESS_CACHE:
            _PROGRESS_CACHE.clear()  # one entry per folder would do; the latest few are all that is asked
            _PROGRESS_CACHE[key] = _read_progress(self.checkpoint)
        got = _PROGRESS_CACHE[key]
        if got is None or got[0] != identity:
            return None
        n, curve = got[1], got[2]
        if not isinstance(n, int) or isinstance(n, bool) or n < 0 or not isinstance(curve, dict):  # damaged
            return None
        return n, {k: list(v) if isinstance(v, list) else v for k, v in curve.items()}  # the caller's own copy

    def read_result(self) -> Optional[RunResult]:
        """result.json, or None when it is missing or unreadable."""
        try:
            with open(self.result, "rb") as f:
                content = json.loads(f.read())
        except (OSError, ValueError):
            return None
        return cast(RunResult, content) if isinstance(content, dict) else None

    def add_to_result(self, config: Mapping[str, Any], **fields: Any) -> bool:
        """Adds ``fields`` to result.json if it is the result of ``config`` (a dict of all its
        fields); returns whether it did."""
        res = self.read_result()
        if res is None or res.get("config") != dict(config):
            return False
        from glorot_ext.record import write_json

        write_json(self.result, {**res, **fields}, indent=1)
        return True

    def append_log(self, line: str) -> None:
        """One timestamped line at the end of run.log."""
        now = time.time()
        stamp = f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(now))}.{int(now % 1 * 1000):03d}"
        with open(self.log, "a", encoding="utf-8") as f:
            f.write(f"{stamp} {line}\n")

    def clear(self) -> None:
        """Removes the checkpoint, result and record (a restart); run.log says so."""
        for name in STATE_FILES:
            (self.path / name).unlink(missing_ok=True)
        if self.path.exists():
            self.append_log("restart asked: checkpoint, result and record removed")

    def starts(self) -> List[int]:
        """The update each attempt recorded in run.log really started at, in order: the update the
        run said it resumed at, or 0 when it started from scratch."""
        starts: List[int] = []
        for line in self.log.read_text().splitlines() if self.log.exists() else []:
            if ": starting at update " in line:
                starts.append(0)
            elif " resumed " in line and " at update " in line and starts:
                starts[-1] = int(line.rsplit(" at update ", 1)[1].split()[0])
        return starts

    def write(self, name: str, data: Union[str, bytes]) -> None:
        """One of the folder's files, written atomically."""
        atomic_write(self.path / name, data)


def _read_progress(path: Path) -> Optional[Tuple[Any, Any, Any]]:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            state = json.loads(bytes(z["state"]).decode())
    except Exception:  # noqa: BLE001 - a damaged checkpoint shows no progress; run() says what is wrong
        return None
    if not isinstance(state, dict):
        return None
    return state.get("config"), state.get("n_updates"), state.get("curve")


__all__ = ["CHECKPOINT", "LOG", "RECORD", "RESULT", "STATE_FILES", "Curve", "RunFolder", "RunResult"]
