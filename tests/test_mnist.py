"""MNIST IDX reader: the real files when present, and small files written here."""

import gzip
import hashlib

import numpy as np
import pytest

from glorot_ext.datasets import DatasetError, load, mnist

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def write_mnist(d, rng, n_train=12, n_test=5, gz=False, overrides=None):
    """Small IDX files in d; ``overrides`` maps a file name to replacement bytes."""
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }
    d.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        data = (overrides or {}).get(name, idx_bytes(arr))
        if gz:
            (d / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (d / name).write_bytes(data)
    return {k: np.asarray(v, dtype=np.uint8) for k, v in arrays.items()}


def test_real_mnist_has_the_paper_split_checksums_and_class_counts(mnist_dir):
    train, valid, test = mnist.load(mnist_dir)
    assert [p[0].shape for p in (train, valid, test)] == [(50000, 784), (10000, 784), (10000, 784)]
    assert all(p[0].dtype == np.float32 and p[1].dtype == np.int64 for p in (train, valid, test))
    assert train[0].min() == 0.0 and train[0].max() == 1.0
    full = np.concatenate([train[1], valid[1]])
    assert np.bincount(full, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(test[1], minlength=10).tolist() == TEST_COUNTS
    # Validation is the last 10,000 training images, in file order.
    raw = mnist.read_idx(next(mnist_dir.glob("train-images-idx3-ubyte*")))
    assert np.array_equal(valid[0][-1], (raw[-1].reshape(-1) / 255.0).astype(np.float32))


def test_real_mnist_files_match_their_published_md5(mnist_dir):
    for name, md5 in mnist.MD5.items():
        path = next(mnist_dir.glob(name + "*"))
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        assert hashlib.md5(data).hexdigest() == md5


def test_real_mnist_loads_in_float64_through_the_common_interface(mnist_dir):
    train, valid, test = load("mnist", data_dir=mnist_dir, dtype=np.float64)
    assert train[0].dtype == np.float64 and len(test[1]) == 10000


@pytest.mark.parametrize("gz", [False, True])
def test_small_idx_files_load_with_verify_off(tmp_path, rng, gz):
    arrays = write_mnist(tmp_path, rng, gz=gz)
    train, valid, test = mnist.load(tmp_path, verify=False, n_validation=3)
    X = arrays["train-images-idx3-ubyte"].reshape(12, -1)
    assert np.array_equal(train[0], (X[:9] / 255.0).astype(np.float32))
    assert np.array_equal(valid[1], arrays["train-labels-idx1-ubyte"][9:])
    assert np.array_equal(test[1], arrays["t10k-labels-idx1-ubyte"])
    assert test[0].shape == (5, 784)


def test_data_dir_comes_from_the_environment_and_its_mnist_subfolder(tmp_path, rng, monkeypatch):
    write_mnist(tmp_path / "mnist", rng)
    monkeypatch.setenv("GLOROT_EXT_DATA", str(tmp_path))
    train, _, _ = mnist.load(verify=False, n_validation=2)
    assert len(train[1]) == 10


def test_small_files_fail_the_md5_check_when_verified(tmp_path, rng):
    write_mnist(tmp_path, rng)
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.*md5.*verify=False"):
        mnist.load(tmp_path)


def test_missing_files_name_every_expected_file_and_where_it_looked(tmp_path, rng):
    write_mnist(tmp_path, rng)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError) as err:
        mnist.load(tmp_path, verify=False)
    msg = str(err.value)
    for name in mnist.FILES:
        assert name in msg
    assert str(tmp_path) in msg and str(tmp_path / "mnist") in msg


def test_no_directory_at_all_says_how_to_give_one(monkeypatch):
    monkeypatch.delenv("GLOROT_EXT_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="GLOROT_EXT_DATA"):
        mnist.load()


def _good(rng, n, label=False):
    return idx_bytes(rng.integers(0, 10, n)) if label else idx_bytes(rng.integers(0, 256, (n, 28, 28)))


@pytest.mark.parametrize(
    "name, make, match",
    [
        ("train-images-idx3-ubyte", lambda rng: _good(rng, 12)[:-100], r"train-images-idx3-ubyte: truncated"),
        ("train-images-idx3-ubyte", lambda rng: _good(rng, 12) + b"\0", r"trailing bytes"),
        ("t10k-labels-idx1-ubyte", lambda rng: b"\0\0\x08", r"t10k-labels-idx1-ubyte: truncated"),
        ("t10k-labels-idx1-ubyte", lambda rng: b"\0\0\x08\x01\0\0", r"truncated inside the header"),
        ("train-labels-idx1-ubyte", lambda rng: b"\x1f\x8b" + _good(rng, 12, True)[2:], r"bad magic number"),
        ("t10k-images-idx3-ubyte", lambda rng: _good(rng, 5, True), r"t10k-images-idx3-ubyte: has 1 dimensions"),
        ("train-labels-idx1-ubyte", lambda rng: _good(rng, 11, True), r"11 labels for the 12 images"),
        ("t10k-images-idx3-ubyte", lambda rng: idx_bytes(np.zeros((5, 28, 27))), r"28x27, expected 28x28"),
        ("t10k-labels-idx1-ubyte", lambda rng: idx_bytes(np.full(5, 10)), r"label 10 outside 0..9"),
    ],
)
def test_corrupt_files_raise_an_error_naming_the_file_and_the_fault(tmp_path, rng, name, make, match):
    write_mnist(tmp_path, rng, overrides={name: make(rng)})
    with pytest.raises(DatasetError, match=match):
        mnist.load(tmp_path, verify=False, n_validation=2)


def test_a_broken_gzip_stream_is_reported_as_corrupt(tmp_path, rng):
    write_mnist(tmp_path, rng, gz=True)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte.gz: not a valid gzip"):
        mnist.load(tmp_path, verify=False, n_validation=2)


def test_official_counts_are_required_when_verified(tmp_path, rng, monkeypatch):
    arrays = write_mnist(tmp_path, rng)
    # Pretend the small files are the official ones, so only the count check can fail.
    fake = {n: hashlib.md5((tmp_path / n).read_bytes()).hexdigest() for n in arrays}
    monkeypatch.setattr(mnist, "MD5", fake)
    with pytest.raises(DatasetError, match=r"12 images, expected 60000"):
        mnist.load(tmp_path)


def test_bad_split_and_dtype_arguments_raise_value_errors(tmp_path, rng):
    write_mnist(tmp_path, rng)
    with pytest.raises(ValueError, match="n_validation"):
        mnist.load(tmp_path, verify=False, n_validation=12)
    with pytest.raises(ValueError, match="dtype"):
        mnist.load(tmp_path, verify=False, dtype=np.int16)


def _write_gzip_bomb(path, header: bytes, zeros: int):
    """A .gz whose IDX header is small but whose content goes on for ``zeros`` more bytes."""
    chunk = bytes(1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header)
        for _ in range(zeros // len(chunk)):
            f.write(chunk)


def test_a_gzip_bomb_is_refused_without_decompressing_it(tmp_path, rng):
    import tracemalloc

    write_mnist(tmp_path, rng, gz=True)
    bomb = tmp_path / "train-labels-idx1-ubyte.gz"
    _write_gzip_bomb(bomb, bytes([0, 0, 8, 1]) + (12).to_bytes(4, "big"), 96 << 20)  # 96 MB of zeros
    assert bomb.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte.gz: .*trailing bytes"):
            mnist.load(tmp_path, verify=False, n_validation=2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20  # read as far as the header says, plus one byte; never the 96 MB


def test_a_header_declaring_more_than_the_size_cap_is_refused_before_reading(tmp_path, rng, monkeypatch):
    huge = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in (2**31, 28, 28))
    write_mnist(tmp_path, rng, gz=True, overrides={"train-images-idx3-ubyte": huge})
    with pytest.raises(
        DatasetError,
        match=r"train-images-idx3-ubyte.gz: header declares shape "
        r"\(2147483648, 28, 28\).*MAX_IDX_BYTES",
    ):
        mnist.load(tmp_path, verify=False, n_validation=2)
    monkeypatch.setattr(mnist, "MAX_IDX_BYTES", 1000)  # the cap holds for real files too
    write_mnist(tmp_path, rng, gz=False)
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte: header declares shape \(12, 28, 28\)"):
        mnist.load(tmp_path, verify=False, n_validation=2)


def test_dimensions_whose_product_overflows_int64_meet_the_size_cap_not_a_wrapped_count(tmp_path, rng):
    big = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in (2**32 - 1, 2**32 - 1, 2**32 - 1))
    write_mnist(tmp_path, rng, overrides={"t10k-images-idx3-ubyte": big})
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte: header declares shape"):
        mnist.load(tmp_path, verify=False, n_validation=2)
