"""Run one registered simulation: limits checked first, interrupts detected, outputs written atomically."""

from __future__ import annotations

import contextvars
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path

from plasticity_rules.validation import check_seed

from . import registry

__all__ = [
    "execute",
    "Interrupted",
    "interrupt_guard",
    "output_target",
    "write_json_atomic",
    "write_text_atomic",
    "versions",
]

# The final --out of the run in progress (the simulation itself writes into a staged directory).
_TARGET = contextvars.ContextVar("neuroplast_output_target", default=None)


def output_target():
    """The final ``--out`` directory of the run in progress, or ``None``.

    A simulation writes into a staged temporary directory that replaces ``--out`` only
    when the run completes (:mod:`sims.outputs`). Work that must survive an interrupted
    run to be resumed (``run nalsm``'s feature store) is kept next to this path instead.
    """
    return _TARGET.get()


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


class Interrupted(KeyboardInterrupt):
    """A run stopped by SIGINT (Ctrl-C) before it finished; nothing of it was written."""


def _stopped_brian2_run() -> bool:
    """Whether Brian2's own Ctrl-C handler stopped the last ``Network.run`` early."""
    b2 = sys.modules.get("brian2")
    return bool(b2 is not None and getattr(b2.Network, "_globally_stopped", False))


@contextmanager
def interrupt_guard():
    """Turn SIGINT into :class:`Interrupted` for the duration of a run, and remember it.

    Brian2 installs a handler that turns the first Ctrl-C into a silent early
    end of ``Network.run`` (the run then returns as if complete); it is switched
    off (``prefs.core.stop_on_keyboard_interrupt``, see :func:`spiking.engine.configure`)
    and this handler raises instead. If a library swallows the ``KeyboardInterrupt``,
    the flag still marks the run as interrupted when it returns. Outside the main
    thread (Dask workers) signals cannot be handled and nothing changes.
    """
    state = {"interrupted": False}
    b2 = sys.modules.get("brian2")
    if b2 is not None:
        b2.Network._globally_stopped = False  # a stale flag of an earlier run
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(signum, frame):  # noqa: ARG001
        state["interrupted"] = True
        if "brian2" in sys.modules:  # imported before or during the run
            sys.modules["brian2"].Network._globally_stopped = True  # Brian2 ends run() at its next step
        if _in_compiler_callback(frame):
            # Python code called back from LLVM (Numba compiling or caching a kernel): an
            # exception raised there is printed and swallowed, and can leave the compiler in a
            # state that crashes later. The flags above end the run once control is back.
            return
        raise Interrupted("interrupted")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield state
    except Exception as exc:
        # whatever failed after a Ctrl-C (a run cut short, a swallowed interrupt) is the interrupt
        if state["interrupted"] or _stopped_brian2_run():
            raise Interrupted("interrupted") from exc
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
    if state["interrupted"] or _stopped_brian2_run():
        raise Interrupted("interrupted")


def _in_compiler_callback(frame) -> bool:
    """Whether ``frame`` runs inside Numba's or llvmlite's own Python code."""
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith(("llvmlite", "numba")):
            return True
        frame = frame.f_back
    return False


def execute(
    name: str,
    params: Mapping | None = None,
    *,
    seed: int = 0,
    out: str | Path | None = None,
    progress: bool = False,
    max_memory=None,
) -> dict:
    """Run simulation ``name`` with ``params`` and return its summary.

    Before anything is built, the parameters are validated, the output
    directory is checked and the run's memory estimate is compared with the
    available memory (:mod:`sims.limits`). Every output is written into a
    temporary directory next to ``out`` and moved into place, ``summary.json``
    last, only when the run completed (:mod:`sims.outputs`); an error or a
    Ctrl-C (:class:`Interrupted`) leaves nothing behind.

    Parameters
    ----------
    name : str
        A registered simulation (see ``neuroplast run --help``).
    params : mapping, optional
        Parameter overrides; strings are parsed (``"250ms"``, ``"true"``).
    seed : int
        Seeds every random draw of the run (NumPy, and Brian2 where it is used);
        one seed gives the same result.
    out : path, optional
        Directory for ``summary.json`` and plots; nothing is written if ``None``.
    progress : bool
        Show progress bars and a status line while code is compiled.
    max_memory : int or str, optional
        Memory limit (bytes or ``'8G'``) replacing the machine's available memory
        in the pre-run memory check.
    """
    from .feedback import compile_status
    from .limits import BASELINE_BYTES, check_memory
    from .outputs import check_out_path, staged_output

    sim = registry.get(name)
    seed = check_seed(seed)
    if seed is None:
        raise ValueError("seed must be a non-negative integer, got None")
    config = sim.make_config(params)
    if out is not None:
        check_out_path(out)
    if sim.memory is not None:
        parts = sim.memory(config)
    else:  # undeclared: at least the interpreter and the libraries
        parts = {"interpreter and libraries": (BASELINE_BYTES, "the sizes of the run")}
    check_memory(parts, max_memory, what=f"run {name}")
    stage = staged_output(out) if out is not None else nullcontext(None)
    with stage as out_dir, interrupt_guard():
        t0 = time.perf_counter()
        token = _TARGET.set(None if out is None else Path(out).expanduser().absolute())
        try:
            with compile_status(progress) if sim.uses_brian2 else nullcontext():
                summary = dict(sim.run(config, seed=seed, out=out_dir, progress=progress))
        finally:
            _TARGET.reset(token)
        summary.setdefault("simulation", name)
        summary["seed"] = seed
        summary["wall_time_s"] = time.perf_counter() - t0
        summary["params"] = {k: getattr(config, k) for k in sim.fields()}
        summary.update(versions())
        if out_dir is not None:
            write_json_atomic(out_dir / "summary.json", summary)
    return summary
