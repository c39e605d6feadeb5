"""A run folder written by an earlier version of the code resumes under today's.

``tests/data/run-folder-2026-12-02`` was made by ``run`` on 2026-12-02 (the code the full-horizon
Shapeset job started with): a 2x16 tanh network, 100 of its updates, evaluated and measured every
50. A change to the run layer that could not read it would strand a long job mid-way.
"""

import json
import shutil
from pathlib import Path

import numpy as np

from glorot_ext.experiments import RunConfig, run
from glorot_ext.experiments.single_run import load_network
from glorot_ext.record import Record

FIXTURE = Path(__file__).parent / "data" / "run-folder-2026-12-02"
CONFIG = dict(
    depth=2,
    width=16,
    eval_every=50,
    n_eval=200,
    lr=0.05,
    monitor_every=50,
    probe_size=20,
    activation="tanh",
    init="standard",
)


def test_the_fixture_loads_as_it_was_written():
    net = load_network(RunConfig(n_updates=100, **CONFIG), FIXTURE)
    assert net.n_updates == 100
    with np.load(FIXTURE / "checkpoint.npz") as z:
        for k, W in enumerate(net.weights):
            np.testing.assert_array_equal(W, z[f"W{k}"])
        for k, b in enumerate(net.biases):
            np.testing.assert_array_equal(b, z[f"b{k}"])


def test_an_earlier_run_folder_resumes_keeping_its_past_and_continues_deterministically(tmp_path):
    before = json.loads((FIXTURE / "result.json").read_text())
    old_record = Record.from_json(FIXTURE / "record.json")
    a, b = shutil.copytree(FIXTURE, tmp_path / "a"), shutil.copytree(FIXTURE, tmp_path / "b")
    lines: list = []
    res_a, net_a = run(RunConfig(n_updates=200, **CONFIG), a, log=lines.append)
    run(RunConfig(n_updates=150, **CONFIG), b)  # the same continuation, interrupted once more
    res_b, net_b = run(RunConfig(n_updates=200, **CONFIG), b)
    assert net_a.n_updates == 200 and any(x.startswith("resumed") and x.endswith("at update 100") for x in lines)
    # the first 100 updates' curve and measurements are the ones the earlier code wrote
    n = len(before["curve"]["n_updates"])
    for key, values in before["curve"].items():
        assert res_a["curve"][key][:n] == values, key
    assert res_a["curve"]["n_updates"] == [0, 50, 100, 150, 200]
    new_record = Record.from_json(a / "record.json")
    assert list(new_record.steps[: old_record.n_steps]) == list(old_record.steps)
    for name in old_record.scalars:
        np.testing.assert_array_equal(new_record.scalar(name)[: old_record.n_steps], old_record.scalar(name))
    # and what follows is the same however often it is interrupted
    assert res_b["curve"] == res_a["curve"]
    for x, y in zip(net_a.weights + net_a.biases, net_b.weights + net_b.biases):
        np.testing.assert_array_equal(x, y)
