"""Threads and build facts of the native kernels, for every module of the package.

It sits below everything else (it imports only the kernels), so that no module needs the package
root for the thread count or the build's description; the root re-exports all of it.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Optional, TypedDict

from glorot_ext import _core
from glorot_ext._core import get_num_threads, has_openmp

#: The version the native module was built as (pyproject.toml's, passed by CMake as VERSION_INFO).
__version__: str = _core.__version__

__all__ = ["BuildInfo", "build_info", "get_num_threads", "has_openmp", "num_threads", "set_num_threads", "__version__"]


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
