# Hand-kept stub of the native module (cpp/bindings); tests/test_core_stub.py checks it names
# exactly what the module exports. Arrays are float32 or float64, C-contiguous and aligned;
# labels int64. Nothing is converted: a wrong dtype/layout raises TypeError/ValueError.
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__version__: str
has_openmp: bool
native_build: bool
simd_path: str  # baseline, avx2, avx512 or native: which build glorot_ext._dispatch loaded
eigen_version: str
gemm: str
simd: str
small_batch_kernels: bool
small_batch_max: int
activation_names: tuple[str, ...]  # exactly glorot_ext.activations.ACTIVATIONS, in enum order
cost_names: tuple[str, ...]  # exactly glorot_ext.reference.COSTS

FloatArray = npt.NDArray[np.float32] | npt.NDArray[np.float64]
Labels = npt.NDArray[np.int64]

def get_num_threads() -> int:
    """Threads the kernels called from this thread use (1 in a serial build)."""

def set_num_threads(n: int) -> None:
    """Thread count of kernels called from this thread (OpenMP keeps one per thread); 0 = every core."""

def dense_forward(X: FloatArray, W: FloatArray, b: FloatArray) -> FloatArray: ...
def dense_backward(X: FloatArray, W: FloatArray, dY: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]: ...
def activation_forward(name: str, S: FloatArray) -> FloatArray: ...
def activation_backward(name: str, Z: FloatArray, dZ: FloatArray) -> FloatArray: ...
def softmax_nll(S: FloatArray, y: Labels) -> tuple[float, int, FloatArray, FloatArray]: ...
def quadratic_cost(S: FloatArray, y: Labels) -> tuple[float, int, FloatArray, FloatArray]: ...
def minibatch_gradient_key_counts(Z: FloatArray, D: FloatArray, batch: int, shift: int) -> npt.NDArray[np.uint64]:
    """Counts per key (bit pattern >> shift) of the gradients (1/batch)·Z_mᵀ·D_m of consecutive minibatches."""

def fill_polygons(vx: npt.NDArray[np.int32], vy: npt.NDArray[np.int32], size: int) -> npt.NDArray[np.bool_]:
    """(P, size, size) bool, indexed [p, x, y]: polygons of int32 vertices (P, n) filled by pygame 1.9's rule."""

def paint_polygons(
    images: npt.NDArray[np.uint8],
    image: npt.NDArray[np.int64],
    vx: npt.NDArray[np.int32],
    vy: npt.NDArray[np.int32],
    value: npt.NDArray[np.uint8],
) -> None:
    """Paints polygon p with grey level value[p] into images[image[p]] (B, size, size), by fill_polygons' rule."""

class Network:
    """A deep MLP over the given weight (fan_in, fan_out) and bias arrays, updated in place.

    The network keeps a reference to every array; no two may share memory. kernels="auto" runs
    steps of batch <= small_batch_max on the small-batch kernels where they are built, "gemm"
    always on Eigen's GEMM path.
    """

    def __init__(
        self,
        weights: Sequence[FloatArray],
        biases: Sequence[FloatArray],
        activations: Sequence[str],
        cost: str = "nll",
        *,
        kernels: Literal["auto", "gemm"] = "auto",
    ) -> None: ...
    def sgd_step(self, X: FloatArray, y: Labels, lr: float) -> tuple[float, int]:
        """(mean loss, errors) before the update; X and y must not share memory with a parameter."""
    def predict_proba(self, X: FloatArray) -> FloatArray: ...
    def evaluate(self, X: FloatArray, y: Labels) -> tuple[float, int]: ...
    def forward(self, X: FloatArray) -> tuple[list[FloatArray], list[FloatArray]]: ...
    def gradients(self, X: FloatArray, y: Labels) -> dict[str, Any]: ...
    def set_profiling(self, on: bool) -> None: ...
    def phase_seconds(self) -> list[float]:
        """Seconds per phase of small-batch steps since the last call: forward per layer, softmax,
        backward per layer (empty when no small-batch step ran)."""
    @property
    def dtype(self) -> str: ...
    @property
    def kernels(self) -> str: ...
    @property
    def weights(self) -> tuple[FloatArray, ...]: ...
    @property
    def biases(self) -> tuple[FloatArray, ...]: ...
