"""The ``neuroplast`` command line.

``neuroplast run SIM [--param VALUE ...] --seed N --out DIR`` runs one
registered simulation (sub-commands and their options are generated from the
simulations' parameter dataclasses, see :mod:`sims.registry`). Further
commands (``scan``, ``scan-plot``) plug in through :data:`_EXTRA_COMMANDS`.

Bad input never produces a traceback: ``ValueError`` (and missing files) are
printed as one line ``neuroplast: error: ...`` with exit status 2. Ctrl-C prints
``neuroplast: interrupted; nothing was written`` and exits 130. Any other
exception (out of memory, an error inside Brian2) is one line with the path of
a log file holding the traceback, exit status 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import sys
from pathlib import Path

from . import registry

# Modules providing ``add_parser(subparsers)`` that registers a sub-command
# whose parser sets ``func`` (called with the parsed namespace, returns exit code).
_EXTRA_COMMANDS = ("sims.scan", "sims.warmup")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own usage errors: one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` unless the help already names the default or there is none to show."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.default in (None, "", argparse.SUPPRESS) or action.required:
            return text
        return super()._get_help_string(action)


def _add_sim_parser(subparsers, sim: registry.Simulation) -> None:
    p = subparsers.add_parser(
        sim.name,
        help=sim.help.splitlines()[0].replace("%", "%%"),
        description=sim.help,
        formatter_class=_HelpFormatter,
    )
    for f in dataclasses.fields(sim.config_cls):
        meta = f.metadata
        flag = "--" + f.name.replace("_", "-")
        text = meta.get("help", "").replace("%", "%%")  # argparse %-formats help
        kwargs = dict(dest=f.name, default=f.default, help=text)
        if meta.get("unit") == "s":
            kwargs["help"] = text + f" (duration: '1s', '250ms' or seconds; default: {f.default:g} s)"
        if meta.get("choices"):
            kwargs["choices"] = list(meta["choices"])  # argparse lists them as {a,b,c}
        elif f.type in (bool, "bool"):
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["metavar"] = meta.get("metavar") or f.name.upper()
        p.add_argument(flag, **kwargs)
    for alias, (field, unit) in registry.aliases(sim).items():
        p.add_argument(
            "--" + alias.replace("_", "-"),
            dest=f"_alias_{alias}",
            default=None,
            metavar=unit.upper(),
            help=f"alias of --{field.replace('_', '-')}; a bare number is in {unit}",
        )
    seed_help = (
        "seed of every random draw, NumPy and Brian2 (same seed, same result)"
        if sim.uses_brian2
        else "seed of every random draw (NumPy; same seed, same result)"
    )
    p.add_argument("--seed", type=int, default=0, help=seed_help)
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output directory for summary.json and plots, written only when the run completes "
        "(default: print the summary only)",
    )
    p.add_argument(
        "--max-memory",
        default=None,
        metavar="SIZE",
        help="memory the run may use, e.g. '8G' (default: the memory available now; a run whose "
        "estimate exceeds it is refused before it starts)",
    )
    p.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show progress bars"
    )
    p.set_defaults(func=_cmd_run, sim_name=sim.name)


def _cmd_run(args) -> int:
    from .runner import execute

    sim = registry.get(args.sim_name)
    params = {name: getattr(args, name) for name in sim.fields()}
    for alias in registry.aliases(sim):
        value = getattr(args, f"_alias_{alias}", None)
        if value is not None:
            params[alias] = value
            params.pop(registry.aliases(sim)[alias][0])
    summary = execute(
        sim.name, params, seed=args.seed, out=args.out, progress=args.progress, max_memory=args.max_memory
    )
    shown = {k: v for k, v in summary.items() if not isinstance(v, (dict, list))}
    print(json.dumps(shown, indent=2, sort_keys=True, default=str))
    if args.out:
        print(f"results written to {args.out}")
    return 0


def _log_unexpected(exc: BaseException) -> str:
    """Write the traceback of an unexpected error to a log file; return its path."""
    import tempfile
    import time
    import traceback

    from spiking.engine import cache_dir

    try:
        logs = cache_dir() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
    except OSError:
        logs = Path(tempfile.gettempdir())
    path = logs / f"neuroplast-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    text = "".join(traceback.format_exception(exc))
    path.write_text(f"neuroplast {' '.join(sys.argv[1:])}\n\n{text}")
    return str(path)


def _cause(exc: BaseException, kind: type) -> BaseException | None:
    """The first exception of type ``kind`` in the chain of ``exc`` (causes and contexts)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _first_line(exc: BaseException) -> str:
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return ""


#: ``build_parser(only=COMMANDS_ONLY)``: the other commands, ``run`` without its simulations.
COMMANDS_ONLY = ""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``neuroplast`` parser; with ``only``, a part of it that parses the same command lines.

    ``neuroplast run NAME ...`` parses with ``build_parser(NAME)``: ``run`` offers that
    simulation alone, whose module is the only one imported (not every simulation, the
    scan and their libraries). Other commands (``scan``, ``warmup``) parse with
    ``build_parser(COMMANDS_ONLY)``: no simulation module is imported for the parser.
    ``build_parser()`` is the whole command line (help, documentation).
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("neuroplast")
    except PackageNotFoundError:
        ver = "unknown"
    parser = _Parser(
        prog="neuroplast",
        description="Neuromorphic spiking-network simulations on Brian2: reservoirs, liquids, "
        "plasticity rules and continual learning.",
    )
    parser.add_argument("--version", action="version", version=f"neuroplast {ver}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    run_p = sub.add_parser("run", help="run one simulation and write its summary and plots")
    run_sub = run_p.add_subparsers(dest="sim", metavar="SIMULATION", parser_class=_Parser)
    run_sub.required = True
    if only:
        _add_sim_parser(run_sub, registry.get(only))
        return parser
    if only is None:
        for name in registry.names():
            _add_sim_parser(run_sub, registry.get(name))
    for mod in _EXTRA_COMMANDS:
        try:
            importlib.import_module(mod).add_parser(sub)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
    return parser


def _parser_part(argv) -> str | None:
    """The ``only`` of :func:`build_parser` that parses ``argv`` as the whole parser would."""
    if len(argv) >= 2 and argv[0] == "run" and not argv[1].startswith("-"):
        return argv[1] if registry.module_of(argv[1]) is not None else None
    if argv and argv[0] not in ("run",) and not argv[0].startswith("-"):
        return COMMANDS_ONLY  # scan, warmup, ... or a typo, which the smaller parser reports alike
    return None


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_parser_part(argv))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        msg = _first_line(exc) or type(exc).__name__
        print(f"neuroplast: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("neuroplast: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line and a log file instead of a traceback
        try:
            where = f"; traceback in {_log_unexpected(exc)}"
        except OSError:
            where = ""
        oom = _cause(exc, MemoryError)
        if oom is not None:  # Brian2 wraps it in a BrianObjectException with a bug-report banner
            msg = f"out of memory: {_first_line(oom) or 'MemoryError'}"
            if oom is not exc:
                msg += f" ({_first_line(exc)})"
            msg += "; lower the sizes or durations of the run (see --max-memory)"
        else:
            msg = f"unexpected {type(exc).__name__}: {_first_line(exc)}".rstrip(": ")
        print(f"neuroplast: error: {msg}{where}", file=sys.stderr)
        return 1


def entry() -> int:
    """The ``neuroplast`` executable: :func:`main`, then a fast interpreter exit.

    At exit CPython runs its cyclic garbage collector over every object still alive;
    with Brian2 and SymPy loaded that took 0.9-1.3 s here, a third of a short run. The
    output is complete by then (files are written atomically and closed, ``atexit``
    handlers such as Brian2's log clean-up still run), so the surviving objects are
    moved out of the collector's reach (``gc.freeze``) and the operating system reclaims
    the memory. Called in-process (tests, notebooks) :func:`main` leaves the collector alone.
    """
    import gc

    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entry())
