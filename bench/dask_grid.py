"""Wall time of one reproduction grid on each executor, and what killing a Dask worker costs.

Runs ``reproduce`` (the Table 1 rows, one seed, fixed rates) into a fresh folder with the chosen
executor and prints the wall time of the grid's runs (it stops there: the claims and the report
after them are the same work for every executor). With ``--kill``, one worker's process is killed (SIGKILL) as
soon as a run's checkpoint shows progress; the run is rescheduled by Dask and resumes from that
checkpoint, and the script prints the update it resumed from, the updates lost (done after the
checkpoint, redone) and the extra wall time against a run of the same grid without a kill.

    python bench/dask_grid.py --executor local [--jobs 2]
    python bench/dask_grid.py --executor dask --workers 2 [--kill]
    (options: --width 32 --depth 2 --updates 5000 --eval-every 500 --rows all)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def _killer(client, runs, n_updates, done, report):
    """Kills the worker running the first run whose checkpoint is past 0 and before its last chunk."""
    while not done.is_set():
        for addr, keys in client.processing().items():
            for key in keys:
                run_key = str(key).split("-", 1)[1].rsplit("-", 2)[0]
                ckpt = runs / run_key / "checkpoint.npz"
                try:
                    with np.load(ckpt) as z:
                        n = json.loads(bytes(z["state"]).decode())["n_updates"]
                except (OSError, KeyError, ValueError):
                    continue
                if 0 < n < n_updates // 2:
                    pid = client.run(os.getpid, workers=[addr])[addr]
                    os.kill(pid, signal.SIGKILL)
                    report.update(run=run_key, killed_at=time.time(), checkpoint=n, pid=pid)
                    return
        time.sleep(0.01)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--executor", choices=["local", "dask"], default="local")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--kill", action="store_true")
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--updates", type=int, default=5000)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--n-eval", type=int, default=1000)
    p.add_argument("--rows", default="all")
    a = p.parse_args(argv)

    from glorot_ext.experiments import paper, reproduction as rep
    from glorot_ext.experiments.executors import resumed_from

    rows = [r[0] for r in paper.TABLE1_ROWS] if a.rows == "all" else a.rows.split(",")
    out = Path(tempfile.mkdtemp(prefix="dask-grid-"))
    kw = dict(
        rows=rows,
        n_updates=a.updates,
        width=a.width,
        depth=a.depth,
        figures=False,
        log=None,
        overrides=dict(eval_every=a.eval_every, n_eval=a.n_eval, monitor_every=0),
    )
    timing = {}
    real_execute = rep._execute

    class GridDone(Exception):
        pass

    def timed_execute(*args, **kwargs):  # the grid's runs only: the claims after them are not timed
        t = time.perf_counter()
        real_execute(*args, **kwargs)
        timing["grid"] = time.perf_counter() - t
        raise GridDone

    def reproduce(*args, **kwargs):
        try:
            rep.reproduce(*args, **kwargs)
        except GridDone:
            pass

    rep._execute = timed_execute
    report = {}
    t0 = time.perf_counter()
    if a.executor == "local":
        reproduce(out, jobs=a.jobs, **kw)
        what = f"local executor, {a.jobs} job(s)"
    else:
        import distributed

        with (
            distributed.LocalCluster(
                n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            threads = max(1, (os.cpu_count() or 1) // a.workers)
            t_ready = time.perf_counter() - t0
            done = threading.Event()
            killer = threading.Thread(target=_killer, args=(client, out / "runs", a.updates, done, report))
            if a.kill:
                killer.start()
            reproduce(out, executor="dask", scheduler=client, threads=threads, **kw)
            done.set()
            if a.kill:
                killer.join()
        what = (
            f"dask LocalCluster {a.workers} workers x 1 slot, {threads} thread(s) per run (cluster up in "
            f"{t_ready:.1f} s)"
        )
    total = time.perf_counter() - t0
    print(
        f"{what}: {len(rows)} runs of {a.width}x{a.depth}, {a.updates:,} updates each: grid {timing['grid']:.1f} s, "
        f"with start-up {total:.1f} s; {len(rows) * a.updates / timing['grid']:,.0f} updates/s"
    )
    if a.kill:
        if not report:
            print("no run was caught mid-way: nothing killed")
        else:
            starts = resumed_from(out / "runs" / report["run"])
            log = (out / "runs" / report["run"] / "run.log").read_text().splitlines()
            attempts = [line for line in log if ": starting at update " in line]
            restarted = time.mktime(time.strptime(attempts[-1][:19], "%Y-%m-%d %H:%M:%S")) + float(attempts[-1][19:23])
            print(
                f"killed worker pid {report['pid']} running {report['run']} when its checkpoint was at update "
                f"{report['checkpoint']:,}; its attempts started at updates {starts} (at most {a.eval_every} "
                f"updates, one checkpoint interval, were redone); the new attempt started "
                f"{restarted - report['killed_at']:.1f} s after the kill"
            )
            print("\n".join(log))
    print(f"output: {out}")


if __name__ == "__main__":
    main()
