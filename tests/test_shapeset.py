"""Shapeset-3x2 generator: distribution, geometry, grey levels, reproducibility."""

import hashlib
import json
import math

import numpy as np
import pytest

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
        "a3e45712255a5ae397d1188062297b44d45a63986798f7443fdf30144ae09082"
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


def _brute_force(sc, k):
    """Image k drawn by testing every pixel centre against every edge of each polygon."""
    size = sc.images.shape[1]
    c = np.arange(size) + 0.5
    px, py = np.meshgrid(c, c, indexing="ij")  # axis 0 is x, as the generator's images
    img = np.full((size, size), sc.background[k])
    near_edge = np.zeros((size, size), dtype=bool)
    for slot in range(sc.n_shapes[k]):
        n = (3, 4, 20)[sc.shape_ids[k, slot]]
        v = sc.vertices[k, slot, :n]
        w = np.roll(v, -1, axis=0)
        cross = (w[:, 0, None, None] - v[:, 0, None, None]) * (py - v[:, 1, None, None]) - (
            w[:, 1, None, None] - v[:, 1, None, None]
        ) * (px - v[:, 0, None, None])
        length = np.hypot(w[:, 0] - v[:, 0], w[:, 1] - v[:, 1])[:, None, None]
        near_edge |= (np.abs(cross) / length < 1e-9).any(axis=0)
        img = np.where((cross >= 0).all(axis=0), sc.foreground[k, slot], img)
    return img, near_edge


def test_scanline_rasterizer_matches_a_per_pixel_half_plane_test():
    sc = S.scenes(300, seed=21, size=32)
    mismatched = 0
    for k in range(300):
        ref, tie = _brute_force(sc, k)
        mismatched += int(((sc.images[k] != ref) & ~tie).sum())
    assert mismatched == 0
