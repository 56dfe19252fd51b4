"""The Dask side of a scan: a local cluster or a remote scheduler, submission, warm-up and collection.

Imported only when a scan uses Dask: ``distributed`` takes about a second to import.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

from .. import registry
from .caches import _default_cache_root, cache_state, configure_worker_caches, safe_name
from .worker import lost_row, run_point

__all__ = ["WorkerCaches", "local_cluster", "connect_scheduler", "client_for", "run_on_dask"]


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


class WorkerCaches(WorkerPlugin):
    """Dask worker plugin: each worker gets its own persistent Numba and Brian2 cache directories.

    The directory is ``<root>/<hostname>-worker-<name>`` with ``root`` from
    ``--cache-dir``, else ``$NEUROPLAST_CACHE/scan-workers`` (default
    ``~/.cache/neuroplast/scan-workers``) on the worker's machine. Worker names
    are stable (a local cluster's workers are 0, 1, ...; a restarted worker
    keeps its name), so later scans find the code compiled by earlier ones, and
    two workers never compile into the same directory at the same time.

    The workers of one machine also share ``<root>/<hostname>-shared``: after a
    point, a worker publishes the extensions and Numba files it compiled there
    (atomically), and before a point it copies in what the others published
    (:func:`sync_caches`), so code is compiled once per machine, not once per
    worker.
    """

    name = "neuroplast-worker-caches"

    def __init__(self, root: str | None = None):
        self.root = root

    def setup(self, worker):
        root = Path(self.root) if self.root else _default_cache_root()
        host = safe_name(socket.gethostname())
        path = root / f"{host}-worker-{safe_name(worker.name)}"
        shared = root / f"{host}-shared"
        configure_worker_caches(path, shared)
        # Brian2 installs a SIGINT handler when it is first imported, which only works in the
        # main thread; tasks run in a worker thread, so import it here (the worker's main thread).
        import threading

        if threading.current_thread() is threading.main_thread():
            try:
                import brian2  # noqa: F401
            except ImportError:  # pragma: no cover
                pass
            configure_worker_caches(path, shared)  # now also sets Brian2's preference
            try:  # import the simulation modules once, before the first point (errors: at the point)
                registry.names()
            except Exception:  # pragma: no cover
                pass
