"""The SGD step of each kernel build (baseline, AVX2, AVX-512; see glorot_ext/_dispatch.py) side by
side in one process, against the NumPy reference and, optionally, another build's module (e.g. a
GLOROT_NATIVE=ON build): ms per step, min and median over interleaved rounds.

python bench/simd_paths.py [--network mnist] [--batch 10] [--threads 2] [--dtypes float32]
                           [--rounds 7] [--steps 40] [--other NAME=PATH/TO/_core*.so]

Every build the CPU runs is imported as its own module (they share nothing but libgomp); --other
loads an extension file built elsewhere, e.g. --other native=/path/site-packages/glorot_ext/_core....so
"""

from __future__ import annotations

import argparse
import importlib
import importlib.machinery
import importlib.util
import time

import numpy as np

from glorot_ext import _dispatch
from glorot_ext.benchmark import LR, NETWORKS, _data, _numpy_step, _params


def _load_file(path: str):
    stem = path.rsplit("/", 1)[-1].split(".", 1)[0]  # _core or _core_<path>: its PyInit_ name
    loader = importlib.machinery.ExtensionFileLoader(f"glorot_ext.{stem}", path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--network", default="mnist", choices=sorted(NETWORKS))
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--threads", default="2", help="comma-separated thread counts")
    p.add_argument("--dtypes", default="float32")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--steps", type=int, default=40, help="timed steps per contender per round")
    p.add_argument("--other", action="append", default=[], help="NAME=PATH of another build's extension file")
    p.add_argument("--no-numpy", action="store_true")
    args = p.parse_args()
    sizes = NETWORKS[args.network]
    runnable = set(_dispatch.runnable_paths())
    modules = {path: importlib.import_module(f"glorot_ext._core_{path}") for path in _dispatch.built_paths()}
    modules = {k: m for k, m in modules.items() if k in runnable or k == "native"}
    for spec in args.other:
        name, _, path = spec.partition("=")
        modules[name] = _load_file(path)
    contenders = {}
    for dt in args.dtypes.split(","):
        dtype = np.dtype(dt)
        X, y = _data(sizes, args.batch, dtype)
        for nt in (int(t) for t in args.threads.split(",")):
            for name, mod in modules.items():
                w, b = _params(sizes, dtype)
                net = mod.Network(w, b, ["tanh"] * (len(sizes) - 2), "nll")
                contenders[(dt, nt, name)] = (mod, net, X, y)
            if not args.no_numpy:
                contenders[(dt, nt, "numpy")] = (None, _numpy_step(sizes, args.batch, dtype), None, None)
    times: dict = {k: [] for k in contenders}
    for _ in range(args.rounds):
        for key, (mod, net, X, y) in contenders.items():
            time.sleep(0.05)
            if mod is None:
                from threadpoolctl import threadpool_limits

                with threadpool_limits(key[1]):
                    net()
                    for _ in range(max(3, args.steps // 6)):
                        t0 = time.perf_counter()
                        net()
                        times[key].append(time.perf_counter() - t0)
                continue
            mod.set_num_threads(key[1])
            net.sgd_step(X, y, LR)
            for _ in range(args.steps):
                t0 = time.perf_counter()
                net.sgd_step(X, y, LR)
                times[key].append(time.perf_counter() - t0)
    print(f"{args.network} {sizes}, batch {args.batch}, {args.rounds} rounds; ms per step")
    for key, t in times.items():
        t = np.array(t) * 1e3
        mod = contenders[key][0]
        what = (
            f"{mod.simd_path}, small batch <= {mod.small_batch_max}"
            if mod is not None and hasattr(mod, "simd_path")
            else ""
        )
        print(f"{key[0]:8s} {key[1]} thread(s)  {key[2]:9s} min {t.min():7.3f}  median {np.median(t):7.3f}  {what}")


if __name__ == "__main__":
    main()
