"""The Dask side of a scan: a local cluster or a remote scheduler, submission, warm-up and collection."""

from __future__ import annotations

import os
import time
import uuid

from .caches import WorkerCaches, cache_state
from .worker import lost_row, run_point

__all__ = ["local_cluster", "connect_scheduler", "client_for", "run_on_dask"]


def local_cluster(n_workers: int | None, memory_limit="auto"):
    from distributed import LocalCluster

    if n_workers is None:
        try:
            n_workers = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover
            n_workers = os.cpu_count() or 1
    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        memory_limit=memory_limit,
        silence_logs=40,
    )


def connect_scheduler(address: str, timeout: float):
    from distributed import Client

    t0 = time.monotonic()
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ValueError(
            f"Dask scheduler at {address!r} did not answer within {timeout:g} s "
            f"({time.monotonic() - t0:.1f} s spent): "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    except ValueError as exc:
        raise ValueError(f"bad Dask scheduler address {address!r}: {exc}") from None


def client_for(cluster):
    from distributed import Client

    return Client(cluster, set_as_default=False)


def run_on_dask(tasks, finish, client, *, cache_dir, log, warmup=True):
    from distributed import as_completed

    plugin = WorkerCaches(None if cache_dir is None else str(cache_dir))
    client.register_plugin(plugin, name=plugin.name)
    if not client.scheduler_info().get("workers"):
        log("scan: the Dask cluster has no workers yet; points start when workers join")
        warmup = False
    if warmup and len(tasks) > 1:
        # A worker with nothing compiled yet would compile the network's code itself. Run one
        # point alone first: the others then load its code from their machine's shared cache.
        try:
            cold = min(client.run(cache_state).values()) == 0
        except Exception:  # noqa: BLE001 - a worker that cannot answer: skip the warm-up
            cold = False
        if cold:
            log("scan: cold caches; compiling with the first point on one worker before the others start")
            first, tasks = tasks[0], tasks[1:]
            fut = client.submit(
                run_point, first, key=f"scan-{first['key']}-warmup-{uuid.uuid4().hex[:8]}", pure=False
            )
            try:
                try:
                    row = fut.result()
                except Exception as exc:  # noqa: BLE001 - the worker died
                    row = lost_row(first, exc)
            except BaseException:  # Ctrl-C
                client.cancel([fut], force=True)
                raise
            finish(row, first["attempts"])
    batch = uuid.uuid4().hex[:8]
    futures = {}
    for i, task in enumerate(tasks):
        fut = client.submit(run_point, task, key=f"scan-{task['key']}-{batch}", pure=False, priority=-i)
        futures[fut] = task
    try:
        for fut in as_completed(list(futures), loop=client.loop):
            task = futures.pop(fut)
            try:
                row = fut.result()
            except Exception as exc:  # the worker died (KilledWorker) or the task was lost
                row = lost_row(task, exc)
            finish(row, task["attempts"])
    except BaseException:
        client.cancel(list(futures), force=True)
        raise
