"""The common dataset interface: shapeset.sample(n, rng=...), load(name), npz files, minibatches."""

import json
import types

import numpy as np
import pytest

import glorot_ext.datasets as D


def test_shapeset_sample_returns_float32_images_and_int64_labels(rng):
    X, y = D.shapeset.sample(50, rng=rng)
    assert X.shape == (50, 1024) and X.dtype == np.float32
    assert y.shape == (50,) and y.dtype == np.int64 and 0 <= y.min() and y.max() <= 8
    X64, _ = D.shapeset.sample(3, rng=np.random.default_rng(1), size=16, dtype=np.float64, neg=True)
    assert X64.shape == (3, 256) and X64.dtype == np.float64 and X64.min() >= -1.0


def test_shapeset_sample_is_reproducible_from_the_generator_state():
    a = D.shapeset.sample(20, rng=np.random.default_rng(7))
    b = D.shapeset.sample(20, rng=np.random.default_rng(7))
    g = np.random.default_rng(7)
    D.shapeset.sample(20, rng=g)
    c = D.shapeset.sample(20, rng=g)  # the Generator advanced: new images
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    with pytest.raises(TypeError, match="rng"):
        D.shapeset.sample(2, rng=None)


def test_shapeset_is_a_plain_module():
    assert type(D.shapeset) is types.ModuleType and not callable(D.shapeset)


def test_load_shapeset_gives_three_finite_sets_from_their_seeds():
    train, valid, test = D.load("shapeset", n_train=40, n_validation=30, n_test=20)
    assert [p[0].shape for p in (train, valid, test)] == [(40, 1024), (30, 1024), (20, 1024)]
    assert np.array_equal(test[0], D.shapeset.generate(20, seed=D.shapeset.TEST_SEED)[0])
    assert not np.array_equal(train[0][:20], test[0])


def test_unknown_dataset_name_lists_the_valid_names():
    with pytest.raises(ValueError, match="shapeset, mnist, cifar10, npz"):
        D.load("imagenet")


def test_npz_with_the_three_splits_loads_and_scales_uint8(tmp_path, rng):
    p = tmp_path / "mine.npz"
    xs = {k: rng.integers(0, 256, (n, 37, 37)).astype(np.uint8) for k, n in (("train", 9), ("valid", 4), ("test", 3))}
    ys = {k: rng.integers(0, 10, len(v)) for k, v in xs.items()}
    np.savez(p, **{f"X_{k}": v for k, v in xs.items()}, **{f"y_{k}": v for k, v in ys.items()})
    train, valid, test = D.load("npz", data_dir=p)
    assert train[0].shape == (9, 1369) and train[0].dtype == np.float32
    assert np.array_equal(valid[0], (xs["valid"].reshape(4, -1) / 255.0).astype(np.float32))
    assert np.array_equal(test[1], ys["test"]) and test[1].dtype == np.int64


def test_npz_with_plain_x_and_y_is_split_in_file_order(tmp_path, rng):
    p = tmp_path / "xy.npz"
    X = rng.standard_normal((100, 5))
    y = np.arange(100) % 3
    np.savez(p, X=X, y=y)
    train, valid, test = D.load("npz", path=p, dtype=np.float64)
    assert [len(s[1]) for s in (train, valid, test)] == [80, 10, 10]
    assert np.array_equal(train[0], X[:80]) and np.array_equal(test[0], X[90:])
    train, valid, test = D.load_npz(p, validation_fraction=0.2, test_fraction=0.0)
    assert [len(s[1]) for s in (train, valid, test)] == [80, 20, 0]


@pytest.mark.parametrize(
    "arrays, match",
    [
        ({"X_train": np.zeros((2, 3))}, "expected keys X_train"),
        ({"X": np.zeros((4, 3)), "y": np.zeros(3, int)}, r"X \(4, 3\) and y \(3,\)"),
        ({"X": np.zeros((4, 3)), "y": np.zeros(4)}, "integer class labels"),
    ],
)
def test_bad_npz_files_raise_dataset_errors(tmp_path, arrays, match):
    p = tmp_path / "bad.npz"
    np.savez(p, **arrays)
    with pytest.raises(D.DatasetError, match=match):
        D.load_npz(p)


def test_npz_object_arrays_are_refused_without_unpickling(tmp_path):
    p = tmp_path / "obj.npz"
    np.savez(p, X=np.array([[1, "a"]], dtype=object), y=np.array([0]))
    with pytest.raises(D.DatasetError, match="without pickle"):
        D.load_npz(p)
    with pytest.raises(FileNotFoundError, match="npz file not found"):
        D.load("npz", data_dir=tmp_path / "nope.npz")
    with pytest.raises(ValueError, match="needs the file"):
        D.load("npz")


def test_minibatches_cover_each_epoch_once_in_a_new_order(rng):
    X = np.arange(23, dtype=np.float32)[:, None]
    y = np.arange(23)
    it = D.minibatches(X, y, 5, rng=rng)
    assert it.batches_per_epoch == 5
    epoch0 = list(it.epoch_batches())
    epoch1 = list(it.epoch_batches())
    assert [len(b[1]) for b in epoch0] == [5, 5, 5, 5, 3]
    order0 = np.concatenate([b[1] for b in epoch0])
    order1 = np.concatenate([b[1] for b in epoch1])
    assert sorted(order0) == list(range(23)) and sorted(order1) == list(range(23))
    assert not np.array_equal(order0, order1)
    assert np.array_equal(np.concatenate([b[0][:, 0] for b in epoch0]), order0)


def test_minibatch_iterator_resumes_bit_exactly_from_its_state():
    X = np.random.default_rng(0).standard_normal((37, 4))
    y = np.arange(37)
    it = D.MinibatchIterator(X, y, 10, rng=123)
    for _ in range(6):  # into the second epoch
        next(it)
    state = json.loads(json.dumps(it.state()))
    rest = [next(it) for _ in range(9)]
    again = D.MinibatchIterator.from_state(state, X, y)
    for (a, b), (c, d) in zip(rest, (next(again) for _ in range(9))):
        assert np.array_equal(a, c) and np.array_equal(b, d)
    with pytest.raises(ValueError, match="saved for 37 examples"):
        D.MinibatchIterator.from_state(state, X[:5], y[:5])


def test_minibatches_without_shuffle_or_with_drop_last():
    X = np.arange(7)[:, None]
    y = np.arange(7)
    plain = D.minibatches(X, y, 3, rng=0, shuffle=False)
    assert [b[1].tolist() for b in plain.epoch_batches()] == [[0, 1, 2], [3, 4, 5], [6]]
    dropping = D.minibatches(X, y, 3, rng=0, drop_last=True)
    sizes = [len(next(dropping)[1]) for _ in range(6)]
    assert sizes == [3] * 6 and dropping.epoch == 3 and dropping.index == 0
    with pytest.raises(ValueError, match="rows"):
        D.minibatches(X, y[:3], 2, rng=0)
    with pytest.raises(ValueError, match="batch_size"):
        D.minibatches(X, y, 0, rng=0)


def test_shapeset_stream_is_exported_at_the_package_level():
    s = D.ShapesetStream(4, seed=9)
    X, y = next(s)
    assert X.shape == (4, 1024) and np.array_equal(X, D.shapeset.generate(4, seed=9)[0])
