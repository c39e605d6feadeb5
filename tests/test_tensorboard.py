"""Record -> TensorBoard events, checked by reading the event files back."""

import struct

import numpy as np
import pytest

pytest.importorskip("tensorboardX")

from tensorboardX.proto import event_pb2  # noqa: E402

import glorot_ext as ge  # noqa: E402
from glorot_ext.monitor import Monitor  # noqa: E402
from glorot_ext.tensorboard import write_record  # noqa: E402


def _events(logdir):
    """Every Event in the TFRecord files of logdir: (u64 length, u32 crc, data, u32 crc) each."""
    out = []
    for path in sorted(logdir.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        pos = 0
        while pos < len(data):
            (n,) = struct.unpack("<Q", data[pos : pos + 8])
            out.append(event_pb2.Event.FromString(data[pos + 12 : pos + 12 + n]))
            pos += 12 + n + 4
    return out


@pytest.fixture
def record(rng):
    X = rng.random((60, 8), dtype=np.float32)
    y = rng.integers(0, 3, 60)
    net = ge.MLP([8, 6, 6, 3], rng=0)
    monitor = Monitor((X[:30], y[:30]), every=5, meta={"dataset": "toy"})
    net.fit(X, y, epochs=2, lr=0.1, rng=0, callbacks=[monitor])
    return monitor.record


def test_scalars_per_layer_and_histograms_per_measurement_read_back(tmp_path, record):
    write_record(record, tmp_path / "tb")
    values = [(e.step, v) for e in _events(tmp_path / "tb") for v in e.summary.value]
    scalars = {(tag, step): v.simple_value for step, v in values if (tag := v.tag) and v.HasField("simple_value")}
    hists = {(v.tag, step): v.histo for step, v in values if v.HasField("histo")}
    act_std = record.scalar("act_std")
    for k, step in enumerate(record.steps):
        for layer in (1, 2):
            assert scalars[(f"act_std/layer{layer}", step)] == pytest.approx(act_std[k, layer - 1], rel=1e-6)
    masses = record.hist("act")
    for k, step in enumerate(record.steps):
        h = hists[("act/layer2", step)]
        assert sum(h.bucket) == pytest.approx(masses[k, 1].sum())
        assert h.min <= h.max and len(h.bucket) == len(h.bucket_limit)
    assert {tag.split("/")[0] for tag, _ in hists} >= {"act", "bp", "wg"}


def test_without_tensorboardx_the_error_names_the_extra(tmp_path, record, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"pip install 'glorot_ext\[tensorboard\]'"):
        write_record(record, tmp_path / "tb")
