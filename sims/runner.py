"""Run one registered simulation: seed, time, version stamp and an atomic ``summary.json``."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from plasticity_rules.validation import check_seed

from . import registry

__all__ = ["execute", "write_json_atomic", "write_text_atomic", "versions"]


def versions() -> dict:
    """Package and simulator versions, recorded with every result."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist, key in (
        ("neuroplast", "package_version"),
        ("brian2", "brian2_version"),
        ("numba", "numba_version"),
    ):
        try:
            out[key] = version(dist)
        except PackageNotFoundError:
            out[key] = "unknown"
    return out


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace`` (never half-written)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would make results private to the writer
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data) -> None:
    """Write ``data`` as JSON to ``path`` atomically (see :func:`write_text_atomic`)."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=_json_default))


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def execute(
    name: str,
    params: Mapping | None = None,
    *,
    seed: int = 0,
    out: str | Path | None = None,
    progress: bool = False,
) -> dict:
    """Run simulation ``name`` with ``params`` and return its summary.

    Parameters
    ----------
    name : str
        A registered simulation (see ``neuroplast run --help``).
    params : mapping, optional
        Parameter overrides; strings are parsed (``"250ms"``, ``"true"``).
    seed : int
        Seeds NumPy and Brian2; one seed gives the same result.
    out : path, optional
        Directory for ``summary.json`` and plots; nothing is written if ``None``.
    progress : bool
        Show a progress bar on long runs.
    """
    sim = registry.get(name)
    seed = check_seed(seed)
    if seed is None:
        raise ValueError("seed must be a non-negative integer, got None")
    config = sim.make_config(params)
    out_dir = None
    if out is not None:
        out_dir = Path(out)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"cannot create output directory {str(out_dir)!r}: {exc.strerror}") from None
        if not os.access(out_dir, os.W_OK):
            raise ValueError(f"output directory {str(out_dir)!r} is not writable")
    t0 = time.perf_counter()
    summary = dict(sim.run(config, seed=seed, out=out_dir, progress=progress))
    summary.setdefault("simulation", name)
    summary["seed"] = seed
    summary["wall_time_s"] = time.perf_counter() - t0
    summary["params"] = {k: getattr(config, k) for k in sim.fields()}
    summary.update(versions())
    if out_dir is not None:
        write_json_atomic(out_dir / "summary.json", summary)
    return summary
