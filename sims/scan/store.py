"""Durable, resumable results store of a parameter scan (one SQLite file per scan directory).

Layout of a scan directory ``DIR``::

    DIR/scan.sqlite   the store (tables ``meta``, ``specs``, ``points``, ``results``)
    DIR/spec.toml     a copy of the spec that produced the current point list
    DIR/.lock         held (``flock``) while a scan writes to DIR

Every finished point is one row of ``results``, written in its own SQLite
transaction with ``synchronous=FULL`` and the rollback journal (which, unlike
WAL, also works on network file systems): a crash, Ctrl-C or power cut
leaves either the whole row or nothing, never half a row. Only the process
that drives the scan writes; Dask workers return their results to it.

A point is identified by a content key, the SHA-1 of the simulation name, its
parameters (fixed and scanned, after type conversion) and its seed. Re-running
the same spec skips points whose row says ``done`` and retries ``failed``
ones. A different spec in the same directory is refused unless ``force=True``;
with ``force`` no row is deleted: rows of points that the new spec also
contains are reused, the others stay in the file (``load_scan(DIR,
all_points=True)`` shows them) and every spec ever used is kept in ``specs``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..runner import write_text_atomic
from .row import FRAME_TAIL, RESULT_COLUMNS, ResultRow, results_schema

__all__ = ["ScanStore", "load_scan", "prepare_out_dir", "STORE_NAME", "RESULT_COLUMNS", "ResultRow"]

STORE_NAME = "scan.sqlite"
SPEC_COPY = "spec.toml"
LOCK_NAME = ".lock"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS specs (
    spec_hash TEXT PRIMARY KEY, spec_json TEXT NOT NULL, first_used TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS points (
    key TEXT PRIMARY KEY, point INTEGER NOT NULL, seed INTEGER NOT NULL, params TEXT NOT NULL);
"""

# The results table is generated from ResultRow's fields (sims.scan.row).
_SCHEMA += results_schema()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def prepare_out_dir(out: str | os.PathLike) -> Path:
    """Create ``out`` (with parents) and prove it is writable, or raise ``ValueError``.

    Writability is tested by creating and removing a temporary file, which
    also catches read-only mounts and full disks that ``os.access`` misses.
    """
    out_dir = Path(out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ValueError(f"output directory {str(out_dir)!r} exists and is not a directory") from None
    except OSError as exc:
        raise ValueError(f"cannot create output directory {str(out_dir)!r}: {exc.strerror or exc}") from None
    if not out_dir.is_dir():
        raise ValueError(f"output directory {str(out_dir)!r} exists and is not a directory")
    try:
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".write-test-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise ValueError(
            f"output directory {str(out_dir)!r} is not writable: {exc.strerror or exc}"
        ) from None
    return out_dir


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    else:
        conn = sqlite3.connect(path, timeout=30)
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA synchronous=FULL")
    return conn


class ScanStore:
    """The SQLite store of one scan directory; use :meth:`open`.

    Parameters
    ----------
    directory : path
        The scan directory (created if missing).
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.path = self.directory / STORE_NAME
        self._conn: sqlite3.Connection | None = None
        self._lock_fh = None

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, directory, *, spec_hash: str, force: bool = False) -> ScanStore:
        """Open (or create) the store, lock the directory and check the spec.

        Raises ``ValueError`` if the directory holds results of a different
        spec and ``force`` is false, or if another scan is writing to it right
        now. Nothing is changed until :meth:`activate`.
        """
        directory = prepare_out_dir(directory)
        self = cls(directory)
        self._acquire_lock()
        try:
            self._conn = _connect(self.path)
            with self._conn:
                self._conn.executescript(_SCHEMA)
            old = self.meta().get("spec_hash")
            if old is not None and old != spec_hash and not force:
                n_done = self._conn.execute("SELECT COUNT(*) FROM results WHERE status='done'").fetchone()[0]
                raise ValueError(
                    f"{str(directory)!r} holds results of a different spec ({n_done} points done); "
                    "use the same spec to resume, another --out directory, or --force to scan the "
                    "new spec here (earlier results are kept)"
                )
        except BaseException:
            self.close()
            raise
        return self

    def activate(
        self,
        *,
        spec_json: str,
        spec_hash: str,
        points: Iterable[tuple[str, int, int, Mapping]],
        spec_text: str | None = None,
        scanned: Iterable[str] = (),
    ) -> None:
        """Make ``spec_hash`` the directory's spec; ``points`` are ``(key, point, seed, params)``.

        ``scanned`` names the scanned parameters in spec order (the first
        parameter columns of :func:`load_scan`).
        """
        old = self.meta().get("spec_hash")
        with self._conn:  # one transaction: the point list and the spec change together
            self._conn.execute("INSERT OR IGNORE INTO specs VALUES (?, ?, ?)", (spec_hash, spec_json, _now()))
            if old != spec_hash:
                self._conn.execute("DELETE FROM points")
                self._conn.executemany(
                    "INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?)",
                    [(k, int(i), int(s), _dumps(p)) for k, i, s, p in points],
                )
            self._conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [
                    ("spec_hash", spec_hash),
                    ("spec_json", spec_json),
                    ("updated_at", _now()),
                    ("scanned", json.dumps(list(scanned))),
                ],
            )
            self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('created_at', ?)", (_now(),))
        if spec_text is not None:
            write_text_atomic(self.directory / SPEC_COPY, spec_text)

    def _acquire_lock(self) -> None:
        import fcntl

        fh = open(self.directory / LOCK_NAME, "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise ValueError(
                f"another scan is writing to {str(self.directory)!r} right now; wait for it or use "
                "another --out directory"
            ) from None
        self._lock_fh = fh

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._lock_fh is not None:
            self._lock_fh.close()  # releases the flock
            self._lock_fh = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- queries ---------------------------------------------------------------------------------
    def meta(self) -> dict:
        return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def statuses(self) -> dict[str, tuple[str, int]]:
        """``{key: (status, attempts)}`` of every recorded point."""
        rows = self._conn.execute("SELECT key, status, attempts FROM results").fetchall()
        return {k: (s, a) for k, s, a in rows}

    # -- writing ---------------------------------------------------------------------------------
    def record(self, row: ResultRow | Mapping) -> None:
        """Write one finished point (``done`` or ``failed``) in its own durable transaction.

        ``row`` is a :class:`~sims.scan.row.ResultRow` or a mapping of its columns.
        """
        if not isinstance(row, ResultRow):
            row = ResultRow.from_mapping(row)
        values = []
        for col in RESULT_COLUMNS:
            v = getattr(row, col)
            if col in ("params", "config", "metrics") and v is not None and not isinstance(v, str):
                v = _dumps(v)
            values.append(v)
        placeholders = ", ".join("?" * len(RESULT_COLUMNS))
        with self._conn:
            self._conn.execute(
                f"INSERT OR REPLACE INTO results ({', '.join(RESULT_COLUMNS)}) VALUES ({placeholders})",
                values,
            )


def _dumps(obj) -> str:
    from ..runner import _json_default

    return json.dumps(obj, sort_keys=True, default=_json_default)


@contextlib.contextmanager
def _readonly(directory: Path):
    path = Path(directory) / STORE_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no scan results in {str(directory)!r} (missing {STORE_NAME})")
    conn = _connect(path, readonly=True)
    try:
        yield conn
    finally:
        conn.close()


def load_scan(directory, *, include_pending: bool = False, all_points: bool = False):
    """Read a scan directory as one :class:`pandas.DataFrame`, one row per (point, seed).

    Parameters
    ----------
    directory : path
        The ``--out`` directory of ``neuroplast scan``.
    include_pending : bool
        Also list points of the current spec that have no result yet
        (``status == "pending"``).
    all_points : bool
        Also list results of points that are not in the current spec (left by
        earlier specs run with ``--force``); their ``point`` is missing.

    Returns
    -------
    pandas.DataFrame
        ``df.attrs`` holds ``simulation``, ``scanned`` (scanned parameter
        names in spec order), ``params``, ``metrics`` and ``spec_hash``.
        Columns: ``point``, ``seed``, one column per parameter given in the
        spec (fixed and scanned), one per kept metric (prefixed ``metric.``
        where a metric has a parameter's name), then ``status``, ``error``,
        ``wall_time_s`` (the simulation's run), ``task_time_s`` (the whole
        point on its worker, imports included), ``attempts``, ``worker``, ``hostname``,
        ``finished_at``, the versions and ``key``. Rows are ordered by point
        and seed.
    """
    import pandas as pd

    with _readonly(Path(directory)) as conn:
        points = conn.execute("SELECT key, point, seed, params FROM points").fetchall()
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        results = conn.execute(f"SELECT {', '.join(RESULT_COLUMNS)} FROM results").fetchall()
    by_key = {r[0]: dict(zip(RESULT_COLUMNS, r, strict=True)) for r in results}
    current = {k for k, *_ in points}
    records = []
    param_names: dict[str, None] = dict.fromkeys(json.loads(meta.get("scanned", "[]")))
    metric_names: dict[str, None] = {}

    def add(res: dict | None, key: str, point, seed, params: dict):
        rec = {"point": point, "seed": seed}
        for k, v in params.items():
            param_names[k] = None
            rec[("param", k)] = v
        if res is None:
            rec.update(status="pending", key=key)
        else:
            for k, v in json.loads(res["metrics"] or "{}").items():
                metric_names[k] = None
                rec[("metric", k)] = v
            for col in FRAME_TAIL:
                rec[col] = res[col]
        records.append(rec)

    for key, point, seed, params in points:
        res = by_key.get(key)
        if res is None and not include_pending:
            continue
        add(res, key, point, seed, json.loads(params))
    if all_points:
        for key, res in by_key.items():
            if key not in current:
                add(res, key, None, res["seed"], json.loads(res["params"]))

    def col(kind, name):
        if kind == "metric" and name in param_names:
            return f"metric.{name}"
        return name

    fixed = ["point", "seed"]
    tail = list(FRAME_TAIL)
    columns = fixed + [col("param", p) for p in param_names] + [col("metric", m) for m in metric_names] + tail
    rows = []
    for rec in records:
        row = {}
        for k, v in rec.items():
            row[col(*k) if isinstance(k, tuple) else k] = v
        rows.append(row)
    df = pd.DataFrame(rows, columns=columns)
    if len(df):
        df = df.sort_values(["point", "seed"], na_position="last", kind="stable").reset_index(drop=True)
        df["point"] = df["point"].astype("Int64")
    spec = json.loads(meta.get("spec_json", "{}"))
    df.attrs.update(
        simulation=spec.get("simulation"),
        scanned=json.loads(meta.get("scanned", "[]")),
        params=[col("param", p) for p in param_names],
        metrics=[col("metric", m) for m in metric_names],
        spec_hash=meta.get("spec_hash"),
    )
    return df
