"""glorot_ext: deep feedforward networks on the CPU, with the instruments of Glorot & Bengio (2010).

    >>> import numpy as np, glorot_ext as ge
    >>> net = ge.MLP([784, 1000, 1000, 10], activation="tanh", init="normalized",
    ...              rng=np.random.default_rng(0))

The native kernels live in the private ``glorot_ext._core``; ``glorot_ext.reference`` is the
NumPy implementation they are checked against.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Optional, TypedDict

# First: _dispatch imports the kernel build this CPU runs and installs it as glorot_ext._core.
from glorot_ext import _dispatch  # noqa: F401

# isort: split
from glorot_ext import _core, datasets, init, reference, stats, theory
from glorot_ext._core import get_num_threads, has_openmp
from glorot_ext.monitor import Monitor
from glorot_ext.network import MLP
from glorot_ext.record import Record
from glorot_ext.training import Callback, History, fit, fit_stream

#: The version the native module was built as (pyproject.toml's, passed by CMake as VERSION_INFO).
__version__: str = _core.__version__

__all__ = [
    "MLP",
    "Monitor",
    "Record",
    "Callback",
    "History",
    "fit",
    "fit_stream",
    "datasets",
    "init",
    "reference",
    "stats",
    "theory",
    "has_openmp",
    "get_num_threads",
    "set_num_threads",
    "num_threads",
    "build_info",
    "__version__",
]


def set_num_threads(n: Optional[int] = None) -> None:
    """Sets how many threads the kernels use; None means every core (as scikit-learn's n_jobs).

    Results are bitwise identical for any thread count: the work partition is fixed.

    The setting belongs to the calling Python thread, not to the process: it is OpenMP's
    per-thread ``omp_set_num_threads``, so kernels called from another thread (a
    ``threading.Thread``, a thread pool) still use that thread's own count, by default every core
    or ``OMP_NUM_THREADS``. Call it (or use ``num_threads``) in the thread that trains.
    """
    if n is not None and (not isinstance(n, int) or n <= 0):
        raise ValueError(f"n must be a positive integer or None, got {n!r}")
    _core.set_num_threads(0 if n is None else n)


@contextlib.contextmanager
def num_threads(n: Optional[int]) -> Iterator[None]:
    """Context manager: run the enclosed kernels with ``n`` threads, then restore the count
    (for the calling thread only, as ``set_num_threads``)."""
    before = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        _core.set_num_threads(before)


class BuildInfo(TypedDict):
    """What ``build_info`` returns."""

    version: str
    openmp: bool
    native: bool
    simd_path: str
    simd: str
    eigen: str
    gemm: str
    threads: int


def build_info() -> BuildInfo:
    """How the native module was built: OpenMP, -march=native, the kernel build this process
    runs (``simd_path``: "baseline", "avx2", "avx512", chosen at import from the CPU or forced by
    ``GLOROT_SIMD``; "native" for a GLOROT_NATIVE=ON build), Eigen's SIMD sets in it, Eigen's
    version, and the GEMM of batches above the small-batch limit ("openblas" or "eigen")."""
    return {
        "version": __version__,
        "openmp": _core.has_openmp,
        "native": _core.native_build,
        "simd_path": _core.simd_path,
        "simd": _core.simd,
        "eigen": _core.eigen_version,
        "gemm": _core.gemm,
        "threads": get_num_threads(),
    }
