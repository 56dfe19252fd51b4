"""Parameter scans of any registered simulation, run on Dask, stored durably and resumable.

``neuroplast scan SPEC.toml --out DIR`` runs every point of a grid or random
scan over the parameters of a ``neuroplast run`` simulation, each with
``n_seeds`` seeds, on a local Dask cluster (one worker process per core) or on
an existing cluster (``--scheduler tcp://host:8786``). Each finished point is
written to ``DIR/scan.sqlite`` at once (see :mod:`sims.scan_store`); running
the same command again skips finished points and retries failed ones, and
:func:`load_scan` reads everything as one :class:`pandas.DataFrame`.

The spec (TOML)::

    simulation = "reservoir"          # a name from `neuroplast run --help`
    n_seeds = 3                       # or: seeds = [0, 1, 2]; first seed: seed = 10
    metrics = ["accuracy"]            # optional; default: every scalar the run returns
    # module = "mypkg.sims"           # optional: import this to register the simulation
    # sample_seed = 0                 # seed of the random draws below

    [fixed]                           # parameters held fixed (strings are parsed: "250ms")
    duration = "500ms"

    [scan]                            # grid axes are crossed, first key varies slowest
    n_neurons = [100, 200, 400]                            # a list
    p_connect = { start = 0.05, stop = 0.2, step = 0.05 }  # a range, stop included when hit
    input_gain = { start = 0.5, stop = 2.0, num = 4 }      # num points from start to stop
    eta = { start = 1e-4, stop = 1e-1, num = 4, log = true }   # log-spaced
    tau = { random = "loguniform", low = 0.01, high = 0.1, count = 8 }  # random draws

Random axes (``uniform``, ``loguniform``, ``randint`` with ``low``/``high``
included, ``choice`` with ``values``) are drawn jointly, ``count`` draws from
``sample_seed``, and the draws are crossed with the grid axes. Everything is
checked before anything runs: unknown keys, unknown simulations and
parameters, empty ranges, wrong types, and each point's config is built
(so a value that the simulation's ``__post_init__`` rejects is reported with
the key and the point).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib
import itertools
import json
import math
import os
import socket
import sys
import time
import tomllib
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import registry
from .limits import MAX_SCAN_RUNS
from .scan_store import ScanStore, load_scan, prepare_out_dir

__all__ = [
    "ScanSpec",
    "Run",
    "ScanSummary",
    "load_spec",
    "parse_spec",
    "describe",
    "run_scan",
    "load_scan",
    "add_parser",
]

_TOP_KEYS = (
    "simulation",
    "module",
    "description",
    "n_seeds",
    "seeds",
    "seed",
    "sample_seed",
    "metrics",
    "fixed",
    "scan",
)
_RANDOM_KINDS = ("uniform", "loguniform", "randint", "choice")
# Entries of a run's summary that are bookkeeping, not metrics.
_NOT_METRICS = {
    "simulation",
    "seed",
    "wall_time_s",
    "params",
    "package_version",
    "brian2_version",
    "numba_version",
}


# ---------------------------------------------------------------------------------------------------
# Spec
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Axis:
    """One scanned parameter: its name, its values and whether they are random draws."""

    name: str
    values: tuple
    random: bool = False
    definition: object = None


@dataclass(frozen=True)
class Run:
    """One (point, seed) of a scan; ``key`` identifies it in the store."""

    point: int
    seed: int
    params: dict
    key: str


@dataclass(frozen=True)
class ScanSpec:
    """A validated scan spec; build it with :func:`load_spec` or :func:`parse_spec`."""

    simulation: str
    fixed: dict
    axes: tuple[Axis, ...]
    seeds: tuple[int, ...]
    metrics: tuple[str, ...] | None = None
    module: str | None = None
    sample_seed: int = 0
    description: str = ""
    source: str = "<spec>"
    text: str | None = field(default=None, compare=False, repr=False)

    @property
    def scanned(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.axes)

    def points(self) -> list[dict]:
        """Parameter dicts (fixed + scanned) of every point, without seeds, in scan order."""
        grid = [a for a in self.axes if not a.random]
        rand = [a for a in self.axes if a.random]
        n_rand = len(rand[0].values) if rand else 1
        out = []
        for combo in itertools.product(*(a.values for a in grid), range(n_rand)):
            p = dict(self.fixed)
            for a, v in zip(grid, combo[:-1], strict=True):
                p[a.name] = v
            for a in rand:
                p[a.name] = a.values[combo[-1]]
            # keep the spec's key order: fixed first, then axes in spec order
            out.append({**self.fixed, **{a.name: p[a.name] for a in self.axes}})
        return out

    def runs(self) -> list[Run]:
        """Every (point, seed) with its store key; seeds vary fastest."""
        out = []
        for i, params in enumerate(self.points()):
            for s in self.seeds:
                out.append(Run(i, s, params, point_key(self.simulation, params, s)))
        return out

    def canonical(self) -> dict:
        return {
            "simulation": self.simulation,
            "module": self.module,
            "fixed": self.fixed,
            # the expanded, type-converted values: specs that write the same values differently
            # ([0, 1] or [0.0, 1.0], "250ms" or 0.25) are the same spec
            "scan": [[a.name, list(a.values), a.random] for a in self.axes],
            "seeds": list(self.seeds),
            "metrics": None if self.metrics is None else list(self.metrics),
            "sample_seed": self.sample_seed,
        }

    def to_json(self) -> str:
        return json.dumps(self.canonical(), sort_keys=True, default=_jsonable)

    @property
    def hash(self) -> str:
        return hashlib.sha1(self.to_json().encode()).hexdigest()


def _jsonable(obj):
    from .runner import _json_default

    return _json_default(obj)


def point_key(simulation: str, params: Mapping, seed: int) -> str:
    """Content key of one run: SHA-1 of simulation, parameters and seed (first 20 hex digits)."""
    blob = json.dumps(
        {"simulation": simulation, "params": dict(params), "seed": int(seed)},
        sort_keys=True,
        default=_jsonable,
    )
    return hashlib.sha1(blob.encode()).hexdigest()[:20]


def load_spec(path: str | os.PathLike) -> ScanSpec:
    """Read and validate a TOML scan spec; ``ValueError`` names the offending key."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ValueError(f"spec file {str(path)!r} not found") from None
    except IsADirectoryError:
        raise ValueError(f"spec file {str(path)!r} is a directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read spec file {str(path)!r}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: malformed TOML: {exc}") from None
    return parse_spec(data, source=str(path), text=text)


def _err(source: str, key: str, msg: str) -> ValueError:
    return ValueError(f"{source}: {key}: {msg}")


def _strict(sim, name: str, value):
    """Coerce one TOML value; unlike the command line, a bool field takes only true/false (or a string)."""
    f = sim.fields().get(name.replace("-", "_"))
    if f is not None and f.type in (bool, "bool") and not isinstance(value, (bool, str)):
        raise ValueError(f"{name} must be of type bool (true or false), got {value!r}")
    return registry.coerce_params(sim, {name: value})


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _tidy(v):
    """Round float noise of ``start + i * step`` (0.30000000000000004 -> 0.3)."""
    if isinstance(v, float):
        return float(f"{v:.12g}")
    return v


def _axis_values(source: str, name: str, spec, rng_draws: dict) -> tuple[tuple, bool, int | None]:
    """Expand one ``[scan]`` entry to ``(values, is_random, count)``."""
    key = f"scan.{name}"
    if isinstance(spec, list):
        if not spec:
            raise _err(source, key, "empty list of values")
        return tuple(spec), False, None
    if not isinstance(spec, dict):
        raise _err(
            source,
            key,
            f"must be a list of values or a table such as {{ start = 0, stop = 1, num = 5 }}, got {spec!r}",
        )
    keys = set(spec)
    if "values" in keys and "random" not in keys:
        extra = keys - {"values"}
        if extra:
            raise _err(source, key, f"unknown key {sorted(extra)[0]!r} next to 'values'")
        return _axis_values(source, name, spec["values"], rng_draws)
    if "random" in keys:
        kind = spec["random"]
        if kind not in _RANDOM_KINDS:
            raise _err(
                source, f"{key}.random", f"unknown distribution {kind!r}; allowed: {', '.join(_RANDOM_KINDS)}"
            )
        allowed = {"random", "count"} | ({"values"} if kind == "choice" else {"low", "high"})
        extra = keys - allowed
        if extra:
            raise _err(
                source, key, f"unknown key {sorted(extra)[0]!r}; allowed: {', '.join(sorted(allowed))}"
            )
        missing = allowed - keys
        if missing:
            raise _err(source, key, f"missing key {sorted(missing)[0]!r} for random = {kind!r}")
        count = spec["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise _err(source, f"{key}.count", f"must be an integer >= 1, got {count!r}")
        if count > MAX_SCAN_RUNS:
            raise _err(source, f"{key}.count", f"is {count}; at most {MAX_SCAN_RUNS} runs per scan")
        rng = rng_draws["rng"]
        if kind == "choice":
            vals = spec["values"]
            if not isinstance(vals, list) or not vals:
                raise _err(source, f"{key}.values", "must be a non-empty list")
            idx = rng.integers(0, len(vals), size=count)
            return tuple(vals[i] for i in idx), True, count
        low, high = spec["low"], spec["high"]
        for k, v in (("low", low), ("high", high)):
            if not _is_num(v) or not math.isfinite(v):
                raise _err(source, f"{key}.{k}", f"must be a finite number, got {v!r}")
        if high < low or (high == low and kind != "randint"):
            raise _err(source, key, f"empty range: low={low!r}, high={high!r} (need low < high)")
        if kind == "uniform":
            vals = rng.uniform(low, high, size=count)
        elif kind == "loguniform":
            if low <= 0:
                raise _err(source, f"{key}.low", f"must be > 0 for random = 'loguniform', got {low!r}")
            vals = math.e ** rng.uniform(math.log(low), math.log(high), size=count)
        else:
            if not (isinstance(low, int) and isinstance(high, int)):
                raise _err(
                    source,
                    key,
                    f"low and high must be integers for random = 'randint', got {low!r}, {high!r}",
                )
            return tuple(int(v) for v in rng.integers(low, high + 1, size=count)), True, count
        return tuple(_tidy(float(v)) for v in vals), True, count
    # ranges
    allowed = {"start", "stop", "step", "num", "log"}
    extra = keys - allowed
    if extra:
        raise _err(
            source,
            key,
            f"unknown key {sorted(extra)[0]!r}; a scanned parameter is a list, "
            "{ values = [...] }, { start, stop, step }, { start, stop, num [, log] } "
            "or { random = ..., count = ... }",
        )
    for k in ("start", "stop"):
        if k not in keys:
            raise _err(source, key, f"missing key {k!r} of the range")
        if not _is_num(spec[k]) or not math.isfinite(spec[k]):
            raise _err(source, f"{key}.{k}", f"must be a finite number, got {spec[k]!r}")
    start, stop = spec["start"], spec["stop"]
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise _err(source, f"{key}.log", f"must be true or false, got {log!r}")
    if ("step" in keys) == ("num" in keys):
        raise _err(source, key, "give exactly one of 'step' and 'num'")
    if "num" in keys:
        num = spec["num"]
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise _err(source, f"{key}.num", f"must be an integer >= 1, got {num!r}")
        if num > MAX_SCAN_RUNS:  # refused by its size, before any value is built
            raise _err(source, f"{key}.num", f"is {num}; at most {MAX_SCAN_RUNS} runs per scan")
        if num > 1 and start == stop:
            raise _err(source, key, f"empty range: start == stop == {start!r} with num = {num}")
        if log:
            if start <= 0 or stop <= 0:
                raise _err(source, key, f"a log range needs start > 0 and stop > 0, got {start!r}, {stop!r}")
            ls, le = math.log(start), math.log(stop)
            vals = [math.exp(ls + (le - ls) * i / (num - 1)) if num > 1 else float(start) for i in range(num)]
            if num > 1:
                vals[0], vals[-1] = float(start), float(stop)
        else:
            vals = [start + (stop - start) * i / (num - 1) if num > 1 else start for i in range(num)]
            if num > 1:
                vals[-1] = stop
        if all(isinstance(v, int) for v in (start, stop)) and not log:
            ints = [round(v) for v in vals]
            if all(abs(a - b) < 1e-9 for a, b in zip(ints, vals, strict=True)):
                return tuple(ints), False, None
        return tuple(_tidy(float(v)) for v in vals), False, None
    if log:
        raise _err(source, f"{key}.log", "a log range is given with 'num', not 'step'")
    step = spec["step"]
    if not _is_num(step) or not math.isfinite(step) or step == 0:
        raise _err(source, f"{key}.step", f"must be a non-zero finite number, got {step!r}")
    n = math.floor((stop - start) / step + 1e-9) + 1
    if n < 1:
        raise _err(source, key, f"empty range: start={start!r}, stop={stop!r}, step={step!r}")
    if n > MAX_SCAN_RUNS:
        raise _err(source, key, f"range has {n} values; at most {MAX_SCAN_RUNS} runs per scan")
    vals = [start + i * step for i in range(n)]
    if all(isinstance(v, int) for v in (start, stop, step)):
        return tuple(int(v) for v in vals), False, None
    return tuple(_tidy(float(v)) for v in vals), False, None


def parse_spec(data: Mapping, *, source: str = "<spec>", text: str | None = None) -> ScanSpec:
    """Validate a spec given as a mapping (the parsed TOML); see the module docstring."""
    import numpy as np

    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: the spec must be a table, got {type(data).__name__}")
    for k in data:
        if k not in _TOP_KEYS:
            raise _err(source, k, f"unknown key; allowed: {', '.join(_TOP_KEYS)}")
    if "simulation" not in data:
        raise _err(source, "simulation", "missing (the name of a `neuroplast run` simulation)")
    name = data["simulation"]
    if not isinstance(name, str):
        raise _err(source, "simulation", f"must be a string, got {name!r}")
    module = data.get("module")
    if module is not None:
        if not isinstance(module, str) or not module:
            raise _err(source, "module", f"must be a module name, got {module!r}")
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise _err(source, "module", f"cannot import {module!r}: {exc}") from None
    try:
        sim = registry.get(name)
    except ValueError as exc:
        raise _err(source, "simulation", str(exc)) from None
    fields = sim.fields()

    description = data.get("description", "")
    if not isinstance(description, str):
        raise _err(source, "description", f"must be a string, got {description!r}")

    # seeds
    if "seeds" in data and ("n_seeds" in data or "seed" in data):
        raise _err(source, "seeds", "give either 'seeds' (a list) or 'n_seeds' and 'seed', not both")
    if "seeds" in data:
        seeds = data["seeds"]
        if not isinstance(seeds, list) or not seeds:
            raise _err(source, "seeds", f"must be a non-empty list of integers >= 0, got {seeds!r}")
        for s in seeds:
            if isinstance(s, bool) or not isinstance(s, int) or s < 0:
                raise _err(source, "seeds", f"must hold integers >= 0, got {s!r}")
        if len(set(seeds)) != len(seeds):
            raise _err(source, "seeds", f"has repeated seeds: {seeds!r}")
        seeds = tuple(seeds)
    else:
        n_seeds = data.get("n_seeds", 1)
        if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
            raise _err(source, "n_seeds", f"must be an integer >= 1, got {n_seeds!r}")
        first = data.get("seed", 0)
        if isinstance(first, bool) or not isinstance(first, int) or first < 0:
            raise _err(source, "seed", f"must be an integer >= 0, got {first!r}")
        seeds = tuple(range(first, first + n_seeds))
    sample_seed = data.get("sample_seed", 0)
    if isinstance(sample_seed, bool) or not isinstance(sample_seed, int) or sample_seed < 0:
        raise _err(source, "sample_seed", f"must be an integer >= 0, got {sample_seed!r}")

    # metrics
    metrics = data.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, list) or not metrics:
            raise _err(source, "metrics", f"must be a non-empty list of metric names, got {metrics!r}")
        for m in metrics:
            if not isinstance(m, str) or not m:
                raise _err(source, "metrics", f"must hold metric names (strings), got {m!r}")
            if m in _NOT_METRICS:
                raise _err(source, "metrics", f"{m!r} is recorded anyway, not a metric")
        if len(set(metrics)) != len(metrics):
            raise _err(source, "metrics", f"has repeated names: {metrics!r}")
        metrics = tuple(metrics)

    # fixed
    fixed_in = data.get("fixed", {})
    if not isinstance(fixed_in, Mapping):
        raise _err(source, "fixed", f"must be a table of parameter = value, got {fixed_in!r}")
    fixed = {}
    for k, v in fixed_in.items():
        if isinstance(v, (dict, list)):
            raise _err(
                source, f"fixed.{k}", f"must be a single value, got {v!r} (scanned values go in [scan])"
            )
        try:
            fixed.update(_strict(sim, k, v))
        except ValueError as exc:
            raise _err(source, f"fixed.{k}", str(exc)) from None

    # scan
    scan_in = data.get("scan")
    if scan_in is None:
        raise _err(source, "scan", "missing: a [scan] table with at least one parameter to vary")
    if not isinstance(scan_in, Mapping):
        raise _err(source, "scan", f"must be a table of parameter = values, got {scan_in!r}")
    if not scan_in:
        raise _err(source, "scan", "is empty: give at least one parameter to vary")
    draws = {"rng": np.random.default_rng(sample_seed)}
    axes = []
    count = None
    count_key = None
    for k, v in scan_in.items():
        norm = k.replace("-", "_")
        if norm not in fields:
            raise _err(
                source,
                f"scan.{k}",
                f"unknown parameter for simulation {name!r}; allowed: {', '.join(fields)}",
            )
        if not fields[norm].metadata.get("scan", True):
            raise _err(source, f"scan.{k}", "this parameter cannot be scanned")
        if norm in fixed:
            raise _err(source, f"scan.{k}", "is also given in [fixed]")
        if any(a.name == norm for a in axes):
            raise _err(source, f"scan.{k}", "is given twice")
        values, is_random, c = _axis_values(source, k, v, draws)
        if is_random:
            if count is not None and c != count:
                raise _err(
                    source,
                    f"scan.{k}.count",
                    f"{c} differs from count = {count} of scan.{count_key}; random parameters "
                    "are drawn jointly and need the same count",
                )
            count, count_key = c, k
        coerced = []
        for i, val in enumerate(values):
            try:
                coerced.append(_strict(sim, norm, val)[norm])
            except ValueError as exc:
                raise _err(source, f"scan.{k}[{i}]", str(exc)) from None
        if not is_random and len(set(map(repr, coerced))) != len(coerced):
            raise _err(source, f"scan.{k}", f"has repeated values: {list(coerced)!r}")
        axes.append(Axis(norm, tuple(coerced), is_random, v))

    spec = ScanSpec(
        simulation=name,
        fixed=fixed,
        axes=tuple(axes),
        seeds=seeds,
        metrics=metrics,
        module=module,
        sample_seed=sample_seed,
        description=description,
        source=source,
        text=text,
    )
    # Count the runs from the axis sizes before the points are built (a 1e8-point spec is refused
    # by its size, not by materialising it).
    n_points = math.prod(len(a.values) for a in axes if not a.random) * (count or 1)
    if n_points * len(seeds) > MAX_SCAN_RUNS:
        raise _err(
            source,
            "scan",
            f"has {n_points} points x {len(seeds)} seeds = {n_points * len(seeds)} runs; "
            f"at most {MAX_SCAN_RUNS} runs per scan (split it into several scans)",
        )
    # Build every point's config now, so that values the simulation rejects fail before anything runs,
    # and check the metrics against what the simulation reports.
    for i, params in enumerate(spec.points()):
        try:
            config = sim.make_config(params)
        except (ValueError, TypeError) as exc:
            scanned = ", ".join(f"{a.name}={params[a.name]!r}" for a in spec.axes)
            raise ValueError(f"{source}: point {i} ({scanned}): {exc}") from None
        reported = sim.output_names(config) if metrics else None
        if reported is not None:
            unknown = [m for m in metrics if m not in reported]
            if unknown:
                raise _err(
                    source,
                    "metrics",
                    f"{unknown[0]!r} is not reported by simulation {name!r}; it reports: "
                    f"{', '.join(sorted(reported - _NOT_METRICS))}",
                )
    return spec


# ---------------------------------------------------------------------------------------------------
# Worker side
# ---------------------------------------------------------------------------------------------------
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

        prefs.codegen.runtime.cython.cache_dir = str(paths["cython"] / "brian_extensions")
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


def _cache_state(dask_worker=None) -> int:
    """Number of compiled extensions this worker can load without compiling (own and shared)."""
    n = 0
    for key in ("own", "shared"):
        d = _CACHES.get(key)
        if d is not None and (d / "cython").is_dir():
            n += sum(1 for _ in (d / "cython").rglob("*.so"))
    return n


def _safe_name(s) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(s))


try:  # a WorkerPlugin subclass when distributed is importable (it is a dependency)
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPluginBase
except ImportError:  # pragma: no cover
    _WorkerPluginBase = object


class WorkerCaches(_WorkerPluginBase):
    """Dask worker plugin: each worker gets its own persistent Numba and Brian2 cache directories.

    The directory is ``<root>/<hostname>-worker-<name>`` with ``root`` from
    ``--cache-dir``, else ``$NEUROPLAST_CACHE/scan-workers`` (default
    ``~/.cache/neuroplast/scan-workers``) on the worker's machine. Worker names
    are stable (a local cluster's workers are 0, 1, ...; a restarted worker
    keeps its name), so later scans find the code compiled by earlier ones, and
    two workers never compile into the same directory at the same time.

    The workers of one machine also share ``<root>/<hostname>-shared``: after a
    point, a worker publishes the extensions and Numba files it compiled there
    (atomically), and before a point it copies in what the others published
    (:func:`sync_caches`), so code is compiled once per machine, not once per
    worker.
    """

    name = "neuroplast-worker-caches"

    def __init__(self, root: str | None = None):
        self.root = root

    def setup(self, worker):
        root = Path(self.root) if self.root else _default_cache_root()
        host = _safe_name(socket.gethostname())
        path = root / f"{host}-worker-{_safe_name(worker.name)}"
        shared = root / f"{host}-shared"
        configure_worker_caches(path, shared)
        # Brian2 installs a SIGINT handler when it is first imported, which only works in the
        # main thread; tasks run in a worker thread, so import it here (the worker's main thread).
        import threading

        if threading.current_thread() is threading.main_thread():
            try:
                import brian2  # noqa: F401
            except ImportError:  # pragma: no cover
                pass
            configure_worker_caches(path, shared)  # now also sets Brian2's preference
            try:  # import the simulation modules once, before the first point (errors: at the point)
                registry.names()
            except Exception:  # pragma: no cover
                pass


def _summary_metrics(summary: Mapping, metrics) -> dict:
    if metrics is None:
        return {
            k: v
            for k, v in summary.items()
            if k not in _NOT_METRICS and (isinstance(v, (int, float, str, bool)) or v is None)
        }
    missing = [m for m in metrics if m not in summary]
    if missing:
        returned = [k for k in summary if k not in _NOT_METRICS]
        raise KeyError(
            f"metric {missing[0]!r} not returned by the simulation; it returns: {', '.join(returned)}"
        )
    return {m: summary[m] for m in metrics}


def run_point(task: Mapping) -> dict:
    """Run one (point, seed) and return its result row; never raises for errors of the point.

    ``task`` holds ``simulation``, ``modules`` (imported first, so workers find
    simulations registered outside ``sims``), ``params``, ``seed``,
    ``metrics``, ``key``, ``point`` and ``spec_hash``. This runs on Dask
    workers and, with ``--serial``, in the calling process; both call
    :func:`sims.runner.execute`, exactly as ``neuroplast run`` does.
    """
    from .runner import execute, versions

    t0 = time.perf_counter()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    row = {
        "key": task["key"],
        "simulation": task["simulation"],
        "point": task["point"],
        "seed": task["seed"],
        "params": dict(task["params"]),
        "started_at": started,
        "hostname": socket.gethostname(),
        "spec_hash": task.get("spec_hash"),
        "python_version": sys.version.split()[0],
    }
    try:
        from distributed import get_worker

        row["worker"] = str(get_worker().name)
    except (ImportError, ValueError):
        row["worker"] = f"pid-{os.getpid()}"
    try:
        for mod in task.get("modules", ()):
            if mod:
                importlib.import_module(mod)
        sync_caches("pull")
        summary = execute(task["simulation"], task["params"], seed=task["seed"], out=None)
        row["metrics"] = _summary_metrics(summary, task.get("metrics"))
        row["config"] = summary.get("params")
        row["wall_time_s"] = summary.get("wall_time_s")
        row["status"] = "done"
        row["error"] = None
        for k in ("package_version", "brian2_version", "numba_version"):
            row[k] = summary.get(k)
    except Exception as exc:  # a failing point is recorded, the scan goes on
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" ({Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        row.update(status="failed", error=f"{type(exc).__name__}: {msg}{where}", metrics=None)
        row.update(versions())
    row["task_time_s"] = time.perf_counter() - t0
    if row["status"] == "done":
        try:
            sync_caches("push")  # let the other workers on this machine load what this one compiled
        except OSError:  # pragma: no cover - a full or read-only cache disk must not fail the point
            pass
    row["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return row


# ---------------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------------
@dataclass
class ScanSummary:
    """Counts of one ``run_scan`` call."""

    total: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    elapsed_s: float = 0.0
    interrupted: bool = False
    failures: list = dataclasses.field(default_factory=list)

    @property
    def ran(self) -> int:
        return self.done + self.failed

    def line(self) -> str:
        s = (
            f"{self.done} done, {self.failed} failed, {self.skipped} skipped (already done) "
            f"of {self.total} runs in {self.elapsed_s:.1f} s"
        )
        if self.retried:
            s += f"; {self.retried} earlier failures retried"
        return s


def _local_cluster(n_workers: int | None, memory_limit="auto"):
    from distributed import LocalCluster

    if n_workers is None:
        try:
            n_workers = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover
            n_workers = os.cpu_count() or 1
    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        memory_limit=memory_limit,
        silence_logs=40,
    )


def _connect_scheduler(address: str, timeout: float):
    from distributed import Client

    t0 = time.monotonic()
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ValueError(
            f"Dask scheduler at {address!r} did not answer within {timeout:g} s "
            f"({time.monotonic() - t0:.1f} s spent): "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    except ValueError as exc:
        raise ValueError(f"bad Dask scheduler address {address!r}: {exc}") from None


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="pt", desc="scan", dynamic_ncols=True, file=sys.stderr, smoothing=0.1)


def run_scan(
    spec: ScanSpec | str | os.PathLike,
    out: str | os.PathLike,
    *,
    scheduler: str | None = None,
    client=None,
    n_workers: int | None = None,
    serial: bool = False,
    force: bool = False,
    progress: bool = False,
    connect_timeout: float = 10.0,
    cache_dir: str | os.PathLike | None = None,
    max_points: int | None = None,
    warmup: bool = True,
    log=None,
) -> ScanSummary:
    """Run (or resume) a scan and store every finished point in ``out``.

    Parameters
    ----------
    spec : ScanSpec or path
        A validated spec or the path of a TOML spec.
    out : path
        Scan directory (created). Points already ``done`` there are skipped,
        ``failed`` ones run again.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); default: a
        local cluster with ``n_workers`` processes (default: one per core).
    client : distributed.Client, optional
        Use this client (its cluster is left running).
    serial : bool
        Run the points one after the other in this process, without Dask.
    force : bool
        Accept a spec that differs from the one ``out`` was made with.
    progress : bool
        Show a progress bar (done, failed, time left) on stderr.
    connect_timeout : float
        Seconds to wait for ``scheduler`` to answer.
    cache_dir : path, optional
        Root of the per-worker Numba/Brian2 cache directories (see :class:`WorkerCaches`).
    max_points : int, optional
        Run at most this many of the remaining points (then stop, resumable).
    warmup : bool
        When a worker has nothing compiled yet, run the first point alone so
        that the other workers on its machine load its compiled code instead of
        compiling the same code at the same time.
    log : callable, optional
        Called with one-line messages (default: print to stderr).

    Returns
    -------
    ScanSummary
    """
    if log is None:

        def log(msg):
            print(msg, file=sys.stderr)

    if not isinstance(spec, ScanSpec):
        spec = load_spec(spec)
    if connect_timeout <= 0:
        raise ValueError(f"connect_timeout must be > 0, got {connect_timeout!r}")
    if n_workers is not None and (
        isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1
    ):
        raise ValueError(f"workers must be an integer >= 1, got {n_workers!r}")
    if max_points is not None and max_points < 0:
        raise ValueError(f"max_points must be >= 0, got {max_points!r}")
    runs = spec.runs()
    out_dir = prepare_out_dir(out)
    t0 = time.perf_counter()
    summary = ScanSummary(total=len(runs))
    sim = registry.get(spec.simulation)
    modules = [m for m in (spec.module, sim.run.__module__) if m]
    with ScanStore.open(out_dir, spec_hash=spec.hash, force=force) as store:
        activate = dict(
            spec_json=spec.to_json(),
            spec_hash=spec.hash,
            spec_text=spec.text,
            points=[(r.key, r.point, r.seed, r.params) for r in runs],
            scanned=spec.scanned,
        )
        status = store.statuses()
        todo = []
        for r in runs:
            st = status.get(r.key)
            if st and st[0] == "done":
                summary.skipped += 1
            else:
                if st:
                    summary.retried += 1
                todo.append((r, (st[1] + 1) if st else 1))
        if max_points is not None:
            todo = todo[:max_points]
        if not todo:
            store.activate(**activate)
            summary.elapsed_s = time.perf_counter() - t0
            log(f"scan {out_dir}: nothing to run; " + summary.line())
            return summary
        tasks = [
            {
                "simulation": spec.simulation,
                "modules": modules,
                "params": r.params,
                "seed": r.seed,
                "metrics": spec.metrics,
                "key": r.key,
                "point": r.point,
                "spec_hash": spec.hash,
                "attempts": att,
            }
            for r, att in todo
        ]
        bar = None

        def finish(row: dict, attempts: int):
            row["attempts"] = attempts
            store.record(row)
            if row["status"] == "done":
                summary.done += 1
            else:
                summary.failed += 1
                summary.failures.append((row["point"], row["seed"], row["error"]))
            if bar is not None:
                bar.set_postfix(done=summary.done, failed=summary.failed, refresh=False)
                bar.update(1)

        own_cluster = own_client = None
        try:
            if not serial and client is None:  # connect before touching the store
                if scheduler is not None:
                    client = own_client = _connect_scheduler(scheduler, connect_timeout)
                else:
                    own_cluster = _local_cluster(n_workers)
                    client = own_client = _client_for(own_cluster)
            store.activate(**activate)
            bar = _progress_bar(len(tasks), progress)
            if serial:
                if cache_dir is not None:
                    configure_worker_caches(Path(cache_dir) / f"{_safe_name(socket.gethostname())}-serial")
                for task in tasks:
                    finish(run_point(task), task["attempts"])
            else:
                _run_on_dask(tasks, finish, client, cache_dir=cache_dir, log=log, warmup=warmup)
        except KeyboardInterrupt:
            summary.interrupted = True
            summary.elapsed_s = time.perf_counter() - t0
            if bar is not None:
                bar.close()
                bar = None
            log(f"scan {out_dir} interrupted: {summary.line()}; run the same command again to resume")
            raise
        finally:
            if bar is not None:
                bar.close()
            if own_client is not None:
                own_client.close(timeout=5)
            if own_cluster is not None:
                own_cluster.close(timeout=10)
    summary.elapsed_s = time.perf_counter() - t0
    log(f"scan {out_dir}: {summary.line()}")
    for point, seed, err in summary.failures[:5]:
        log(f"  failed: point {point} seed {seed}: {err}")
    if len(summary.failures) > 5:
        log(f"  ... and {len(summary.failures) - 5} more (see load_scan(DIR).query('status == \"failed\"'))")
    return summary


def _client_for(cluster):
    from distributed import Client

    return Client(cluster, set_as_default=False)


def _run_on_dask(tasks, finish, client, *, cache_dir, log, warmup=True):
    from distributed import as_completed

    plugin = WorkerCaches(None if cache_dir is None else str(cache_dir))
    client.register_plugin(plugin, name=plugin.name)
    if not client.scheduler_info().get("workers"):
        log("scan: the Dask cluster has no workers yet; points start when workers join")
        warmup = False
    if warmup and len(tasks) > 1:
        # A worker with nothing compiled yet would compile the network's code itself. Run one
        # point alone first: the others then load its code from their machine's shared cache.
        try:
            cold = min(client.run(_cache_state).values()) == 0
        except Exception:  # noqa: BLE001 - a worker that cannot answer: skip the warm-up
            cold = False
        if cold:
            log("scan: cold caches; compiling with the first point on one worker before the others start")
            first, tasks = tasks[0], tasks[1:]
            fut = client.submit(
                run_point, first, key=f"scan-{first['key']}-warmup-{uuid.uuid4().hex[:8]}", pure=False
            )
            try:
                try:
                    row = fut.result()
                except Exception as exc:  # noqa: BLE001 - the worker died
                    row = _lost_row(first, exc)
            except BaseException:  # Ctrl-C
                client.cancel([fut], force=True)
                raise
            finish(row, first["attempts"])
    batch = uuid.uuid4().hex[:8]
    futures = {}
    for i, task in enumerate(tasks):
        fut = client.submit(run_point, task, key=f"scan-{task['key']}-{batch}", pure=False, priority=-i)
        futures[fut] = task
    try:
        for fut in as_completed(list(futures), loop=client.loop):
            task = futures.pop(fut)
            try:
                row = fut.result()
            except Exception as exc:  # the worker died (KilledWorker) or the task was lost
                row = _lost_row(task, exc)
            finish(row, task["attempts"])
    except BaseException:
        client.cancel(list(futures), force=True)
        raise


def _lost_row(task: Mapping, exc: BaseException) -> dict:
    msg = str(exc).splitlines()[0] if str(exc) else ""
    return {
        "key": task["key"],
        "simulation": task["simulation"],
        "point": task["point"],
        "seed": task["seed"],
        "params": task["params"],
        "status": "failed",
        "error": f"{type(exc).__name__}: {msg} (the worker process died or was lost)",
        "spec_hash": task["spec_hash"],
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


# ---------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------
def describe(spec: ScanSpec, out: str | os.PathLike | None = None, limit: int = 200) -> str:
    """The text of ``--dry-run``: counts, fixed values, seeds, metrics and the table of points."""
    runs = spec.runs()
    pts = spec.points()
    lines = [
        f"scan of {spec.simulation!r} ({spec.source}): {len(pts)} points x {len(spec.seeds)} seeds "
        f"= {len(runs)} runs",
    ]
    if spec.fixed:
        lines.append("fixed: " + ", ".join(f"{k}={v!r}" for k, v in spec.fixed.items()))
    lines.append(f"seeds: {list(spec.seeds)}")
    lines.append(f"metrics: {', '.join(spec.metrics) if spec.metrics else 'all scalars the run returns'}")
    names = list(spec.scanned)
    widths = [max(len(n), *(len(repr(p[n])) for p in pts)) for n in names]
    lines.append("point  " + "  ".join(n.rjust(w) for n, w in zip(names, widths, strict=True)))
    shown = pts if len(pts) <= limit else pts[: limit // 2] + [None] + pts[-limit // 2 :]
    idx = (
        list(range(len(pts)))
        if len(pts) <= limit
        else (list(range(limit // 2)) + [None] + list(range(len(pts) - limit // 2, len(pts))))
    )
    for i, p in zip(idx, shown, strict=True):
        if p is None:
            lines.append(f"  ... {len(pts) - limit} more points ...")
            continue
        lines.append(f"{i:5d}  " + "  ".join(repr(p[n]).rjust(w) for n, w in zip(names, widths, strict=True)))
    if out is not None and Path(out, "scan.sqlite").is_file():
        try:
            df = load_scan(out, include_pending=True)
            keys = {r.key for r in runs}
            sub = df[df["key"].isin(keys)]
            n_done = int((sub["status"] == "done").sum())
            n_failed = int((sub["status"] == "failed").sum())
            lines.append(f"in {out}: {n_done} done, {n_failed} failed, {len(runs) - n_done} to run")
        except Exception as exc:  # dry run must not fail on a foreign directory
            lines.append(f"(could not read {out}: {exc})")
    return "\n".join(lines)


def _cmd_scan(args) -> int:
    spec = load_spec(args.spec)
    if args.dry_run:
        print(describe(spec, args.out))
        return 0
    if args.out is None or not str(args.out).strip():
        raise ValueError("--out DIR is required (or use --dry-run)")
    if args.scheduler is not None and args.serial:
        raise ValueError("--scheduler and --serial exclude each other")
    summary = run_scan(
        spec,
        args.out,
        scheduler=args.scheduler,
        n_workers=args.workers,
        serial=args.serial,
        force=args.force,
        progress=args.progress,
        connect_timeout=args.connect_timeout,
        cache_dir=args.cache_dir,
        max_points=args.max_points,
        warmup=args.warmup,
    )
    return 1 if summary.failed else 0


def _cmd_plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    from .scan_plot import plot_scan

    where = {}
    for item in args.where or ():
        if "=" not in item:
            raise ValueError(f"--where must be PARAM=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        where[k.strip()] = v.strip()
    path = plot_scan(
        args.dir,
        x=args.x,
        y=args.y,
        hue=args.hue,
        kind=args.kind,
        out=args.output,
        where=where,
        logx=args.logx,
    )
    print(f"plot written to {path}")
    return 0


_SCAN_HELP = """Run a grid or random scan of a `neuroplast run` simulation over its parameters and
seeds on Dask (default: a local cluster, one worker process per core). Each finished point is
stored in DIR/scan.sqlite at once; the same command again skips finished points and retries
failed ones. Read the results with sims.scan.load_scan(DIR); plot with `neuroplast scan-plot`.

spec (TOML; examples in sims/specs/):
  simulation = "reservoir"
  n_seeds = 3                        # or seeds = [0, 1, 2]
  metrics = ["mean_rate_exc_hz"]     # optional (default: every scalar the run returns)
  [fixed]
  duration = "500ms"
  [scan]
  n_neurons = [100, 200, 400]                              # list
  weight_scale = { start = 0.5, stop = 1.5, step = 0.25 }  # range (stop included)
  noise_scale = { start = 0.1, stop = 10, num = 5, log = true }
  input_rate = { random = "uniform", low = 5, high = 50, count = 8 }
"""


def add_parser(subparsers) -> None:
    """Register ``scan`` and ``scan-plot`` on the ``neuroplast`` command line."""
    p = subparsers.add_parser(
        "scan",
        help="run a grid/random parameter scan of a simulation on Dask (resumable)",
        description=_SCAN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec", metavar="SPEC.toml", help="scan spec (TOML)")
    p.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="scan directory (results, resumable); required unless --dry-run",
    )
    p.add_argument("--dry-run", action="store_true", help="print the points and their count, run nothing")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="address of a running Dask scheduler (tcp://host:8786); default: a local cluster",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes of the local cluster (default: one per core)",
    )
    p.add_argument(
        "--serial", action="store_true", help="run the points one by one in this process (no Dask)"
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds to wait for --scheduler to answer (default: 10)",
    )
    p.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="root of the per-worker Numba/Brian2 caches (default: $NEUROPLAST_CACHE/scan-workers, "
        "i.e. ~/.cache/neuroplast/scan-workers)",
    )
    p.add_argument(
        "--max-points",
        type=int,
        default=None,
        metavar="N",
        help="run at most N of the remaining points, then stop",
    )
    p.add_argument(
        "--warmup",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="when a worker has nothing compiled yet, run the first point alone so the other workers "
        "on its machine reuse its compiled code (default: on)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="scan a changed spec in a directory made with another one (earlier results are kept)",
    )
    p.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show a progress bar"
    )
    p.set_defaults(func=_cmd_scan)

    q = subparsers.add_parser(
        "scan-plot",
        help="plot a scan: a metric against a parameter (seed spread), or a heatmap over two parameters",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("dir", metavar="DIR", help="scan directory (the --out of `neuroplast scan`)")
    q.add_argument("--x", required=True, metavar="PARAM", help="parameter on the x axis")
    q.add_argument("--y", required=True, metavar="METRIC", help="metric to plot")
    q.add_argument(
        "--hue",
        default=None,
        metavar="PARAM",
        help="second parameter: one line per value, or the y axis of a heatmap",
    )
    q.add_argument(
        "--kind",
        choices=("auto", "line", "heatmap"),
        default="auto",
        help="auto: line, or heatmap when --hue has more than 6 numeric values",
    )
    q.add_argument(
        "--where",
        action="append",
        metavar="PARAM=VALUE",
        help="keep only rows with this parameter value (repeatable)",
    )
    q.add_argument(
        "--logx",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="log x axis (default: when positive values span more than two decades)",
    )
    q.add_argument(
        "--output",
        "-o",
        default=None,
        metavar="PNG",
        help="output file (default: DIR/scan_<y>_vs_<x>[_by_<hue>].png)",
    )
    q.set_defaults(func=_cmd_plot)
