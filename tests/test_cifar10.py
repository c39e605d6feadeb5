"""CIFAR-10 readers: small files in both official formats, written here, and pickle safety."""

import os
import pickle

import numpy as np
import pytest

from glorot_ext.datasets import DatasetError, cifar10, load

N = 6  # records per small batch file


def make_batches(rng, n=N):
    return [
        (rng.integers(0, 256, (n, 3072)).astype(np.uint8), rng.integers(0, 10, n).astype(np.int64)) for _ in range(6)
    ]


def write_binary(d, batches):
    d.mkdir(parents=True, exist_ok=True)
    for name, (x, y) in zip(cifar10.BINARY_FILES, batches):
        rec = np.concatenate([y.astype(np.uint8)[:, None], x], axis=1)
        (d / name).write_bytes(rec.tobytes())


def write_python(d, batches):
    d.mkdir(parents=True, exist_ok=True)
    for name, (x, y) in zip(cifar10.PYTHON_FILES, batches):
        # As the official files: bytes keys, uint8 data array, labels a plain list (protocol 2).
        obj = {b"batch_label": name.encode(), b"labels": y.tolist(), b"data": x, b"filenames": [b"a.png"] * len(y)}
        (d / name).write_bytes(pickle.dumps(obj, protocol=2))


def expected_split(batches, n_validation):
    x = np.concatenate([b[0] for b in batches[:5]])
    y = np.concatenate([b[1] for b in batches[:5]])
    cut = len(y) - n_validation
    f = lambda a: (a / 255.0).astype(np.float32)  # noqa: E731
    return (f(x[:cut]), y[:cut]), (f(x[cut:]), y[cut:]), (f(batches[5][0]), batches[5][1])


@pytest.mark.parametrize(
    "version, writer, sub",
    [
        ("binary", write_binary, "cifar-10-batches-bin"),
        ("python", write_python, "cifar-10-batches-py"),
    ],
)
def test_both_official_formats_give_the_paper_split(tmp_path, rng, version, writer, sub):
    batches = make_batches(rng)
    writer(tmp_path / sub, batches)
    got = cifar10.load(tmp_path, verify=False, n_validation=N)
    want = expected_split(batches, N)
    for (gx, gy), (wx, wy) in zip(got, want):
        assert gx.dtype == np.float32 and gy.dtype == np.int64
        assert np.array_equal(gx, wx) and np.array_equal(gy, wy)
    assert [len(p[1]) for p in got] == [4 * N, N, N]
    assert got[0][0].shape[1] == 3072


def test_the_two_formats_of_the_same_data_agree_and_version_selects_one(tmp_path, rng):
    batches = make_batches(rng)
    write_binary(tmp_path / "cifar-10-batches-bin", batches)
    write_python(tmp_path / "cifar-10-batches-py", batches)
    a = cifar10.load(tmp_path, verify=False, version="binary", dtype=np.float64)
    b = cifar10.load(tmp_path, verify=False, version="python", dtype=np.float64)
    for (ax, ay), (bx, by) in zip(a, b):
        assert ax.dtype == np.float64 and np.array_equal(ax, bx) and np.array_equal(ay, by)
    c = load("cifar10", data_dir=tmp_path, verify=False)
    assert np.array_equal(c[2][1], a[2][1])


def test_the_official_default_split_is_40000_10000_10000(tmp_path, rng):
    batches = [(np.zeros((10000, 3072), np.uint8), np.arange(10000) % 10) for _ in range(6)]
    write_binary(tmp_path, batches)
    train, valid, test = cifar10.load(tmp_path)
    assert [p[0].shape for p in (train, valid, test)] == [(40000, 3072), (10000, 3072), (10000, 3072)]


class _Evil:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        # Executed by an unrestricted unpickler: would create the marker file.
        return (os.system, (f"touch {self.target}",))


def test_a_malicious_pickle_raises_instead_of_running_code(tmp_path, rng):
    batches = make_batches(rng)
    d = tmp_path / "cifar-10-batches-py"
    write_python(d, batches)
    marker = tmp_path / "pwned"
    evil = {b"data": _Evil(marker), b"labels": [0] * N}
    (d / "data_batch_3").write_bytes(pickle.dumps(evil, protocol=2))
    with pytest.raises(
        DatasetError, match=r"data_batch_3: refused or corrupt pickle: forbidden global (posix|os|nt)\.system"
    ):
        cifar10.load(tmp_path, verify=False)
    assert not marker.exists()
    # A builtins call (eval) is refused the same way.
    payload = b"cbuiltins\neval\n(S'1+1'\ntR."
    (d / "data_batch_3").write_bytes(payload)
    with pytest.raises(DatasetError, match=r"forbidden global builtins\.eval"):
        cifar10.read_python_batch(d / "data_batch_3", count=None)


def test_pickles_of_current_numpy_protocols_are_read(tmp_path, rng):
    x, y = make_batches(rng)[0]
    for protocol in (2, 4, 5):
        p = tmp_path / f"batch_{protocol}"
        p.write_bytes(pickle.dumps({"data": x, "labels": y}, protocol=protocol))
        gx, gy = cifar10.read_python_batch(p, count=None)
        assert np.array_equal(gx, x) and np.array_equal(gy, y)


@pytest.mark.parametrize(
    "fault, match",
    [
        ("truncated", r"data_batch_2.bin: .*not a whole number of 3073-byte records"),
        ("label", r"test_batch.bin: label outside 0..9"),
    ],
)
def test_corrupt_binary_files_name_the_file_and_the_fault(tmp_path, rng, fault, match):
    write_binary(tmp_path, make_batches(rng))
    if fault == "truncated":
        p = tmp_path / "data_batch_2.bin"
        p.write_bytes(p.read_bytes()[:-5])
    else:
        p = tmp_path / "test_batch.bin"
        data = bytearray(p.read_bytes())
        data[0] = 10
        p.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match=match):
        cifar10.load(tmp_path, verify=False)


def test_official_record_counts_are_required_when_verified(tmp_path, rng):
    write_binary(tmp_path, make_batches(rng))
    with pytest.raises(DatasetError, match=r"data_batch_1.bin: 6 records, expected 10000"):
        cifar10.load(tmp_path)


@pytest.mark.parametrize(
    "obj, match",
    [
        ([1, 2, 3], r"expected a pickled dict"),
        ({b"labels": [0]}, r"lacks 'data' or 'labels'"),
        ({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, r"'data' must be a uint8 array"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, r"1 labels for 2 images"),
    ],
)
def test_malformed_python_batches_raise_dataset_errors(tmp_path, obj, match):
    p = tmp_path / "data_batch_1"
    p.write_bytes(pickle.dumps(obj, protocol=2))
    with pytest.raises(DatasetError, match=match):
        cifar10.read_python_batch(p, count=None)


def test_a_truncated_pickle_is_reported_as_corrupt(tmp_path, rng):
    x, y = make_batches(rng)[0]
    p = tmp_path / "data_batch_1"
    p.write_bytes(pickle.dumps({b"data": x, b"labels": y.tolist()}, protocol=2)[:-50])
    with pytest.raises(DatasetError, match=r"data_batch_1: .*(corrupt|truncated)"):
        cifar10.read_python_batch(p, count=None)


def test_missing_files_name_the_expected_files_and_directories(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        cifar10.load(tmp_path)
    msg = str(err.value)
    assert "data_batch_5.bin" in msg and "test_batch" in msg
    assert str(tmp_path / "cifar-10-batches-py") in msg and str(tmp_path / "cifar-10-batches-bin") in msg
    with pytest.raises(ValueError, match="version"):
        cifar10.load(tmp_path, version="matlab")


class _Reduce:
    """Pickles as a call of ``f(*args)``: how a corrupt or hostile file names allowed globals."""

    def __init__(self, f, args):
        self.f, self.args = f, args

    def __reduce__(self):
        return self.f, self.args


def _reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct as r
    except ImportError:  # NumPy 1
        from numpy.core.multiarray import _reconstruct as r
    return r


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: _Reduce(__import__("_codecs").encode, ("abc", "no-such-codec")), r"LookupError"),
        (lambda: _Reduce(_reconstruct(), (np.ndarray, (2**45,), b"b")), r"MemoryError"),
        (lambda: {b"data": np.zeros((1, 3072), np.uint8), b"labels": [2**70]}, r"'labels' must be integers"),
    ],
)
def test_lookup_memory_and_overflow_errors_of_corrupt_pickles_are_dataset_errors(tmp_path, make, match):
    p = tmp_path / "data_batch_1"
    p.write_bytes(pickle.dumps(make(), protocol=2))
    with pytest.raises(DatasetError, match=r"data_batch_1: .*" + match):
        cifar10.read_python_batch(p, count=None)


@pytest.mark.parametrize(
    "labels",
    [[0.0, 1.7], np.array([0.0, 1.7]), [True, False], ["0", "1"]],
    ids=["float-list", "float-array", "bool", "str"],
)
def test_labels_that_are_not_integers_are_refused_not_truncated(tmp_path, labels):
    p = tmp_path / "data_batch_1"
    p.write_bytes(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": labels}, protocol=2))
    with pytest.raises(DatasetError, match=r"data_batch_1: 'labels' must be integers"):
        cifar10.read_python_batch(p, count=None)
