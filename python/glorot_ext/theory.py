"""The paper's variance analysis at initialization (Glorot & Bengio 2010, §4.2, Eqs. 2–17).

Indexing (the package's, which is the paper's with the layer of each quantity made explicit):
``layer_sizes = [n_0, n_1, ..., n_L]``; weight matrix W^i (i = 0..L-1) is (n_i, n_{i+1}) with
the scalar variance V_i = Var[W^i]; s^i = z^i·W^i + b^i and z^{i+1} = f(s^i); z^0 = x; the last
pre-activation s^d, d = L-1, is the softmax input. Linear regime at init (Eq. 4: f'(s) ≈ 1),
independent zero-mean weights, zero biases.

* Forward (Eq. 5):   Var[z^i] = Var[x] · ∏_{i'=0}^{i-1} n_{i'} V_{i'}.
* Backward (Eq. 6):  Var[∂C/∂s^i] = Var[∂C/∂s^d] · ∏_{i'=i+1}^{d} n_{i'+1} V_{i'}.
  Eq. 2 gives ∂C/∂s^i_k = f'(s^i_k)·Σ_j W^{i+1}_{k,j} ∂C/∂s^{i+1}_j, a sum over the n_{i+2}
  outputs of W^{i+1}: each step down multiplies the variance by (fan-out)·V of the matrix above.
  The printed limits (i'=i..d in Eq. 6, i'=i..d-1 in Eq. 7) are not consistent with each other
  (§4.2.1); the form above is the one that follows from Eq. 2, and it reproduces Eq. 13
  (d - i factors) and Eq. 14 (d factors) when all layers have the same width.
* Weights (Eqs. 3, 7): ∂C/∂W^i_{l,k} = z^i_l · ∂C/∂s^i_k, so
  Var[∂C/∂W^i] = Var[z^i] · Var[∂C/∂s^i]  (the product of the two lines above).
* Eq. 13 as printed ends in Var[x]; the consistent form, implemented here, is
  Var[∂C/∂s^i] = [n·V]^{d-i} · Var[∂C/∂s^d] (§4.2.1: the printed Var[x] is a typo).

"Var" of a pooled quantity is read as its second moment E[·²]: the analysis multiplies
variances of zero-mean factors, and a product z·w with zero-mean w has E[(zw)²] = E[z²]·E[w²]
whatever the mean of z. Inputs are not centred (pixels in [0, 1] have mean ≈ 0.5), so the
input "variance" that enters Eq. 5 is E[x²]; for the centred layers above it is the same thing.
All per-example quantities: C is one example's cost (the paper's ∂Cost/∂s, ∂Cost/∂w).

Jacobians (Eq. 17, §4.2.2): J^i = diag(f'(s^i))·W^{iᵀ} is (n_{i+1}, n_i). For i.i.d. entries of
variance σ² and f' ≈ 1, the squared singular values of an m×n matrix (m <= n) follow the
Marchenko–Pastur law with ratio γ = m/n scaled by nσ² (Marchenko & Pastur 1967); for a square
matrix the singular values follow the quarter-circle law on [0, 2√(nσ²)] and their mean is
(8/(3π))·√(nσ²) ≈ 0.8488·√(nσ²). ``mean_singular_value`` integrates the general case.
Standard init (nσ² = 1/3): ≈ 0.49; normalized init on square layers (nσ² = 1): ≈ 0.85 — the
paper's "around 0.8" vs "0.5".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Literal, Optional, Sequence, Tuple, TypedDict, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from glorot_ext.network import MLP

Float64Array = NDArray[np.float64]
#: The per-layer quantities the analysis predicts (the keys of ``predicted_variances``).
Quantity = Literal["activation", "preactivation", "backprop", "weight_grad"]
QUANTITIES: Tuple[Quantity, ...] = ("activation", "preactivation", "backprop", "weight_grad")


class Measured(TypedDict):
    """What ``measure_at_init`` returns."""

    activation: Float64Array
    preactivation: Float64Array
    backprop: Float64Array
    weight_grad: Float64Array
    var_x: float
    var_out_grad: float


class Row(TypedDict):
    """One row of ``compare``."""

    quantity: Quantity
    layer: int
    predicted: float
    measured: float
    ratio: float


#: Mean singular value of a square i.i.d. matrix in units of √(nσ²): the quarter-circle law's 8/(3π).
QUARTER_CIRCLE_MEAN = 8.0 / (3.0 * math.pi)


def weight_variance(init: str, fan_in: int, fan_out: int) -> float:
    """Var[W] of a named initializer (see ``glorot_ext.init``).

    standard: 1/(3·fan_in) (Eq. 1, Eq. 15); normalized/glorot/xavier: 2/(fan_in+fan_out)
    (Eq. 12, Eq. 16); he: 2/fan_in; lecun: 1/fan_in; orthogonal: 1/max(fan_in, fan_out).
    """
    table = {
        "standard": 1.0 / (3.0 * fan_in),
        "standard_uniform": 1.0 / (3.0 * fan_in),
        "he_uniform": 2.0 / fan_in,
        "he_normal": 2.0 / fan_in,
        "lecun_uniform": 1.0 / fan_in,
        "lecun_normal": 1.0 / fan_in,
        "orthogonal": 1.0 / max(fan_in, fan_out),
    }
    for name in (
        "normalized",
        "normalized_uniform",
        "glorot_uniform",
        "xavier_uniform",
        "glorot_normal",
        "xavier_normal",
    ):
        table[name] = 2.0 / (fan_in + fan_out)
    try:
        return table[init]
    except KeyError:
        raise ValueError(
            f"no variance formula for init {init!r}; pass weight variances explicitly (known: {sorted(table)})"
        ) from None


def weight_variances(layer_sizes: Sequence[int], init: Union[str, Sequence[ArrayLike]]) -> List[float]:
    """[V_0, ..., V_{L-1}] for a named init, or measured from the arrays of a list of weights."""
    if isinstance(init, str):
        return [weight_variance(init, a, b) for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]
    return [float(np.mean(np.square(np.asarray(W, dtype=np.float64)))) for W in init]


def predicted_variances(
    layer_sizes: Sequence[int], weight_vars: ArrayLike, var_x: float = 1.0, var_out_grad: float = 1.0
) -> Dict[Quantity, Float64Array]:
    """The paper's predicted per-layer variances at initialization (Eqs. 5, 6, 7; 13, 14).

    Args:
        layer_sizes: [n_0, ..., n_L] (inputs, hidden layers, outputs).
        weight_vars: [V_0, ..., V_{L-1}], the variance of each weight matrix (``weight_variances``).
        var_x: the inputs' second moment E[x²] ("Var[x]").
        var_out_grad: Var[∂C/∂s^d] of the softmax input (one example's cost).

    Returns:
        dict of float64 arrays of length L, index i = layer i of the module docstring:
        ``activation`` Var[z^i] (i = 0 is the input; hidden layer i of the paper is index i),
        ``preactivation`` Var[s^i], ``backprop`` Var[∂C/∂s^i], ``weight_grad`` Var[∂C/∂W^i].
    """
    n = np.asarray(layer_sizes, dtype=np.float64)
    V = np.asarray(weight_vars, dtype=np.float64)
    L = n.size - 1
    if V.shape != (L,):
        raise ValueError(f"{L} weight matrices need {L} variances, got {V.shape[0] if V.ndim else V}")
    fwd = n[:-1] * V  # n_i V_i: forward gain of W^i (fan-in)
    bwd = n[1:] * V  # n_{i+1} V_i: backward gain of W^i (fan-out)
    act = var_x * np.concatenate([[1.0], np.cumprod(fwd[:-1])])
    pre = act * fwd
    # Var[∂C/∂s^i] = Var[∂C/∂s^d] ∏_{i'=i+1}^{d} bwd[i']
    tail = np.concatenate([np.cumprod(bwd[:0:-1])[::-1], [1.0]])
    back = var_out_grad * tail
    return {"activation": act, "preactivation": pre, "backprop": back, "weight_grad": act * back}


def marchenko_pastur_mean(g: Callable[[Float64Array], Float64Array], ratio: float, n_points: int = 4096) -> float:
    """E[g(λ)] under the Marchenko–Pastur law with ratio γ = m/n in (0, 1] and unit scale.

    Density √((b-λ)(λ-a))/(2πγλ) on [a, b] = [(1-√γ)², (1+√γ)²]; integrated with the midpoint
    rule after λ = a + (b-a)(1-cos θ)/2, which removes the square-root endpoints.
    """
    if not 0 < ratio <= 1:
        raise ValueError(f"ratio must be in (0, 1], got {ratio}")
    a, b = (1 - math.sqrt(ratio)) ** 2, (1 + math.sqrt(ratio)) ** 2
    theta = (np.arange(n_points) + 0.5) * (math.pi / n_points)
    lam = a + (b - a) * (1 - np.cos(theta)) / 2
    w = ((b - a) / 2 * np.sin(theta)) ** 2 / (2 * math.pi * ratio * lam)
    return float(np.sum(g(lam) * w) * (math.pi / n_points))


def mean_singular_value(n_out: int, n_in: int, var: float, slope_sq: float = 1.0) -> float:
    """Predicted mean singular value of an (n_out, n_in) layer Jacobian diag(f')·Wᵀ at init.

    With i.i.d. entries of variance σ² = slope_sq·var (slope_sq = E[f'(s)²], ≈ 1 in the linear
    regime of Eq. 4; treating diag(f') as a uniform scale is an approximation), the
    min(n_out, n_in) singular values are √(max(n_out, n_in)·σ²)·√λ with λ Marchenko–Pastur of
    ratio min/max. For n_out = n_in = n this is (8/(3π))·√(nσ²) (quarter-circle law).

    Args:
        n_out, n_in: the Jacobian's shape (fan-out, fan-in of W).
        var: Var[W].
        slope_sq: E[f'(s)²] of the layer.

    Returns:
        float, the mean singular value.
    """
    big, small = max(n_out, n_in), min(n_out, n_in)
    scale = math.sqrt(big * var * slope_sq)
    if small == big:
        return QUARTER_CIRCLE_MEAN * scale
    return scale * marchenko_pastur_mean(np.sqrt, small / big)


def predicted_jacobian_means(
    layer_sizes: Sequence[int], weight_vars: Sequence[float], slope_sq: float = 1.0
) -> Float64Array:
    """Predicted mean singular value of J^i for every hidden layer i = 1..L-1 (maps z^{i-1} → z^i)."""
    return np.array(
        [
            mean_singular_value(layer_sizes[i + 1], layer_sizes[i], weight_vars[i], slope_sq)
            for i in range(len(layer_sizes) - 2)
        ]
    )


# -- predicted next to measured -------------------------------------------------------------


def measure_at_init(net: MLP, X: ArrayLike, y: ArrayLike) -> Measured:
    """Per-example second moments of one network on (X, y), as the theory predicts them.

    The per-example weight-gradient moment E[(z_l·δ_k)²] over all examples and entries is exact
    without forming the (n, n_in, n_out) gradients: Σ_i (Σ_l z_il²)(Σ_k δ_ik²).

    Args:
        net: an ``MLP``.
        X: (n, n_inputs) inputs (converted to the network's dtype); y: (n,) labels.

    Returns:
        dict of float64 arrays of length L (index as ``predicted_variances``): ``activation``
        (E[x²] then E[z^i²]), ``preactivation``, ``backprop`` (E[(∂C/∂s^i)²] of one example's cost),
        ``weight_grad``; and floats ``var_x`` and ``var_out_grad`` to feed the prediction.
    """
    X = np.ascontiguousarray(X, dtype=net.dtype)
    g = net.gradients(X, np.asarray(y))
    n = X.shape[0]
    zs = [X] + list(g["post"][:-1])

    def ms(a: NDArray[Any]) -> float:
        return float(np.mean(np.square(a, dtype=np.float64)))

    act = np.array([ms(z) for z in zs])
    pre = np.array([ms(s) for s in g["pre"]])
    deltas = [n * np.asarray(d, dtype=np.float64) for d in g["delta"]]
    back = np.array([float(np.mean(d * d)) for d in deltas])
    wg = np.array(
        [
            float(np.sum(np.sum(np.square(z, dtype=np.float64), axis=1) * np.sum(d * d, axis=1)))
            / (z.size * d.shape[1])
            for z, d in zip(zs, deltas)
        ]
    )
    return {
        "activation": act,
        "preactivation": pre,
        "backprop": back,
        "weight_grad": wg,
        "var_x": float(act[0]),
        "var_out_grad": float(back[-1]),
    }


def compare(net: MLP, X: ArrayLike, y: ArrayLike, weight_vars: Optional[Sequence[float]] = None) -> List[Row]:
    """Predicted (Eqs. 5–7) next to measured per-layer variances for a network at init.

    The prediction is fed the measured E[x²] and Var[∂C/∂s^d] (the paper's Var[x] and
    Var[∂Cost/∂s^d]) and, by default, the measured variance of each weight matrix.

    Returns:
        list of row dicts: ``quantity``, ``layer`` (0 = input / first weights), ``predicted``,
        ``measured``, ``ratio`` (measured / predicted).
    """
    m = measure_at_init(net, X, y)
    V = weight_variances(net.layer_sizes, net.weights) if weight_vars is None else weight_vars
    p = predicted_variances(net.layer_sizes, V, m["var_x"], m["var_out_grad"])
    rows: List[Row] = []
    for q in QUANTITIES:
        for i, (a, b) in enumerate(zip(p[q], m[q])):
            rows.append(
                {
                    "quantity": q,
                    "layer": i,
                    "predicted": float(a),
                    "measured": float(b),
                    "ratio": float(b / a) if a else float("nan"),
                }
            )
    return rows


def format_table(rows: Sequence[Row]) -> str:
    """The rows of ``compare`` as a fixed-width text table."""
    lines = [f"{'quantity':<14}{'layer':>6}{'predicted':>14}{'measured':>14}{'ratio':>8}"]
    lines += [
        f"{r['quantity']:<14}{r['layer']:>6}{r['predicted']:>14.4e}{r['measured']:>14.4e}{r['ratio']:>8.3f}"
        for r in rows
    ]
    return "\n".join(lines)
