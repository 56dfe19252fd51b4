"""Drive a scan: resume from the store, run the remaining points serially or on Dask, record each."""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .. import registry
from . import pool as pool_backend
from .caches import configure_worker_caches, safe_name
from .row import ResultRow
from .spec import ScanSpec, load_spec
from .store import ScanStore, prepare_out_dir
from .worker import run_point

__all__ = ["ScanSummary", "run_scan"]


@dataclass
class ScanSummary:
    """Counts of one ``run_scan`` call."""

    total: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    elapsed_s: float = 0.0
    interrupted: bool = False
    failures: list = dataclasses.field(default_factory=list)

    @property
    def ran(self) -> int:
        return self.done + self.failed

    def line(self) -> str:
        s = (
            f"{self.done} done, {self.failed} failed, {self.skipped} skipped (already done) "
            f"of {self.total} runs in {self.elapsed_s:.1f} s"
        )
        if self.retried:
            s += f"; {self.retried} earlier failures retried"
        return s


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="pt", desc="scan", dynamic_ncols=True, file=sys.stderr, smoothing=0.1)


def run_scan(
    spec: ScanSpec | str | os.PathLike,
    out: str | os.PathLike,
    *,
    scheduler: str | None = None,
    client=None,
    n_workers: int | None = None,
    serial: bool = False,
    force: bool = False,
    progress: bool = False,
    connect_timeout: float = 10.0,
    cache_dir: str | os.PathLike | None = None,
    max_points: int | None = None,
    warmup: bool = True,
    local_dask: bool = False,
    log=None,
) -> ScanSummary:
    """Run (or resume) a scan and store every finished point in ``out``.

    Parameters
    ----------
    spec : ScanSpec or path
        A validated spec or the path of a TOML spec.
    out : path
        Scan directory (created). Points already ``done`` there are skipped,
        ``failed`` ones run again.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); default: this
        machine, ``n_workers`` processes (default: one per core) of a process pool
        (:mod:`sims.scan.pool`), or of a local Dask cluster with ``local_dask``.
    client : distributed.Client, optional
        Use this client (its cluster is left running).
    serial : bool
        Run the points one after the other in this process, without Dask.
    force : bool
        Accept a spec that differs from the one ``out`` was made with.
    progress : bool
        Show a progress bar (done, failed, time left) on stderr.
    connect_timeout : float
        Seconds to wait for ``scheduler`` to answer.
    cache_dir : path, optional
        Root of the per-worker Numba/Brian2 cache directories (see :class:`sims.scan.dask.WorkerCaches`).
    max_points : int, optional
        Run at most this many of the remaining points (then stop, resumable).
    warmup : bool
        When a worker has nothing compiled yet, run the first point alone so
        that the other workers on its machine load its compiled code instead of
        compiling the same code at the same time.
    local_dask : bool
        Without ``scheduler``: run on a local Dask cluster instead of the process pool
        (slower on a small machine; kept for comparison and Dask-only features).
    log : callable, optional
        Called with one-line messages (default: print to stderr).

    Returns
    -------
    ScanSummary
    """
    if log is None:

        def log(msg):
            print(msg, file=sys.stderr)

    if not isinstance(spec, ScanSpec):
        spec = load_spec(spec)
    if connect_timeout <= 0:
        raise ValueError(f"connect_timeout must be > 0, got {connect_timeout!r}")
    if n_workers is not None and (
        isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1
    ):
        raise ValueError(f"workers must be an integer >= 1, got {n_workers!r}")
    if max_points is not None and max_points < 0:
        raise ValueError(f"max_points must be >= 0, got {max_points!r}")
    runs = spec.runs()
    out_dir = prepare_out_dir(out)
    t0 = time.perf_counter()
    summary = ScanSummary(total=len(runs))
    sim = registry.get(spec.simulation)
    modules = [m for m in (spec.module, sim.run.__module__) if m]
    with ScanStore.open(out_dir, spec_hash=spec.hash, force=force) as store:
        activate = dict(
            spec_json=spec.to_json(),
            spec_hash=spec.hash,
            spec_text=spec.text,
            points=[(r.key, r.point, r.seed, r.params) for r in runs],
            scanned=spec.scanned,
        )
        status = store.statuses()
        todo = []
        for r in runs:
            st = status.get(r.key)
            if st and st[0] == "done":
                summary.skipped += 1
            else:
                if st:
                    summary.retried += 1
                todo.append((r, (st[1] + 1) if st else 1))
        if max_points is not None:
            todo = todo[:max_points]
        if not todo:
            store.activate(**activate)
            summary.elapsed_s = time.perf_counter() - t0
            log(f"scan {out_dir}: nothing to run; " + summary.line())
            return summary
        tasks = [
            {
                "simulation": spec.simulation,
                "modules": modules,
                "params": r.params,
                "seed": r.seed,
                "metrics": spec.metrics,
                "key": r.key,
                "point": r.point,
                "spec_hash": spec.hash,
                "attempts": att,
            }
            for r, att in todo
        ]
        bar = None

        def finish(row: ResultRow, attempts: int):
            row.attempts = attempts
            store.record(row)
            if row.status == "done":
                summary.done += 1
            else:
                summary.failed += 1
                summary.failures.append((row.point, row.seed, row.error))
            if bar is not None:
                bar.set_postfix(done=summary.done, failed=summary.failed, refresh=False)
                bar.update(1)

        own_cluster = own_client = None
        try:
            use_pool = not serial and client is None and scheduler is None and not local_dask
            if not serial and not use_pool:
                from . import dask as dask_backend
            if not serial and client is None and not use_pool:  # connect before touching the store
                if scheduler is not None:
                    client = own_client = dask_backend.connect_scheduler(scheduler, connect_timeout)
                else:
                    own_cluster = dask_backend.local_cluster(n_workers)
                    client = own_client = dask_backend.client_for(own_cluster)
            store.activate(**activate)
            bar = _progress_bar(len(tasks), progress)
            if serial:
                if cache_dir is not None:
                    configure_worker_caches(Path(cache_dir) / f"{safe_name(socket.gethostname())}-serial")
                for task in tasks:
                    finish(run_point(task), task["attempts"])
            elif use_pool:
                pool_backend.run_on_pool(
                    tasks, finish, n_workers, cache_dir=cache_dir, log=log, warmup=warmup
                )
            else:
                dask_backend.run_on_dask(tasks, finish, client, cache_dir=cache_dir, log=log, warmup=warmup)
        except KeyboardInterrupt:
            summary.interrupted = True
            summary.elapsed_s = time.perf_counter() - t0
            if bar is not None:
                bar.close()
                bar = None
            log(f"scan {out_dir} interrupted: {summary.line()}; run the same command again to resume")
            raise
        finally:
            if bar is not None:
                bar.close()
            if own_client is not None:
                own_client.close(timeout=5)
            if own_cluster is not None:
                own_cluster.close(timeout=10)
    summary.elapsed_s = time.perf_counter() - t0
    log(f"scan {out_dir}: {summary.line()}")
    for point, seed, err in summary.failures[:5]:
        log(f"  failed: point {point} seed {seed}: {err}")
    if len(summary.failures) > 5:
        log(f"  ... and {len(summary.failures) - 5} more (see load_scan(DIR).query('status == \"failed\"'))")
    return summary
