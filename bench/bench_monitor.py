"""Cost of the Monitor relative to training: one measurement, and the overhead at any interval.

The paper's setting: a 784-1000x5-10 tanh net, minibatches of 10, float32, a 300-example probe,
one measurement every 20,000 updates. Running 20,000 updates per round is too slow for many
rounds, so the script times, in interleaved rounds (plain training, then one measurement, then
training under a Monitor with a short interval; min and median over rounds, so a slow moment of
a shared machine hits all three alike):

* T_step: one training update (``net.sgd_step``);
* T_measure: one ``Monitor.measure`` with the default settings, and with the Jacobian off;
* the end-to-end overhead of ``fit_stream`` with a Monitor at a short interval (``--check-every``)
  against plain ``fit_stream``, which checks the formula below.

The overhead at interval k is T_measure / (k·T_step); printed for the paper's k = 20,000.

    python bench/bench_monitor.py [--rounds 5] [--updates 2000] [--check-every 1000] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

import glorot_ext as ge
from glorot_ext import stats as _stats
from glorot_ext.monitor import Monitor


def _stream(X, y, batch):
    i = 0
    n = X.shape[0]
    while True:
        j = (i * batch) % (n - batch)
        yield X[j : j + batch], y[j : j + batch]
        i += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--updates", type=int, default=2000, help="updates per timed training run")
    ap.add_argument("--check-every", type=int, default=1000, help="monitor interval of the end-to-end check")
    ap.add_argument("--interval", type=int, default=20_000, help="interval at which to report the overhead")
    ap.add_argument("--jacobian-examples", type=int, default=_stats.JACOBIAN_EXAMPLES)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args()
    ge.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    sizes = [784] + [1000] * 5 + [10]
    X = rng.uniform(0, 1, (20_000, 784)).astype(np.float32)  # pixel-like inputs
    y = rng.integers(0, 10, 20_000)
    probe = (X[:300], y[:300])
    net = ge.MLP(sizes, activation="tanh", init="normalized", rng=np.random.default_rng(1))
    lr = 0.01
    net.fit_stream(_stream(X, y, 10), 200, lr)  # warm-up: caches, thread pools, first-touch

    t_step, t_meas, t_meas_nojac, t_plain, t_mon = [], [], [], [], []
    for _ in range(args.rounds):
        t = time.perf_counter()
        net.fit_stream(_stream(X, y, 10), args.updates, lr)
        t_plain.append(time.perf_counter() - t)
        t_step.append(t_plain[-1] / args.updates)

        mon = Monitor(probe, jacobian_examples=args.jacobian_examples)
        t = time.perf_counter()
        mon.measure(net)
        t_meas.append(time.perf_counter() - t)

        t = time.perf_counter()
        Monitor(probe, jacobian_examples=0).measure(net)
        t_meas_nojac.append(time.perf_counter() - t)

        mon = Monitor(probe, every=args.check_every, jacobian_examples=args.jacobian_examples, measure_at_end=False)
        t = time.perf_counter()
        net.fit_stream(_stream(X, y, 10), args.updates, lr, callbacks=[mon])
        t_mon.append(time.perf_counter() - t)

    def mm(v):
        return {"min": min(v), "median": statistics.median(v)}

    res = {
        "net": sizes,
        "batch": 10,
        "dtype": "float32",
        "probe": 300,
        "rounds": args.rounds,
        "threads": ge.get_num_threads(),
        "build": ge.build_info(),
        "step_seconds": mm(t_step),
        "measure_seconds": mm(t_meas),
        "measure_seconds_no_jacobian": mm(t_meas_nojac),
        "plain_run_seconds": mm(t_plain),
        "monitored_run_seconds": mm(t_mon),
        "updates_per_run": args.updates,
        "check_every": args.check_every,
    }
    k = args.interval
    step, meas, nojac = (
        res["step_seconds"]["min"],
        res["measure_seconds"]["min"],
        res["measure_seconds_no_jacobian"]["min"],
    )
    n_meas = 1 + args.updates // args.check_every  # on_train_begin + every check_every
    predicted = n_meas * meas / (args.updates * step)
    measured = res["monitored_run_seconds"]["min"] / res["plain_run_seconds"]["min"] - 1
    res.update(
        overhead_at_interval={"interval": k, "default": meas / (k * step), "no_jacobian": nojac / (k * step)},
        check={"measurements": n_meas, "predicted_overhead": predicted, "measured_overhead": measured},
    )

    print(f"784-1000x5-10 tanh, batch 10, float32, threads={res['threads']}, {args.rounds} interleaved rounds")
    print(
        f"  one update:                 min {step * 1e3:8.3f} ms   median {res['step_seconds']['median'] * 1e3:8.3f} ms"
    )
    print(
        f"  one measurement (default):  min {meas:8.3f} s    median {res['measure_seconds']['median']:8.3f} s"
        f"   (jacobian_examples={args.jacobian_examples})"
    )
    print(
        f"  one measurement (no Jacobian): min {nojac:6.3f} s    median {res['measure_seconds_no_jacobian']['median']:8.3f} s"
    )
    print(
        f"  overhead at every={k}:  {100 * meas / (k * step):.2f}% (default), {100 * nojac / (k * step):.2f}% (no Jacobian)"
        f"   = T_measure / ({k} * T_step)"
    )
    print(
        f"  end-to-end check, {args.updates} updates, every={args.check_every} ({n_meas} measurements): "
        f"measured {100 * measured:.1f}%, predicted {100 * predicted:.1f}%"
    )
    print(f"  one measurement = {meas / step:.0f} updates; overhead <= 10% needs every >= {meas / (0.1 * step):.0f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
