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
import sys
import threading
import time
from contextlib import contextmanager

__all__ = ["compile_status", "bar"]


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
        self.t_first = None
        self.n_compiled = 0
        self.where = ""
        self.stop = threading.Event()
        self.thread = None

    def begin(self, where: str):
        with self.lock:
            self.active += 1
            self.where = where
            if self.t_first is None:
                self.t_first = time.perf_counter()
                self.thread = threading.Thread(target=self._loop, daemon=True)
                self.thread.start()

    def end(self):
        with self.lock:
            self.active -= 1
            self.n_compiled += 1

    def _line(self) -> str:
        return (
            f"compiling the network (first run only; cached in {self.where}): "
            f"{time.perf_counter() - self.t_first:.0f} s"
        )

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
            self.stream.write(f"\r{self._line()} ({self.n_compiled} modules)\n")
            self.stream.flush()


@contextmanager
def compile_status(enabled: bool = True, stream=None):
    """Show a status line on ``stream`` (stderr) whenever Brian2 compiles code not in its cache.

    Brian2 is only patched when it is already imported or importable; the
    patches are removed on exit.
    """
    if not enabled:
        yield None
        return
    stream = stream or sys.stderr
    status = _Status(stream)
    undo = []
    try:
        from brian2.codegen.runtime.cython_rt.extension_manager import (
            CythonExtensionManager,
            get_cython_cache_dir,
        )

        orig_load = CythonExtensionManager._load_module

        def _load_module(self, module_path, *args, **kwargs):
            if os.path.isfile(module_path):
                return orig_load(self, module_path, *args, **kwargs)
            status.begin(os.path.expanduser(get_cython_cache_dir()))
            try:
                return orig_load(self, module_path, *args, **kwargs)
            finally:
                status.end()

        CythonExtensionManager._load_module = _load_module
        undo.append(lambda: setattr(CythonExtensionManager, "_load_module", orig_load))
    except ImportError:  # no Brian2/Cython: nothing is compiled
        pass
    try:
        from brian2.devices.cpp_standalone.device import CPPStandaloneDevice

        orig_compile = CPPStandaloneDevice.compile_source

        def compile_source(self, directory, *args, **kwargs):
            status.begin(str(directory))
            try:
                return orig_compile(self, directory, *args, **kwargs)
            finally:
                status.end()

        CPPStandaloneDevice.compile_source = compile_source
        undo.append(lambda: setattr(CPPStandaloneDevice, "compile_source", orig_compile))
    except ImportError:
        pass
    try:
        yield status
    finally:
        for u in undo:
            u()
        status.finish()
