"""The paper's SGD step, glorot_ext vs NumPy (and PyTorch when installed): see glorot_ext.benchmark.

    python bench/bench_step.py            # full table -> bench/results/*.json|md and BENCHMARKS.md
    python bench/bench_step.py --quick    # batch 10, float32/float64: ms/step min, median, ratio to NumPy
"""

import sys

from glorot_ext.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
