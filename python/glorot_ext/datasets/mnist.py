"""MNIST from the four original IDX files, with the paper's 50,000 / 10,000 / 10,000 split.

Nothing is downloaded: point ``data_dir`` (or the ``GLOROT_EXT_DATA`` environment variable) at
a directory holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each raw or gzip-compressed
(``.gz``); a ``mnist`` subfolder of that directory is looked in first.

Every file is checked before anything is returned: the md5 of its decompressed bytes (the
values of the original distribution), the IDX magic number, the dimensions (28x28), the counts
(60,000 and 10,000, equal in images and labels), the exact length and the label range. With
``verify=False`` (for small files of your own) the md5 and the official counts are not checked;
the structure still is.

Example:
    >>> from glorot_ext.datasets import mnist
    >>> (Xtr, ytr), (Xva, yva), (Xte, yte) = mnist.load("/data/mnist")
    >>> Xtr.shape, Xva.shape, Xte.shape
    ((50000, 784), (10000, 784), (10000, 784))
"""

from __future__ import annotations

import gzip
import hashlib
import math
import zlib
from pathlib import Path
from typing import Optional, Protocol, Tuple

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ._common import DatasetError, PathLike, Split, Splits, check_dtype, find_files, scale_uint8

__all__ = ["FILES", "MD5", "N_VALIDATION", "load", "read_idx"]

#: The four files, in the order train images, train labels, test images, test labels.
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
#: md5 of the decompressed content of each file of the original distribution.
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
_COUNTS = {"train": 60_000, "t10k": 10_000}
#: The paper's validation set: the last 10,000 training images.
N_VALIDATION = 10_000

# IDX type codes (third magic byte) that MNIST may use; MNIST itself uses 0x08 only.
_IDX_TYPES = {0x08: np.dtype(np.uint8)}


#: Largest IDX content read, header included (the largest MNIST file is 47 MB): a header that
#: declares more is refused before anything is decompressed or allocated.
MAX_IDX_BYTES = 1 << 30


class _Readable(Protocol):
    def read(self, n: int, /) -> bytes: ...


def _read_exact(f: _Readable, n: int, path: Path) -> bytes:
    """Up to ``n`` bytes of the open (possibly gzip) stream ``f``; DatasetError on a bad gzip."""
    try:
        return f.read(n)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: not a valid gzip file ({exc})") from exc


def _read_checked(path: Path, ndim: Optional[int]) -> Tuple[bytes, int, int, Tuple[int, ...]]:
    """The content of an IDX file, read only as far as its header says (plus one byte to detect
    trailing data): (bytes, type code, header length, shape). A gzip file is decompressed as a
    stream, so a small file that expands to gigabytes (a "gzip bomb") costs at most
    ``MAX_IDX_BYTES``."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        head = _read_exact(f, 4, path)
        if len(head) < 4:
            raise DatasetError(f"{path}: truncated: {len(head)} bytes, shorter than the IDX magic number")
        zero, kind, dims = int.from_bytes(head[:2], "big"), head[2], head[3]
        if zero != 0 or kind not in _IDX_TYPES or dims == 0:
            raise DatasetError(
                f"{path}: bad magic number 0x{head.hex()}: expected 0x0000080N (unsigned bytes, N dimensions)"
            )
        if ndim is not None and dims != ndim:
            raise DatasetError(f"{path}: has {dims} dimensions, expected {ndim} (magic 0x{head.hex()})")
        header = 4 + 4 * dims
        dim_bytes = _read_exact(f, 4 * dims, path)
        if len(dim_bytes) < 4 * dims:
            raise DatasetError(f"{path}: truncated inside the header ({4 + len(dim_bytes)} of {header} bytes)")
        shape = tuple(int.from_bytes(dim_bytes[4 * i : 4 + 4 * i], "big") for i in range(dims))
        expected = header + math.prod(shape)  # exact: Python ints do not overflow
        if expected > MAX_IDX_BYTES:
            raise DatasetError(
                f"{path}: header declares shape {shape} ({expected} bytes), more than the "
                f"{MAX_IDX_BYTES}-byte limit (glorot_ext.datasets.mnist.MAX_IDX_BYTES)"
            )
        body = _read_exact(f, expected - header + 1, path)
    return head + dim_bytes + body, kind, header, shape


def read_idx(path: PathLike, *, expected_md5: Optional[str] = None, ndim: Optional[int] = None) -> NDArray[np.uint8]:
    """Read one IDX file of unsigned bytes (raw, or gzip if the name ends in ``.gz``).

    Args:
        path: the file.
        expected_md5: md5 hex digest of the decompressed content, or None not to check it.
        ndim: required number of dimensions, or None for any.

    Returns:
        uint8 array with the dimensions of the header.

    Raises:
        DatasetError: bad gzip, md5 mismatch, bad magic number, a header declaring more than
            ``MAX_IDX_BYTES``, or a length that does not match the header (truncated or with
            trailing bytes).
    """
    path = Path(path)
    data, kind, header, shape = _read_checked(path, ndim)
    expected = header + math.prod(shape)
    if expected_md5 is not None and len(data) == expected:
        got = hashlib.md5(data).hexdigest()
        if got != expected_md5:
            raise DatasetError(
                f"{path}: md5 of the decompressed content is {got}, expected {expected_md5} "
                "(a corrupt or different file; pass verify=False for files of your own)"
            )
    if len(data) < expected:
        raise DatasetError(
            f"{path}: truncated: header says shape {shape} ({expected} bytes), file has {len(data)} bytes"
        )
    if len(data) > expected:
        raise DatasetError(f"{path}: trailing bytes after the {expected} that shape {shape} needs")
    return np.frombuffer(data, dtype=_IDX_TYPES[kind], offset=header).reshape(shape)


def _pair(
    images_path: Path, labels_path: Path, count: Optional[int], verify: bool
) -> Tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    md5 = (lambda p: MD5[p.name.removesuffix(".gz")]) if verify else (lambda p: None)
    images = read_idx(images_path, expected_md5=md5(images_path), ndim=3)
    labels = read_idx(labels_path, expected_md5=md5(labels_path), ndim=1)
    if images.shape[1:] != (28, 28):
        raise DatasetError(f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, expected 28x28")
    if count is not None and len(images) != count:
        raise DatasetError(f"{images_path}: {len(images)} images, expected {count}")
    if len(labels) != len(images):
        raise DatasetError(f"{labels_path}: {len(labels)} labels for the {len(images)} images of {images_path.name}")
    if labels.size and labels.max() > 9:
        raise DatasetError(f"{labels_path}: label {int(labels.max())} outside 0..9")
    return images, labels


def load(
    data_dir: Optional[PathLike] = None,
    *,
    dtype: DTypeLike = np.float32,
    verify: bool = True,
    n_validation: int = N_VALIDATION,
) -> Splits:
    """MNIST with the paper's split: train 50,000, validation the last 10,000 training images,
    test 10,000 (Section 2.2).

    Args:
        data_dir: directory of the four IDX files (or of a ``mnist`` subfolder holding them);
            None reads ``$GLOROT_EXT_DATA``.
        dtype: float32 (default) or float64 for the pixels.
        verify: check the md5 of each decompressed file and the official counts; False for
            small files of your own (their structure is still checked).
        n_validation: training images held out at the end as validation.

    Returns:
        ``(train, validation, test)``, each ``(X, y)``: X (n, 784) ``dtype`` with pixels / 255
        in [0, 1], y (n,) int64 in 0..9.

    Raises:
        FileNotFoundError: a file is missing (the message names every expected file and every
            directory looked in).
        DatasetError: a file is corrupt or truncated (the message names the file and the fault).
    """
    dtype = check_dtype(dtype)
    paths = find_files(data_dir, ("mnist", ""), FILES, suffixes=("", ".gz"), what="MNIST")
    # Everything is read and checked before any array is built: nothing is half-loaded.
    train = _pair(paths[0], paths[1], _COUNTS["train"] if verify else None, verify)
    test = _pair(paths[2], paths[3], _COUNTS["t10k"] if verify else None, verify)
    if not 0 <= n_validation < len(train[1]):
        raise ValueError(f"n_validation must be in [0, {len(train[1])}), got {n_validation}")
    cut = len(train[1]) - n_validation

    def pack(images: NDArray[np.uint8], labels: NDArray[np.uint8]) -> Split:
        return scale_uint8(images.reshape(len(images), -1), dtype), labels.astype(np.int64)

    return (
        pack(train[0][:cut], train[1][:cut]),
        pack(train[0][cut:], train[1][cut:]),
        pack(*test),
    )
