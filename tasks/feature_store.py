"""A durable, resumable store of a large feature matrix, written chunk by chunk (pure NumPy).

Feature generation of a liquid state machine at full scale (70 000 samples, hours of
simulation) must survive being killed at any moment and must never mix features of
different configurations. A :class:`FeatureStore` holds one ``(n_samples, n_features)``
array as fixed-size row chunks in a directory::

    manifest.json          key (what the features depend on), shape, dtype, finished chunks
    chunk_000000.npy       rows [0, chunk_size)
    chunk_000001.npy       rows [chunk_size, 2 * chunk_size)
    ...
    <name>.npy             named side arrays (labels, initialised weights), see save_array

Format: one ``.npy`` per chunk plus a JSON manifest. It needs nothing beyond NumPy,
every chunk is one file written once (so "finished" is a property of one file, made
atomic by ``os.replace``), any tool reads it, and chunks of the 1000-neuron liquid
(1000 samples x 1000 counts as ``uint16``, 2 MB) are large enough that the number of
files stays small (70 per full protocol). Zarr would add a dependency for no
capability needed here (no concurrent writers: one process writes, workers return
arrays).

Durability rules:

* A chunk is written to a temporary file in the same directory, flushed, fsynced and
  renamed onto its final name (``os.replace``): a chunk file either exists whole or
  not at all. Temporary files left by a killed writer (``.chunk_*.tmp``) are ignored
  and removed when the store is opened again.
* The manifest is rewritten the same way after each chunk. A crash between the
  chunk's rename and the manifest update leaves a finished chunk the manifest does
  not list: on opening, such chunks are checked (shape, dtype) and adopted, so no
  finished chunk is ever lost or recomputed; listed chunks whose file is gone are
  recomputed.
* The manifest's ``key`` (a JSON object: configuration, hash of the initialised
  weights, data identity, ...) is compared when the store is opened: a different key
  is refused with a ``ValueError`` naming the differing entries, unless ``force``,
  which deletes the old chunks.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from plasticity_rules.validation import check_int

__all__ = [
    "FeatureStore",
    "StoredFeatures",
    "load_features",
    "stored_key",
    "stored_manifest",
    "key_differences",
    "array_digest",
    "key_digest",
]

MANIFEST = "manifest.json"
FORMAT = "neuroplast-feature-store"
VERSION = 1
_CHUNK_RE = re.compile(r"^chunk_(\d{6})\.npy$")


def array_digest(*arrays) -> str:
    """SHA-256 of the dtypes, shapes and bytes of ``arrays`` (identity of weights or data)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def key_digest(key: dict) -> str:
    """SHA-256 of the canonical JSON of ``key``."""
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def key_differences(old, new: dict) -> list[str]:
    """Top-level entries in which two keys differ (all of ``new`` if ``old`` is not a dict)."""
    old = old if isinstance(old, dict) else {}
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def stored_manifest(directory) -> dict | None:
    """The manifest of the store in ``directory`` (``None`` if there is none or it is unreadable)."""
    try:
        man = json.loads((Path(directory) / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return man if isinstance(man, dict) and man.get("format") == FORMAT else None


def stored_key(directory):
    """The key of the store in ``directory`` (``None`` if there is none or it is unreadable)."""
    man = stored_manifest(directory)
    return None if man is None else man.get("key")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _write_atomic(path: Path, write) -> None:
    """Call ``write(fileobj)`` on a temporary file next to ``path``, then rename it onto ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class FeatureStore:
    """Open (resume) or create a chunked feature store in ``directory``.

    Parameters
    ----------
    directory : path-like
        Created if missing.
    key : dict
        JSON-serialisable description of everything the features depend on.
    n_samples, n_features : int
        Shape of the whole array, ``(n_samples, n_features)``.
    chunk_size : int
        Rows per chunk (the last chunk may be shorter).
    dtype : str
        Storage dtype; integer dtypes require integral values within range.
    force : bool
        Delete a store of a different key instead of refusing it.
    meta : dict, optional
        Extra JSON information kept in the manifest (not part of the key).

    Attributes
    ----------
    done : dict
        ``{chunk index: sha256 of its file}`` of the finished chunks.
    """

    def __init__(
        self,
        directory,
        *,
        key: dict,
        n_samples: int,
        n_features: int,
        chunk_size: int,
        dtype: str = "uint16",
        force: bool = False,
        meta: dict | None = None,
    ):
        self.directory = Path(directory)
        self.key = json.loads(json.dumps(key, sort_keys=True))  # canonical JSON types
        self.n_samples = check_int("n_samples", n_samples, minimum=1)
        self.n_features = check_int("n_features", n_features, minimum=1)
        self.chunk_size = check_int("chunk_size", chunk_size, minimum=1)
        self.dtype = np.dtype(dtype)
        self.meta = dict(meta or {})
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"cannot create feature store {str(self.directory)!r}: {exc.strerror}") from None
        self.done: dict[int, str] = {}
        self._open(force)

    # ------------------------------------------------------------------ layout
    @property
    def n_chunks(self) -> int:
        return -(-self.n_samples // self.chunk_size)

    def chunk_rows(self, index: int) -> tuple[int, int]:
        """``(start, stop)`` rows of chunk ``index``."""
        start = index * self.chunk_size
        return start, min(start + self.chunk_size, self.n_samples)

    def chunk_path(self, index: int) -> Path:
        return self.directory / f"chunk_{index:06d}.npy"

    def missing(self) -> list[int]:
        """Indices of the chunks still to compute, in order."""
        return [i for i in range(self.n_chunks) if i not in self.done]

    @property
    def complete(self) -> bool:
        return len(self.done) == self.n_chunks

    def _header(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "key": self.key,
            "key_sha256": key_digest(self.key),
            "n_samples": self.n_samples,
            "n_features": self.n_features,
            "chunk_size": self.chunk_size,
            "dtype": self.dtype.str,
        }

    # ------------------------------------------------------------------ open / resume
    def _open(self, force: bool) -> None:
        d = self.directory
        for tmp in d.glob(".*.tmp"):  # left by a writer killed mid-write: never a finished chunk
            tmp.unlink(missing_ok=True)
        man_path = d / MANIFEST
        chunk_files = sorted(p for p in d.iterdir() if _CHUNK_RE.match(p.name))
        if man_path.is_file():
            try:
                man = json.loads(man_path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise ValueError(f"feature store manifest {str(man_path)!r} is unreadable: {exc}") from None
            header = self._header()
            diffs = [k for k in header if k not in ("key", "key_sha256") and man.get(k) != header[k]]
            diffs += key_differences(man.get("key"), self.key)
            if diffs:
                if not force:
                    raise ValueError(
                        f"feature store {str(d)!r} holds features of a different configuration "
                        f"(differs in: {', '.join(diffs)}); use another output directory, or --force "
                        "to delete them"
                    )
                self._wipe(chunk_files)
                chunk_files = []
            else:
                self.done = {int(i): h for i, h in man.get("chunks", {}).items()}
                self.meta = {**man.get("meta", {}), **self.meta}
        elif chunk_files:
            if not force:
                raise ValueError(
                    f"{str(d)!r} holds feature chunks without a manifest; use another directory, "
                    "or --force to delete them"
                )
            self._wipe(chunk_files)
            chunk_files = []
        present = {int(_CHUNK_RE.match(p.name).group(1)) for p in chunk_files}
        # listed chunks whose file is gone are recomputed
        self.done = {i: h for i, h in self.done.items() if i in present and i < self.n_chunks}
        # finished chunks the manifest missed (killed between rename and manifest update)
        for i in sorted(present - set(self.done)):
            if i < self.n_chunks and self._valid_chunk(i):
                self.done[i] = _file_sha256(self.chunk_path(i))
            else:
                self.chunk_path(i).unlink(missing_ok=True)
        self._write_manifest()

    def _wipe(self, chunk_files) -> None:
        for p in chunk_files:
            p.unlink(missing_ok=True)
        for p in self.directory.glob("*.npy"):  # side arrays belong to the old key too
            p.unlink(missing_ok=True)
        (self.directory / MANIFEST).unlink(missing_ok=True)
        self.done = {}

    def _valid_chunk(self, index: int) -> bool:
        start, stop = self.chunk_rows(index)
        try:
            a = np.load(self.chunk_path(index), mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            return False
        return a.shape == (stop - start, self.n_features) and a.dtype == self.dtype

    def _write_manifest(self) -> None:
        man = dict(self._header(), meta=self.meta, chunks={str(i): h for i, h in sorted(self.done.items())})
        text = json.dumps(man, indent=1, sort_keys=True).encode()
        _write_atomic(self.directory / MANIFEST, lambda fh: fh.write(text))

    # ------------------------------------------------------------------ writing
    def _encode(self, index: int, values) -> np.ndarray:
        start, stop = self.chunk_rows(index)
        a = np.asarray(values)
        if a.shape != (stop - start, self.n_features):
            raise ValueError(
                f"chunk {index} must have shape ({stop - start}, {self.n_features}), got {a.shape}"
            )
        if self.dtype.kind in "iu":
            info = np.iinfo(self.dtype)
            if a.size and (not np.all(a == np.round(a)) or a.min() < info.min or a.max() > info.max):
                raise ValueError(f"chunk {index} values must be integers in [{info.min}, {info.max}]")
        return np.ascontiguousarray(a, dtype=self.dtype)

    def _write_chunk_file(self, index: int, values) -> str:
        """Write the chunk's file atomically (not yet listed in the manifest); return its sha256."""
        a = self._encode(index, values)
        path = self.chunk_path(index)
        _write_atomic(path, lambda fh: np.save(fh, a, allow_pickle=False))
        return _file_sha256(path)

    def write_chunk(self, index: int, values) -> None:
        """Store chunk ``index`` (rows :meth:`chunk_rows`) atomically and record it in the manifest."""
        index = check_int("index", index, minimum=0)
        if index >= self.n_chunks:
            raise ValueError(f"chunk index must be < {self.n_chunks}, got {index}")
        self.done[index] = self._write_chunk_file(index, values)
        self._write_manifest()

    def set_meta(self, **items) -> None:
        """Add JSON items to the manifest's ``meta`` (timings, provenance)."""
        self.meta.update(json.loads(json.dumps(items)))
        self._write_manifest()

    def save_array(self, name: str, array) -> None:
        """Store a side array ``<name>.npy`` atomically (labels, initialised weights)."""
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) or name.startswith("chunk_"):
            raise ValueError(f"array name must be an identifier not starting with 'chunk_', got {name!r}")
        a = np.asarray(array)
        _write_atomic(self.directory / f"{name}.npy", lambda fh: np.save(fh, a, allow_pickle=False))

    def load_array(self, name: str):
        """A side array stored by :meth:`save_array`, or ``None``."""
        p = self.directory / f"{name}.npy"
        return np.load(p, allow_pickle=False) if p.is_file() else None

    # ------------------------------------------------------------------ reading
    def read(self, verify: bool = True) -> np.ndarray:
        """The whole array as float64; ``ValueError`` if chunks are missing or corrupt."""
        return _read_chunks(self.directory, self._header(), self.done, verify)


def _read_chunks(directory: Path, header: dict, done: dict, verify: bool) -> np.ndarray:
    n, f, cs = header["n_samples"], header["n_features"], header["chunk_size"]
    n_chunks = -(-n // cs)
    missing = [i for i in range(n_chunks) if i not in done]
    if missing:
        raise ValueError(
            f"feature store {str(directory)!r} is incomplete: {len(missing)} of {n_chunks} chunks missing "
            f"(first: {missing[0]}); re-run the same command to resume"
        )
    out = np.empty((n, f), dtype=np.float64)
    for i in range(n_chunks):
        path = directory / f"chunk_{i:06d}.npy"
        if verify and _file_sha256(path) != done[i]:
            raise ValueError(f"feature chunk {str(path)!r} does not match its checksum in the manifest")
        out[i * cs : min((i + 1) * cs, n)] = np.load(path, allow_pickle=False)
    return out


@dataclass(frozen=True)
class StoredFeatures:
    """Features read back from a store (see :func:`load_features`).

    Attributes
    ----------
    features : ndarray, shape (n_samples, n_features)
        All samples, float64.
    labels : ndarray of int64, shape (n_samples,) or None
        The side array ``labels`` if stored.
    splits : dict
        ``{name: (start, stop)}`` rows of each data split (from ``meta['splits']``).
    key, meta : dict
        The manifest's key and meta information.
    """

    features: np.ndarray
    labels: np.ndarray | None
    splits: dict = field(default_factory=dict)
    key: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        """``(X, y)`` of split ``name`` (``'train'``, ``'val'``, ``'test'``)."""
        if name not in self.splits:
            raise ValueError(f"unknown split {name!r}; stored: {', '.join(self.splits) or 'none'}")
        a, b = self.splits[name]
        return self.features[a:b], None if self.labels is None else self.labels[a:b]


def load_features(directory, verify: bool = True) -> StoredFeatures:
    """Read a complete feature store without simulating (readouts, sweeps over readout settings).

    Raises ``ValueError`` naming the directory if it is not a store, is incomplete or corrupt.
    """
    d = Path(directory)
    man_path = d / MANIFEST
    if not man_path.is_file():
        raise ValueError(f"{str(d)!r} is not a feature store (no {MANIFEST})")
    man = json.loads(man_path.read_text())
    if man.get("format") != FORMAT:
        raise ValueError(f"{str(man_path)!r} is not a {FORMAT} manifest")
    done = {int(i): h for i, h in man.get("chunks", {}).items()}
    x = _read_chunks(d, man, done, verify)
    lab = d / "labels.npy"
    labels = np.load(lab, allow_pickle=False).astype(np.int64) if lab.is_file() else None
    meta = man.get("meta", {})
    splits = {k: (int(v[0]), int(v[1])) for k, v in meta.get("splits", {}).items()}
    return StoredFeatures(x, labels, splits, man["key"], meta)
