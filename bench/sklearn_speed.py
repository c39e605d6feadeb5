"""Fit time of ``glorot_ext.sklearn.MLPClassifier`` against scikit-learn's own, on the same network.

scikit-learn is set to the same plain SGD (``solver="sgd"``, no momentum, no L2 penalty, a constant
rate, minibatches of 10, reshuffled every epoch, exactly ``max_iter`` epochs: ``tol=0`` and
``n_iter_no_change`` above ``max_iter``), the same initialization (Glorot's uniform for tanh, our
"normalized") and the same dtype. The two fits alternate in rounds, so a slow moment of a shared
machine hits both; min and median wall time per fit and their ratio are printed.

    python bench/sklearn_speed.py [--data-dir /work/shared/data/mnist] [--n 5000] [--epochs 1]
        [--width 1000] [--depth 5] [--rounds 3] [--threads 1] [--dtype float32]

Needs scikit-learn and threadpoolctl: `pip install ".[sklearn,bench]"`.

Without ``--data-dir`` the data are synthetic (uniform pixels in [0, 1], labels from a random
linear teacher), 784 inputs and 10 classes like MNIST.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from threadpoolctl import threadpool_limits

import glorot_ext as ge
from glorot_ext.sklearn import MLPClassifier


def _data(args):
    if args.data_dir:
        (X, y), _, (X_test, y_test) = ge.datasets.mnist.load(args.data_dir, dtype=args.dtype)
        return X[: args.n], y[: args.n], X_test[:2000], y_test[:2000], f"MNIST from {args.data_dir}"
    rng = np.random.default_rng(0)
    X = rng.random((args.n + 2000, 784)).astype(args.dtype)
    y = (X - 0.5) @ rng.standard_normal((784, 10))
    y = y.argmax(axis=1)
    return X[: args.n], y[: args.n], X[args.n :], y[args.n :], "synthetic (784 inputs, 10 classes)"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="MNIST IDX files (default: synthetic data)")
    p.add_argument("--n", type=int, default=5000, help="training examples")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--width", type=int, default=1000)
    p.add_argument("--depth", type=int, default=5)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="for both: OpenMP ours, BLAS scikit-learn's")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = p.parse_args()
    X, y, X_test, y_test, what = _data(args)
    hidden = (args.width,) * args.depth
    common = dict(hidden_layer_sizes=hidden, activation="tanh", learning_rate_init=args.lr, batch_size=10)
    contenders = {
        "glorot_ext": lambda seed: MLPClassifier(
            **common, init="normalized", max_iter=args.epochs, shuffle=True, random_state=seed, dtype=args.dtype
        ),
        "scikit-learn": lambda seed: SkMLPClassifier(
            **common,
            solver="sgd",
            learning_rate="constant",
            momentum=0.0,
            nesterovs_momentum=False,
            alpha=0.0,
            max_iter=args.epochs,
            tol=0.0,
            n_iter_no_change=args.epochs + 1,
            early_stopping=False,
            shuffle=True,
            random_state=seed,
        ),
    }
    print(
        f"{what}: {args.n} examples x {args.epochs} epoch(s), 784-{args.width}x{args.depth}-10 tanh, "
        f"batch 10, lr {args.lr}, {args.dtype}, {args.threads} thread(s), {args.rounds} rounds"
    )
    times: dict[str, list[float]] = {k: [] for k in contenders}
    accuracy: dict[str, float] = {}
    with threadpool_limits(args.threads), ge.num_threads(args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached: what we asked for
        for r in range(args.rounds):
            for name, make in contenders.items():
                clf = make(r)
                t0 = time.perf_counter()
                clf.fit(X, y)
                times[name].append(time.perf_counter() - t0)
                accuracy[name] = clf.score(X_test, y_test)
    for name, ts in times.items():
        print(
            f"{name:>12}: fit min {min(ts):7.2f} s, median {statistics.median(ts):7.2f} s, "
            f"held-out accuracy {accuracy[name]:.3f} (last round)"
        )
    ours, theirs = times["glorot_ext"], times["scikit-learn"]
    print(
        f"scikit-learn / glorot_ext: {min(theirs) / min(ours):.1f}x (min), "
        f"{statistics.median(theirs) / statistics.median(ours):.1f}x (median)"
    )


if __name__ == "__main__":
    main()
