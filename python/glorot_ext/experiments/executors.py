"""Where a grid's runs are trained: in this process, in a pool of processes, or on a Dask cluster.

A grid (``reproduce``'s Table 1 search, ``sweep``'s product of settings) is a list of ``RunSpec``:
a ``RunConfig`` and its run folder (named by ``RunConfig.key()``, stable across invocations). Every
executor has the same small interface:

* ``submit(spec)`` -> a future (``done()``, ``result()``); ``result()`` is the run's result dict;
* ``wait(futures, timeout)`` -> the futures that have finished (empty when the timeout passed);
* ``submitted``: how many tasks went to training (a finished run is read, not submitted);
* ``capacity``: how many tasks to keep in flight (None: no limit, the scheduler queues them);
* ``close()``.

``LocalExecutor`` trains in this process (``jobs=1``) or in a pool of ``jobs`` spawned processes;
``DaskExecutor`` sends each run to a Dask ``distributed`` cluster (``pip install
'glorot_ext[dask]'``). A task is ``execute_spec``: it pins its own kernel thread count, resumes
from the run folder's checkpoint, and appends to the folder's ``run.log`` (the update it started
from, where, every evaluation, how it ended). A run whose worker dies is rescheduled by Dask and
resumes from its last checkpoint, so the run folders must be on a filesystem the workers and
the client share. Results do not depend on the executor: the kernels give the same bits for any
thread count and a resumed run continues bit-exactly.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import sys
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait as _wait_futures
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Hashable,
    Iterable,
    List,
    Optional,
    Protocol,
    Tuple,
    TypeVar,
    Union,
)

from glorot_ext.experiments.folder import RunFolder, RunResult
from glorot_ext.experiments.single_run import DivergedError, RunConfig, checkpoint_progress, run
from glorot_ext.training import Callback

if TYPE_CHECKING:
    from glorot_ext.network import MLP

#: A run's result: the content of its result.json, with ``resumed_from``.
Result = RunResult
#: A log function taking one line of text (e.g. print).
Log = Callable[[str], object]


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of a grid: what to train and where its folder is.

    Attributes:
        config: the run's ``RunConfig``.
        run_dir: its folder (on a filesystem every worker shares, for a cluster).
        resume: continue from the folder's checkpoint; False starts over (the executor clears the
            folder's state once, before the first attempt, so a retried attempt still resumes).
        past_ok: the run only needs its curve up to ``config.n_updates`` (a rung of a rate
            search): a checkpoint already past it is read, not trained.
        threads: kernel threads of the task (None: 1; the executors fill it in).
        evidence: the result carries ``claims.run_evidence`` of the final network (a report's
            chosen run), measured by the worker that holds it.
    """

    config: RunConfig
    run_dir: str
    resume: bool = True
    past_ok: bool = False
    threads: Optional[int] = None
    evidence: bool = False

    @property
    def key(self) -> str:
        return self.config.key()


def _read_json(path: Path) -> Result:
    with open(path, "rb") as f:
        content: Result = json.loads(f.read())
        return content


def execute_spec(spec: RunSpec, echo: Optional[Log] = None, callbacks: Iterable[Callback] = ()) -> Result:
    """Trains one ``RunSpec`` where it is called (this process, a pool process, a Dask worker).

    The run resumes from its folder's checkpoint; a divergence is returned as the run's
    result.json (status "diverged"), not raised. The result gets ``resumed_from``: the update this
    attempt started at (0 for a fresh run). Every line also goes to the folder's ``run.log``.
    """
    from glorot_ext import runtime

    cfg, out = spec.config, Path(spec.run_dir)
    if spec.past_ok:
        done = checkpoint_progress(cfg, out)
        if done is not None and done[0] >= cfg.n_updates:
            return RunResult(status="ok", curve=done[1], config=dataclasses.asdict(cfg), resumed_from=done[0])
    out.mkdir(parents=True, exist_ok=True)
    where = RunFolder(out)
    progress = checkpoint_progress(cfg, out)
    start = int(progress[0]) if progress is not None else 0

    def log(line: str) -> None:
        where.append_log(line)
        if echo is not None:
            echo(line)

    threads = spec.threads or 1
    from glorot_ext.experiments.claims import run_evidence

    measure = run_evidence if spec.evidence else None
    where.append_log(
        f"attempt on {socket.gethostname()} pid {os.getpid()} with {threads} thread(s): "
        f"starting at update {start} of {cfg.n_updates}",
    )
    try:
        with runtime.num_threads(threads):
            res, _ = run(cfg, out, resume=True, callbacks=callbacks, log=log, evidence=measure)
    except DivergedError as e:
        res = _read_json(where.result)
        res["message"] = str(e)
        where.append_log(f"diverged: {e}")
    else:
        where.append_log(f"finished at update {cfg.n_updates}")
    res["resumed_from"] = start
    return res


def resumed_from(run_dir: Union[str, os.PathLike[str]]) -> List[int]:
    """The update each attempt recorded in ``run_dir/run.log`` really started at, in order: the
    update ``run`` said it resumed at, or 0 when it started from scratch."""
    return RunFolder(run_dir).starts()


def finished_result(spec: RunSpec) -> Optional[Result]:
    """The result of a run that needs no task: its folder's result.json when it is of exactly this
    configuration and its checkpoint is at ``n_updates`` (finished or diverged), or for a rung
    (``past_ok``) the curve of a checkpoint already past it; or that of a folder kept without its
    weights (``kept_result``). None otherwise."""
    if not spec.resume:
        return None
    cfg, out = spec.config, Path(spec.run_dir)
    done = checkpoint_progress(cfg, out)
    if done is None:
        return kept_result(spec)
    if spec.past_ok and done[0] >= cfg.n_updates:
        return RunResult(status="ok", curve=done[1], config=dataclasses.asdict(cfg), resumed_from=done[0])
    res = RunFolder(out).read_result()
    if res is None or res.get("config") != dataclasses.asdict(cfg):
        return None
    if res.get("status") == "ok" and done[0] == cfg.n_updates:
        res["resumed_from"] = done[0]
        return res
    if res.get("status") == "diverged":
        res["resumed_from"] = res["curve"]["n_updates"][-1]
        return res
    return None


def kept_result(spec: RunSpec) -> Optional[Result]:
    """The result of a finished run whose folder was kept without its checkpoint (as
    ``docs/results`` keeps runs: result, record and log, never weights): its result.json when it is
    of this configuration (wherever its data was read from) and holds what a report needs of the
    network (``evidence``), at exactly ``n_updates``; for a rung (``past_ok``), any kept result
    of the run whose curve reaches the rung. None otherwise: the run then trains."""
    cfg = spec.config
    res = RunFolder(spec.run_dir).read_result()
    if res is None or res.get("status") != "ok" or not isinstance(res.get("config"), dict):
        return None
    try:
        kept = RunConfig(**res["config"])
    except (TypeError, ValueError):
        return None
    if kept.identity() != cfg.identity() or not isinstance(res.get("curve"), dict):
        return None
    reached = res["curve"]["n_updates"][-1]
    if spec.past_ok and reached >= cfg.n_updates and cfg.n_updates in res["curve"]["n_updates"]:
        return RunResult(status="ok", curve=res["curve"], config=dataclasses.asdict(cfg), resumed_from=reached)
    if kept.n_updates == cfg.n_updates == reached and "evidence" in res:
        res["config"], res["resumed_from"] = dataclasses.asdict(cfg), reached
        return res
    return None


def _clear_state(spec: RunSpec) -> RunSpec:
    """``resume=False``: the folder's checkpoint, result and record go, once, on the client; the task
    then resumes as usual, so a retried attempt continues the new run instead of restarting it."""
    if not spec.resume:
        RunFolder(spec.run_dir).clear()
        spec = dataclasses.replace(spec, resume=True)
    return spec


class _Done:
    """A task finished in this process, with a Future's interface."""

    def __init__(self, result: Optional[Result] = None, error: Optional[BaseException] = None) -> None:
        self._result, self._error = result, error

    def result(self) -> Optional[Result]:
        if self._error is not None:
            raise self._error
        return self._result

    def done(self) -> bool:
        return True


def _flushed_print(line: str) -> None:
    print(line, flush=True)  # a worker's stdout is a pipe or file: without a flush lines come late


def _pool_task(spec: RunSpec, echo_lines: bool) -> Result:
    return execute_spec(spec, _flushed_print if echo_lines else None)


def _pool_init(threads: int) -> None:
    from glorot_ext import runtime

    runtime.set_num_threads(threads)


class LocalExecutor:
    """Runs tasks in this process (``jobs=1``) or in a pool of ``jobs`` spawned processes of
    ``threads`` kernel threads each (jobs x threads <= cores: no oversubscription).

    Args:
        jobs: runs at once.
        threads: kernel threads per run (default: the cores divided among the jobs).
        echo: a function taking each run's log lines (its evaluations) besides its run.log, or None.
        callbacks: a function spec -> training callbacks, for in-process runs (a progress bar's).
    """

    name = "local"

    def __init__(
        self,
        jobs: int = 1,
        threads: Optional[int] = None,
        echo: Optional[Log] = None,
        callbacks: Optional[Callable[[RunSpec], Iterable[Callback]]] = None,
    ) -> None:
        if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
            raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
        self.jobs = jobs
        self.threads = threads or max(1, (os.cpu_count() or 1) // jobs)
        self.echo = echo
        self.callbacks = callbacks
        self.pool: Optional[ProcessPoolExecutor] = None
        self.submitted = 0  # tasks sent to training (finished runs are read, not submitted)
        self.capacity: Optional[int] = jobs
        self.in_process = jobs == 1
        if jobs > 1:
            import multiprocessing as mp

            self.pool = ProcessPoolExecutor(
                jobs, mp_context=mp.get_context("spawn"), initializer=_pool_init, initargs=(self.threads,)
            )

    def submit(self, spec: RunSpec) -> Any:  # a Future (of the pool) or a _Done
        done = finished_result(spec)
        if done is not None:
            return _Done(done)
        self.submitted += 1
        spec = _clear_state(dataclasses.replace(spec, threads=spec.threads or self.threads))
        if self.pool is None:
            try:
                cbs: Iterable[Callback] = self.callbacks(spec) if self.callbacks is not None else ()
                return _Done(execute_spec(spec, self.echo, cbs))
            except Exception as e:  # reported with the run, as a pool's or a cluster's failure is
                return _Done(error=e)
        return self.pool.submit(_pool_task, spec, self.echo is not None)

    def wait(self, futures: Iterable[Any], timeout: Optional[float] = None) -> List[Any]:
        read = [f for f in futures if isinstance(f, _Done)]
        if read or self.pool is None:
            return read
        return list(_wait_futures(list(futures), timeout=timeout, return_when=FIRST_COMPLETED).done)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def describe(self) -> str:
        return (
            f"{self.jobs} process(es) x {self.threads} thread(s)"
            if self.pool
            else f"this process, {self.threads} thread(s)"
        )


class DaskExecutor:
    """Sends each run to a Dask ``distributed`` cluster.

    Args:
        scheduler: a scheduler address ("tcp://host:8786"), "local:N" (start a ``LocalCluster``
            of N worker processes x 1 task slot on this machine), a ``distributed.Client``, or a
            cluster object (``LocalCluster``, ``dask_jobqueue.SLURMCluster``, ...).
        threads: kernel threads per run (default: for "local:N" the cores divided among the N
            workers; otherwise 1, which never oversubscribes a worker that has at most one task
            slot per core, Dask's default: ``dask worker ADDRESS`` runs as many runs as cores).
        retries: how often Dask reruns a task that raised (a run whose worker died is rescheduled
            by the scheduler itself, up to ``distributed.scheduler.allowed-failures`` times); every
            attempt resumes from the run's last checkpoint.
        log: a function taking a line of text (the dashboard address), or None.
    """

    name = "dask"

    def __init__(
        self, scheduler: object, threads: Optional[int] = None, retries: int = 2, log: Optional[Log] = print
    ) -> None:
        try:
            import distributed
        except ImportError:
            raise ImportError("the dask executor needs Dask distributed: pip install 'glorot_ext[dask]'") from None
        self._distributed = distributed
        self.cluster = None
        self.submitted = 0  # tasks sent to the cluster (finished runs are read, not submitted)
        self.threads = threads
        self.retries = retries
        if isinstance(scheduler, distributed.Client):
            self.client, self._own_client = scheduler, False
        else:
            target = scheduler
            workers = local_workers(scheduler)
            if workers is not None:
                self.threads = threads or max(1, (os.cpu_count() or 1) // workers)
                self.cluster = target = distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True
                )
            self.client, self._own_client = distributed.Client(target), True
        self.capacity: Optional[int] = None  # the scheduler queues the tasks
        self.in_process = False
        self.dashboard = getattr(self.client, "dashboard_link", None)
        if log:
            import importlib.util

            served = (
                ""
                if importlib.util.find_spec("bokeh")
                else " (served once bokeh is installed where the scheduler runs: pip install bokeh)"
            )
            log(
                f"Dask scheduler {self.client.scheduler.address}, "
                f"{len(self.client.scheduler_info().get('workers', {}))} worker(s); dashboard {self.dashboard}{served}"
            )

    def submit(self, spec: RunSpec) -> Any:  # a distributed.Future or a _Done
        done = finished_result(spec)
        if done is not None:
            return _Done(done)
        self.submitted += 1
        spec = _clear_state(dataclasses.replace(spec, threads=spec.threads or self.threads))
        key = f"run-{spec.key}-{spec.config.n_updates}-{uuid.uuid4().hex[:8]}"
        return self.client.submit(execute_spec, spec, key=key, pure=False, retries=self.retries)

    def wait(self, futures: Iterable[Any], timeout: Optional[float] = None) -> List[Any]:
        futures = list(futures)
        read = [f for f in futures if isinstance(f, _Done)]
        if read:
            return read
        try:
            return list(self._distributed.wait(futures, timeout=timeout, return_when="FIRST_COMPLETED").done)
        except TimeoutError:
            return [f for f in futures if f.done()]

    def close(self) -> None:
        if self._own_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def describe(self) -> str:
        return f"Dask at {self.client.scheduler.address}" + (
            f", {self.threads} thread(s) per run" if self.threads else ""
        )


class Executor(Protocol):
    """What the grids (``sweep``, ``reproduce``) use of an executor: ``LocalExecutor``, ``DaskExecutor``."""

    capacity: Optional[int]  # tasks at once (None: the scheduler queues them)
    in_process: bool

    def submit(self, spec: RunSpec) -> Any: ...  # a Future-like: result(), done()

    def wait(self, futures: Iterable[Any], timeout: Optional[float] = None) -> List[Any]: ...

    def close(self) -> None: ...

    def describe(self) -> str: ...


#: The tag a grid gives a task, handed back with its outcome.
Tag = TypeVar("Tag")


def run_grid(
    ex: Executor,
    take: Callable[[], Optional[Tuple[Tag, RunSpec]]],
    done: Callable[[Tag, RunSpec, Optional[Result], Optional[BaseException]], None],
    poll: Optional[Callable[[List[Tuple[Tag, RunSpec]]], None]] = None,
) -> None:
    """The loop of every grid (``reproduce``'s rate search, ``sweep``): keeps ``ex`` as busy as its
    capacity allows with the tasks ``take`` hands out (None: none ready now), and gives each
    task's result, or the exception that ended it, to ``done``, which may make more tasks ready.
    Between waits ``poll`` sees the tasks in flight (every 2 s at most). Ends when nothing is ready
    or in flight."""
    in_flight: Dict[Any, Tuple[Tag, RunSpec]] = {}  # the executor's futures
    ready: Optional[Tuple[Tag, RunSpec]] = None
    polled = 0.0
    while True:
        while ex.capacity is None or len(in_flight) < ex.capacity:
            ready = take()
            if ready is None:
                break
            in_flight[ex.submit(ready[1])] = ready
            if ex.in_process:  # submit ran it: hand its result over before taking the next
                break
        if not in_flight:
            return
        finished = ex.wait(in_flight, timeout=2.0)
        if poll is not None and not ex.in_process and time.perf_counter() - polled > 2.0:
            polled = time.perf_counter()
            poll(list(in_flight.values()))
        for fut in finished:
            tag, spec = in_flight.pop(fut)
            try:
                res = fut.result()
            except Exception as e:  # noqa: BLE001 - a failed task is its grid's to report; the others go on
                done(tag, spec, None, e)
                continue
            done(tag, spec, res, None)


def local_workers(scheduler: object) -> Optional[int]:
    """N of a ``local:N`` scheduler, None for an address or a client object; ValueError for a
    malformed one (checked before a reproduction makes its output folder)."""
    if not isinstance(scheduler, str):
        return None
    if not scheduler:
        raise ValueError("--scheduler needs an address such as tcp://host:8786, or local:N")
    if not scheduler.startswith("local:"):
        return None
    n = scheduler[len("local:") :]
    if not n.isdigit() or int(n) < 1:
        raise ValueError(f"--scheduler local:N needs a positive number of workers N, got {scheduler!r}")
    return int(n)


def make_executor(
    executor: Union[str, Executor] = "local",
    *,
    jobs: int = 1,
    threads: Optional[int] = None,
    scheduler: object = None,
    echo: Optional[Log] = None,
    callbacks: Optional[Callable[[RunSpec], Iterable[Callback]]] = None,
    log: Optional[Log] = print,
) -> Executor:
    """``LocalExecutor`` or ``DaskExecutor`` by name ("local" or "dask"); an executor object is
    returned as it is."""
    if not isinstance(executor, str) and hasattr(executor, "submit") and hasattr(executor, "wait"):
        return executor
    if executor == "local":
        if scheduler is not None:
            raise ValueError("--scheduler belongs to --executor dask")
        cores = os.cpu_count() or 1
        if log and threads and jobs > 1 and jobs * threads > cores:
            # the kernels' threads meet at spinning barriers: a descheduled thread stalls its run
            log(
                f"warning: {jobs} jobs x {threads} threads = {jobs * threads} threads on {cores} cores; "
                f"each run slows several times over (leave --threads out: each job then gets {max(1, cores // jobs)})"
            )
        return LocalExecutor(jobs, threads, echo=echo, callbacks=callbacks)
    if executor == "dask":
        if scheduler is None:
            raise ValueError("--executor dask needs --scheduler ADDRESS (tcp://host:8786) or local:N")
        if jobs != 1:
            raise ValueError(
                "--jobs belongs to --executor local; a Dask cluster runs as many runs as it has worker task slots"
            )
        return DaskExecutor(scheduler, threads=threads, log=log)
    raise ValueError(f"executor must be 'local' or 'dask', got {executor!r}")


def _duration(seconds: float) -> str:
    return (
        f"{seconds:.0f} s"
        if seconds < 90
        else f"{seconds / 60:.0f} min"
        if seconds < 5400
        else f"{seconds / 3600:.1f} h"
    )


class GridProgress:
    """Progress of a whole grid: one tqdm bar (updates done of the planned total, runs k/N, rows
    done, ETA from the update rate measured in this invocation), or log lines without tqdm.

    Args:
        total_runs, total_updates: the grid as planned.
        n_rows: groups the grid reports as "rows" (Table 1's), or 0.
        bar: show a tqdm bar (falls back to log lines when tqdm is missing).
        log: a function taking a line of text, or None.
    """

    def __init__(
        self,
        total_runs: int,
        total_updates: int,
        n_rows: int = 0,
        bar: bool = False,
        log: Optional[Callable[[str], object]] = print,
    ) -> None:
        self.total_runs, self.total_updates, self.n_rows = total_runs, max(int(total_updates), 1), n_rows
        self.runs_done = self.rows_done = 0
        self.done_updates = self.trained_updates = 0
        self.live: Dict[Hashable, Tuple[int, int]] = {}  # task id -> (updates counted for it so far, trained of them)
        self.t0 = time.perf_counter()
        self.log = log
        self._bar: Any = None  # a tqdm bar (untyped)
        if bar:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(
                    total=self.total_updates,
                    unit="upd",
                    mininterval=0.5,
                    file=sys.stderr,
                    bar_format="{desc} |{bar}| {percentage:3.0f}% of the updates",
                )
                self._refresh()

    @property
    def bar(self) -> Any:
        return self._bar

    def eta_seconds(self) -> Optional[float]:
        elapsed = time.perf_counter() - self.t0
        if self.trained_updates <= 0:
            return None
        return elapsed / self.trained_updates * max(self.total_updates - self.done_updates, 0)

    def status(self) -> str:
        eta = self.eta_seconds()
        rows = f", rows {self.rows_done}/{self.n_rows} done" if self.n_rows else ""
        return f"run {self.runs_done}/{self.total_runs}{rows}, {_duration(time.perf_counter() - self.t0)}, " + (
            "ETA unknown" if eta is None else f"about {_duration(eta)} left"
        )

    def _refresh(self) -> None:
        if self._bar is not None:
            self._bar.n = min(self.done_updates, self.total_updates)
            self._bar.set_description_str(f"grid: {self.status()}", refresh=True)

    def update_live(self, task: Hashable, counted: int, trained: int) -> None:
        """An unfinished task has ``counted`` updates of its stage done, ``trained`` of them now."""
        old_c, old_t = self.live.get(task, (0, 0))
        self.done_updates += counted - old_c
        self.trained_updates += trained - old_t
        self.live[task] = (counted, trained)
        self._refresh()

    def finish(
        self, task: Hashable, counted: int, trained: int, line: Optional[str] = None, row_done: bool = False
    ) -> None:
        """A task ended: its stage counts ``counted`` updates, ``trained`` of them trained now."""
        old_c, old_t = self.live.pop(task, (0, 0))
        self.done_updates += counted - old_c
        self.trained_updates += trained - old_t
        self.runs_done += 1
        self.rows_done += bool(row_done)
        self._refresh()
        if line is not None:
            self.write(f"[{self.status()}] {line}")

    def write(self, line: str) -> None:
        if self._bar is not None:
            self._bar.write(line, file=sys.stderr)
        elif self.log:
            self.log(line)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class StepCounter(Callback):
    """A training callback that reports an in-process run's steps to a ``GridProgress`` (every 50)."""

    def __init__(self, progress: GridProgress, task: Hashable, start: int, trained: int = 0) -> None:
        self.progress, self.task, self.counted, self.trained, self._pending = progress, task, start, trained, 0

    def on_step_end(self, net: MLP, loss: float) -> None:
        self._pending += 1
        if self._pending >= 50:
            self.flush()

    def flush(self) -> None:
        self.counted += self._pending
        self.trained += self._pending
        self._pending = 0
        self.progress.update_live(self.task, self.counted, self.trained)

    def on_train_end(self, net: MLP) -> None:
        self.flush()


__all__ = ["DaskExecutor", "GridProgress", "LocalExecutor", "RunSpec", "execute_spec", "make_executor", "resumed_from"]
