"""Parameter scans of any registered simulation, run on Dask, stored durably and resumable.

``neuroplast scan SPEC.toml --out DIR`` runs every point of a grid or random
scan over the parameters of a ``neuroplast run`` simulation, each with
``n_seeds`` seeds, on a local Dask cluster (one worker process per core) or on
an existing cluster (``--scheduler tcp://host:8786``). Each finished point is
written to ``DIR/scan.sqlite`` at once (see :mod:`sims.scan.store`); running
the same command again skips finished points and retries failed ones, and
:func:`load_scan` reads everything as one :class:`pandas.DataFrame`.

Modules: :mod:`~sims.scan.spec` (the TOML grammar, :data:`~sims.scan.spec.SPEC_GRAMMAR`,
and its validation), :mod:`~sims.scan.row` (the result row shared by worker and store),
:mod:`~sims.scan.worker` (run one point), :mod:`~sims.scan.caches` (per-worker compiled-code
caches), :mod:`~sims.scan.driver` (resume, serial path), :mod:`~sims.scan.dask` (clusters and
submission), :mod:`~sims.scan.store` (SQLite), :mod:`~sims.scan.plot` and :mod:`~sims.scan.cli`.
"""

from .caches import configure_worker_caches, sync_caches
from .cli import add_parser, describe
from .driver import ScanSummary, run_scan
from .row import ResultRow
from .spec import SPEC_GRAMMAR, Run, ScanSpec, load_spec, parse_spec, point_key
from .store import ScanStore, load_scan
from .worker import run_point

__all__ = [
    "SPEC_GRAMMAR",
    "ScanSpec",
    "Run",
    "ScanSummary",
    "ResultRow",
    "ScanStore",
    "WorkerCaches",
    "load_spec",
    "parse_spec",
    "point_key",
    "describe",
    "run_scan",
    "run_point",
    "load_scan",
    "configure_worker_caches",
    "sync_caches",
    "add_parser",
]


def __getattr__(name):
    # WorkerCaches subclasses Dask's WorkerPlugin: import distributed only when it is asked for.
    if name == "WorkerCaches":
        from .dask import WorkerCaches

        return WorkerCaches
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
