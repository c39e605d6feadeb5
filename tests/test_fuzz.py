"""Hypothesis fuzzing of _core and the public MLP (tests/fuzz_native.py), each property in its own
process so that a crash fails the test; GLOROT_FUZZ_EXAMPLES raises the budget (default 60)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")

SCRIPT = Path(__file__).with_name("fuzz_native.py")
EXAMPLES = os.environ.get("GLOROT_FUZZ_EXAMPLES", "60")


@pytest.mark.parametrize("prop", ["core_network_calls", "core_network_construction", "core_functions", "public_mlp"])
def test_native_boundary_survives_random_arguments(prop):
    done = subprocess.run([sys.executable, str(SCRIPT), prop, EXAMPLES], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), (done.stdout + done.stderr)[-4000:]
