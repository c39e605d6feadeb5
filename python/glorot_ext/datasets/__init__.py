"""The paper's datasets (Section 2): Shapeset-3x2 generated on the fly, MNIST and CIFAR-10 read
from local files (never downloaded), and a user's own arrays from an ``.npz`` file (the way to
bring Small-ImageNet, which is not public, or any other data).

Common interface:

- ``shapeset.sample(n, *, rng, size=32, neg=False, dtype=np.float32)`` -> ``(X, y)``: n fresh
  Shapeset-3x2 images, X (n, size*size) float32, y (n,) int64. The ``shapeset`` module's other
  tools are ``shapeset.generate`` (by seed), ``shapeset.ShapesetStream`` (endless,
  checkpointable stream for online training) and ``shapeset.save_grid``.
- ``load(name, *, data_dir=None, dtype=np.float32, **options)`` -> ``(train, validation, test)``,
  each ``(X, y)`` with X (n, d) ``dtype`` and y (n,) int64, for ``DATASETS``.
- ``minibatches(X, y, batch_size, *, rng)`` -> a seeded ``MinibatchIterator`` over a finite set,
  reshuffled per epoch, whose position is explicit state for checkpoints.

Data directory: ``data_dir``, else the ``GLOROT_EXT_DATA`` environment variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional, cast

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import cifar10, mnist, shapeset
from ._common import (
    DATA_ENV,
    DatasetError,
    MinibatchIterator,
    PathLike,
    Split,
    Splits,
    check_dtype,
    minibatches,
    scale_uint8,
)
from .shapeset import ShapesetStream

__all__ = [
    "DATASETS",
    "PAPER_DATASETS",
    "DATA_ENV",
    "DatasetError",
    "MinibatchIterator",
    "ShapesetStream",
    "cifar10",
    "load",
    "load_npz",
    "minibatches",
    "mnist",
    "shapeset",
]

#: The paper's datasets that experiments run on: name -> (inputs, classes). The CLI, runs and
#: sweeps take their dataset names from here.
PAPER_DATASETS = {"shapeset": (1024, 9), "mnist": (784, 10), "cifar10": (3072, 10)}

#: Names accepted by ``load``: the paper's, and a user's own .npz file.
DATASETS = (*PAPER_DATASETS, "npz")

_NPZ_SPLITS = (
    ("train", ("train",)),
    ("validation", ("validation", "valid", "val")),
    ("test", ("test",)),
)


def _npz_array(npz: np.lib.npyio.NpzFile, path: Path, key: str) -> NDArray[Any]:
    try:
        array: NDArray[Any] = npz[key]
        return array
    except ValueError as exc:  # object arrays need pickle, which is refused
        raise DatasetError(f"{path}: array '{key}' cannot be read without pickle ({exc})") from exc


def _npz_pair(X: NDArray[Any], y: NDArray[Any], path: Path, what: str, dtype: np.dtype[np.floating[Any]]) -> Split:
    if X.ndim < 2 or y.ndim != 1 or len(X) != len(y):
        raise DatasetError(f"{path}: {what}: X {X.shape} and y {y.shape} must be (n, ...) and (n,)")
    if not np.issubdtype(y.dtype, np.integer):
        raise DatasetError(f"{path}: {what}: y must hold integer class labels, got {y.dtype}")
    if np.issubdtype(X.dtype, np.uint8):
        X = scale_uint8(X, dtype)
    elif np.issubdtype(X.dtype, np.number) and not np.issubdtype(X.dtype, np.complexfloating):
        X = X.astype(dtype)
    else:
        raise DatasetError(f"{path}: {what}: X must be numeric, got {X.dtype}")
    return X.reshape(len(X), -1), y.astype(np.int64)


def load_npz(
    path: PathLike,
    *,
    dtype: DTypeLike = np.float32,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
) -> Splits:
    """A user's own dataset from an ``.npz`` file (read without pickle).

    Keys, either
      - ``X_train, y_train, X_validation, y_validation, X_test, y_test`` (``valid`` or ``val``
        also accepted for ``validation``), or
      - ``X, y``: split in file order, the last ``test_fraction`` as test and the
        ``validation_fraction`` before it as validation (shuffle first if the order means
        something).

    X is (n, ...) numeric, flattened to (n, d); uint8 X is scaled by 1/255, other types are
    only cast to ``dtype``. y is (n,) integer class labels.

    Returns:
        ``(train, validation, test)``, each ``(X, y)``.

    Raises:
        FileNotFoundError: no such file. DatasetError: missing keys or bad arrays.
    """
    dtype = check_dtype(dtype)
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"npz file not found: {path}")
    try:
        npz = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise DatasetError(f"{path}: not a readable .npz file ({exc})") from exc
    with npz:
        keys = set(npz.files)
        split_keys: List[Optional[str]] = []
        for _name, aliases in _NPZ_SPLITS:
            hit = next((a for a in aliases if f"X_{a}" in keys and f"y_{a}" in keys), None)
            split_keys.append(hit)
        if all(split_keys):
            return cast(
                Splits,
                tuple(  # one per entry of _NPZ_SPLITS: three
                    _npz_pair(_npz_array(npz, path, f"X_{k}"), _npz_array(npz, path, f"y_{k}"), path, name, dtype)
                    for (name, _), k in zip(_NPZ_SPLITS, split_keys)
                ),
            )
        if {"X", "y"} <= keys:
            X, y = _npz_pair(_npz_array(npz, path, "X"), _npz_array(npz, path, "y"), path, "X, y", dtype)
            fractions = (validation_fraction, test_fraction)
            if not (all(0 <= f < 1 for f in fractions) and sum(fractions) < 1):
                raise ValueError("validation_fraction and test_fraction must be in [0, 1) with a sum below 1")
            n = len(y)
            n_test = int(round(n * test_fraction))
            n_val = int(round(n * validation_fraction))
            a, b = n - n_test - n_val, n - n_test
            return (X[:a], y[:a]), (X[a:b], y[a:b]), (X[b:], y[b:])
    raise DatasetError(
        f"{path}: expected keys X_train, y_train, X_validation, y_validation, X_test, y_test "
        f"(or X, y); found {sorted(keys)}"
    )


def load(name: str, *, data_dir: Optional[PathLike] = None, dtype: DTypeLike = np.float32, **options: Any) -> Splits:
    """The train, validation and test sets of a dataset, with the paper's splits.

    Args:
        name: one of ``DATASETS``:
            - "shapeset": finite Shapeset-3x2 sets generated from documented seeds (train
              100,000 seed 1, validation 10,000 seed 2, test 10,000 seed 0); options of
              ``shapeset.load`` (``n_train``, ``n_validation``, ``n_test``, ``size``, ``neg``).
            - "mnist": 50,000 / 10,000 / 10,000; options of ``mnist.load`` (``verify``).
            - "cifar10": 40,000 / 10,000 / 10,000; options of ``cifar10.load`` (``version``,
              ``verify``).
            - "npz": ``data_dir`` (or ``path=``) is the ``.npz`` file; see ``load_npz``.
        data_dir: directory of the files; None uses ``$GLOROT_EXT_DATA``. Unused by "shapeset".
        dtype: float32 (default) or float64 for X.

    Returns:
        ``(train, validation, test)``, each ``(X, y)``: X (n, d) ``dtype``, y (n,) int64.

    Raises:
        ValueError: unknown name (the message lists ``DATASETS``).
    """
    key = name.lower() if isinstance(name, str) else name
    if key == "shapeset":
        return shapeset.load(dtype=dtype, **options)
    if key == "mnist":
        return mnist.load(data_dir, dtype=dtype, **options)
    if key == "cifar10":
        return cifar10.load(data_dir, dtype=dtype, **options)
    if key == "npz":
        path = options.pop("path", data_dir)
        if path is None:
            raise ValueError('load("npz") needs the file: pass data_dir=... or path=...')
        return load_npz(path, dtype=dtype, **options)
    raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
