import os
from pathlib import Path

import numpy as np
import pytest

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@pytest.fixture
def rng():
    """A fresh seeded Generator per test: tests never share random state."""
    return np.random.default_rng(20100513)


def _mnist_candidates():
    env = os.environ.get("GLOROT_EXT_DATA")
    if env:
        yield Path(env) / "mnist"
        yield Path(env)
    yield Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def mnist_dir():
    """The directory of the original MNIST IDX files, or a clean skip where they are absent."""
    for d in _mnist_candidates():
        if all((d / f).exists() or (d / (f + ".gz")).exists() for f in MNIST_FILES):
            return d
    pytest.skip("MNIST IDX files not found (set GLOROT_EXT_DATA or provide ../shared/data/mnist)")
