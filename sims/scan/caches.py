"""Per-worker Numba and Brian2 caches of a scan, and their exchange between the workers of a machine.

Each Dask worker compiles into its own persistent directories (:class:`sims.scan.dask.WorkerCaches`,
:func:`configure_worker_caches`), so two workers never compile into the same place at
the same time; :func:`sync_caches` copies what one worker compiled to the others of its
machine through a shared directory, so code is compiled once per machine.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["configure_worker_caches", "sync_caches", "cache_state", "safe_name"]

_ROOT_ENV = "NEUROPLAST_SCAN_CACHE_ROOT"


def _default_cache_root() -> Path:
    """``$NEUROPLAST_CACHE/scan-workers`` (default ``~/.cache/neuroplast/scan-workers``).

    The root is remembered in ``$NEUROPLAST_SCAN_CACHE_ROOT`` the first time, because
    :func:`configure_worker_caches` then points ``NEUROPLAST_CACHE`` into the worker's own directory.
    """
    root = os.environ.get(_ROOT_ENV)
    if not root:
        base = os.environ.get("NEUROPLAST_CACHE") or os.path.join(
            os.path.expanduser("~"), ".cache", "neuroplast"
        )
        root = os.path.join(base, "scan-workers")
        os.environ[_ROOT_ENV] = root
    return Path(root)


def configure_worker_caches(directory: str | os.PathLike, shared: str | os.PathLike | None = None) -> dict:
    """Point this process's Numba, Brian2 (Cython) and standalone-build caches at ``directory``.

    With ``shared`` (a directory shared by the workers of one machine), compiled
    Cython extensions and Numba cache files are exchanged through it: see
    :func:`sync_caches`.

    Sets ``NUMBA_CACHE_DIR`` (read by Numba at import), ``CYTHON_CACHE_DIR``
    (Brian2's Cython target compiles into ``$CYTHON_CACHE_DIR/brian_extensions``)
    and ``NEUROPLAST_CACHE`` (:func:`spiking.engine.cache_dir`, where
    ``cpp_standalone`` builds one project per network structure); if Numba or
    Brian2 are already imported, their settings are changed too. Returns the paths.
    """
    d = Path(directory)
    paths = {"numba": d / "numba", "cython": d / "cython", "neuroplast": d / "neuroplast"}
    for p in paths.values():
        p.mkdir(parents=True, exist_ok=True)
    os.environ["NUMBA_CACHE_DIR"] = str(paths["numba"])
    os.environ["CYTHON_CACHE_DIR"] = str(paths["cython"])
    os.environ["NEUROPLAST_CACHE"] = str(paths["neuroplast"])
    if "numba" in sys.modules:
        import numba

        numba.config.CACHE_DIR = str(paths["numba"])
    if "brian2" in sys.modules:
        from brian2 import prefs

        from spiking.engine import FLAGS_TAG

        # the directory spiking.engine.configure chooses when Brian2 is imported after this
        # (Cython's cache under $CYTHON_CACHE_DIR, one subdirectory per set of compiler flags)
        prefs.codegen.runtime.cython.cache_dir = str(paths["cython"] / "brian_extensions" / FLAGS_TAG)
    _CACHES.clear()
    _CACHES.update(own=d, shared=Path(shared) if shared is not None else None)
    return {k: str(v) for k, v in paths.items()}


# This process's cache directories (set by configure_worker_caches).
_CACHES: dict = {}
# Compiled artefacts that can be shared between processes: Brian2's Cython extensions
# (loaded by module name from the cache directory) and Numba's index/data files.
_SHAREABLE = (("cython", "*.so"), ("numba", "*.nbi"), ("numba", "*.nbc"))


def _copy_atomic(src: Path, dst: Path) -> bool:
    import shutil

    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)  # readers see the whole file or none
        return True
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        return False


def sync_caches(direction: str) -> int:
    """Exchange compiled code between this worker's caches and its machine's shared directory.

    ``"pull"`` (before a point) copies extensions and Numba files that another
    worker on this machine has compiled into this worker's own cache, so it
    loads them instead of compiling them again; ``"push"`` (after a point)
    publishes what this worker compiled. Files are copied under a temporary
    name and renamed, so nobody ever loads half a file. Returns the number of
    files copied; does nothing without a shared directory.
    """
    own, shared = _CACHES.get("own"), _CACHES.get("shared")
    if own is None or shared is None:
        return 0
    src_root, dst_root = (shared, own) if direction == "pull" else (own, shared)
    n = 0
    for sub, pattern in _SHAREABLE:
        base = src_root / sub
        if not base.is_dir():
            continue
        for src in base.rglob(pattern):
            dst = dst_root / sub / src.relative_to(base)
            if not dst.exists() or (sub == "numba" and src.stat().st_mtime > dst.stat().st_mtime + 1e-3):
                n += _copy_atomic(src, dst)
    return n


def cache_state(dask_worker=None) -> int:
    """Number of compiled extensions this worker can load without compiling (own and shared)."""
    n = 0
    for key in ("own", "shared"):
        d = _CACHES.get(key)
        if d is not None and (d / "cython").is_dir():
            n += sum(1 for _ in (d / "cython").rglob("*.so"))
    return n


def safe_name(s) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(s))
