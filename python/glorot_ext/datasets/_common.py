"""What the dataset readers share: the error type, the data directory, pixel scaling, and the
seeded, checkpointable minibatch iterator over finite sets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, TypedDict, Union

import numpy as np
from numpy.typing import DTypeLike, NDArray

from glorot_ext import _validation

#: Environment variable naming the directory that holds the datasets' files.
DATA_ENV = "GLOROT_EXT_DATA"

PathLike = Union[str, "os.PathLike[str]"]
#: A minibatch (X, y) of a ``MinibatchIterator``: rows of the arrays it was given.
Pair = Tuple[NDArray[Any], NDArray[Any]]
#: Inputs of a loaded set: (n, d), float32 or float64 as asked.
Inputs = NDArray[np.floating[Any]]
#: Class labels of a loaded set: (n,) int64.
Labels = NDArray[np.int64]
#: One loaded set, (X, y).
Split = Tuple[Inputs, Labels]
#: What the loaders return: (train, validation, test).
Splits = Tuple[Split, Split, Split]


class IteratorState(TypedDict):
    """A ``MinibatchIterator``'s position (``state``), JSON-safe."""

    seed: int
    epoch: int
    index: int
    batch_size: int
    shuffle: bool
    drop_last: bool
    n: int


class DatasetError(ValueError):
    """A dataset file exists but is wrong: truncated, corrupt, bad header or checksum.

    Missing files raise ``FileNotFoundError`` instead.
    """


def check_dtype(dtype: DTypeLike) -> np.dtype[np.floating[Any]]:
    """float32 or float64 as an ``np.dtype``; anything else is a ``DtypeError`` (a ValueError)."""
    return _validation.kernel_dtype(dtype)


def scale_uint8(pixels: NDArray[np.uint8], dtype: DTypeLike) -> Inputs:
    """uint8 pixels to ``pixels / 255`` in [0, 1], computed in float64 and rounded once to
    ``dtype`` (a 256-entry table, so no float64 copy of the whole set is made)."""
    lut = (np.arange(256) / 255.0).astype(check_dtype(dtype))
    scaled: Inputs = lut[pixels]
    return scaled


#: How to point at the data, for every "not found" message (CLI users and Python users alike).
HOW_TO_POINT = (
    f"give the folder that holds them with --data-dir DIR on the command line, data_dir=DIR in "
    f"Python, or the environment variable {DATA_ENV}=DIR (nothing is ever downloaded)"
)

#: One way a dataset may be laid out: (label, subfolders, file names, optional suffixes).
Layout = Tuple[str, Sequence[str], Sequence[str], Sequence[str]]


def _describe(names: Sequence[str], suffixes: Sequence[str]) -> str:
    alts = " or ".join(f"'{s}'" for s in suffixes if s)
    return ", ".join(names) + (f" (each may end in {alts})" if alts else "")


def candidate_dirs(data_dir: Optional[PathLike], subfolders: Sequence[str]) -> List[Path]:
    """Directories to look in, in order: ``data_dir`` (or ``$GLOROT_EXT_DATA``) joined with each
    of ``subfolders`` ('' for the directory itself).

    Raises:
        FileNotFoundError: neither ``data_dir`` nor the environment variable is given.
    """
    if data_dir is None:
        env = os.environ.get(DATA_ENV)
        if not env:
            raise FileNotFoundError(f"no data directory given: {HOW_TO_POINT}")
        data_dir = env
    root = Path(data_dir).expanduser()
    return [root / sub if sub else root for sub in subfolders]


def find_layout(data_dir: Optional[PathLike], layouts: Sequence[Layout], what: str) -> Tuple[str, List[Path]]:
    """The first layout whose files all sit in one of its candidate directories.

    Returns:
        (label of the layout, paths of its files in the order of its names).

    Raises:
        FileNotFoundError: one message naming, for every layout, the files looked for and every
            directory looked in, and how to point at the right folder.
    """
    source = "" if data_dir is not None or not os.environ.get(DATA_ENV) else f" (from ${DATA_ENV})"
    if data_dir is None and not os.environ.get(DATA_ENV):
        wanted = "; or ".join(_describe(names, sfx) for _, _, names, sfx in layouts)
        raise FileNotFoundError(f"{what}: no data directory given. It needs {wanted}: {HOW_TO_POINT}.")
    tried = []
    for label, subfolders, names, suffixes in layouts:
        dirs = candidate_dirs(data_dir, subfolders)
        for d in dirs:
            found = []
            for name in names:
                hit = next((d / (name + s) for s in suffixes if (d / (name + s)).is_file()), None)
                if hit is None:
                    break
                found.append(hit)
            else:
                return label, found
        prefix = f"{label}: looked" if label else "Looked"
        where = ", ".join(str(d.absolute()) for d in dirs)
        tried.append(f"{prefix} for {_describe(names, suffixes)} in {where}{source}")
    raise FileNotFoundError(f"{what} files not found. " + "; ".join(tried) + f". To fix: {HOW_TO_POINT}.")


def find_files(
    data_dir: Optional[PathLike],
    subfolders: Sequence[str],
    names: Sequence[str],
    suffixes: Sequence[str] = ("",),
    what: str = "dataset",
) -> List[Path]:
    """The paths of ``names`` in the first candidate directory that holds all of them (each name
    possibly with one of ``suffixes``, tried in order); see ``find_layout``."""
    return find_layout(data_dir, [("", subfolders, names, suffixes)], what)[1]


class MinibatchIterator:
    """Endless minibatches over a finite set, reshuffled every epoch, resumable bit-exactly.

    Epoch ``e`` visits the examples in the order ``permutation(n)`` of the stream
    ``SeedSequence(seed, spawn_key=(e,))``, so the order depends only on (seed, epoch) and the
    position ``(epoch, index)`` is the whole state. The last batch of an epoch is short
    unless ``drop_last``; batches never span two epochs.

    Args:
        X: (n, d) inputs. y: (n,) labels. Neither is copied.
        batch_size: examples per batch.
        rng: a ``numpy.random.Generator`` (one seed is drawn from it) or an int seed.
        shuffle: False visits the examples in their stored order every epoch.
        drop_last: skip the short final batch of each epoch.

    Example:
        >>> it = MinibatchIterator(X, y, 10, rng=np.random.default_rng(0))
        >>> Xb, yb = next(it)
        >>> saved = it.state()
        >>> same = MinibatchIterator.from_state(saved, X, y)   # continues identically
    """

    def __init__(
        self,
        X: NDArray[Any],
        y: NDArray[Any],
        batch_size: int,
        *,
        rng: Union[np.random.Generator, int],
        shuffle: bool = True,
        drop_last: bool = False,
        epoch: int = 0,
        index: int = 0,
    ) -> None:
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        if len(y) == 0:
            raise ValueError("cannot iterate over an empty set")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if drop_last and batch_size > len(y):  # would loop over empty epochs forever
            raise ValueError(f"drop_last with batch_size {batch_size} > {len(y)} examples yields nothing")
        self.seed = _validation.seed(rng, "MinibatchIterator")
        self.X, self.y = X, y
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.epoch, self.index = int(epoch), int(index)
        if not 0 <= self.index < len(y):
            raise ValueError(f"index must be in [0, {len(y)}), got {index}")
        self._order_epoch: Optional[int] = None
        self._order: Optional[NDArray[np.int64]] = None

    @property
    def batches_per_epoch(self) -> int:
        """Number of batches in one epoch."""
        n, b = len(self.y), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def _epoch_order(self) -> NDArray[np.int64]:
        if self._order_epoch != self.epoch:
            n = len(self.y)
            if self.shuffle:
                ss = np.random.SeedSequence(self.seed, spawn_key=(self.epoch,))
                self._order = np.random.Generator(np.random.PCG64(ss)).permutation(n)
            else:
                self._order = np.arange(n)
            self._order_epoch = self.epoch
        assert self._order is not None  # set with _order_epoch
        return self._order

    def __iter__(self) -> Iterator[Pair]:
        return self

    def __next__(self) -> Pair:
        n = len(self.y)
        end = min(self.index + self.batch_size, n)
        idx = self._epoch_order()[self.index : end]
        self.index = end
        # Move to the next epoch as soon as this one is done, so the state is canonical.
        if end >= n or (self.drop_last and end + self.batch_size > n):
            self.epoch, self.index = self.epoch + 1, 0
        return self.X[idx], self.y[idx]

    def epoch_batches(self) -> Iterable[Pair]:
        """The batches that remain in the current epoch (all of them at an epoch's start)."""
        start = self.epoch
        while self.epoch == start:
            yield next(self)

    def state(self) -> IteratorState:
        """The position as a JSON-safe dict; the arrays are not included."""
        return {
            "seed": self.seed,
            "epoch": self.epoch,
            "index": self.index,
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
            "n": len(self.y),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], X: NDArray[Any], y: NDArray[Any]) -> MinibatchIterator:
        """The iterator over (X, y) that continues from ``state``."""
        if state["n"] != len(y):
            raise ValueError(f"state was saved for {state['n']} examples, got {len(y)}")
        return cls(
            X,
            y,
            state["batch_size"],
            rng=state["seed"],
            shuffle=state["shuffle"],
            drop_last=state["drop_last"],
            epoch=state["epoch"],
            index=state["index"],
        )


def minibatches(
    X: NDArray[Any],
    y: NDArray[Any],
    batch_size: int,
    *,
    rng: Union[np.random.Generator, int],
    shuffle: bool = True,
    drop_last: bool = False,
) -> MinibatchIterator:
    """A ``MinibatchIterator`` over (X, y); see there."""
    return MinibatchIterator(X, y, batch_size, rng=rng, shuffle=shuffle, drop_last=drop_last)
