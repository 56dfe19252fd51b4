"""Registry of the simulations that ``neuroplast run`` and ``neuroplast scan`` offer.

A simulation is declared once, as data: a frozen dataclass of parameters (each
field carries its help text in ``metadata``) and a function that runs it. The
CLI builds its ``run`` sub-commands from these declarations, and the scan
validates spec keys against the same fields, so every parameter of every
simulation can be set from the command line and scanned.

Declaring a simulation::

    @dataclass(frozen=True)
    class ReservoirConfig:
        n_neurons: int = param(1000, "number of neurons")
        duration: float = param(1.0, "biological time", unit="s")

    @register("reservoir", ReservoirConfig, help="...")
    def run_reservoir(config, *, seed, out, progress=False) -> dict: ...

The run function returns a JSON-serialisable summary (metrics as plain
floats/ints) and writes its plots under ``out`` when ``out`` is not ``None``.
Common fields (seed, wall time, versions) and ``summary.json`` are added by
:func:`sims.runner.execute`.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "param",
    "register",
    "get",
    "names",
    "aliases",
    "simulation_modules",
    "module_of",
    "Simulation",
    "parse_duration",
    "coerce_params",
]

# The @register decorator is the one source of truth: the modules of this package that use it
# are found by reading their source (cheap), and imported lazily so `neuroplast --help` stays fast.
# Private modules (``_testing``) are left out; other packages are imported with a scan's ``module``.
_DECORATOR = re.compile(r"^@register\(", re.MULTILINE)


def simulation_modules() -> list[str]:
    """Public modules of the ``sims`` package that declare a simulation with ``@register``."""
    import pkgutil
    from pathlib import Path

    here = Path(__file__).resolve().parent
    found = []
    for info in pkgutil.iter_modules([str(here)]):
        path = here / f"{info.name}.py"
        if info.ispkg or info.name.startswith("_") or not path.is_file():
            continue
        if _DECORATOR.search(path.read_text(encoding="utf-8")):
            found.append(f"{__package__}.{info.name}")
    return sorted(found)

_NAMED = re.compile(r"^@register\(\s*[\"'](\w[\w-]*)[\"']", re.MULTILINE)


def module_of(name: str) -> str | None:
    """The ``sims`` module whose ``@register("name", ...)`` declares simulation ``name``, or ``None``.

    Found by reading the sources (as :func:`simulation_modules`), so a run imports the one
    module it needs instead of every simulation and the libraries they use.
    """
    return _declared_names().get(name)


@functools.cache
def _declared_names() -> dict[str, str]:
    """``{simulation name: module}`` from the sources, read once per process (the CLI asks twice)."""
    from pathlib import Path

    here = Path(__file__).resolve().parent
    found: dict[str, str] = {}
    for mod in simulation_modules():
        text = (here / f"{mod.rsplit('.', 1)[1]}.py").read_text(encoding="utf-8")
        for declared in _NAMED.findall(text):
            found.setdefault(declared, mod)
    return found


_REGISTRY: dict[str, "Simulation"] = {}
_loaded = False


def param(
    default, help: str, *, unit: str | None = None, choices=None, scan: bool = True, aliases=None,
    metavar: str | None = None,
):
    """A dataclass field with help text, an optional unit (``"s"`` for durations) and choices.

    ``metavar`` shows the allowed forms of an open-ended value in ``--help``
    (``{digits,mnist,idx:DIR}``) where ``choices`` cannot list them all.

    ``aliases`` maps old parameter names to the unit of a bare number given
    under that name (``{"sample_ms": "ms"}``: ``sample_ms=250`` means 250 ms).
    """
    return field(
        default=default,
        metadata={
            "help": help, "unit": unit, "choices": choices, "scan": scan, "aliases": aliases or {},
            "metavar": metavar,
        },
    )


def aliases(sim: "Simulation") -> dict[str, tuple[str, str]]:
    """Old parameter names of ``sim``: ``{alias: (field, unit of a bare number)}``."""
    return {
        a: (f.name, u)
        for f in dataclasses.fields(sim.config_cls)
        for a, u in f.metadata.get("aliases", {}).items()
    }


def _from_alias(alias: str, unit: str, value):
    """A value given under an old name: a bare number is in ``unit``."""
    if isinstance(value, bool):
        raise ValueError(f"{alias} must be a duration such as '250ms', got {value!r}")
    if isinstance(value, (int, float)):
        return float(value) * _DURATION_SCALE[unit]
    text = str(value).strip()
    try:
        float(text)
        text += unit
    except ValueError:
        pass
    return parse_duration(alias, text)


@dataclass(frozen=True)
class Simulation:
    """One entry of the registry."""

    name: str
    config_cls: type
    run: Callable
    help: str
    #: ``memory(config) -> {part: (bytes, option)}``: estimate checked before the run (:mod:`sims.limits`).
    memory: Callable | None = None
    #: Whether the run uses Brian2 (its seed, its compile status line).
    uses_brian2: bool = True
    #: Summary keys the run reports (what a scan may name in ``metrics``): a tuple, or
    #: ``outputs(config)`` when they depend on the parameters; ``None``: not declared.
    outputs: tuple[str, ...] | Callable | None = None

    def output_names(self, config) -> set[str] | None:
        """Summary keys a run with ``config`` reports (with the runner's own), or ``None`` if undeclared."""
        if self.outputs is None:
            return None
        names = self.outputs(config) if callable(self.outputs) else self.outputs
        return set(names) | {"simulation", "seed", "wall_time_s", "params"}

    def fields(self) -> dict[str, dataclasses.Field]:
        return {f.name: f for f in dataclasses.fields(self.config_cls)}

    def make_config(self, params: Mapping | None = None):
        """Build the frozen config from ``params`` (strings are parsed), naming unknown keys."""
        return self.config_cls(**coerce_params(self, params or {}))


def register(
    name: str,
    config_cls: type,
    *,
    help: str,
    memory: Callable | None = None,
    uses_brian2: bool = True,
    outputs=None,
):
    """Decorator that registers ``run(config, *, seed, out, progress)`` under ``name``.

    ``memory(config)`` returns the run's memory estimate as ``{part: (bytes, option)}``;
    ``outputs`` lists the scalar keys of the summary (checked against scan specs);
    ``uses_brian2`` says whether the seed also seeds Brian2.
    """
    if not dataclasses.is_dataclass(config_cls):
        raise TypeError(f"config_cls for {name!r} must be a dataclass")

    def deco(fn):
        _REGISTRY[name] = Simulation(
            name,
            config_cls,
            fn,
            help,
            memory,
            uses_brian2,
            outputs if outputs is None or callable(outputs) else tuple(outputs),
        )
        return fn

    return deco


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for mod in simulation_modules():
        importlib.import_module(mod)
    _loaded = True


def names() -> list[str]:
    """Names of all registered simulations."""
    _load_all()
    return sorted(_REGISTRY)


def get(name: str) -> Simulation:
    """Return the simulation called ``name`` or raise ``ValueError`` listing the known ones.

    Only the module declaring ``name`` is imported when it can be found from the sources
    (:func:`module_of`); otherwise, or if that import did not register it, all of them are.
    """
    if name not in _REGISTRY and not _loaded:
        mod = module_of(name) if isinstance(name, str) else None
        if mod is not None:
            importlib.import_module(mod)
    if name not in _REGISTRY:
        _load_all()
    if name not in _REGISTRY:
        raise ValueError(f"unknown simulation {name!r}; allowed: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


_DURATION_RE = re.compile(r"^\s*([-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)\s*(s|ms|us|min)?\s*$")
_DURATION_SCALE = {None: 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "min": 60.0}


def parse_duration(name: str, value) -> float:
    """Parse ``'1s'``, ``'250ms'``, ``'0.5'`` (seconds) or a number into seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    m = _DURATION_RE.match(str(value))
    if not m:
        raise ValueError(f"{name} must be a duration such as '1s' or '250ms', got {value!r}")
    return float(m.group(1)) * _DURATION_SCALE[m.group(5)]


def _coerce(name: str, f: dataclasses.Field, value):
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    meta = f.metadata
    if meta.get("unit") == "s":
        return parse_duration(name, value)
    try:
        if kind == "bool":
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            if not isinstance(value, (bool, int)):
                raise ValueError
            return bool(value)
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if kind == "str":
            if not isinstance(value, str):
                raise ValueError
            return value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be of type {kind}, got {value!r}") from None
    return value


def coerce_params(sim: Simulation, params: Mapping) -> dict:
    """Check keys against ``sim``'s fields and convert values to the field types."""
    fields = sim.fields()
    old_names = aliases(sim)
    out = {}
    for key, value in params.items():
        norm = key.replace("-", "_")
        if norm in old_names:
            norm, unit = old_names[norm]
            if norm in params or norm.replace("_", "-") in params:
                raise ValueError(f"give {norm} or its alias {key}, not both")
            value = _from_alias(key, unit, value)
        if norm not in fields:
            raise ValueError(
                f"unknown parameter {key!r} for simulation {sim.name!r}; allowed: {', '.join(fields)}"
            )
        f = fields[norm]
        val = _coerce(key, f, value)
        choices = f.metadata.get("choices")
        if choices is not None and val not in choices:
            raise ValueError(f"unknown {key} {val!r}; allowed: {', '.join(map(str, choices))}")
        out[norm] = val
    return out
