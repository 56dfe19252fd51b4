"""One machine: scan points on a ``concurrent.futures`` process pool (the default without ``--scheduler``).

Why not a local Dask cluster here: on 2 cores its scheduler, nannies and client
are four more Python processes competing with the workers, each worker starts
from a fresh interpreter and its own empty compile cache (so cold caches mean
one compilation per worker plus copying between them), and the cluster takes
seconds to start and stop. A process pool has one worker per core and nothing
else: workers share this machine's compile caches (Brian2 locks each module
while compiling it; Numba writes its cache files atomically), each is limited
to one BLAS/OpenMP thread so two workers do not oversubscribe two cores, and
each worker keeps what it imported and built between points; the simulation's
module and Brian2 are imported before the workers are forked, so they are
imported once, not once per worker. Dask remains the
backend for clusters (``--scheduler``).
"""

from __future__ import annotations

import gc
import os
import socket
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from .caches import configure_worker_caches, safe_name
from .worker import lost_row, run_point

__all__ = ["run_on_pool", "pool_cache_dir", "longest_first", "point_cost"]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def pool_cache_dir(cache_dir) -> Path | None:
    """The caches pool workers share: ``<cache_dir>/<host>-pool``, or None (the process defaults)."""
    if cache_dir is None:
        return None
    return Path(cache_dir) / f"{safe_name(socket.gethostname())}-pool"


def _init_worker(cache: str | None) -> None:
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    try:  # BLAS already loaded by the parent (fork): limit it in this process
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    if cache is not None:
        # Environment variables (and Numba's setting); Brian2, imported by the first point
        # that needs it, reads CYTHON_CACHE_DIR then.
        configure_worker_caches(cache)


def _warm_marker(cache: Path | None, simulation: str) -> Path:
    if cache is None:
        home_cache = os.path.join(os.path.expanduser("~"), ".cache", "neuroplast")
        cache = Path(os.environ.get("NEUROPLAST_CACHE") or home_cache)
    return cache / "scan-pool-warm" / safe_name(simulation)


def run_on_pool(tasks, finish, n_workers: int | None, *, cache_dir, log, warmup=True) -> None:
    """Run ``tasks`` (dicts for :func:`~sims.scan.worker.run_point`) on ``n_workers`` processes.

    ``finish(row, attempts)`` is called in this process as each point completes.
    With ``warmup`` and caches that have never completed a point of this
    simulation, the first point runs alone, so the other workers load the code
    it compiled instead of compiling the same code at the same time.
    """
    if n_workers is None:
        try:
            n_workers = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover
            n_workers = os.cpu_count() or 1
    n_workers = max(1, min(n_workers, len(tasks)))
    cache = pool_cache_dir(cache_dir)
    marker = _warm_marker(cache, tasks[0]["simulation"]) if tasks else None
    # fork (Linux) shares the parent's imports; elsewhere the platform default.
    ctx = None
    if sys.platform.startswith("linux"):
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
    frozen = False
    if ctx is not None and tasks:
        _preload(tasks[0])
        # What the parent imported is shared with the forked workers page by page until written;
        # a collection in a worker writes to every object it scans (copying its page). Frozen
        # objects are never scanned: the workers' collections look at their own objects only
        # (Python's documented use of gc.freeze before fork).
        gc.freeze()
        frozen = True
    pool = ProcessPoolExecutor(
        n_workers, mp_context=ctx, initializer=_init_worker, initargs=(None if cache is None else str(cache),)
    )
    pending = {}
    try:
        queue = longest_first(tasks)
        if warmup and len(queue) > 1 and n_workers > 1 and not marker.exists():
            log("scan: cold caches; compiling with the first point before the other workers start")
            first = queue.pop(0)
            _collect({pool.submit(run_point, first): first}, finish, marker)
        for task in queue:
            pending[pool.submit(run_point, task)] = task
        _collect(pending, finish, marker)
    except BaseException:
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        if frozen:
            gc.unfreeze()  # this process collects its objects again
    pool.shutdown(wait=True)


#: Parameters that the work of a point grows with in proportion (neurons, simulated time).
SIZE_PARAMS = ("n_neurons", "duration")


def point_cost(task) -> float:
    """Rough relative cost of a point: the product of its numeric :data:`SIZE_PARAMS` (1 if none).

    Only the order of points matters (see :func:`longest_first`); a parameter given as text
    (e.g. ``"20s"``) counts as 1, so points differing only in it keep their order.
    """
    cost = 1.0
    for name in SIZE_PARAMS:
        value = task.get("params", {}).get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            cost *= float(value)
    return cost


def longest_first(tasks) -> list:
    """``tasks`` by decreasing :func:`point_cost`, ties in their given order.

    Longest-processing-time-first list scheduling (Graham 1969): on ``m`` workers the scan
    ends at most ``4/3 - 1/(3m)`` times the best possible makespan, and the last points
    to start are the short ones, so the workers' finishing times differ by at most a short
    point instead of a long one.
    """
    return sorted(tasks, key=lambda t: -point_cost(t))


def _preload(task) -> None:
    """Import what every point imports (its modules, the simulation, Brian2) before forking.

    Forked workers share these pages with this process, so the libraries are imported
    once (about 1 s of CPU for Brian2 here) instead of once per worker; on a busy machine
    that is CPU time the workers would otherwise take from each other. Compilation caches
    are not touched (each worker still configures its own, see :func:`_init_worker`).
    """
    import importlib

    from .. import registry

    try:
        for mod in task.get("modules", ()):
            if mod:
                importlib.import_module(mod)
        sim = registry.get(task["simulation"])
    except Exception:  # noqa: BLE001 - the worker reports the error of its point
        return
    if sim.uses_brian2:
        from spiking.engine import import_brian2

        import_brian2()


def _collect(pending: dict, finish, marker: Path) -> None:
    while pending:
        done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for fut in done:
            task = pending.pop(fut)
            try:
                row = fut.result()
            except BrokenProcessPool as exc:  # a worker died (killed, out of memory)
                row = lost_row(task, exc)
            except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be unpickled
                row = lost_row(task, exc)
            if row.status == "done" and not marker.exists():
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.touch()
            finish(row, task["attempts"])
