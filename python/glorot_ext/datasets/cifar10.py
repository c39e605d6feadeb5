"""CIFAR-10 from the official binary or Python files, with the paper's 40,000 / 10,000 / 10,000
split (Section 2.2): validation is ``data_batch_5``, the last 10,000 training images (the
paper does not say which 10,000 it held out).

Nothing is downloaded. ``data_dir`` (or ``$GLOROT_EXT_DATA``) is searched, in order, in
``cifar10/cifar-10-batches-bin``, ``cifar-10-batches-bin``, ``cifar10/cifar-10-batches-py``,
``cifar-10-batches-py``, ``cifar10`` and itself, for either

- the binary version: ``data_batch_1.bin`` .. ``data_batch_5.bin``, ``test_batch.bin``, records
  of 1 label byte and 3072 pixel bytes (1024 red, 1024 green, 1024 blue, rows of 32); or
- the Python version: ``data_batch_1`` .. ``data_batch_5``, ``test_batch``, pickled dicts with
  ``b"data"`` (10000, 3072) uint8 and ``b"labels"``.

Pickles are read with a restricted unpickler that admits only the NumPy pieces needed to
rebuild an array, so a malicious file raises ``DatasetError`` instead of running code.

Example:
    >>> from glorot_ext.datasets import cifar10
    >>> (Xtr, ytr), (Xva, yva), (Xte, yte) = cifar10.load("/data")
    >>> Xtr.shape
    (40000, 3072)
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any, List, Literal, Optional, Tuple

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ._common import DatasetError, Labels, PathLike, Splits, check_dtype, find_layout, scale_uint8

#: One file's (pixels, labels): (n, 3072) uint8 and (n,) int64.
Batch = Tuple[NDArray[np.uint8], Labels]
#: The two distributions of the files.
Version = Literal["binary", "python"]

__all__ = ["CLASS_NAMES", "BINARY_FILES", "PYTHON_FILES", "load", "read_binary_batch", "read_python_batch"]

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
PYTHON_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
BINARY_FILES = tuple(f + ".bin" for f in PYTHON_FILES)
N_PIXELS = 3072
_RECORD = 1 + N_PIXELS
_PER_BATCH = 10_000
_SUBFOLDERS = {
    "binary": ("cifar10/cifar-10-batches-bin", "cifar-10-batches-bin", "cifar10", ""),
    "python": ("cifar10/cifar-10-batches-py", "cifar-10-batches-py", "cifar10", ""),
}

# What the official pickles (Python 2 cPickle of NumPy arrays) and NumPy's own pickles of a
# uint8/int array may name, plus _codecs.encode, which Python 3 uses for bytes in protocol 2
# (as PyTorch's weights-only unpickler admits it). None of these runs user-chosen code.
_ALLOWED_GLOBALS = {
    ("_codecs", "encode"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _SafeUnpickler(pickle.Unpickler):
    """Unpickler whose ``find_class`` refuses every global outside ``_ALLOWED_GLOBALS``."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            if module.startswith("numpy.core.") and hasattr(np, "_core"):
                # NumPy 2 warns on every access through its numpy.core shim.
                module = "numpy._core." + module[len("numpy.core.") :]
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"forbidden global {module}.{name}")


def _check_labels(path: Path, labels: Labels) -> None:
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DatasetError(f"{path}: label outside 0..9")


def _integer_labels(path: Path, labels: object) -> Labels:
    """The labels as int64; floats, booleans, strings or objects are refused, not truncated."""
    try:
        arr = np.asarray(labels)
    except (TypeError, ValueError, OverflowError, MemoryError) as exc:
        raise DatasetError(f"{path}: 'labels' is not a list of integers ({exc})") from exc
    if arr.size == 0 and arr.dtype == np.float64:  # np.asarray([]) is float64
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise DatasetError(f"{path}: 'labels' must be integers, got {arr.dtype} values")
    if arr.size and (arr.min() < 0 or arr.max() > 9):
        raise DatasetError(f"{path}: label outside 0..9")
    return arr.astype(np.int64)


def read_binary_batch(path: PathLike, *, count: Optional[int] = _PER_BATCH) -> Batch:
    """One file of the binary version.

    Args:
        path: the ``.bin`` file.
        count: required number of records (10,000 in the official files), None for any.

    Returns:
        ``(pixels, labels)``: (n, 3072) uint8 and (n,) int64.

    Raises:
        DatasetError: a length that is not a whole number of 3073-byte records, a wrong count,
            or a label outside 0..9.
    """
    path = Path(path)
    data = path.read_bytes()
    if len(data) % _RECORD:
        raise DatasetError(f"{path}: {len(data)} bytes is not a whole number of {_RECORD}-byte records (truncated?)")
    n = len(data) // _RECORD
    if count is not None and n != count:
        raise DatasetError(f"{path}: {n} records, expected {count}")
    rec = np.frombuffer(data, dtype=np.uint8).reshape(n, _RECORD)
    labels = rec[:, 0].astype(np.int64)
    _check_labels(path, labels)
    return rec[:, 1:], labels


def read_python_batch(path: PathLike, *, count: Optional[int] = _PER_BATCH) -> Batch:
    """One pickled batch of the Python version, unpickled safely (see module docstring).

    Returns:
        ``(pixels, labels)``: (n, 3072) uint8 and (n,) int64.

    Raises:
        DatasetError: a forbidden global in the pickle, a truncated or corrupt pickle, missing
            keys, wrong shapes or counts, or labels outside 0..9.
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        # encoding="bytes": the Python 2 pickles' str keys and NumPy buffers stay bytes.
        obj = _SafeUnpickler(io.BytesIO(data), encoding="bytes").load()
    except pickle.UnpicklingError as exc:
        raise DatasetError(f"{path}: refused or corrupt pickle: {exc}") from exc
    except (
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        LookupError,
        OverflowError,
        MemoryError,
    ) as exc:  # LookupError: an unknown codec; MemoryError: an absurd declared size
        raise DatasetError(f"{path}: corrupt or truncated pickle ({type(exc).__name__}: {exc})") from exc
    if not isinstance(obj, dict):
        raise DatasetError(f"{path}: expected a pickled dict, got {type(obj).__name__}")
    keys = {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}
    if "data" not in keys or "labels" not in keys:
        raise DatasetError(f"{path}: the dict lacks 'data' or 'labels' (keys: {sorted(map(str, keys))})")
    data = keys["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != N_PIXELS:
        desc = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DatasetError(f"{path}: 'data' must be a uint8 array (n, {N_PIXELS}), got {desc}")
    labels = _integer_labels(path, keys["labels"])
    if labels.shape != (len(data),):
        raise DatasetError(f"{path}: {labels.size} labels for {len(data)} images")
    if count is not None and len(data) != count:
        raise DatasetError(f"{path}: {len(data)} images, expected {count}")
    _check_labels(path, labels)
    return data, labels


def _find(data_dir: Optional[PathLike], fmt: Optional[str]) -> Tuple[str, List[Path]]:
    if fmt not in (None, "binary", "python"):
        raise ValueError(f"version must be None, 'binary' or 'python', got {fmt!r}")
    layouts = [
        (f"{name} version", _SUBFOLDERS[name], BINARY_FILES if name == "binary" else PYTHON_FILES, ("",))
        for name in ((fmt,) if fmt else ("binary", "python"))
    ]
    label, paths = find_layout(data_dir, layouts, "CIFAR-10")
    return label.split()[0], paths


def load(
    data_dir: Optional[PathLike] = None,
    *,
    dtype: DTypeLike = np.float32,
    version: Optional[Version] = None,
    verify: bool = True,
    n_validation: Optional[int] = None,
) -> Splits:
    """CIFAR-10 with the paper's split: train 40,000, validation 10,000, test 10,000.

    Args:
        data_dir: where to look (see the module docstring); None reads ``$GLOROT_EXT_DATA``.
        dtype: float32 (default) or float64.
        version: "binary", "python", or None for whichever is found (binary first).
        verify: require 10,000 records per file, as the official files; False for small files.
        n_validation: training images held out at the end; None holds out all of
            ``data_batch_5`` (10,000 in the official files).

    Returns:
        ``(train, validation, test)``, each ``(X, y)``: X (n, 3072) ``dtype`` with pixels / 255
        in [0, 1] in the files' order (red plane, green, blue), y (n,) int64 in 0..9.

    Raises:
        FileNotFoundError: files missing (the message names the expected files and the
            directories looked in).
        DatasetError: a corrupt, truncated or refused file (the message names it).
    """
    dtype = check_dtype(dtype)
    fmt, paths = _find(data_dir, version)
    reader = read_binary_batch if fmt == "binary" else read_python_batch
    count = _PER_BATCH if verify else None
    # All six files are read and checked before any output is built.
    batches = [reader(p, count=count) for p in paths]
    train_x = np.concatenate([b[0] for b in batches[:5]])
    train_y = np.concatenate([b[1] for b in batches[:5]])
    if n_validation is None:
        n_validation = len(batches[4][1])
    if not 0 <= n_validation < len(train_y):
        raise ValueError(f"n_validation must be in [0, {len(train_y)}), got {n_validation}")
    cut = len(train_y) - n_validation
    test_x, test_y = batches[5]
    return (
        (scale_uint8(train_x[:cut], dtype), train_y[:cut]),
        (scale_uint8(train_x[cut:], dtype), train_y[cut:]),
        (scale_uint8(test_x, dtype), test_y),
    )
