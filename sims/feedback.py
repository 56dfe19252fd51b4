"""What a long run shows while it works: a status line during code generation, progress bars.

Brian2 compiles every code object of a network the first time it runs (Cython
extensions in runtime mode, one binary in ``cpp_standalone`` mode) and caches
the result on disk; on a loaded 2-core machine that first run can take minutes
without printing anything. :func:`compile_status` wraps Brian2's two compile
entry points while a simulation runs: when a module is not in the cache it
shows ``compiling the network (first run only; cached in DIR): 12 s`` on
stderr, updated every second, and reports the total when done. Cached runs
print nothing.

:func:`bar` is the one progress-bar factory of the simulations (tqdm on stderr,
or a no-op object when progress is off), so every long phase reports the same way.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from contextlib import contextmanager

__all__ = ["compile_status", "compile_seconds", "bar"]

_active: list = []  # the compile_status contexts open now (innermost last)


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass

    def set_postfix_str(self, s):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def bar(total, desc: str, unit: str, enabled: bool):
    """A tqdm progress bar over ``total`` ``unit`` (on stderr), or a no-op when not ``enabled``."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr)


class _Status:
    """Elapsed-time status line printed by a background thread while a compile runs."""

    def __init__(self, stream):
        self.stream = stream
        self.lock = threading.Lock()
        self.active = 0
        self.t_first = self.t_last = None
        self.n_compiled = 0
        self.seconds = 0.0  # spent compiling (cache misses), for the simulations' build times
        self.where = ""
        self.stop = threading.Event()
        self.thread = None

    def begin(self, where: str) -> float:
        with self.lock:
            self.active += 1
            self.where = where
            if self.t_first is None and self.stream is not None:
                self.t_first = time.perf_counter()
                self.thread = threading.Thread(target=self._loop, daemon=True)
                self.thread.start()
        return time.perf_counter()

    def end(self, t_begin: float):
        with self.lock:
            self.active -= 1
            self.n_compiled += 1
            self.seconds += time.perf_counter() - t_begin
            self.t_last = time.perf_counter()

    def _line(self, t_end: float | None = None) -> str:
        t_end = time.perf_counter() if t_end is None else t_end
        return f"compiling the network (first run only; cached in {self.where}): {t_end - self.t_first:.0f} s"

    def _loop(self):
        while not self.stop.wait(1.0):
            with self.lock:
                if self.active:
                    self.stream.write("\r" + self._line())
                    self.stream.flush()

    def finish(self):
        self.stop.set()
        if self.thread is not None:
            self.thread.join()
            self.stream.write(f"\r{self._line(self.t_last)} ({self.n_compiled} modules)\n")
            self.stream.flush()


def _raise_if_interrupted(exc: RuntimeError) -> None:
    """Turn Brian2's "compilation failed (error code: N)" into ``KeyboardInterrupt`` when N says SIGINT.

    Brian2 runs ``make`` through ``os.system``, whose caller ignores SIGINT while it
    waits: a Ctrl-C kills ``make`` and Brian2 reports the wait status ``N``, whose low
    7 bits are the signal that ended the child.
    """
    m = re.search(r"error code: (\d+)", str(exc))
    if m and int(m.group(1)) & 0x7F == signal.SIGINT:
        raise KeyboardInterrupt("compilation interrupted") from None


@contextmanager
def compile_status(show: bool = True, stream=None):
    """Watch Brian2's compilers: a status line on ``stream`` (stderr) while code not in the
    cache is compiled (when ``show``), and a Ctrl-C that killed ``make`` as ``KeyboardInterrupt``.

    The patches of Brian2 are removed on exit.
    """
    stream = stream or sys.stderr
    status = _Status(stream if show else None)
    undo = []
    try:
        from spiking.engine import import_brian2

        import_brian2()  # first import without pylab/Matplotlib (see there)
        from brian2.codegen.runtime.cython_rt.extension_manager import (
            CythonExtensionManager,
            get_cython_cache_dir,
        )

        orig_load = CythonExtensionManager._load_module

        def _load_module(self, module_path, *args, **kwargs):
            if os.path.isfile(module_path):
                return orig_load(self, module_path, *args, **kwargs)
            t0 = status.begin(os.path.expanduser(get_cython_cache_dir()))
            try:
                return orig_load(self, module_path, *args, **kwargs)
            finally:
                status.end(t0)

        CythonExtensionManager._load_module = _load_module
        undo.append(lambda: setattr(CythonExtensionManager, "_load_module", orig_load))
    except ImportError:  # no Brian2/Cython: nothing is compiled
        pass
    try:
        from brian2.devices.cpp_standalone.device import CPPStandaloneDevice

        orig_compile = CPPStandaloneDevice.compile_source

        def compile_source(self, directory, *args, **kwargs):
            t0 = status.begin(str(directory))
            try:
                return orig_compile(self, directory, *args, **kwargs)
            except RuntimeError as exc:
                _raise_if_interrupted(exc)
                raise
            finally:
                status.end(t0)

        CPPStandaloneDevice.compile_source = compile_source
        undo.append(lambda: setattr(CPPStandaloneDevice, "compile_source", orig_compile))
    except ImportError:
        pass
    _active.append(status)
    try:
        yield status
    finally:
        _active.remove(status)
        for u in undo:
            u()
        status.finish()


def compile_seconds() -> float:
    """Seconds spent compiling uncached code so far in the current :func:`compile_status` (0 outside)."""
    return _active[-1].seconds if _active else 0.0
