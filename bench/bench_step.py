"""The paper's SGD step, glorot_ext vs NumPy (and PyTorch when installed): see glorot_ext.benchmark.

python bench/bench_step.py            # full table -> bench/results/*.json|md and BENCHMARKS.md
python bench/bench_step.py --quick    # batch 10, float32/float64: ms/step min, median, ratio to NumPy
"""

import sys
from pathlib import Path

from glorot_ext.benchmark import main

if __name__ == "__main__":
    repo = Path(__file__).resolve().parent.parent
    args = sys.argv[1:]
    if "--quick" not in args and "--out" not in args:
        args += ["--out", str(repo / "bench" / "results"), "--markdown", str(repo / "BENCHMARKS.md")]
    sys.exit(main(args))
