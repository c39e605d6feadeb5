"""Benchmarks of the paper's SGD step: glorot_ext against idiomatic NumPy and PyTorch, side by side.

Every contender runs in one process, in interleaved rounds (the machine may be shared, so
conditions drift between minutes): per round each contender does a warm-up step and then a few
timed steps; the report gives the min and the median over all timed steps. NumPy is the
``glorot_ext.reference`` network (``X @ W + b``, in-place updates), at its best: OPENBLAS_CORETYPE
and OPENBLAS_L2_SIZE slow OpenBLAS on some machines and must be unset before NumPy loads, so
``main`` re-runs itself in a child process with a cleaned environment when they are set. PyTorch
(``nn.Linear`` + ``torch.optim.SGD``) runs when it is importable; it is never a dependency.

    python -m glorot_ext.benchmark --quick     # batch 10, float32 and float64
    python -m glorot_ext.benchmark --out DIR   # the full table into DIR (nothing is written without --out)
    python bench/bench_step.py                 # the repository's bench/results/ and BENCHMARKS.md

Achieved GFLOP/s count 2·batch·fan_in·fan_out per layer for the forward pass and for ∂C/∂W, and
again for ∂C/∂z of every layer but the first; the GEMM peak is the best of a large float32 NumPy
and Eigen product measured in the same run, at the same thread count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Protocol,
    Sequence,
    Tuple,
    Union,
)

if TYPE_CHECKING:  # NumPy is imported late, after main() has cleaned the environment
    import numpy as np
    from numpy.typing import DTypeLike, NDArray

    from glorot_ext._core import FloatArray

#: One contender's SGD step, called for its time.
Step = Callable[[], object]
#: min_ms, median_ms and n of one contender's timed steps.
Timing = Dict[str, float]
PathLike = Union[str, "os.PathLike[str]"]


class _Limits(Protocol):
    """What ``threadpoolctl.threadpool_limits`` returns: undone by ``unregister``."""

    def unregister(self) -> None: ...


_SLOW_BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_CHILD_MARK = "GLOROT_BENCH_CLEAN_ENV"

NETWORKS = {
    "mnist": [784] + [1000] * 5 + [10],  # MNIST-sized input, 5×1000 hidden, 10 classes
    "shapeset": [1024] + [1000] * 5 + [9],  # Shapeset-3x2 32×32 input, 9 classes
}
ACTIVATION = "tanh"
LR = 1e-4  # small: thousands of timed steps on random data must not diverge


def step_flops(sizes: Sequence[int], batch: int) -> int:
    """FLOPs of one SGD step: forward, ∂C/∂W, and ∂C/∂z below every layer but the first."""
    pairs = list(zip(sizes, sizes[1:]))
    return 2 * batch * (2 * sum(a * b for a, b in pairs) + sum(a * b for a, b in pairs[1:]))


def _params(sizes: Sequence[int], dtype: np.dtype[Any], seed: int = 0) -> Tuple[List[FloatArray], List[FloatArray]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    weights = [(rng.uniform(-1, 1, (a, b)) * np.sqrt(6 / (a + b))).astype(dtype) for a, b in zip(sizes, sizes[1:])]
    return weights, [np.zeros(b, dtype) for b in sizes[1:]]


def _data(
    sizes: Sequence[int], batch: int, dtype: np.dtype[Any], seed: int = 1
) -> Tuple[FloatArray, NDArray[np.int64]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, sizes[0])).astype(dtype), rng.integers(0, sizes[-1], batch)


# -- contenders: each a factory (sizes, batch, dtype) -> step() ----------------------------------


def _glorot_ext_step(sizes: Sequence[int], batch: int, dtype: np.dtype[Any]) -> Step:
    from glorot_ext import _core

    weights, biases = _params(sizes, dtype)
    net = _core.Network(weights, biases, [ACTIVATION] * (len(sizes) - 2), "nll")
    X, y = _data(sizes, batch, dtype)
    return lambda: net.sgd_step(X, y, LR)


def _numpy_step(sizes: Sequence[int], batch: int, dtype: np.dtype[Any]) -> Step:
    from glorot_ext import reference

    weights, biases = _params(sizes, dtype)
    net = reference.Network(weights, biases, [ACTIVATION] * (len(sizes) - 2), "nll")
    X, y = _data(sizes, batch, dtype)
    return lambda: net.sgd_step(X, y, LR)


def _torch_step(sizes: Sequence[int], batch: int, dtype: np.dtype[Any]) -> Step:
    import torch

    tdtype = {"float32": torch.float32, "float64": torch.float64}[str(dtype)]
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(a, b, dtype=tdtype))
        if i + 2 < len(sizes):
            layers.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    X, y = _data(sizes, batch, dtype)
    X, y = torch.from_numpy(X), torch.from_numpy(y)

    def step() -> object:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except Exception:
        return False
    return True


def _set_threads(n: int) -> Optional[_Limits]:
    """Sets the thread count of every library in play; returns a context to undo BLAS limits."""
    from glorot_ext import _core

    _core.set_num_threads(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    limits: _Limits = threadpool_limits(limits=n)
    return limits


def _blas_info() -> Union[str, List[Dict[str, Any]]]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    return [
        {k: d.get(k) for k in ("internal_api", "version", "threading_layer", "architecture", "num_threads", "filepath")}
        for d in threadpool_info()
    ]


def _time_calls(fn: Step, repeats: int) -> List[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _summary(times: Sequence[float]) -> Timing:
    import numpy as np

    return {"min_ms": 1e3 * float(np.min(times)), "median_ms": 1e3 * float(np.median(times)), "n": len(times)}


def interleaved(contenders: Mapping[str, Step], rounds: int, repeats: int, pause: float = 0.15) -> Dict[str, Timing]:
    """Times each contender's step in `rounds` interleaved rounds; {name: summary}."""
    times: Dict[str, List[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, step in contenders.items():
            time.sleep(pause)  # let the previous contender's spinning threads (OpenBLAS, OpenMP) go idle
            step()  # warm-up: caches, lazily grown buffers
            times[name] += _time_calls(step, repeats)
    return {name: _summary(t) for name, t in times.items()}


def _repeats_for(sizes: Sequence[int], batch: int, budget_s: float = 0.25) -> int:
    """Steps per round so that the slowest contender spends about budget_s per round."""
    est = step_flops(sizes, batch) / 10e9  # NumPy at ~10 GFLOP/s, a pessimistic guess
    return int(max(2, min(50, budget_s / est)))


def gemm_peak(threads: int, n: int = 2048) -> Dict[str, float]:
    """GFLOP/s of a large float32 GEMM at this thread count: best of NumPy's BLAS and Eigen."""
    import numpy as np

    from glorot_ext import _core

    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n)).astype(np.float32)
    B = rng.standard_normal((n, n)).astype(np.float32)
    b = np.zeros(n, np.float32)
    ctx = _set_threads(threads)
    try:
        res: Dict[str, float] = {}
        # "eigen" names glorot_ext's own blocked GEMM (dense_forward), OpenBLAS's where built with it.
        for name, fn in (("numpy", lambda: A @ B), ("eigen", lambda: _core.dense_forward(A, B, b))):
            fn()
            res[name] = 2 * n**3 / min(_time_calls(fn, 6)) / 1e9
    finally:
        if ctx is not None:
            ctx.unregister()
    return res


def memory_bandwidth(threads: int, n: int = 1 << 24, repeats: int = 8) -> Dict[str, float]:
    """DRAM bandwidth in GB/s, STREAM-like on float64 arrays of n entries (8n bytes each, far
    above L3), each of `threads` Python threads on its own slice (NumPy releases the GIL):
    "add" a = b + c (bytes of 3 arrays: STREAM's count, no write-allocate) and "update" a += b,
    the access pattern of the fused backward pass (read a and b, write a). Best of `repeats`."""
    import threading

    import numpy as np

    a, b, c = np.zeros(n), np.ones(n), np.full(n, 2.0)
    cuts = [n * i // threads for i in range(threads + 1)]
    kernels = {"add": lambda s: np.add(b[s], c[s], out=a[s]), "update": lambda s: np.add(a[s], b[s], out=a[s])}
    res: Dict[str, float] = {}
    for name, kernel in kernels.items():
        best = float("inf")
        for _ in range(repeats):
            workers = [threading.Thread(target=kernel, args=(slice(cuts[i], cuts[i + 1]),)) for i in range(threads)]
            t0 = time.perf_counter()
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            best = min(best, time.perf_counter() - t0)
        res[name] = 3 * 8 * n / best / 1e9
    return res


def weight_bytes_per_step(sizes: Sequence[int], dtype: DTypeLike) -> int:
    """Bytes of weights a small-batch step moves: every W read forward, read and written backward."""
    import numpy as np

    return 3 * sum(a * b for a, b in zip(sizes, sizes[1:])) * int(np.dtype(dtype).itemsize)


# The speed goals (MNIST network, 2 threads): (label, batch, dtype, what, target), where
# what is "ratio" (NumPy ms / glorot_ext ms, at least target) or "ms" (glorot_ext, at most target).
GOALS: List[Tuple[str, int, str, str, float]] = [
    ("2", 100, "float32", "ratio", 1.3),
    ("2", 1000, "float32", "ratio", 1.1),
    ("3", 10, "float64", "ratio", 3.5),
    ("3", 100, "float64", "ratio", 1.0),
    ("3", 1000, "float64", "ratio", 1.0),
    ("4", 10, "float32", "ms", 1.5),
]


def goals_table(results: Mapping[str, Any], network: str = "mnist", threads: int = 2) -> List[str]:
    """Markdown lines: each goal of GOALS measured in `results` (min / median), met or not."""
    rows = {
        (r["batch"], r["dtype"]): r for r in results["steps"] if r["network"] == network and r["threads"] == threads
    }
    lines = [
        f"| goal | {network}, {threads} threads | target | measured (min / median) | met? |",
        "|---|---|---|---|---|",
    ]
    for label, batch, dtype, what, target in GOALS:
        row = rows.get((batch, dtype))
        if row is None:
            continue
        g, n = row["results"]["glorot_ext"], row["results"]["numpy"]
        if what == "ratio":
            lo, med = n["min_ms"] / g["min_ms"], n["median_ms"] / g["median_ms"]
            cells = f"≥ {target}× NumPy", f"{lo:.2f}× / {med:.2f}×", lo >= target
        else:
            lo, med = g["min_ms"], g["median_ms"]
            cells = f"≤ {target} ms", f"{lo:.3f} / {med:.3f} ms", lo <= target
        lines.append(f"| {label} | batch {batch} {dtype} | {cells[0]} | {cells[1]} | {'yes' if cells[2] else 'no'} |")
    return lines if len(lines) > 2 else []


def kernel_timings(
    sizes: Sequence[int], batch: int, dtype: np.dtype[Any], threads: int, repeats: int = 20
) -> Dict[str, Union[float, List[float], str]]:
    """Per-kernel ms (min over repeats): phases of the small-batch step (forward per layer, softmax,
    backward+update per layer), the stand-alone dense and activation kernels on a 1000×1000 layer,
    and Shapeset generation per minibatch when generated in bulk."""
    import numpy as np

    from glorot_ext import _core

    out: Dict[str, Union[float, List[float], str]] = {}
    ctx = _set_threads(threads)
    try:
        weights, biases = _params(sizes, dtype)
        net = _core.Network(weights, biases, [ACTIVATION] * (len(sizes) - 2), "nll")
        X, y = _data(sizes, batch, dtype)
        for _ in range(3):
            net.sgd_step(X, y, LR)
        net.set_profiling(True)
        net.phase_seconds()
        per_step = []
        for _ in range(repeats):
            net.sgd_step(X, y, LR)
            per_step.append(net.phase_seconds())
        phases = np.min(np.array(per_step, dtype=float), axis=0) * 1e3 if per_step[0] else np.array([])
        net.set_profiling(False)
        L = len(sizes) - 1
        if phases.size == 2 * L + 1:  # the small-batch path ran
            out["step_forward_ms"] = [round(float(p), 4) for p in phases[:L]]
            out["step_softmax_ms"] = round(float(phases[L]), 4)
            out["step_backward_update_ms"] = [round(float(p), 4) for p in phases[L + 1 :]]
        rng = np.random.default_rng(2)
        Z = rng.standard_normal((batch, 1000)).astype(dtype)
        W = (0.03 * rng.standard_normal((1000, 1000))).astype(dtype)
        b = np.zeros(1000, dtype)
        dY = rng.standard_normal((batch, 1000)).astype(dtype)
        T = np.tanh(Z)
        for name, fn in (
            ("dense_forward_1000x1000", lambda: _core.dense_forward(Z, W, b)),
            ("dense_backward_1000x1000", lambda: _core.dense_backward(Z, W, dY)),
            ("activation_forward_tanh_1000", lambda: _core.activation_forward("tanh", Z)),
            ("activation_backward_tanh_1000", lambda: _core.activation_backward("tanh", T, dY)),
        ):
            fn()
            out[name + "_ms"] = round(1e3 * min(_time_calls(fn, repeats)), 4)
        try:
            from glorot_ext.datasets import shapeset

            # Per minibatch when generated in bulk (as a stream does): 1000 images, scaled.
            shapeset.generate(1000, seed=0, num_threads=threads)
            bulk = min(_time_calls(lambda: shapeset.generate(1000, seed=0, num_threads=threads), 3))
            out["shapeset_generate_ms"] = round(1e3 * bulk * batch / 1000, 4)
        except Exception as e:  # the generator is optional to this benchmark
            out["shapeset_generate_ms"] = f"unavailable: {e}"
    finally:
        if ctx is not None:
            ctx.unregister()
    return out


def run(
    networks: Sequence[str] = ("mnist", "shapeset"),
    batches: Sequence[int] = (1, 10, 100, 1000),
    dtypes: Sequence[str] = ("float32", "float64"),
    threads: Sequence[int] = (1, 2),
    rounds: int = 4,
    torch: bool = True,
    kernels: bool = True,
    log: Callable[[str], object] = print,
) -> Dict[str, Any]:
    """Runs the step benchmark; returns a JSON-ready dict (see ``write_results``)."""
    import numpy as np

    from glorot_ext import _core, runtime

    use_torch = torch and _torch_available()
    results: Dict[str, Any] = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_start": os.getloadavg(),
        },
        "glorot_ext": runtime.build_info(),
        "numpy": np.__version__,
        "blas": _blas_info(),
        "blas_env_unset": [k for k in _SLOW_BLAS_ENV if k not in os.environ],
        "torch": sys.modules["torch"].__version__ if use_torch else None,
        "small_batch_max": _core.small_batch_max,
        "rounds": rounds,
        "lr": LR,
        "activation": ACTIVATION,
        "peak": {},
        "steps": [],
        "kernels": [],
    }
    results["bandwidth_gb_s"] = {str(t): memory_bandwidth(t) for t in threads}
    for t in threads:
        results["peak"][str(t)] = gemm_peak(t)
        log(
            f"GEMM peak, {t} thread(s): "
            + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in results["peak"][str(t)].items())
        )
    for net_name in networks:
        sizes = NETWORKS[net_name]
        for dtype in dtypes:
            for batch in batches:
                for t in threads:
                    contenders: Dict[str, Step] = {
                        "glorot_ext": _glorot_ext_step(sizes, batch, np.dtype(dtype)),
                        "numpy": _numpy_step(sizes, batch, np.dtype(dtype)),
                    }
                    if use_torch:
                        contenders["torch"] = _torch_step(sizes, batch, np.dtype(dtype))
                    ctx = _set_threads(t)
                    try:
                        res = interleaved(contenders, rounds, _repeats_for(sizes, batch))
                    finally:
                        if ctx is not None:
                            ctx.unregister()
                    flops = step_flops(sizes, batch)
                    peak = max(results["peak"][str(t)].values())
                    g = res["glorot_ext"]
                    row = {
                        "network": net_name,
                        "sizes": sizes,
                        "batch": batch,
                        "dtype": dtype,
                        "threads": t,
                        "gflop": flops / 1e9,
                        "results": res,
                        "glorot_ext_gflops": flops / g["min_ms"] / 1e6,
                        "pct_of_gemm_peak": 100 * flops / g["min_ms"] / 1e6 / peak,
                        "speedup_vs_numpy": res["numpy"]["min_ms"] / g["min_ms"],
                        "speedup_vs_numpy_median": res["numpy"]["median_ms"] / g["median_ms"],
                    }
                    if use_torch:
                        row["speedup_vs_torch"] = res["torch"]["min_ms"] / g["min_ms"]
                    results["steps"].append(row)
                    log(_row_line(row))
                    # The peak is re-measured between configurations and the best kept: on a
                    # shared machine any single measurement may have been disturbed.
                    again = gemm_peak(t)
                    results["peak"][str(t)] = {k: max(v, again[k]) for k, v in results["peak"][str(t)].items()}
    if kernels:
        for dtype in dtypes:
            for batch in batches:
                for t in threads:
                    k = kernel_timings(NETWORKS[networks[0]], batch, np.dtype(dtype), t)
                    results["kernels"].append(
                        {"network": networks[0], "batch": batch, "dtype": dtype, "threads": t, **k}
                    )
    for row in results["steps"]:
        peak = max(results["peak"][str(row["threads"])].values())
        row["pct_of_gemm_peak"] = 100 * row["glorot_ext_gflops"] / peak
    results["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results["machine"]["loadavg_end"] = os.getloadavg()
    return results


def _row_line(row: Mapping[str, Any]) -> str:
    r = row["results"]
    s = (
        f"{row['network']:8s} batch {row['batch']:4d} {row['dtype']} {row['threads']}T: "
        f"glorot_ext {r['glorot_ext']['min_ms']:8.3f} / {r['glorot_ext']['median_ms']:8.3f} ms  "
        f"numpy {r['numpy']['min_ms']:8.3f} / {r['numpy']['median_ms']:8.3f} ms  "
        f"x{row['speedup_vs_numpy']:.2f}"
    )
    if "torch" in r:
        s += f"  torch {r['torch']['min_ms']:8.3f} / {r['torch']['median_ms']:8.3f} ms  x{row['speedup_vs_torch']:.2f}"
    return s + f"  {row['glorot_ext_gflops']:.0f} GFLOP/s ({row['pct_of_gemm_peak']:.0f}% of GEMM peak)"


def markdown(results: Mapping[str, Any]) -> str:
    """The results as Markdown tables (steps, then per-kernel timings)."""
    torch_on = results["torch"] is not None
    lines = [
        f"Step benchmark, {results['started']} ({results['rounds']} interleaved rounds; "
        "ms per step as min / median; speedup = NumPy min / glorot_ext min).",
        "",
        f"- glorot_ext {results['glorot_ext']['version']}: {json.dumps(results['glorot_ext'])}; "
        f"small-batch kernels up to batch {results['small_batch_max']}",
        f"- NumPy {results['numpy']}, BLAS: "
        + (
            ", ".join(
                f"{b.get('internal_api')} {b.get('version')} ({b.get('architecture')}, {b.get('threading_layer')})"
                for b in results["blas"]
            )
            if isinstance(results["blas"], list)
            else str(results["blas"])
        ),
        f"- unset for the run: {', '.join(results['blas_env_unset']) or 'none'}; "
        f"PyTorch: {results['torch'] or 'not installed'}",
        '- GEMM peak (2048² float32, best of the measurements between configurations; "eigen" is '
        "glorot_ext's blocked `dense_forward`, whatever GEMM it was built with): "
        + "; ".join(
            f"{t} thread(s) " + ", ".join(f"{k} {v:.0f}" for k, v in p.items()) + " GFLOP/s"
            for t, p in results["peak"].items()
        ),
        "",
    ]
    bw = results.get("bandwidth_gb_s") or {}
    if bw:
        lines[-1:-1] = [
            "- memory bandwidth (`memory_bandwidth`: float64 arrays of 128 MB, STREAM byte count): "
            + "; ".join(f"{t} thread(s) add {v['add']:.1f}, update {v['update']:.1f} GB/s" for t, v in bw.items())
        ]
    load = [results["machine"].get(k) for k in ("loadavg_start", "loadavg_end")]
    if all(load):
        lines[-1:-1] = [
            f"- load average (1, 5, 15 min) at start {', '.join(f'{x:.1f}' for x in load[0])}, at end "
            f"{', '.join(f'{x:.1f}' for x in load[1])}, on {results['machine']['cpus']} CPUs: a load "
            "above the CPU count means other processes shared the cores during the timing"
        ]
    if command := results.get("command"):
        lines = [f"Command: `{command}`", ""] + lines
    goals = goals_table(results)
    if goals:
        lines += [
            "Speed goals (from the rows below; met? judged on the min, the median beside it):",
            "",
            *goals,
            "",
        ]
        two = bw.get("2")
        if two:
            moved = weight_bytes_per_step(NETWORKS["mnist"], "float64")
            lines += [
                f"The bandwidth floor of the float64 batch-10 step: its weights move {moved / 1e6:.0f} MB per "
                f"step (read forward, read and written backward), {1e3 * moved / 1e9 / max(two.values()):.2f} ms "
                f"at the best 2-thread bandwidth above ({max(two.values()):.1f} GB/s).",
                "",
            ]
    head = "| network | batch | dtype | threads | glorot_ext ms | NumPy ms | ×NumPy |"
    sep = "|---|---:|---|---:|---:|---:|---:|"
    if torch_on:
        head += " PyTorch ms | ×PyTorch |"
        sep += "---:|---:|"
    head += " GFLOP/s | % GEMM peak |"
    sep += "---:|---:|"
    lines += [head, sep]
    for row in results["steps"]:
        r = row["results"]

        def cell(c: str) -> str:
            return f"{r[c]['min_ms']:.3f} / {r[c]['median_ms']:.3f}"

        line = (
            f"| {row['network']} | {row['batch']} | {row['dtype']} | {row['threads']} | {cell('glorot_ext')} | "
            f"{cell('numpy')} | {row['speedup_vs_numpy']:.2f} |"
        )
        if torch_on:
            line += f" {cell('torch')} | {row['speedup_vs_torch']:.2f} |"
        line += f" {row['glorot_ext_gflops']:.0f} | {row['pct_of_gemm_peak']:.0f}% |"
        lines.append(line)
    if results["kernels"]:
        lines += [
            "",
            "Per-kernel ms (min over 20 calls): phases of the small-batch step on the first network "
            "(forward per layer, softmax, backward+update per layer: thread 0's wall time between "
            "barriers; — where the batch takes the GEMM path), stand-alone kernels on a 1000×1000 layer at "
            "the same batch (each its own parallel region), and Shapeset-3x2 generation per minibatch "
            "when generated 1000 images at a time.",
            "",
            "| batch | dtype | threads | step forward | softmax | step backward+update | dense_forward | "
            "dense_backward | tanh fwd | tanh bwd | Shapeset generate |",
            "|---:|---|---:|---|---:|---|---:|---:|---:|---:|---:|",
        ]
        for k in results["kernels"]:

            def fmt(v: Union[None, float, List[float], str]) -> str:
                return (
                    "—"
                    if v is None
                    else (
                        " ".join(f"{x:.3f}" for x in v)
                        if isinstance(v, list)
                        else (f"{v:.3f}" if isinstance(v, float) else str(v))
                    )
                )

            lines.append(
                f"| {k['batch']} | {k['dtype']} | {k['threads']} | {fmt(k.get('step_forward_ms'))} | "
                f"{fmt(k.get('step_softmax_ms'))} | {fmt(k.get('step_backward_update_ms'))} | "
                f"{fmt(k['dense_forward_1000x1000_ms'])} | {fmt(k['dense_backward_1000x1000_ms'])} | "
                f"{fmt(k['activation_forward_tanh_1000_ms'])} | {fmt(k['activation_backward_tanh_1000_ms'])} | "
                f"{fmt(k['shapeset_generate_ms'])} |"
            )
    return "\n".join(lines) + "\n"


_MARK = "<!-- written by glorot-ext bench: rerunning it replaces this file -->"
_GEMM_CHOICE = (
    "Why OpenBLAS for the large-batch GEMM: the block partition (`block_count` in `parallel.hpp`: 2 "
    "blocks per 1000 units, the forward GEMMs split over the batch instead from 512 rows) is what makes "
    "results independent of the thread count, so the GEMM inside a block must be serial and "
    "deterministic; OpenBLAS's from the `scipy-openblas32` wheel (symbols prefixed `scipy_`, so it never "
    "meets NumPy's copy; held to one thread, called by each of our threads on its own block; "
    "W += -lr·zᵀ·∂C/∂s through beta = 1, no ∂C/∂W temporary) runs ~100 GFLOP/s per thread in float32 "
    "on these blocks against Eigen's ~83, the same kernels NumPy uses, and it "
    "comes from PyPI, so `pip install .` and CI still need nothing but PyPI. A packed AVX-512 "
    "micro-kernel of our own was the alternative: it could fuse bias and tanh into the GEMM's store, "
    "but matching OpenBLAS's packing and edge cases is weeks, not hours. Few, wide blocks because each "
    "block's GEMM packs the operand the blocks share once more (`bench/gemm_blocks.cpp` times one layer "
    "split into 1, 2, 4 and 8 blocks); over the batch at 1000 rows because OpenBLAS packs the shared "
    "W faster than the shared input there. Where the wheel is absent "
    "(not Linux x86-64, or `-C cmake.define.GLOROT_OPENBLAS=OFF`) the same blocks run Eigen's GEMM "
    "(`build_info()['gemm']` says which)."
)
#: Below this line a BENCHMARKS file holds hand-written notes (why a goal is missed, what was tried);
#: a rerun replaces the measurements above it and keeps them.
_NOTES = "<!-- notes: kept when glorot-ext bench rewrites this file -->"


def _written_by_bench(path: Path) -> bool:
    with open(path, encoding="utf-8", errors="replace") as f:
        head = f.read(200)
    return head.startswith((_MARK, '{\n "started": '))


def _refuse_foreign(paths: Iterable[Path], force: bool) -> None:
    for path in paths:
        if path.exists() and not force and not _written_by_bench(path):
            raise FileExistsError(
                f"{path} exists and was not written by glorot-ext bench; "
                "choose another --out/--markdown, or pass --force to replace it"
            )


def write_results(
    results: Mapping[str, Any], out_dir: PathLike, markdown_path: Optional[PathLike] = None, force: bool = False
) -> List[Path]:
    """Writes <out_dir>/step-<time>.json and .md and, if asked, the table into markdown_path,
    keeping the notes below ``_NOTES`` that the file already holds.

    Nothing is written anywhere else. An existing file is replaced only if an earlier run of
    this function wrote it (or ``force``); otherwise FileExistsError, before anything is written.

    Returns:
        The list of paths written.
    """
    from glorot_ext._io import atomic_write

    out_dir = Path(out_dir)
    stamp = results["started"].replace(":", "").replace("-", "").replace("+0000", "Z").replace("+00:00", "Z")
    js, md = out_dir / f"step-{stamp}.json", out_dir / f"step-{stamp}.md"
    targets = [js, md] + ([Path(markdown_path)] if markdown_path else [])
    _refuse_foreign(targets, force)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = markdown(results)
    from glorot_ext.record import dumps  # standard JSON: a NaN timing is written as null

    atomic_write(js, dumps(results, indent=1) + "\n")
    atomic_write(md, _MARK + "\n\n" + table)
    if markdown_path:
        notes = ""
        if Path(markdown_path).exists():
            text = Path(markdown_path).read_text(encoding="utf-8")
            notes = "\n" + text[text.index(_NOTES) :] if _NOTES in text else ""
        atomic_write(
            markdown_path,
            _MARK + "\n\n"
            "# Benchmarks\n\nThe paper's SGD step (784/1024 inputs, 5×1000 tanh hidden layers, 10/9 softmax "
            "outputs) on this machine, from `python bench/bench_step.py` (module `glorot_ext.benchmark`; "
            "`--quick` for batch 10 only). "
            f"Raw results: `{Path(os.path.relpath(js, Path(markdown_path).parent)).as_posix()}`.\n\n"
            f"Up to batch {results['small_batch_max']} the step runs the small-batch kernels "
            "(`cpp/include/glorot_ext/small_batch.hpp`: "
            "the batch held in registers, each weight matrix read once forward and read+written once backward, "
            "the update fused into the backward pass, one parallel region per step); larger batches run "
            f"one serial GEMM ({results['glorot_ext'].get('gemm', 'eigen')}) per fixed block of columns "
            "(forward) or rows of W (backward), the blocks shared among the threads of one parallel region, "
            "so results are bitwise identical for any thread count. On a shared machine the 2-thread rows "
            "swing with the load of the other core: compare within a row (the contenders are interleaved), "
            "and prefer the min.\n\n" + _GEMM_CHOICE + "\n\n" + table + notes,
        )
    return targets


def quick(
    rounds: int = 6, threads: Sequence[int] = (1, 2), torch: bool = True, log: Callable[[str], object] = print
) -> Dict[str, Any]:
    """Batch 10, float32 and float64, the MNIST-sized network: ms/step min and median, ratio to NumPy."""
    return run(
        networks=("mnist",),
        batches=(10,),
        dtypes=("float32", "float64"),
        threads=threads,
        rounds=rounds,
        torch=torch,
        kernels=False,
        log=log,
    )


def _needs_clean_env() -> bool:
    return any(k in os.environ for k in _SLOW_BLAS_ENV) and os.environ.get(_CHILD_MARK) != "1"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: ``python -m glorot_ext.benchmark [--quick] ...``; returns an exit code."""
    p = argparse.ArgumentParser(prog="glorot-ext bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="batch 10 only, float32 and float64, MNIST network")
    p.add_argument("--networks", default="mnist,shapeset", help="comma list of " + ", ".join(NETWORKS))
    p.add_argument("--batches", default="1,10,100,1000")
    p.add_argument("--dtypes", default="float32,float64")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even when installed")
    p.add_argument("--no-kernels", action="store_true", help="skip the per-kernel timings")
    p.add_argument(
        "--out", metavar="DIR", help="folder for step-<time>.json and .md (default: print the table, write nothing)"
    )
    p.add_argument("--markdown", metavar="FILE", help="also write the table, with its context, to FILE")
    p.add_argument("--force", action="store_true", help="replace existing files not written by glorot-ext bench")
    args = p.parse_args(argv)
    if args.markdown and not args.out:
        p.error("--markdown needs --out (the folder of the raw results it points to)")
    if args.markdown:
        try:
            _refuse_foreign([Path(args.markdown)], args.force)
        except FileExistsError as e:  # before minutes of timing, not after
            print(f"glorot-ext bench: error: {e}", file=sys.stderr)
            return 1
    if _needs_clean_env():
        # NumPy (already imported here) read the slow OpenBLAS settings at load: rerun clean.
        env = {k: v for k, v in os.environ.items() if k not in _SLOW_BLAS_ENV}
        env[_CHILD_MARK] = "1"
        argv = sys.argv[1:] if argv is None else list(argv)
        return subprocess.call([sys.executable, "-m", "glorot_ext.benchmark", *argv], env=env)

    def ints(s: str) -> Tuple[int, ...]:
        return tuple(int(x) for x in s.split(",") if x)

    threads = ints(args.threads)
    if args.quick:
        quick(rounds=max(args.rounds, 6), threads=threads, torch=not args.no_torch)
        return 0
    results = run(
        networks=tuple(args.networks.split(",")),
        batches=ints(args.batches),
        dtypes=tuple(args.dtypes.split(",")),
        threads=threads,
        rounds=args.rounds,
        torch=not args.no_torch,
        kernels=not args.no_kernels,
    )
    results["command"] = " ".join(["python", "-m", "glorot_ext.benchmark", *(sys.argv[1:] if argv is None else argv)])
    if not args.out:
        print(markdown(results), end="")
        return 0
    try:
        paths = write_results(results, args.out, args.markdown, force=args.force)
    except FileExistsError as e:
        print(f"glorot-ext bench: error: {e}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
