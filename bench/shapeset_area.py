"""Per-class mean fraction of non-background pixels of Shapeset-3x2 (the pixel area of the shapes).

Measures the installed ``glorot_ext``'s generator: a pixel counts as shape when its grey level
differs from the image's background level (the grey gap guarantees a shape never shares it).

    python3 bench/shapeset_area.py [--images 200000] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np

from glorot_ext.datasets import shapeset


def area_by_class(n: int, seed: int, size: int = 32):
    """(mean fraction per class (9,), its standard error (9,), count per class (9,))."""
    sums = np.zeros(9)
    sq = np.zeros(9)
    counts = np.zeros(9, dtype=np.int64)
    chunk = 20 * shapeset.BLOCK_SIZE
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        sc = shapeset.scenes(m, seed=seed, start=start, size=size, num_threads=None)
        frac = (sc.images.reshape(m, -1) != sc.background[:, None]).mean(axis=1)
        sums += np.bincount(sc.labels, frac, minlength=9)
        sq += np.bincount(sc.labels, frac * frac, minlength=9)
        counts += np.bincount(sc.labels, minlength=9)
    mean = sums / counts
    sem = np.sqrt(np.maximum(sq / counts - mean**2, 0.0) / counts)
    return mean, sem, counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    mean, sem, counts = area_by_class(args.images, args.seed)
    print(f"Shapeset-3x2, {args.images} images of seed {args.seed}: mean non-background pixel fraction")
    print(f"{'class':<28} {'images':>7} {'fraction':>9} {'± s.e.':>8}")
    for k, name in enumerate(shapeset.CLASS_NAMES):
        print(f"{name:<28} {counts[k]:>7} {mean[k]:>9.4f} {sem[k]:>8.4f}")


if __name__ == "__main__":
    main()
