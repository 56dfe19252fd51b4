"""The Brian2 engine layer: code-generation target, seeding, compile caches, standalone builds.

Runtime mode (default, Cython target) builds a named :class:`brian2.Network`
once, stores it with ``store()`` and restores it with ``restore()`` before every trial, so many trials
cost one compilation; Brian2 caches the compiled Cython extensions on disk, so
a second process starts fast. ``cpp_standalone`` (one long ``run()`` per build,
no Python hooks) compiles a binary once per network structure and re-runs it
with a new seed through an environment variable, without recompiling.

Randomness: one :class:`numpy.random.Generator` per simulation; Brian2's seed
is drawn from it (:func:`seed_brian2`), so one integer seed fixes both.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from plasticity_rules.validation import check_choice

__all__ = [
    "BACKENDS",
    "configure",
    "import_brian2",
    "seed_brian2",
    "brian_seed_from",
    "cache_dir",
    "STANDALONE_SEED_ENV",
]

#: Code-generation backends: runtime Cython (default), runtime NumPy (no compiler), C++ standalone.
BACKENDS = ("cython", "numpy", "cpp_standalone")
#: Environment variables read by standalone binaries to re-seed Brian2's RNG: before the
#: network's structure is drawn, and again before the simulation runs (trial noise).
STANDALONE_SEED_ENV = "NEUROPLAST_BRIAN2_SEED"
STANDALONE_TRIAL_SEED_ENV = "NEUROPLAST_BRIAN2_TRIAL_SEED"

#: C/C++ flags of compiled code: IEEE rounding as written (see :func:`configure`).
COMPILE_FLAGS = ("-w", "-O3", "-march=native", "-ffp-contract=off")
FLAGS_TAG = "neuroplast-" + hashlib.sha256(" ".join(COMPILE_FLAGS).encode()).hexdigest()[:8]

_cython_ok: bool | None = None


def cache_dir() -> Path:
    """Root of neuroplast's build caches (``$NEUROPLAST_CACHE`` or ``~/.cache/neuroplast``)."""
    root = os.environ.get("NEUROPLAST_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "neuroplast")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cython_available() -> bool:
    global _cython_ok
    if _cython_ok is None:
        try:
            import Cython  # noqa: F401
            from brian2.codegen.runtime.cython_rt.cython_rt import CythonCodeObject

            _cython_ok = bool(CythonCodeObject.is_available())
        except Exception:  # noqa: BLE001 - any failure means "fall back"
            _cython_ok = False
    return _cython_ok


def _cache_flag_checks(brian2) -> None:
    """Remember Brian2's compiler-flag checks on disk instead of redoing them per process.

    Before it compiles anything (and in its Cython availability test) Brian2 checks every
    flag of ``prefs.codegen.cpp.extra_compile_args_gcc`` by compiling an empty program with
    it: four ``g++`` runs, 0.2-0.3 s of every process here, always with the same answer for
    the same compiler. The check (``brian2.codegen.cpp_prefs._determine_flag_compatibility``)
    is wrapped so that its result is kept in ``cache_dir()/compiler_flags.json``, keyed by
    the compiler command, the compiler binary's path, size and modification time, and the
    flag: a changed compiler is checked again. Brian2 keeps its own in-process memo as before.
    """
    import json
    import shutil

    prefs_mod = sys.modules.get("brian2.codegen.cpp_prefs")
    original = getattr(prefs_mod, "_determine_flag_compatibility", None)
    if original is None or getattr(original, "_neuroplast_cached", False):
        return

    def checked(compiler, flagname):
        try:
            exe = list(compiler.executables["compiler_cxx"])
            path = shutil.which(exe[0]) or exe[0]
            st = os.stat(path)
            key = f"{' '.join(exe)}|{path}|{st.st_size}|{st.st_mtime_ns}|{flagname}"
            store = cache_dir() / "compiler_flags.json"
            known = json.loads(store.read_text()) if store.exists() else {}
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return original(compiler, flagname)
        if isinstance(known.get(key), bool):
            return known[key]
        ok = bool(original(compiler, flagname))
        known[key] = ok
        try:  # written whole and renamed: concurrent processes never read half a file
            tmp = store.with_name(f".{store.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(known, indent=0, sort_keys=True))
            os.replace(tmp, store)
        except OSError:
            pass
        return ok

    checked._neuroplast_cached = True
    prefs_mod._determine_flag_compatibility = checked


def import_brian2():
    """Import Brian2 without ``pylab``; return the module.

    ``import brian2`` runs ``from pylab import *`` when Matplotlib is installed,
    and its units module imports Matplotlib only to check for version 1.3.1:
    Matplotlib and its backends are about a third of the time Brian2 takes to
    import here, for names the simulations never use. Both imports are guarded by
    ``except ImportError`` in Brian2 (it then imports the NumPy part of pylab
    itself), so ``pylab`` and ``matplotlib`` are hidden during this first import
    only; plotting code imports Matplotlib normally afterwards. ``brian2.tests``
    likewise imports pytest (0.08 s here) only to run Brian2's own test suite, and
    does without it on ``ImportError``: it is hidden too unless already imported.

    The cyclic garbage collector is paused during the import: importing Brian2 and
    SymPy creates some 10^5 container objects, which trigger a few hundred collections
    (0.08 s here, an eighth of the import) that free almost nothing, since module
    objects live until exit. Reference counting still frees everything acyclic.
    """
    if "brian2" in sys.modules:
        return sys.modules["brian2"]
    hidden = [m for m in ("pylab", "matplotlib", "pytest") if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # makes "import m" raise ImportError
    gc_was_enabled = gc.isenabled()
    gc.disable()  # see the docstring: collections during this import find nothing to free
    try:
        import brian2
    finally:
        if gc_was_enabled:
            gc.enable()
        for m in hidden:
            if m in sys.modules and sys.modules[m] is None:
                del sys.modules[m]
    return brian2


def configure(backend: str = "cython") -> str:
    """Select Brian2's code-generation target for runtime mode and quiet its logs.

    Parameters
    ----------
    backend : {'cython', 'numpy', 'cpp_standalone'}
        ``'cython'`` falls back to ``'numpy'`` with a warning when no working
        compiler/Cython is found. ``'cpp_standalone'`` leaves the runtime target
        untouched (the standalone device is activated by the simulation).

    Returns
    -------
    str
        The backend actually in use.
    """
    brian2 = import_brian2()
    check_choice("backend", backend, BACKENDS)
    brian2.BrianLogger.log_level_warn()
    # Brian2's default turns the first Ctrl-C into a silent early end of `run()`, which
    # returns as if complete; a KeyboardInterrupt cannot be mistaken for a result.
    brian2.prefs.core.stop_on_keyboard_interrupt = False
    logging.getLogger("brian2").setLevel(logging.ERROR)
    # No -ffast-math and no FMA contraction: the compiled code then rounds exactly as
    # NumPy and Numba do, so reference engines can reproduce its spikes bit for bit.
    brian2.prefs.codegen.cpp.extra_compile_args_gcc = list(COMPILE_FLAGS)
    _cache_flag_checks(brian2)
    if brian2.prefs.codegen.runtime.cython.cache_dir is None:
        # Brian2 keys cached Cython modules by code only, not by flags: keep ours apart
        # from modules that other programs compiled with -ffast-math.
        from brian2.codegen.runtime.cython_rt.extension_manager import get_cython_cache_dir

        brian2.prefs.codegen.runtime.cython.cache_dir = os.path.join(get_cython_cache_dir(), FLAGS_TAG)
    if backend == "cython" and not _cython_available():
        warnings.warn(
            "Cython code generation is not available (no compiler or Cython); "
            "falling back to Brian2's numpy target, which is ~3x slower",
            RuntimeWarning,
            stacklevel=2,
        )
        backend = "numpy"
    if backend in ("cython", "numpy"):
        brian2.prefs.codegen.target = backend
    return backend


def brian_seed_from(rng: np.random.Generator) -> int:
    """Draw Brian2's integer seed from the simulation's Generator."""
    return int(rng.integers(0, 2**31 - 1))


def seed_brian2(rng: np.random.Generator) -> int:
    """Seed Brian2 (and the legacy NumPy RNG Brian2's runtime uses) from ``rng``; return the seed."""
    import brian2

    s = brian_seed_from(rng)
    brian2.seed(s)
    return s


def structure_hash(*parts) -> str:
    """Short stable hash naming a standalone build directory for one network structure."""
    h = hashlib.sha256()
    for p in parts:
        h.update(repr(p).encode())
    return h.hexdigest()[:16]


def standalone_seed_code(env_name: str = STANDALONE_SEED_ENV) -> str:
    """C++ for ``device.insert_code('main', ...)`` that re-seeds Brian2's RNG from ``env_name``.

    Inserted before the network's construction (structure seed) and before the
    run (trial seed), it lets one compiled binary run with any seeds:
    connectivity, parameters and noise are all drawn by Brian2's RNG inside it.
    """
    return (
        "{\n"
        f'    const char* _np_seed = getenv("{env_name}");\n'
        "    if (_np_seed != NULL) {\n"
        "        unsigned long _np_s = strtoul(_np_seed, NULL, 10);\n"
        "        brian::_random_generators[0].seed(_np_s);\n"
        "    }\n"
        "}\n"
    )
