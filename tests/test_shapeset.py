"""Shapeset-3x2 generator: distribution, geometry, grey levels, reproducibility."""

import hashlib
import json
import math

import numpy as np
import pytest

from glorot_ext import _core
from glorot_ext.datasets import shapeset as S

N_STAT = 40_000  # enough for 5-sigma bounds of a few 0.1 %, about a second to generate


@pytest.fixture(scope="module")
def big():
    return S.scenes(N_STAT, seed=11, num_threads=None)


def _five_sigma(n, p):
    return 5.0 * math.sqrt(n * p * (1.0 - p))


def test_class_frequencies_match_the_generator_prior(big):
    counts = np.bincount(big.labels, minlength=9)
    prior = S.class_prior()
    assert prior.sum() == pytest.approx(1.0)
    for k in range(9):
        assert abs(counts[k] - N_STAT * prior[k]) < _five_sigma(N_STAT, prior[k]), (k, counts)


def test_about_half_the_images_have_two_shapes(big):
    two = int((big.n_shapes == 2).sum())
    assert abs(two - N_STAT / 2) < _five_sigma(N_STAT, 0.5)
    # Giving up after 50 rejections is a few-in-a-million event.
    assert big.dropped.sum() <= 2


def test_labels_follow_the_original_convertout_mapping(big):
    ids = big.shape_ids
    single = big.n_shapes == 1
    assert np.array_equal(big.labels[single], ids[single, 0])
    assert (ids[single, 1] == -1).all()
    pair = {(0, 1): 3, (1, 2): 4, (0, 2): 5, (0, 0): 6, (1, 1): 7, (2, 2): 8}
    for (a, b), label in pair.items():
        sel = ~single & (np.minimum(ids[:, 0], ids[:, 1]) == a) & (np.maximum(ids[:, 0], ids[:, 1]) == b)
        assert sel.any()
        assert (big.labels[sel] == label).all()
    assert len(S.CLASS_NAMES) == 9 and S.CLASS_NAMES[5] == "triangle+ellipse"


def test_every_vertex_and_shape_pixel_lies_inside_the_one_pixel_margin(big):
    v = big.vertices[~np.isnan(big.vertices)]
    assert v.min() >= 1.0 and v.max() <= 31.0
    im, bg = big.images, big.background[:, None]
    # Shape levels never equal the background level (grey gap), so a border pixel that is
    # background proves no shape reached it.
    for edge in (im[:, 0, :], im[:, -1, :], im[:, :, 0], im[:, :, -1]):
        assert (edge == bg).all()


def test_grey_levels_keep_the_gap_between_shapes_and_background(big):
    light = big.light_shapes
    assert (big.background[light] <= 114).all() and (big.background[~light] >= 140).all()
    fg = big.foreground
    present = big.shape_ids >= 0
    assert (fg[present & light[:, None]] >= 140).all()
    assert (fg[present & ~light[:, None]] <= 114).all()
    assert (fg[~present] == -1).all()
    im = big.images.reshape(N_STAT, -1).astype(np.int64)
    # Every pixel is the background or the level of one of the image's shapes.
    allowed = (im == big.background[:, None]) | (im == fg[:, :1]) | (im == fg[:, 1:])
    assert allowed.all()
    # Both ends of both ranges occur: the ranges are the original's {0..114} and {140..255}.
    levels = np.unique(np.concatenate([big.background, fg[present]]))
    assert {0, 114, 140, 255} <= set(levels.tolist())
    assert not ((levels > 114) & (levels < 140)).any()


def test_polarity_is_flipped_half_of_the_time(big):
    assert abs(int(big.light_shapes.sum()) - N_STAT / 2) < _five_sigma(N_STAT, 0.5)


def test_shape_types_are_uniform_and_every_shape_is_visible_alone(big):
    first = np.bincount(big.shape_ids[:, 0], minlength=3)
    for c in first:
        assert abs(c - N_STAT / 3) < _five_sigma(N_STAT, 1 / 3)
    single = big.n_shapes == 1
    im = big.images[single].reshape(int(single.sum()), -1)
    covered = (im != big.background[single, None]).sum(axis=1)
    # The smallest possible shape (6.4 px per axis) still covers many pixel centres.
    assert covered.min() >= 8


def test_overlap_estimate_rejects_concentric_shapes_and_accepts_distant_ones():
    square = np.tile(S._BASE[1][None] * 10.0, (3, 1, 1))
    scale = np.full((3, 2), 10.0)
    ids = np.array([1, 1, 1])
    old_pos = np.full((3, 2), 16.0)
    # Nearly concentric; far apart; exactly concentric (the estimate's limit: full overlap).
    new_t = np.array([[16.5, 16.0], [29.0, 16.0], [16.0, 16.0]])
    reject = S._too_much_overlap(square + old_pos[:, None], old_pos, scale, ids, square, new_t, scale, ids)
    assert reject.tolist() == [True, False, True]
    # A much smaller second shape may overlap entirely: the bound is relative to the first's area.
    small = np.array([[1.0, 1.0]] * 3)
    reject = S._too_much_overlap(square + old_pos[:, None], old_pos, scale, ids, square / 10, new_t, small, ids)
    assert reject.tolist() == [False, False, False]


def test_pre_rotation_keeps_the_original_index_arithmetic():
    tri, quad, ell = np.array(3), np.array(4), np.array(20)
    assert S._pre_rotation_index(np.array([0, 42, 43, 83, 84]), tri).tolist() == [0, 42, 214, 254, 254]
    assert S._pre_rotation_index(np.array([31, 32, 62]), quad).tolist() == [31, 224, 254]
    assert S._pre_rotation_index(np.array([6, 7, 11]), ell).tolist() == [6, 250, 254]


def test_base_polygons_have_a_horizontal_bottom_edge_on_the_half_unit_circle():
    for k, n in enumerate((3, 4, 20)):
        p = S._BASE[k, :n]
        assert np.allclose(np.hypot(p[:, 0], p[:, 1]), 0.5)
        # y points down in the image (pygame), so the bottom edge is at the largest y.
        bottom = np.isclose(p[:, 1], p[:, 1].max())
        assert bottom.sum() == 2


def test_golden_checksum_of_the_first_images_of_seed_zero():
    X, y = S.generate(16, seed=0)
    assert hashlib.sha256(X.tobytes()).hexdigest() == (
        "f0ce35917fe2a4a6fdcef10c0f07863f63b485af5a27e7135f9edef205e6d3f9"
    )
    assert y.tolist() == [1, 4, 2, 6, 8, 1, 1, 0, 2, 5, 3, 0, 0, 0, 0, 1]


def test_same_seed_gives_same_images_whatever_the_chunks_and_threads():
    X, y = S.generate(2500, seed=5, num_threads=1)
    X2, y2 = S.generate(2500, seed=5, num_threads=2)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    parts, start = [], 0
    for n in (7, 1017, 1, 1, 999, 475):
        parts.append(S.generate(n, seed=5, start=start))
        start += n
    assert np.array_equal(np.concatenate([p[0] for p in parts]), X)
    assert np.array_equal(np.concatenate([p[1] for p in parts]), y)
    other, _ = S.generate(16, seed=6)
    assert not np.array_equal(other, X[:16])


def test_stream_resumed_from_its_state_equals_the_uninterrupted_stream():
    s = S.ShapesetStream(10, seed=4)
    first = [next(s) for _ in range(60)]
    state = json.loads(json.dumps(s.state()))  # a checkpoint survives JSON
    rest = [next(s) for _ in range(60)]  # crosses the block boundary at image 1024
    resumed = S.ShapesetStream.from_state(state)
    again = [next(resumed) for _ in range(60)]
    for (a, b), (c, d) in zip(rest, again):
        assert np.array_equal(a, c) and np.array_equal(b, d)
    X, y = S.generate(1200, seed=4)
    assert np.array_equal(np.concatenate([b[0] for b in first + rest]), X)
    assert np.array_equal(np.concatenate([b[1] for b in first + rest]), y)
    assert s.position == 1200


def test_pixels_are_in_unit_range_or_symmetric_range_with_neg():
    X, y = S.generate(64, seed=2, dtype=np.float64)
    Xn, yn = S.generate(64, seed=2, dtype=np.float64, neg=True)
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert np.array_equal(Xn, X * 2 - 1) and np.array_equal(y, yn)
    X32, _ = S.generate(64, seed=2)
    assert X32.dtype == np.float32 and np.array_equal(X32, X.astype(np.float32))
    levels = np.unique(np.rint(X * 255))
    assert np.array_equal(levels / 255, np.unique(X))


def test_image_size_is_a_parameter():
    sc = S.scenes(300, seed=1, size=64)
    assert sc.images.shape == (300, 64, 64)
    v = sc.vertices[~np.isnan(sc.vertices)]
    assert v.min() >= 1.0 and v.max() <= 63.0
    X, _ = S.generate(5, seed=1, size=48)
    assert X.shape == (5, 48 * 48)


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="seed"):
        S.generate(4, seed=-1)
    with pytest.raises(ValueError, match="dtype"):
        S.generate(4, dtype=np.int32)
    with pytest.raises(ValueError, match="size"):
        S.generate(4, size=4)
    with pytest.raises(ValueError, match="batch_size"):
        S.ShapesetStream(0)
    with pytest.raises(ValueError, match="non-negative"):
        S.generate(-1)


def test_finite_sets_use_their_documented_seeds():
    train, valid, test = S.load(n_train=30, n_validation=20, n_test=10)
    assert [len(p[1]) for p in (train, valid, test)] == [30, 20, 10]
    assert np.array_equal(test[0], S.generate(10, seed=S.TEST_SEED)[0])
    assert np.array_equal(train[0], S.generate(30, seed=S.TRAIN_SEED)[0])
    assert np.array_equal(valid[0], S.generate(20, seed=S.VALIDATION_SEED)[0])


def test_save_grid_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "grid.png"
    S.save_grid(out, n=8, ncols=4, size=32)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_second_shape_given_up_after_the_rejection_cap_leaves_a_single_shape_label(monkeypatch):
    before = S.scenes(300, seed=8)
    monkeypatch.setattr(S, "_MAX_TRIES", 0)  # every second shape exhausts its tries
    after = S.scenes(300, seed=8)
    assert np.array_equal(after.dropped, before.n_shapes == 2)
    assert (after.n_shapes == 1).all() and (after.labels <= 2).all()
    assert np.array_equal(after.labels, before.shape_ids[:, 0])
    assert np.isnan(after.vertices[:, 1]).all() and (after.foreground[:, 1] == -1).all()


def _pixels(mask):
    """Set of filled (x, y) of a mask indexed [x, y]."""
    return {(int(x), int(y)) for x, y in zip(*np.nonzero(mask))}


def _fill(points, size=10):
    """Pixels filled by the generator's renderer for one polygon of integer vertices (x, y)."""
    v = np.array(points, dtype=np.int64)
    return _pixels(S._fill_mask(v[None, :, 0], v[None, :, 1], size)[0])


def _rows(spans):
    """Pixels of {y: (x_first, x_last)}, both ends included."""
    return {(x, y) for y, (a, b) in spans.items() for x in range(a, b + 1)}


# Hand-filled polygons, by pygame 1.8-1.9.4's rule: for each scanline y from the top vertex to
# the bottom one, each non-horizontal edge with y1 <= y < y2 (or ending on the bottom line)
# crosses at x1 + (y - y1) * (x2 - x1) / (y2 - y1) truncated toward zero; the sorted crossings
# pair into spans filled with both ends.
def test_an_axis_aligned_square_fills_its_edges_inclusively():
    # A pixel-centre test would fill the 3x3 pixels strictly inside; pygame fills 4x4.
    assert _fill([(2, 2), (5, 2), (5, 5), (2, 5)]) == _rows({y: (2, 5) for y in range(2, 6)})


def test_crossings_are_truncated_toward_the_upper_end_of_each_edge():
    # Edge (3, 0) -> (0, 2) at y = 1 crosses at 3 - 1.5: truncated toward zero to 2, not floored to 1.
    assert _fill([(0, 0), (3, 0), (0, 2)]) == _rows({0: (0, 3), 1: (0, 2), 2: (0, 0)})
    # The mirror image: (0, 0) -> (3, 2) at y = 1 crosses at 1.5, truncated to 1.
    assert _fill([(0, 0), (3, 0), (3, 2)]) == _rows({0: (0, 3), 1: (1, 3), 2: (3, 3)})


def test_a_right_triangle_on_integer_vertices():
    assert _fill([(0, 0), (4, 0), (0, 4)]) == _rows({y: (0, 4 - y) for y in range(5)})


def test_a_thin_sliver_keeps_pygames_gaps():
    # Row 1: both edges from (1, 1) start there; row 2: (1, 1) -> (9, 3) at 5 and (1, 2) -> (9, 3)
    # at 1; row 3, the bottom line: both edges end at (9, 3). Pixels (6..8, 3) stay empty.
    assert _fill([(1, 1), (9, 3), (1, 2)]) == {(1, 1), (1, 2), (2, 2), (3, 2), (4, 2), (5, 2), (9, 3)}


def test_collinear_vertices_fill_the_line_through_them():
    assert _fill([(0, 0), (2, 2), (4, 4)]) == {(i, i) for i in range(5)}


def test_a_polygon_on_one_scanline_fills_from_its_smallest_to_its_largest_x():
    assert _fill([(1, 4), (6, 4), (2, 4)]) == _rows({4: (1, 6)})
    assert _fill([(3, 3), (3, 3), (3, 3)]) == {(3, 3)}


def test_a_row_crossed_four_times_fills_two_spans():
    # A square with a V notch from the top: row 0 crosses at 0, 0, 4, 4 and row 1 at 0, 1, 3, 4.
    notched = [(0, 0), (2, 2), (4, 0), (4, 4), (0, 4)]
    expected = {(0, 0), (4, 0), (0, 1), (1, 1), (3, 1), (4, 1)} | _rows({y: (0, 4) for y in (2, 3, 4)})
    assert _fill(notched) == expected


def test_spans_are_clipped_to_the_image():
    assert _fill([(-3, -3), (2, -3), (2, 2), (-3, 2)], size=8) == _rows({y: (0, 2) for y in range(3)})
    assert _fill([(-5, 1), (-1, 1), (-1, 3)], size=8) == set()


def _slot(points, shape_id, size=10):
    v = np.full((1, 20, 2), np.nan)
    v[0, : len(points)] = points
    v[0, len(points) :] = points[-1]
    return _pixels(S._slot_masks(v, np.array([shape_id]), np.array([True]), size)[0])


def test_real_vertices_are_truncated_to_integers_before_filling():
    # The original passed float vertices; pygame's int() truncated them.
    assert _slot([(2.9, 2.1), (5.7, 2.9), (5.99, 5.5), (2.2, 5.01)], 1) == _rows({y: (2, 5) for y in range(2, 6)})
    # A sliver 0.7 px wide is one pixel wide, its six rows included (a centre test gives five).
    assert _slot([(3.0, 1.0), (3.7, 1.0), (3.7, 6.0), (3.0, 6.0)], 1) == {(3, y) for y in range(1, 7)}
    # A polygon less than a pixel tall is one row.
    assert _slot([(1.2, 4.0), (6.5, 4.2), (2.0, 4.9)], 0) == _rows({4: (1, 6)})


def _reference_image(sc, k):
    """Image k drawn by a plain-Python transcription of the rule, one polygon and row at a time."""
    size = sc.images.shape[1]
    img = np.full((size, size), sc.background[k])
    for slot in range(sc.n_shapes[k]):
        n = (3, 4, 20)[sc.shape_ids[k, slot]]
        pts = [(int(x), int(y)) for x, y in sc.vertices[k, slot, :n]]
        ys = [y for _, y in pts]
        for y in range(min(ys), max(ys) + 1):
            xs = []
            for (ax, ay), (bx, by) in zip(pts, pts[1:] + pts[:1]):
                if ay == by:
                    continue
                (x1, y1), (x2, y2) = sorted([(ax, ay), (bx, by)], key=lambda p: p[1])
                if y1 <= y < y2 or (y == max(ys) and y1 < y <= y2):
                    num, den = (y - y1) * (x2 - x1), y2 - y1
                    xs.append(x1 + (num // den if num >= 0 else -(-num // den)))
            xs.sort()
            for a, b in zip(xs[::2], xs[1::2]):
                img[max(a, 0) : min(b, size - 1) + 1, y] = sc.foreground[k, slot]
    return img


def test_generated_images_match_a_plain_python_transcription_of_the_fill_rule():
    sc = S.scenes(300, seed=21, size=32)
    for k in range(300):
        assert np.array_equal(sc.images[k], _reference_image(sc, k)), k


def test_every_vertex_pixel_of_a_triangle_or_parallelogram_is_filled(big):
    # On a convex polygon pygame fills the pixel of each truncated vertex (the crossing of an
    # edge starting or ending there); a pixel-centre test misses most of them. (Truncating the
    # 20 vertices of an "ellipse" can dent it, leaving a vertex out.)
    single = np.flatnonzero((big.n_shapes == 1) & (big.shape_ids[:, 0] < 2))[:2000]
    for k in single:
        n = (3, 4, 20)[big.shape_ids[k, 0]]
        v = np.trunc(big.vertices[k, 0, :n]).astype(int)
        assert (big.images[k][v[:, 0], v[:, 1]] == big.foreground[k, 0]).all(), k


@pytest.mark.parametrize("n", [3, 4, 5, 20])
def test_the_native_renderer_fills_the_pixels_of_the_numpy_reference(n):
    # Random polygons, convex or not, partly off the image, flat ones, and those of real scenes.
    rng = np.random.default_rng(n)
    size = 16
    vx = rng.integers(-6, size + 6, size=(3000, n))
    vy = rng.integers(-6, size + 6, size=(3000, n))
    vy[:50] = vy[:50, :1]  # all vertices on one row (some off the image)
    vx[50:100] = vx[50:100, :1]  # a vertical sliver
    got = S._fill_mask(vx, vy, size)
    assert got.dtype == np.bool_ and got.shape == (3000, size, size)
    np.testing.assert_array_equal(got, S._fill_mask_reference(vx, vy, size))
    sc = S.scenes(256, seed=n, size=32)
    first = np.trunc(sc.vertices[:, 0]).astype(np.int32)
    np.testing.assert_array_equal(
        S._fill_mask(first[..., 0], first[..., 1], 32), S._fill_mask_reference(first[..., 0], first[..., 1], 32)
    )


def test_the_native_renderer_names_a_bad_argument():
    v = np.zeros((2, 3), dtype=np.int32)
    with pytest.raises(TypeError, match="fill_polygons: vx must be int32"):
        _core.fill_polygons(v.astype(np.int64), v, 8)
    with pytest.raises(ValueError, match="fill_polygons: vx has shape \\(2, 3\\) but vy has shape \\(2, 4\\)"):
        _core.fill_polygons(v, np.zeros((2, 4), dtype=np.int32), 8)
    with pytest.raises(ValueError, match="size must be in"):
        _core.fill_polygons(v, v, 0)


def test_painting_a_slot_natively_equals_compositing_its_reference_masks():
    rng = np.random.default_rng(7)
    sc = S.scenes(300, seed=11, size=32)
    painted = rng.integers(0, 256, size=(300, 32, 32)).astype(np.uint8)
    want = painted.copy()
    present = sc.shape_ids >= 0
    for k in range(2):
        S._paint_slot(painted, sc.vertices[:, k], sc.shape_ids[:, k], present[:, k], sc.foreground[:, k])
        for t, n in enumerate(S._N_VERTICES):
            idx = np.flatnonzero(present[:, k] & (sc.shape_ids[:, k] == t))
            v = np.trunc(sc.vertices[idx, k, :n]).astype(np.int32)
            mask = S._fill_mask_reference(v[..., 0], v[..., 1], 32)
            want[idx] = np.where(mask, sc.foreground[idx, k].astype(np.uint8)[:, None, None], want[idx])
    np.testing.assert_array_equal(painted, want)


def test_painting_names_a_bad_argument():
    images = np.zeros((2, 8, 8), dtype=np.uint8)
    v = np.zeros((1, 3), dtype=np.int32)
    with pytest.raises(ValueError, match="image index 2 is outside the 2 images"):
        _core.paint_polygons(images, np.array([2]), v, v, np.array([9], dtype=np.uint8))
    with pytest.raises(ValueError, match="images must be writeable"):
        images.flags.writeable = False
        _core.paint_polygons(images, np.array([0]), v, v, np.array([9], dtype=np.uint8))
