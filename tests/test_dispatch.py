"""One wheel for every x86-64 CPU: glorot_ext._dispatch loads the fastest kernel build the CPU runs,
GLOROT_SIMD forces one (refused where the CPU lacks it), and every build computes the same step."""

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glorot_ext as ge
from glorot_ext import _core, _dispatch, reference

BUILT = _dispatch.built_paths()
RUNNABLE = _dispatch.runnable_paths()


def test_the_loaded_build_is_the_fastest_this_cpu_runs_unless_one_is_forced():
    forced = os.environ.get(_dispatch.ENV)
    expected = forced or _dispatch.choose(None, BUILT, RUNNABLE if "native" not in BUILT else ["native"])
    assert ge.build_info()["simd_path"] == _core.simd_path == expected
    assert sys.modules["glorot_ext._core"] is _core


def test_choose_takes_the_fastest_runnable_build():
    assert _dispatch.choose(None, ["baseline", "avx2", "avx512"], ["baseline", "avx2", "avx512"]) == "avx512"
    assert _dispatch.choose(None, ["baseline", "avx2", "avx512"], ["baseline", "avx2"]) == "avx2"
    assert _dispatch.choose(None, ["baseline", "avx2", "avx512"], ["baseline"]) == "baseline"
    assert _dispatch.choose("", ["baseline", "avx2"], ["baseline", "avx2", "avx512"]) == "avx2"
    assert _dispatch.choose(None, ["native"], ["native"]) == "native"


def test_choose_honours_a_forced_build():
    assert _dispatch.choose("baseline", ["baseline", "avx2", "avx512"], ["baseline", "avx2", "avx512"]) == "baseline"
    assert _dispatch.choose("avx2", ["baseline", "avx2", "avx512"], ["baseline", "avx2", "avx512"]) == "avx2"


@pytest.mark.parametrize(
    "requested, built, runnable, message",
    [
        ("avx512", ["baseline", "avx2", "avx512"], ["baseline", "avx2"], "this CPU cannot run the avx512 kernels"),
        ("avx2", ["baseline", "avx2", "avx512"], ["baseline"], "this CPU cannot run the avx2 kernels"),
        ("avx512", ["baseline"], ["baseline", "avx2", "avx512"], "this build of glorot_ext has only baseline"),
        ("sse9", ["baseline", "avx2"], ["baseline"], "must be one of baseline, avx2, avx512"),
        ("avx2", ["native"], ["native"], "GLOROT_NATIVE=ON"),
        (None, [], ["baseline"], "no native kernels installed"),
        (None, ["avx512"], ["baseline", "avx2"], "this CPU runs baseline, avx2 but glorot_ext was built with avx512"),
    ],
)
def test_choose_refuses_with_the_reason(requested, built, runnable, message):
    with pytest.raises(ImportError, match=message):
        _dispatch.choose(requested, built, runnable)


def _python(code, **env):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=120
    )


def test_glorot_simd_forces_a_build_in_a_new_process():
    for path in RUNNABLE if "native" not in BUILT else []:
        if path in BUILT:
            out = _python("import glorot_ext as g; print(g.build_info()['simd_path'])", GLOROT_SIMD=path)
            assert out.returncode == 0, out.stderr
            assert out.stdout.strip() == path


def test_a_bad_glorot_simd_fails_the_import_with_a_message():
    out = _python("import glorot_ext", GLOROT_SIMD="sse9")
    assert out.returncode != 0
    assert "GLOROT_SIMD='sse9': must be one of baseline, avx2, avx512" in out.stderr or "GLOROT_NATIVE=ON" in out.stderr


def _other_builds():
    return [p for p in BUILT if p in RUNNABLE and p != _core.simd_path]


@pytest.mark.skipif(not _other_builds(), reason="only one kernel build runs on this CPU")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [10, 37])  # small-batch kernels where built, and the GEMM path
def test_every_build_takes_the_same_step_as_the_reference(dtype, batch):
    rng = np.random.default_rng(8)
    sizes = [50, 64, 64, 7]
    w0 = [(rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype) for a, b in zip(sizes[:-1], sizes[1:])]
    b0 = [np.zeros(b, dtype) for b in sizes[1:]]
    X = rng.random((batch, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], batch)
    ws, bs = [w.copy() for w in w0], [b.copy() for b in b0]
    reference.Network(ws, bs, ["tanh", "tanh"], "nll").sgd_step(X, y, 0.1)
    tol = 3e-5 if dtype == np.float32 else 1e-11  # tests/test_fused_step.py's
    for path in [_core.simd_path, *_other_builds()]:
        module = importlib.import_module(f"glorot_ext._core_{path}")
        w, b = [a.copy() for a in w0], [a.copy() for a in b0]
        net = module.Network(w, b, ["tanh", "tanh"], "nll")
        net.sgd_step(X, y, 0.1)
        for got, want in zip(w + b, ws + bs):
            np.testing.assert_allclose(got, want, rtol=0, atol=tol, err_msg=f"build {path}")


# -- what the shipped builds contain ------------------------------------------------------------

_LEGACY_PREFIXES = {"66", "67", "f2", "f3", "f0", "2e", "36", "3e", "26", "64", "65"}


def _encodings(so_file):
    """Counts of VEX (AVX/AVX2/FMA) and EVEX (AVX-512) instructions in a shared object."""
    text = subprocess.run(
        ["objdump", "-d", "--insn-width=16", str(so_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    vex = evex = 0
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or not parts[0].strip().endswith(":"):
            continue
        raw = [b for b in parts[1].split() if b not in _LEGACY_PREFIXES]
        if not raw:
            continue
        vex += raw[0] in ("c4", "c5")
        evex += raw[0] == "62"  # in 64-bit mode 0x62 can only start an EVEX prefix
    return vex, evex


def _module_file(name):
    spec = importlib.util.find_spec(f"glorot_ext.{name}")
    return Path(spec.origin) if spec is not None and spec.origin else None


@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump (binutils) not installed")
@pytest.mark.skipif("native" in BUILT or BUILT == ["baseline"], reason="not a dispatched x86-64 build")
def test_only_the_avx512_build_holds_avx512_instructions():
    counts = {name: _encodings(_module_file(name)) for name in ("_cpu", *(f"_core_{p}" for p in BUILT))}
    assert counts["_cpu"] == (0, 0)
    assert counts["_core_baseline"] == (0, 0), "the baseline build uses AVX or AVX-512"
    if "avx2" in BUILT:
        assert counts["_core_avx2"][1] == 0 and counts["_core_avx2"][0] > 1000
    if "avx512" in BUILT:
        assert counts["_core_avx512"][1] > 1000  # the check sees AVX-512 where it is
