"""Run one (point, seed) of a scan: on a Dask worker or, with ``--serial``, in the driving process."""

from __future__ import annotations

import importlib
import os
import socket
import sys
import time
import traceback
from collections.abc import Mapping
from pathlib import Path

from .caches import sync_caches
from .row import NOT_METRICS, ResultRow

__all__ = ["run_point", "lost_row"]


def _summary_metrics(summary: Mapping, metrics) -> dict:
    if metrics is None:
        return {
            k: v
            for k, v in summary.items()
            if k not in NOT_METRICS and (isinstance(v, (int, float, str, bool)) or v is None)
        }
    missing = [m for m in metrics if m not in summary]
    if missing:
        returned = [k for k in summary if k not in NOT_METRICS]
        raise KeyError(
            f"metric {missing[0]!r} not returned by the simulation; it returns: {', '.join(returned)}"
        )
    return {m: summary[m] for m in metrics}


def run_point(task: Mapping) -> ResultRow:
    """Run one (point, seed) and return its result row; never raises for errors of the point.

    ``task`` holds ``simulation``, ``modules`` (imported first, so workers find
    simulations registered outside ``sims``), ``params``, ``seed``,
    ``metrics``, ``key``, ``point`` and ``spec_hash``. This runs on Dask
    workers and, with ``--serial``, in the calling process; both call
    :func:`sims.runner.execute`, exactly as ``neuroplast run`` does.
    """
    from ..runner import execute, versions

    t0 = time.perf_counter()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    row = {
        "key": task["key"],
        "simulation": task["simulation"],
        "point": task["point"],
        "seed": task["seed"],
        "params": dict(task["params"]),
        "started_at": started,
        "hostname": socket.gethostname(),
        "spec_hash": task.get("spec_hash"),
        "python_version": sys.version.split()[0],
    }
    row["worker"] = f"pid-{os.getpid()}"
    if "distributed" in sys.modules:  # a Dask worker has it imported; do not import it elsewhere (~1 s)
        try:
            from distributed import get_worker

            row["worker"] = str(get_worker().name)
        except ValueError:  # not inside a Dask task
            pass
    try:
        for mod in task.get("modules", ()):
            if mod:
                importlib.import_module(mod)
        sync_caches("pull")
        summary = execute(task["simulation"], task["params"], seed=task["seed"], out=None)
        row["metrics"] = _summary_metrics(summary, task.get("metrics"))
        row["config"] = summary.get("params")
        row["wall_time_s"] = summary.get("wall_time_s")
        row["status"] = "done"
        row["error"] = None
        for k in ("package_version", "brian2_version", "numba_version"):
            row[k] = summary.get(k)
    except Exception as exc:  # a failing point is recorded, the scan goes on
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" ({Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        row.update(status="failed", error=f"{type(exc).__name__}: {msg}{where}", metrics=None)
        row.update(versions())
    row["task_time_s"] = time.perf_counter() - t0
    if row["status"] == "done":
        try:
            sync_caches("push")  # let the other workers on this machine load what this one compiled
        except OSError:  # pragma: no cover - a full or read-only cache disk must not fail the point
            pass
    row["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return ResultRow(**row)


def lost_row(task: Mapping, exc: BaseException) -> ResultRow:
    """The failed row of a point whose worker died or was lost (no result came back)."""
    msg = str(exc).splitlines()[0] if str(exc) else ""
    return ResultRow(
        key=task["key"],
        simulation=task["simulation"],
        point=task["point"],
        seed=task["seed"],
        params=task["params"],
        status="failed",
        error=f"{type(exc).__name__}: {msg} (the worker process died or was lost)",
        spec_hash=task["spec_hash"],
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
