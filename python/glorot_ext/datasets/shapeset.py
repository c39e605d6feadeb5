"""Shapeset-3x2: the synthetic online dataset of Glorot & Bengio (2010), Section 2.1.

A faithful NumPy re-implementation of Xavier Glorot's generator (`glorotxa/Shapeset`,
`polygongen.Polygongen.iterator` with the "Shapeset-3*2" parameters of `simpleexemple.py`),
without pygame: every image holds one or two filled polygons (triangle, parallelogram, or an
"ellipse" drawn as a regular 20-gon) and the label says which shapes are present (9 classes).

Per image, as in the original (the paper's §2.1; the parameters of `simpleexemple.py`):

1. Polarity: with probability 0.5 the shapes are light (grey levels 140..255) on a dark
   background (0..114), otherwise dark on light. These are ``int(0.45*255)`` and
   ``int(0.55*255)``: the fixed gap guarantees every shape contrasts with the background.
   Background and each shape draw their own integer level uniformly in their range.
2. One or two shapes with equal probability; each shape's type uniform over the three.
3. Each shape: the regular n-gon inscribed in the radius-0.5 circle with a horizontal bottom
   edge, pre-rotated by a multiple of 2*pi/255 within one symmetry sector (the original's
   index arithmetic, quirks included), scaled anisotropically by ``uniform(0.2, 0.8, 2) * size``
   sorted descending, counter-rotated exactly so that the base is horizontal again, rotated by
   ``k * 2*pi/255`` with ``k`` in ``{0..253}``, and translated uniformly so that every vertex lies
   in ``[1, size - 1]`` (a 1-pixel margin).
4. The second shape is redrawn (new scale and translation, same type and rotations) while the
   overlap estimated from the projections of both vertex sets on the line joining their centres
   exceeds half of the first shape's area. After 50 rejected tries the image keeps one shape
   and its label says so (a few images in a million).
5. Rendering: filled polygons without anti-aliasing, by pygame's rule (below), the second over
   the first; pixel values ``level / 255`` in ``[0, 1]``, or ``2 * level / 255 - 1`` in
   ``[-1, 1]`` with ``neg=True``.

Documented differences from the original (none changes the distribution of scenes):

- Random numbers come from ``numpy.random.Generator`` streams, not ``RandomState(seed)``, so
  the images of a seed are not those of the original program.
- Not the rendering: the polygons are filled by the rule of pygame 1.8-1.9.4's
  ``draw.polygon`` that the original called (``_fill_rows``): vertices truncated to integers,
  scanline spans filled inclusively. It sets more pixels than a pixel-centre test (about a pixel
  more per row and a row more per shape: 10-18% more area at 32x32), and pixel area is part of
  the dataset's difficulty. It is checked against polygons filled by hand in the tests.
- The image array is indexed ``[x, y]`` like pygame's ``surfarray.pixels2d`` that the original
  flattened, so ``X.reshape(n, size, size)`` has x along axis 0; transpose it for display.
- The original stored the first shape's centre as ``int32`` before the overlap test; this
  truncation is kept because it shifts the overlap estimate.

Reproducibility: image ``i`` of seed ``seed`` comes from block ``i // BLOCK_SIZE``, whose random
stream is ``SeedSequence(seed, spawn_key=(block,))`` (the block-th child of
``SeedSequence(seed).spawn``). So the same seed gives the same images whatever the chunk size,
the start offset and the number of threads.

Example:
    >>> import numpy as np
    >>> from glorot_ext.datasets import shapeset
    >>> X, y = shapeset.generate(8, seed=0)
    >>> X.shape, X.dtype, y.dtype
    ((8, 1024), dtype('float32'), dtype('int64'))
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Iterator, List, Mapping, Optional, Tuple, TypedDict, Union, cast

import numpy as np
from numpy.typing import DTypeLike

from glorot_ext import _core, _validation

from ._common import Split, Splits, check_dtype

__all__ = [
    "BLOCK_SIZE",
    "CLASS_NAMES",
    "DEFAULT_NEG",
    "SHAPE_NAMES",
    "TEST_SEED",
    "TRAIN_SEED",
    "VALIDATION_SEED",
    "Scenes",
    "ShapesetStream",
    "class_prior",
    "generate",
    "load",
    "sample",
    "save_grid",
    "scenes",
]

#: Names of the three shape types, in the original's ``n_vert_list`` order [3, 4, 20].
SHAPE_NAMES = ("triangle", "parallelogram", "ellipse")
#: Names of the 9 classes, in the order of the original ``convertout``.
CLASS_NAMES = (
    "triangle",
    "parallelogram",
    "ellipse",
    "triangle+parallelogram",
    "parallelogram+ellipse",
    "triangle+ellipse",
    "triangle+triangle",
    "parallelogram+parallelogram",
    "ellipse+ellipse",
)

#: Images per independent random stream. Part of the definition of a seed's images:
#: changing it changes every image (and the golden checksum in the tests).
BLOCK_SIZE = 1024

#: Seeds of the finite sets of ``load``. The author's DeepANN loader ``shapesetbatch`` used
#: train 1, test 0, validation -1; SeedSequence needs non-negative seeds, so validation uses 2.
TRAIN_SEED = 1
VALIDATION_SEED = 2
TEST_SEED = 0

#: The input scaling when none is asked for: pixels ``level / 255`` in [0, 1] (False) or
#: ``2 * level / 255 - 1`` in [-1, 1] (True). The paper does not say (§2.1); its
#: Figs. 6-8 at initialization cannot tell the two apart (``docs/input_scaling.md``), so this
#: follows the author's own loader of the paper's data sets (DeepANN ``Curridata.conf``: [0, 1]).
DEFAULT_NEG = False

# The original generator's parameters ("INITIALIZATION - Shapeset-3*2", simpleexemple.py).
_N_VERTICES = np.array([3, 4, 20])
_ROT_RES = 255
_SCALE_MIN, _SCALE_MAX = 0.2, 0.8
_OVERLAP_MAX = 0.5
_MAX_TRIES = 50
_INV_CHANCE = 0.5
# Integer grey ranges: int(0.45 * 255) = 114 and int(0.55 * 255) = 140, as the original.
_DARK = (0, int(0.45 * 255))
_LIGHT = (int(0.55 * 255), 255)

# label[count of first type][...]: class of a pair of shape ids (symmetric), as convertout.
_PAIR_LABEL = np.array([[6, 3, 5], [3, 7, 4], [5, 4, 8]], dtype=np.int64)

_MAXV = int(_N_VERTICES.max())


def _regular_polygons() -> np.ndarray:
    """Base vertices, shape (3, 20, 2) float64: n points on the radius-0.5 circle, bottom edge
    horizontal (the original ``n_sided``); short polygons repeat their last vertex, which
    changes neither extents, projections nor the filled area."""
    out = np.empty((len(_N_VERTICES), _MAXV, 2))
    for k, n in enumerate(_N_VERTICES):
        ang = [2.0 * math.pi * (t / n + 1.0 / (2 * n) + 0.25) for t in range(n)]
        pts = 0.5 * np.array([[math.cos(a), math.sin(a)] for a in ang])
        out[k, :n] = pts
        out[k, n:] = pts[-1]
    return out


_BASE = _regular_polygons()
# Area of the regular n-gon relative to its circle (the original ``arearatio``).
_AREA_RATIO = np.array([n * math.sin(2 * math.pi / n) / (2 * math.pi) for n in _N_VERTICES])
# Rotation tables through libm (math.*), not NumPy's SIMD kernels, whose last bit may vary
# between CPUs: the golden checksum should not.
_ROT_STEP = 2 * math.pi / _ROT_RES
_COS = np.array([math.cos(k * _ROT_STEP) for k in range(_ROT_RES)])
_SIN = np.array([math.sin(k * _ROT_STEP) for k in range(_ROT_RES)])
_TAN = np.array([math.tan(k * _ROT_STEP) for k in range(_ROT_RES)])


def _pre_rotation_index(raw: np.ndarray, nvert: np.ndarray) -> np.ndarray:
    """The original's restricted pre-rotation: ``raw`` uniform in ``{0 .. 255//n - 1}``; the
    upper half of that range is mapped just below 2*pi, so the angle lies in one symmetry sector
    around 0 (Python 2 integer divisions and the clamp to 254 kept as they were)."""
    half = (_ROT_RES - 1) // (2 * nvert)
    wrapped = np.minimum(_ROT_RES - (_ROT_RES - 1) // nvert + raw, _ROT_RES - 1)
    return np.where(raw > half, wrapped, raw)


def _rotate(p: np.ndarray, c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Row vectors times the original's ``[[c, s], [-s, c]]``: (P, V, 2) with (P,) angles."""
    x, y = p[..., 0], p[..., 1]
    c, s = c[:, None], s[:, None]
    return np.stack((x * c - y * s, x * s + y * c), axis=-1)


def _local_vertices(pre: np.ndarray, scale: np.ndarray, rot1: np.ndarray, rot3: np.ndarray) -> np.ndarray:
    """Vertices before translation, (P, 20, 2) float64.

    Args:
        pre: base polygon already pre-rotated by ``rot1``, (P, 20, 2).
        scale: (P, 2), ``scale[:, 0] >= scale[:, 1]``.
        rot1, rot3: (P,) rotation indices.
    """
    p = pre * scale[:, None, :]
    # Exact counter-rotation -atan(s1/s0 * tan(theta1)) that restores the horizontal base;
    # cos and sin of an arctangent through sqrt only, which is correctly rounded everywhere.
    t = scale[:, 1] / scale[:, 0] * _TAN[rot1]
    co = 1.0 / np.sqrt(1.0 + t * t)
    p = _rotate(p, co, -t * co)
    return _rotate(p, _COS[rot3], _SIN[rot3])


def _translate(local: np.ndarray, u: np.ndarray, size: int) -> np.ndarray:
    """Translation (P, 2) uniform such that every vertex lies in [1, size - 1] per axis; ``u``
    is (P, 2) uniform in [0, 1). Clamped to [0, size] as the original's pos_min/pos_max."""
    low = np.maximum(0.0, 1.0 - local.min(axis=1))
    high = np.minimum(float(size), size - 1.0 - local.max(axis=1))
    t: np.ndarray = low + (high - low) * u
    return t


def _too_much_overlap(
    old_pts: np.ndarray,
    old_pos: np.ndarray,
    old_scale: np.ndarray,
    old_id: np.ndarray,
    new_local: np.ndarray,
    new_t: np.ndarray,
    new_scale: np.ndarray,
    new_id: np.ndarray,
) -> np.ndarray:
    """The original's overlap estimate. All arrays have a leading axis of candidates.

    ``old_pos`` is the first shape's centre truncated to integers (the original stored it as
    int32). The vertex sets are projected on the line joining the centres; when the two
    half-extents add up to more than the distance, the overlap fraction is estimated as
    ``1 - 2**(-(proj - d) / d)`` and the second shape is rejected if that fraction of its area
    exceeds half of the first shape's area.
    """
    v = new_t - old_pos
    d = np.sqrt(v[:, 0] ** 2 + v[:, 1] ** 2)
    safe = np.where(d > 0, d, 1.0)
    proj1 = np.einsum("pvk,pk->pv", old_pts - old_pos[:, None, :], v).max(axis=1) / safe
    proj2 = np.einsum("pvk,pk->pv", new_local, -v).max(axis=1) / safe
    proj = proj1 + proj2
    # Coincident centres: the estimate's limit is full overlap.
    factor = np.where(d > 0, 1.0 - np.exp(-(proj - d) / (safe / math.log(2))), 1.0)
    ratio = (new_scale[:, 0] * new_scale[:, 1] * _AREA_RATIO[new_id] * factor) / (
        old_scale[:, 0] * old_scale[:, 1] * _AREA_RATIO[old_id]
    )
    rejected: np.ndarray = (proj >= d) & (ratio > _OVERLAP_MAX)
    return rejected


def _fill_rows(
    vx: np.ndarray, vy: np.ndarray, size: int
) -> Tuple[np.ndarray, np.ndarray, Optional[Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]]:
    """The filled polygon of pygame 1.8-1.9.4 (``pygame.draw.polygon`` with width 0), the
    renderer of the original generator, on integer vertices.

    The rule, per scanline ``y`` from the smallest to the largest vertex ``y`` (both included):
    every edge that is not horizontal and has ``y1 <= y < y2`` (its ends ordered by ``y``), or
    that ends on the last scanline (``y == max y`` and ``y1 < y <= y2``), crosses the scanline at
    ``x1 + (y - y1) * (x2 - x1) / (y2 - y1)`` in integer arithmetic truncated toward zero (C's
    ``/``, so towards ``x1``); the crossings are sorted and pixels ``x[0]..x[1]``,
    ``x[2]..x[3]``, ... are filled, both ends included, clipped to the image. A polygon whose
    vertices all share one ``y`` is the single span from the smallest to the largest ``x`` (1.9's
    special case; Shapeset's shapes are never that flat). No outline is drawn over the fill: that
    came with pygame 2, which rewrote the routine.

    Args:
        vx, vy: (P, n) integer vertex coordinates (the original let pygame truncate them).
        size: image side.

    Returns:
        ``(first, last, gaps)``: ``first`` and ``last`` (P, size) int32 along x for each row y,
        empty rows with ``first > last``; ``gaps`` is None or ``(p, y, lo, hi)``, the x ranges
        ``lo < x < hi`` left unfilled inside ``first..last`` by a row that crosses the polygon
        more than twice (a truncation can dent a convex polygon; rare).
    """
    vx = vx.astype(np.int32)
    vy = vy.astype(np.int32)
    px, py = np.roll(vx, 1, axis=1), np.roll(vy, 1, axis=1)  # edge from the previous vertex
    down = py < vy
    y1, y2 = np.minimum(py, vy), np.maximum(py, vy)
    x1, x2 = np.where(down, px, vx), np.where(down, vx, px)
    slanted = y1 != y2
    top = vy.max(axis=1)
    # Arrays (P, n edges, size rows): the reductions run over the middle axis, contiguously.
    y = np.arange(size, dtype=np.int32)
    Y1, Y2 = y1[:, :, None], y2[:, :, None]
    hit = (y >= Y1) & ((y < Y2) | ((y == top[:, None, None]) & (y > Y1) & (y <= Y2)))
    hit &= slanted[:, :, None]
    # C's integer division truncates toward zero; so does trunc of the float quotient, which is
    # exact here: a correctly rounded quotient of integers below 2**24 never crosses an integer.
    num = (y - Y1) * (x2 - x1)[:, :, None]
    xs = np.trunc(num / np.where(slanted, y2 - y1, 1)[:, :, None]).astype(np.int32) + x1[:, :, None]
    big = np.int32(1 << 20)
    first = np.where(hit, xs, big).min(axis=1)
    last = np.where(hit, xs, -big).max(axis=1)
    # All vertices on one row: the span of their x, on that row only.
    flat = np.flatnonzero(vy.min(axis=1) == top)
    if flat.size:
        on_row = np.arange(size)[None, :] == top[flat, None]
        first[flat] = np.where(on_row, vx[flat].min(axis=1)[:, None], big)
        last[flat] = np.where(on_row, vx[flat].max(axis=1)[:, None], -big)
    # The span is clipped to the image (pygame's clip rectangle); a row out of it stays empty.
    first = np.maximum(first, 0)
    last = np.minimum(last, size - 1)
    gaps: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = None
    many = np.argwhere(hit.sum(axis=1) > 2)
    if many.size:
        # Crossings x0 <= x1 <= x2 <= ... fill [x0, x1], [x2, x3], ...: between x(2k+1) and
        # x(2k+2) nothing is filled (unless another span covers it, which sorting rules out).
        p, r = many[:, 0], many[:, 1]
        xs_sorted = np.sort(np.where(hit[p, :, r], xs[p, :, r], big), axis=1)
        lo, hi = xs_sorted[:, 1:-1:2], xs_sorted[:, 2::2]
        keep = hi < big
        rows = np.broadcast_to(np.arange(len(p))[:, None], lo.shape)[keep]
        gaps = (p[rows], r[rows], lo[keep], hi[keep])
    return first, last, gaps


def _fill_mask(vx: np.ndarray, vy: np.ndarray, size: int) -> np.ndarray:
    """Pixels (P, size, size) bool, indexed [x, y], of polygons with integer vertices (P, n)
    filled by pygame's rule, natively (``_core.fill_polygons``, pixel for pixel
    ``_fill_mask_reference``; half the time of making a block in NumPy)."""
    return _core.fill_polygons(np.ascontiguousarray(vx, np.int32), np.ascontiguousarray(vy, np.int32), size)


def _fill_mask_reference(vx: np.ndarray, vy: np.ndarray, size: int) -> np.ndarray:
    """``_fill_mask`` in NumPy (``_fill_rows``): the reference the native one is tested against."""
    first, last, gaps = _fill_rows(vx, vy, size)
    x = np.arange(size, dtype=np.int32)[None, :, None]
    inside = (x >= first[:, None, :]) & (x <= last[:, None, :])
    if gaps is not None:
        for p, r, lo, hi in zip(*gaps):
            inside[p, max(lo + 1, 0) : max(hi, 0), r] = False
    return inside


def _slot_masks(verts: np.ndarray, shape_ids: np.ndarray, present: np.ndarray, size: int) -> np.ndarray:
    """Pixels (B, size, size) bool, indexed [x, y], of one shape slot of every image, drawn per
    polygon type so that a triangle costs 3 edges and not 20. Absent shapes draw nothing.

    Args:
        verts: (B, 20, 2) float64 vertices (x, y); shape_ids: (B,) int; present: (B,) bool.
    """
    inside = np.zeros((len(shape_ids), size, size), dtype=bool)
    for k, n in enumerate(_N_VERTICES):
        idx = np.flatnonzero(present & (shape_ids == k))
        if idx.size:
            # pygame read each coordinate with int(): truncation toward zero.
            v = np.trunc(verts[idx, :n]).astype(np.int32)
            inside[idx] = _fill_mask(v[..., 0], v[..., 1], size)
    return inside


def _paint_slot(
    images: np.ndarray, verts: np.ndarray, shape_ids: np.ndarray, present: np.ndarray, grey: np.ndarray
) -> None:
    """Paints one shape slot of every image into ``images`` (B, size, size) uint8, natively
    (``_core.paint_polygons``): where ``_slot_masks`` is set, the slot's ``grey`` level.

    Args:
        verts: (B, 20, 2) float64 vertices (x, y); shape_ids: (B,) int; present: (B,) bool;
            grey: (B,) int grey levels.
    """
    for k, n in enumerate(_N_VERTICES):
        idx = np.flatnonzero(present & (shape_ids == k))
        if idx.size:
            v = np.trunc(verts[idx, :n]).astype(np.int32)  # pygame's int(): truncation toward zero
            value = grey[idx].astype(np.uint8)
            _core.paint_polygons(images, idx.astype(np.int64), v[..., 0].copy(), v[..., 1].copy(), value)


@dataclass
class Scenes:
    """A batch of generated scenes with their parameters (what the tests and plots inspect).

    Attributes:
        images: (n, size, size) uint8 grey levels, indexed [x, y].
        labels: (n,) int64 classes 0..8 (see ``CLASS_NAMES``).
        n_shapes: (n,) int64, 1 or 2.
        shape_ids: (n, 2) int64, 0 triangle, 1 parallelogram, 2 ellipse; -1 where absent.
        background: (n,) int64 grey level of the background.
        foreground: (n, 2) int64 grey level of each shape (-1 where absent).
        light_shapes: (n,) bool, True where shapes are light on a dark background.
        vertices: (n, 2, 20, 2) float64 vertex coordinates (x, y); short polygons repeat their
            last vertex; NaN where absent.
        dropped: (n,) bool, True where the second shape was given up after 50 rejections.
    """

    images: np.ndarray
    labels: np.ndarray
    n_shapes: np.ndarray
    shape_ids: np.ndarray
    background: np.ndarray
    foreground: np.ndarray
    light_shapes: np.ndarray
    vertices: np.ndarray
    dropped: np.ndarray


def _block(seed: int, block: int, size: int) -> Scenes:
    """The ``BLOCK_SIZE`` scenes of one block, from the block's own random stream."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
    n = BLOCK_SIZE
    # The draws are made in a fixed order and fixed shapes, so a block is a pure function of
    # (seed, block, size); only the rejection rounds depend on earlier draws, deterministically.
    light = rng.random(n) > _INV_CHANCE
    n_shapes = rng.integers(1, 3, n)
    bg_lo = np.where(light, _DARK[0], _LIGHT[0])
    bg_hi = np.where(light, _DARK[1], _LIGHT[1])
    fg_lo = np.where(light, _LIGHT[0], _DARK[0])
    fg_hi = np.where(light, _LIGHT[1], _DARK[1])
    background = rng.integers(bg_lo, bg_hi + 1)
    foreground = rng.integers(fg_lo[:, None], fg_hi[:, None] + 1, size=(n, 2))
    ids = rng.integers(0, 3, size=(n, 2))
    nvert = _N_VERTICES[ids]
    rot1 = _pre_rotation_index(rng.integers(0, _ROT_RES // nvert), nvert)
    rot3 = rng.integers(0, _ROT_RES - 1, size=(n, 2))
    pre = [_rotate(_BASE[ids[:, k]], _COS[rot1[:, k]], _SIN[rot1[:, k]]) for k in range(2)]

    def draw_scale(m: int) -> np.ndarray:
        return np.sort(rng.uniform(_SCALE_MIN, _SCALE_MAX, size=(m, 2)) * size, axis=1)[:, ::-1]

    verts = np.full((n, 2, _MAXV, 2), np.nan)
    scale0 = draw_scale(n)
    local0 = _local_vertices(pre[0], scale0, rot1[:, 0], rot3[:, 0])
    t0 = _translate(local0, rng.random((n, 2)), size)
    verts[:, 0] = local0 + t0[:, None, :]
    old_pos = np.trunc(t0)

    # Second shapes: every pending image redraws scale and translation in the same round.
    pending = np.flatnonzero(n_shapes == 2)
    for _ in range(_MAX_TRIES):
        if pending.size == 0:
            break
        scale = draw_scale(pending.size)
        local = _local_vertices(pre[1][pending], scale, rot1[pending, 1], rot3[pending, 1])
        t = _translate(local, rng.random((pending.size, 2)), size)
        reject = _too_much_overlap(
            verts[pending, 0],
            old_pos[pending],
            scale0[pending],
            ids[pending, 0],
            local,
            t,
            scale,
            ids[pending, 1],
        )
        ok = ~reject
        verts[pending[ok], 1] = local[ok] + t[ok, None, :]
        pending = pending[reject]
    dropped = np.zeros(n, dtype=bool)
    dropped[pending] = True
    n_shapes = np.where(dropped, 1, n_shapes)

    present = np.stack((np.ones(n, dtype=bool), n_shapes == 2), axis=1)
    ids = np.where(present, ids, -1)
    foreground = np.where(present, foreground, -1)
    verts[~present] = np.nan

    images = np.empty((n, size, size), dtype=np.uint8)
    images[...] = background.astype(np.uint8)[:, None, None]
    for k in range(2):  # the second shape over the first
        _paint_slot(images, verts[:, k], ids[:, k], present[:, k], foreground[:, k])

    labels = np.where(n_shapes == 1, ids[:, 0], _PAIR_LABEL[ids[:, 0], np.maximum(ids[:, 1], 0)])
    return Scenes(
        images=np.ascontiguousarray(images, dtype=np.uint8),
        labels=labels.astype(np.int64),
        n_shapes=n_shapes.astype(np.int64),
        shape_ids=ids.astype(np.int64),
        background=background.astype(np.int64),
        foreground=foreground.astype(np.int64),
        light_shapes=light,
        vertices=verts,
        dropped=dropped,
    )


def _check(seed: int, size: int) -> None:
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(size, (int, np.integer)) or not 8 <= size <= 1024:
        raise ValueError(f"size must be an integer in [8, 1024], got {size!r}")


def _threads(num_threads: Optional[int], n_blocks: int) -> int:
    if num_threads is None:
        num_threads = os.cpu_count() or 1
    if num_threads < 1:
        raise ValueError(f"num_threads must be >= 1 or None, got {num_threads}")
    return max(1, min(num_threads, n_blocks))


def _blocks(seed: int, first: int, last: int, size: int, num_threads: Optional[int]) -> List[Scenes]:
    """Blocks ``first..last`` inclusive, in order; threads only change the speed."""
    todo = range(first, last + 1)
    workers = _threads(num_threads, len(todo))
    if workers == 1:
        return [_block(seed, b, size) for b in todo]
    # NumPy releases the GIL in the large array operations that dominate a block.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda b: _block(seed, b, size), todo))


def scenes(n: int, *, seed: int = 0, start: int = 0, size: int = 32, num_threads: Optional[int] = 1) -> Scenes:
    """Scenes ``start .. start + n - 1`` of the stream of ``seed``, with their parameters.

    Args:
        n: number of images.
        seed: non-negative integer seed of the stream.
        start: index of the first image in the stream.
        size: image side in pixels (32 in the paper).
        num_threads: worker threads (None: all cores); the result does not depend on it.

    Returns:
        A ``Scenes`` whose arrays have leading dimension ``n``.
    """
    _check(seed, size)
    if n < 0 or start < 0:
        raise ValueError(f"n and start must be non-negative, got n={n}, start={start}")
    if n == 0:
        empty = _block(seed, 0, size)
        return Scenes(*(getattr(empty, f)[:0] for f in Scenes.__dataclass_fields__))
    first, last = start // BLOCK_SIZE, (start + n - 1) // BLOCK_SIZE
    parts = _blocks(seed, first, last, size, num_threads)
    lo = start - first * BLOCK_SIZE
    fields = {f: np.concatenate([getattr(p, f) for p in parts])[lo : lo + n] for f in Scenes.__dataclass_fields__}
    return Scenes(**fields)


def _lut(neg: bool, dtype: DTypeLike) -> np.ndarray:
    """Grey level -> pixel value: ``level / 255`` (float64, then cast, as the original computed
    it), or ``2 * level / 255 - 1`` with ``neg``."""
    v = np.arange(256) / 255.0
    return (v * 2 - 1 if neg else v).astype(dtype)


def generate(
    n: int,
    *,
    seed: int = 0,
    start: int = 0,
    size: int = 32,
    neg: bool = DEFAULT_NEG,
    dtype: DTypeLike = np.float32,
    num_threads: Optional[int] = None,
) -> Split:
    """Images ``start .. start + n - 1`` of the Shapeset-3x2 stream of ``seed``.

    Args:
        n: number of images.
        seed: non-negative integer seed.
        start: index of the first image in the stream (any chunking gives the same images).
        size: image side in pixels (32 in the paper; Fig. 1 shows 64).
        neg: pixels in [-1, 1] (``2 * level / 255 - 1``) instead of [0, 1] (``level / 255``);
            default ``DEFAULT_NEG``.
        dtype: float32 (default) or float64.
        num_threads: worker threads, None for all cores; the images do not depend on it.

    Returns:
        ``(X, y)``: X of shape (n, size * size) and ``dtype``, flattened x-major as the original;
        y of shape (n,) int64 in 0..8 (``CLASS_NAMES``).
    """
    _check(seed, size)
    dtype = check_dtype(dtype)
    if n < 0 or start < 0:
        raise ValueError(f"n and start must be non-negative, got n={n}, start={start}")
    X = np.empty((n, size * size), dtype=dtype)
    y = np.empty(n, dtype=np.int64)
    if n == 0:
        return X, y
    lut = _lut(neg, dtype)
    first, last = start // BLOCK_SIZE, (start + n - 1) // BLOCK_SIZE
    workers = _threads(num_threads, last - first + 1)

    def fill(b: int) -> None:
        # Each block writes its own slice of X: no large intermediate copy.
        sc = _block(seed, b, size)
        lo = max(start, b * BLOCK_SIZE)
        hi = min(start + n, (b + 1) * BLOCK_SIZE)
        src = slice(lo - b * BLOCK_SIZE, hi - b * BLOCK_SIZE)
        np.take(lut, sc.images[src].reshape(hi - lo, -1), out=X[lo - start : hi - start])
        y[lo - start : hi - start] = sc.labels[src]

    if workers == 1:
        for b in range(first, last + 1):
            fill(b)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(fill, range(first, last + 1)))
    return X, y


def sample(
    n: int,
    *,
    rng: Union[np.random.Generator, int],
    size: int = 32,
    neg: bool = DEFAULT_NEG,
    dtype: DTypeLike = np.float32,
    num_threads: Optional[int] = None,
) -> Split:
    """``n`` fresh Shapeset-3x2 images drawn with ``rng`` (the common dataset interface).

    Args:
        n: number of images.
        rng: a ``numpy.random.Generator`` (one 63-bit seed is drawn from it, so the same
            Generator state gives the same images), or a non-negative int used as the seed.
        size, neg, dtype, num_threads: as in ``generate``.

    Returns:
        ``(X, y)``: X (n, size*size) ``dtype``, y (n,) int64 in 0..8.
    """
    seed = _validation.seed(rng, "shapeset.sample")
    return generate(n, seed=seed, size=size, neg=neg, dtype=dtype, num_threads=num_threads)


def class_prior() -> np.ndarray:
    """The generator's class prior, (9,) float64: each single shape 1/6, each distinct pair 1/9,
    each same-shape pair 1/18 (ignoring the rare 50-rejection give-ups)."""
    return np.array([1 / 6] * 3 + [1 / 9] * 3 + [1 / 18] * 3)


class StreamState(TypedDict):
    """A ``ShapesetStream``'s position and settings (``state``), JSON-safe."""

    dataset: str
    seed: int
    position: int
    batch_size: int
    size: int
    neg: bool
    dtype: str


class ShapesetStream:
    """Endless stream of Shapeset-3x2 minibatches for online training, resumable bit-exactly.

    The position (index of the next image in the seed's stream) is the only state, so
    ``ShapesetStream.from_state(s.state())`` continues with exactly the batches ``s`` would have
    given, whatever happened before.

    Args:
        batch_size: images per batch (10 in the paper).
        seed: non-negative integer seed of the stream.
        size: image side.
        neg: pixels in [-1, 1] instead of [0, 1]; default ``DEFAULT_NEG``.
        dtype: float32 or float64.
        position: index of the first image to return.

    Example:
        >>> s = ShapesetStream(10, seed=3)
        >>> X, y = next(s)            # X (10, 1024) float32, y (10,) int64
        >>> t = ShapesetStream.from_state(s.state())
        >>> bool((next(t)[0] == next(s)[0]).all())
        True
    """

    def __init__(
        self,
        batch_size: int = 10,
        *,
        seed: int = 0,
        size: int = 32,
        neg: bool = DEFAULT_NEG,
        dtype: DTypeLike = np.float32,
        position: int = 0,
    ) -> None:
        _check(seed, size)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if position < 0:
            raise ValueError(f"position must be >= 0, got {position}")
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.size = int(size)
        self.neg = bool(neg)
        self.dtype = check_dtype(dtype)
        self._lut = _lut(neg, self.dtype)
        self.position = int(position)
        self._cached: Optional[Tuple[int, Scenes]] = None

    def __iter__(self) -> Iterator[Split]:
        return self

    def __next__(self) -> Split:
        n = self.batch_size
        X = np.empty((n, self.size * self.size), dtype=self.dtype)
        y = np.empty(n, dtype=np.int64)
        done = 0
        while done < n:
            b, off = divmod(self.position, BLOCK_SIZE)
            if self._cached is None or self._cached[0] != b:
                self._cached = (b, _block(self.seed, b, self.size))
            sc = self._cached[1]
            take = min(n - done, BLOCK_SIZE - off)
            np.take(self._lut, sc.images[off : off + take].reshape(take, -1), out=X[done : done + take])
            y[done : done + take] = sc.labels[off : off + take]
            done += take
            self.position += take
        return X, y

    def state(self) -> StreamState:
        """Everything needed to resume: a plain dict of ints, bools and strings (JSON-safe)."""
        return {
            "dataset": "shapeset",
            "seed": self.seed,
            "position": self.position,
            "batch_size": self.batch_size,
            "size": self.size,
            "neg": self.neg,
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ShapesetStream:
        """The stream that continues where the one whose ``state()`` this is stood."""
        return cls(
            state["batch_size"],
            seed=state["seed"],
            size=state["size"],
            neg=state["neg"],
            dtype=state["dtype"],
            position=state["position"],
        )


def load(
    *,
    n_train: int = 100_000,
    n_validation: int = 10_000,
    n_test: int = 10_000,
    size: int = 32,
    neg: bool = DEFAULT_NEG,
    dtype: DTypeLike = np.float32,
    seeds: Tuple[int, int, int] = (TRAIN_SEED, VALIDATION_SEED, TEST_SEED),
    num_threads: Optional[int] = None,
) -> Splits:
    """Finite Shapeset-3x2 sets, as the author's DeepANN loader ``shapesetbatch``.

    Train 100,000 images of seed 1, validation 10,000 of seed 2 and test 10,000 of seed 0 by
    default (the paper's online training uses ``ShapesetStream`` instead; the paper does not
    give the sizes of its validation and test sets). Different seeds make the sets disjoint
    streams. The default sizes take about 0.5 GB in float32 and a few seconds to generate.

    Returns:
        ``(train, validation, test)``, each ``(X, y)`` with X (n, size*size) ``dtype`` and
        y (n,) int64.
    """
    sizes = (n_train, n_validation, n_test)
    return cast(
        Splits,
        tuple(  # one set per size: three
            generate(k, seed=s, size=size, neg=neg, dtype=dtype, num_threads=num_threads) for k, s in zip(sizes, seeds)
        ),
    )


def save_grid(
    path: Union[str, os.PathLike[str]],
    *,
    n: int = 16,
    seed: int = 0,
    size: int = 64,
    ncols: int = 8,
    start: int = 0,
) -> None:
    """Save a grid of sample images with their class names as a PNG (the paper's Fig. 1, top,
    shows 64x64 examples). Needs matplotlib, imported here only.

    Args:
        path: output file.
        n: number of images.
        seed, start: which images of the stream.
        size: image side in pixels.
        ncols: images per row.
    """
    # A bare Figure, not pyplot: no backend is chosen or changed for the caller.
    from matplotlib.figure import Figure

    sc = scenes(n, seed=seed, start=start, size=size)
    nrows = -(-n // ncols)
    fig = Figure(figsize=(1.4 * ncols, 1.6 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            # Axis 0 is x (pygame's surfarray order): transpose so that y runs down the rows.
            ax.imshow(sc.images[k].T, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_title(CLASS_NAMES[sc.labels[k]], fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
