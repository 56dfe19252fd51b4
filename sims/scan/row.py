"""The result of one (point, seed) of a scan: one definition for the worker, the store and the frame.

:class:`ResultRow` is what a worker returns, what :meth:`sims.scan.store.ScanStore.record`
writes (one SQL column per field, the schema is generated from the fields) and what
:func:`sims.scan.store.load_scan` reads back; :data:`FRAME_TAIL` (the columns shown after
the parameters and metrics) and :data:`NOT_METRICS` (entries of a run's summary that are
bookkeeping, not metrics) are derived from the same fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["ResultRow", "RESULT_COLUMNS", "FRAME_TAIL", "VERSION_COLUMNS", "NOT_METRICS", "results_schema"]


def _col(sql: str, *, frame: int | None = None, version: bool = False, default=None):
    """A result column: its SQL type, its place among load_scan's tail columns, whether it is a version."""
    return field(default=default, metadata={"sql": sql, "frame": frame, "version": version})


@dataclass(kw_only=True)
class ResultRow:
    """One finished (``done``) or failed point of a scan.

    ``params``, ``config`` and ``metrics`` are dicts here and JSON text in the store.
    """

    key: str = _col("TEXT PRIMARY KEY", frame=12)
    simulation: str = _col("TEXT NOT NULL")
    point: int | None = _col("INTEGER")
    seed: int = _col("INTEGER NOT NULL")
    params: dict = _col("TEXT NOT NULL")
    config: dict | None = _col("TEXT")
    status: str = _col("TEXT NOT NULL CHECK (status IN ('done', 'failed'))", frame=1)
    error: str | None = _col("TEXT", frame=2)
    metrics: dict | None = _col("TEXT")
    wall_time_s: float | None = _col("REAL", frame=3)
    task_time_s: float | None = _col("REAL", frame=4)
    started_at: str | None = _col("TEXT")
    finished_at: str | None = _col("TEXT", frame=8)
    attempts: int = _col("INTEGER NOT NULL DEFAULT 1", frame=5, default=1)
    worker: str | None = _col("TEXT", frame=6)
    hostname: str | None = _col("TEXT", frame=7)
    package_version: str | None = _col("TEXT", frame=9, version=True)
    brian2_version: str | None = _col("TEXT", frame=10, version=True)
    numba_version: str | None = _col("TEXT", frame=11, version=True)
    python_version: str | None = _col("TEXT")
    spec_hash: str | None = _col("TEXT")

    @classmethod
    def from_mapping(cls, row: Mapping) -> ResultRow:
        """Build a row from a mapping of column names; ``ValueError`` on unknown columns."""
        unknown = set(row) - set(RESULT_COLUMNS)
        if unknown:
            raise ValueError(f"unknown result columns: {sorted(unknown)}")
        return cls(**row)

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in RESULT_COLUMNS}


_FIELDS = dataclasses.fields(ResultRow)
#: Columns of the ``results`` table, in the order of :class:`ResultRow`'s fields.
RESULT_COLUMNS = tuple(f.name for f in _FIELDS)
#: Result columns shown after the parameters and metrics in ``load_scan``'s DataFrame.
FRAME_TAIL = tuple(
    f.name for f in sorted((f for f in _FIELDS if f.metadata["frame"]), key=lambda f: f.metadata["frame"])
)
#: Version stamps (the keys of :func:`sims.runner.versions`).
VERSION_COLUMNS = tuple(f.name for f in _FIELDS if f.metadata["version"])
#: Entries of a run's summary that are recorded anyway and are not metrics.
NOT_METRICS = frozenset({"simulation", "seed", "wall_time_s", "params", *VERSION_COLUMNS})


def results_schema() -> str:
    """The ``CREATE TABLE`` statement of the ``results`` table, generated from the fields."""
    cols = ",\n".join(f"    {f.name} {f.metadata['sql']}" for f in _FIELDS)
    return f"CREATE TABLE IF NOT EXISTS results (\n{cols}\n);\n"
