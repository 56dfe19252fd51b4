"""The scan spec: its TOML grammar (written once, in :data:`SPEC_GRAMMAR`), validation and expansion.

:func:`load_spec` reads a TOML file and :func:`parse_spec` a parsed mapping; both
return a :class:`ScanSpec` whose :meth:`~ScanSpec.points` and :meth:`~ScanSpec.runs`
expand the grid and random axes. The grammar, as ``neuroplast scan --help`` prints it,
is :data:`SPEC_GRAMMAR`.

Random axes (``uniform``, ``loguniform``, ``randint`` with ``low``/``high``
included, ``choice`` with ``values``) are drawn jointly, ``count`` draws from
``sample_seed``, and the draws are crossed with the grid axes. Everything is
checked before anything runs: unknown keys, unknown simulations and
parameters, empty ranges, wrong types, and each point's config is built
(so a value that the simulation's ``__post_init__`` rejects is reported with
the key and the point).
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .. import registry
from ..limits import MAX_SCAN_RUNS
from .row import NOT_METRICS

__all__ = ["SPEC_GRAMMAR", "Axis", "Run", "ScanSpec", "load_spec", "parse_spec", "point_key"]

#: The spec's grammar by example (printed by ``neuroplast scan --help``; examples in ``sims/specs/``).
SPEC_GRAMMAR = """\
simulation = "reservoir"          # a name from `neuroplast run --help`
n_seeds = 3                       # or: seeds = [0, 1, 2]; first seed: seed = 10
metrics = ["mean_rate_exc_hz"]    # optional; default: every scalar the run returns
# module = "mypkg.sims"           # optional: import this to register the simulation
# sample_seed = 0                 # seed of the random draws below

[fixed]                           # parameters held fixed (strings are parsed: "250ms")
duration = "500ms"

[scan]                            # grid axes are crossed, first key varies slowest
n_neurons = [100, 200, 400]                                  # a list
weight_scale = { start = 0.5, stop = 1.5, step = 0.25 }      # a range, stop included when hit
n_inputs = { start = 0, stop = 100, num = 3 }              # num points from start to stop
noise_scale = { start = 0.1, stop = 10, num = 5, log = true }  # log-spaced
input_rate = { random = "uniform", low = 5, high = 50, count = 8 }  # random draws
"""

__doc__ += "\nThe spec (TOML)::\n\n" + "".join("    " + line + "\n" for line in SPEC_GRAMMAR.splitlines())

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
    from ..runner import _json_default

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
            if m in NOT_METRICS:
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
                    f"{', '.join(sorted(reported - NOT_METRICS))}",
                )
    return spec
