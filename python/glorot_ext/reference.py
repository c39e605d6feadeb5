"""Plain NumPy implementation of every native kernel: the tests' oracle and the benchmarks' baseline.

It imports nothing of glorot_ext but the activation registry (``activations``, whose NumPy
functions it evaluates), so it cannot lean on the code it checks. It is written the
way a NumPy user would write it (``X @ W + b``, broadcasting, in-place updates), not slowed down.
Shapes follow the package convention: X (batch, fan_in), W (fan_in, fan_out), Y = X·W + b.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from numpy.typing import NDArray

from glorot_ext.activations import ACTIVATIONS

#: A float32 or float64 array.
FloatArray = NDArray[np.floating[Any]]
#: Integer class labels, (batch,).
Labels = NDArray[np.integer[Any]]
#: An elementwise function of an array (an activation or a derivative).
Elementwise = Callable[[FloatArray], FloatArray]
#: What a cost returns: (mean loss, errors, P, dS).
CostResult = Tuple[float, int, FloatArray, FloatArray]


def activation_forward(name: str, S: FloatArray) -> FloatArray:
    """Z = f(S)."""
    return ACTIVATIONS[name].forward(S)


def activation_backward(name: str, Z: FloatArray, dZ: FloatArray) -> FloatArray:
    """dS = dZ · f'(S), from the forward output Z."""
    return dZ * ACTIVATIONS[name].derivative(Z)


def dense_forward(X: FloatArray, W: FloatArray, b: FloatArray) -> FloatArray:
    """Y = X·W + b."""
    return X @ W + b


def dense_backward(X: FloatArray, W: FloatArray, dY: FloatArray) -> Tuple[FloatArray, FloatArray, FloatArray]:
    """(dX, dW, db) = (dY·Wᵀ, Xᵀ·dY, Σ_batch dY)."""
    return dY @ W.T, X.T @ dY, dY.sum(axis=0)


def softmax(S: FloatArray) -> FloatArray:
    """Row-wise softmax, stable by subtracting the row max."""
    e = np.exp(S - S.max(axis=1, keepdims=True))
    P: FloatArray = e / e.sum(axis=1, keepdims=True)
    return P


def _onehot(y: Labels, classes: int, dtype: np.dtype[Any]) -> FloatArray:
    t = np.zeros((y.shape[0], classes), dtype=dtype)
    t[np.arange(y.shape[0]), y] = 1
    return t


def softmax_nll(S: FloatArray, y: Labels) -> CostResult:
    """(mean loss, errors, P, dS) for C = -log softmax(S)_y; dS = (P - onehot(y)) / batch."""
    n = S.shape[0]
    m = S.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(S - m).sum(axis=1, keepdims=True))
    P = np.exp(S - lse)
    loss = float(np.mean(lse[:, 0] - S[np.arange(n), y]))
    errors = int(np.sum(S.argmax(axis=1) != y))
    dS = (P - _onehot(y, S.shape[1], S.dtype)) / n
    return loss, errors, P, dS


def quadratic_cost(S: FloatArray, y: Labels) -> CostResult:
    """(mean loss, errors, P, dS) for C = ½·||softmax(S) - onehot(y)||²."""
    n = S.shape[0]
    P = softmax(S)
    E = P - _onehot(y, S.shape[1], S.dtype)
    loss = float(0.5 * np.mean(np.sum(E * E, axis=1)))
    errors = int(np.sum(S.argmax(axis=1) != y))
    dS = P * (E - np.sum(E * P, axis=1, keepdims=True)) / n
    return loss, errors, P, dS


COSTS: Dict[str, Callable[[FloatArray, Labels], CostResult]] = {"nll": softmax_nll, "quadratic": quadratic_cost}


class Network:
    """The same interface as ``glorot_ext._core.Network``, in NumPy.

    Args:
        weights: list of (fan_in, fan_out) arrays, updated in place by ``sgd_step``.
        biases: list of (fan_out,) arrays, updated in place.
        activations: one activation name per hidden layer.
        cost: "nll" or "quadratic" on the softmax output.
    """

    def __init__(
        self, weights: Sequence[FloatArray], biases: Sequence[FloatArray], activations: Sequence[str], cost: str = "nll"
    ) -> None:
        self.weights = list(weights)
        self.biases = list(biases)
        self.activations = list(activations)
        self._cost = COSTS[cost]
        self.dtype = str(self.weights[0].dtype)

    def _forward(self, X: FloatArray) -> Tuple[List[FloatArray], List[FloatArray]]:
        pre: List[FloatArray] = []
        post: List[FloatArray] = []
        z = X
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            s = z @ W + b
            pre.append(s)
            if l + 1 < len(self.weights):
                z = ACTIVATIONS[self.activations[l]].forward(s)
                post.append(z)
        return pre, post

    def _backward(
        self, X: FloatArray, y: Labels
    ) -> Tuple[
        float, int, List[FloatArray], List[FloatArray], List[Optional[FloatArray]], List[Tuple[FloatArray, FloatArray]]
    ]:
        pre, post = self._forward(X)
        loss, errors, P, d = self._cost(pre[-1], y)
        post.append(P)
        deltas: List[Optional[FloatArray]] = [None] * len(self.weights)
        grads: List[Tuple[FloatArray, FloatArray]] = []
        for l in range(len(self.weights) - 1, -1, -1):
            deltas[l] = d
            z = X if l == 0 else post[l - 1]
            grads.append((z.T @ d, d.sum(axis=0)))
            if l > 0:
                d = (d @ self.weights[l].T) * ACTIVATIONS[self.activations[l - 1]].derivative(post[l - 1])
        grads.reverse()
        return loss, errors, pre, post, deltas, grads

    def sgd_step(self, X: FloatArray, y: Labels, lr: float) -> Tuple[float, int]:
        """One minibatch SGD step, W -= lr·∂C/∂W for every layer; returns (mean loss, errors)."""
        loss, errors, _, _, _, grads = self._backward(X, y)
        for W, b, (gW, gb) in zip(self.weights, self.biases, grads):
            W -= lr * gW
            b -= lr * gb
        return loss, errors

    def predict_proba(self, X: FloatArray) -> FloatArray:
        return softmax(self._forward(X)[0][-1])

    def evaluate(self, X: FloatArray, y: Labels) -> Tuple[float, int]:
        loss, errors, _, _ = self._cost(self._forward(X)[0][-1], y)
        return loss, errors

    def forward(self, X: FloatArray) -> Tuple[List[FloatArray], List[FloatArray]]:
        pre, post = self._forward(X)
        return pre, post + [softmax(pre[-1])]

    def gradients(self, X: FloatArray, y: Labels) -> Dict[str, Any]:
        loss, errors, pre, post, deltas, grads = self._backward(X, y)
        return {
            "loss": loss,
            "errors": errors,
            "pre": pre,
            "post": post,
            "delta": deltas,
            "dW": [g[0] for g in grads],
            "db": [g[1] for g in grads],
        }
