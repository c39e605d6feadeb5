"""Chooses the build of the native kernels this process runs, before anything imports them.

A wheel carries the kernels compiled once per x86-64 level (``_core_baseline``, ``_core_avx2``,
``_core_avx512``); the fastest one the CPU runs becomes ``glorot_ext._core``. The environment
variable ``GLOROT_SIMD=baseline|avx2|avx512`` forces one (for tests, benchmarks and bug reports);
a build made with ``GLOROT_NATIVE=ON`` has the single ``_core_native``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType
from typing import Optional, Sequence

#: Kernel builds from the slowest to the fastest; ``native`` is the one of a GLOROT_NATIVE=ON build.
PATHS = ("baseline", "avx2", "avx512")
ENV = "GLOROT_SIMD"


def built_paths() -> list[str]:
    """The kernel builds this installation has, in ``PATHS`` order (or ``["native"]``)."""
    names = [*PATHS, "native"]
    return [p for p in names if importlib.util.find_spec(f"glorot_ext._core_{p}") is not None]


def runnable_paths() -> list[str]:
    """The builds this CPU can run, as its CPUID and the OS report them."""
    from glorot_ext import _cpu

    return list(_cpu.runnable_paths())


def choose(requested: Optional[str], built: Sequence[str], runnable: Sequence[str]) -> str:
    """The build to load: ``requested`` if given (refused, with the reason, if it is not built or
    the CPU cannot run it), else the fastest one built that the CPU runs."""
    if "native" in built:
        if requested not in (None, "", "native"):
            raise ImportError(
                f"{ENV}={requested}: this glorot_ext was built with GLOROT_NATIVE=ON, which has only the "
                f"kernels for the machine it was built on ({ENV}=native); reinstall without it for the "
                f"dispatched builds {', '.join(PATHS)}"
            )
        return "native"
    if not built:
        raise ImportError("glorot_ext has no native kernels installed (no glorot_ext/_core_*.so): reinstall it")
    if requested:
        if requested not in PATHS:
            raise ImportError(f"{ENV}={requested!r}: must be one of {', '.join(PATHS)}")
        if requested not in built:
            raise ImportError(f"{ENV}={requested}: this build of glorot_ext has only {', '.join(built)}")
        if requested not in runnable:
            raise ImportError(
                f"{ENV}={requested}: this CPU cannot run the {requested} kernels (it runs {', '.join(runnable)})"
            )
        return requested
    usable = [p for p in built if p in runnable]
    if not usable:
        raise ImportError(f"this CPU runs {', '.join(runnable)} but glorot_ext was built with {', '.join(built)}")
    return usable[-1]


def load() -> ModuleType:
    """Imports the chosen build and installs it as ``glorot_ext._core``."""
    built = built_paths()
    path = choose(os.environ.get(ENV), built, runnable_paths() if "native" not in built else ["native"])
    module = importlib.import_module(f"glorot_ext._core_{path}")
    sys.modules["glorot_ext._core"] = module
    setattr(sys.modules["glorot_ext"], "_core", module)  # noqa: B010 (as the import system binds a submodule; the root does not type it)
    return module


# On import, before any module that uses the kernels (glorot_ext/__init__.py imports this first).
if "glorot_ext._core" not in sys.modules:
    load()
