"""The public API's annotations mean something: mypy, run on a user's script as a user would run it
(strict, against the installed package and its py.typed), accepts correct calls and reports each
deliberate mistake on its own line."""

import json
import os
import re

import numpy as np
import pytest

mypy_api = pytest.importorskip("mypy.api")

# Each line ending in "# E: code" must draw exactly that mypy error; every other line none.
SCRIPT = """\
from typing import List

import numpy as np

import glorot_ext as ge
from glorot_ext import datasets, init, stats, theory

rng = np.random.default_rng(0)
X = rng.standard_normal((20, 4)).astype(np.float32)
y = rng.integers(0, 3, 20)
net = ge.MLP([4, 8, 3], activation="tanh", init="normalized", rng=0)
history: ge.History = net.fit(X, y, epochs=1, lr=0.1, validation=(X, y))
losses: List[float] = history.train_loss
streamed: ge.History = ge.fit_stream(net, iter([(X, y)] * 3), 3, 0.1, eval_every=1, progress=False)
classes = net.predict(X)
W = init.variance_scaling(1.0, "fan_in", "normal")(4, 8, rng=rng)
v: float = theory.weight_variance("standard", 4, 8)
monitor = ge.Monitor((X, y), every=1, jacobian_examples=2)
record: ge.Record = monitor.record
sv = stats.jacobian_singular_values(W, np.ones((2, 8)), method="svd")
train, validation, test = datasets.load("npz", path="data.npz")
net.fit(X, y, epochs=1, lr="0.1")  # E: arg-type
ge.fit_stream(net, iter([(X, y)]), 3, 0.1, eval_evry=1)  # E: call-arg
init.variance_scaling(1.0, "fan_sum")  # E: arg-type
stats.jacobian_singular_values(W, W, method="qr")  # E: arg-type
label: str = net.predict(X)  # E: assignment
datasets.cifar10.load(version="png")  # E: arg-type
theory.weight_variance(4, 8, "standard")  # E: arg-type
record.to_json(3.5)  # E: arg-type
monitor.measure(X)  # E: arg-type
"""


def test_mypy_accepts_the_public_api_and_catches_each_mistake(tmp_path):
    script = tmp_path / "user_script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    expected = {
        i: m.group(1)
        for i, line in enumerate(SCRIPT.splitlines(), start=1)
        if (m := re.search(r"# E: ([a-z-]+)$", line))
    }
    assert len(expected) == 9
    out, err, status = mypy_api.run(
        [
            str(script),
            "--strict",
            "--config-file",
            os.devnull,
            "--cache-dir",
            str(tmp_path / "cache"),
            "--show-error-codes",
            "--no-error-summary",
            "--hide-error-context",
        ]
    )
    found = {}
    for line in out.splitlines():
        m = re.match(rf"{re.escape(str(script))}:(\d+): error: .*\[([a-z-]+)\]$", line)
        if m:
            found.setdefault(int(m.group(1)), set()).add(m.group(2))
    assert {k: {v} for k, v in expected.items()} == found, out + err
    assert status == 1


def test_a_checkpoint_without_an_update_count_reports_no_progress(tmp_path):
    """Found by mypy: ``checkpoint_progress`` passed a missing ``n_updates`` on as None, and the
    executors compared it with an int (TypeError) instead of treating the run as not started."""
    from glorot_ext.experiments.executors import RunSpec, finished_result
    from glorot_ext.experiments.single_run import RunConfig, checkpoint_progress

    cfg = RunConfig(depth=1, width=4, n_updates=20, eval_every=10, n_eval=20)
    state = {"config": cfg.identity(), "curve": {"n_updates": [0]}}  # no "n_updates": a damaged file
    np.savez(tmp_path / "checkpoint.npz", state=np.frombuffer(json.dumps(state).encode(), dtype=np.uint8))
    assert checkpoint_progress(cfg, tmp_path) is None
    assert finished_result(RunSpec(cfg, str(tmp_path), past_ok=True)) is None
