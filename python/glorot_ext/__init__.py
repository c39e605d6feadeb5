"""glorot_ext: deep feedforward networks on the CPU, with the instruments of Glorot & Bengio (2010).

    >>> import numpy as np, glorot_ext as ge
    >>> net = ge.MLP([784, 1000, 1000, 10], activation="tanh", init="normalized",
    ...              rng=np.random.default_rng(0))

The native kernels live in the private ``glorot_ext._core``; ``glorot_ext.reference`` is the
NumPy implementation they are checked against.
"""

from __future__ import annotations

# First: _dispatch imports the kernel build this CPU runs and installs it as glorot_ext._core.
from glorot_ext import _dispatch  # noqa: F401

# isort: split
from glorot_ext import datasets, init, reference, stats, theory
from glorot_ext.monitor import Monitor
from glorot_ext.network import MLP
from glorot_ext.record import Record
from glorot_ext.runtime import (
    BuildInfo,
    __version__,
    build_info,
    get_num_threads,
    has_openmp,
    num_threads,
    set_num_threads,
)
from glorot_ext.training import Callback, History, fit, fit_stream

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
    "BuildInfo",
    "__version__",
]
