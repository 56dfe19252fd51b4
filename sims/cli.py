"""The ``neuroplast`` command line.

``neuroplast run SIM [--param VALUE ...] --seed N --out DIR`` runs one
registered simulation (sub-commands and their options are generated from the
simulations' parameter dataclasses, see :mod:`sims.registry`). Further
commands (``scan``, ``scan-plot``) plug in through :data:`_EXTRA_COMMANDS`.

Bad input never produces a traceback: ``ValueError`` (and missing files) are
printed as one line ``neuroplast: error: ...`` with exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys

from . import registry

# Modules providing ``add_parser(subparsers)`` that registers a sub-command
# whose parser sets ``func`` (called with the parsed namespace, returns exit code).
_EXTRA_COMMANDS = ("sims.scan", "sims.warmup")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own usage errors: one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_sim_parser(subparsers, sim: registry.Simulation) -> None:
    p = subparsers.add_parser(
        sim.name,
        help=sim.help.splitlines()[0].replace("%", "%%"),
        description=sim.help,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for f in dataclasses.fields(sim.config_cls):
        meta = f.metadata
        flag = "--" + f.name.replace("_", "-")
        text = meta.get("help", "").replace("%", "%%")  # argparse %-formats help
        if meta.get("unit") == "s":
            text += " (duration: '1s', '250ms' or seconds)"
        kwargs = dict(dest=f.name, default=f.default, help=text)
        if meta.get("choices"):
            kwargs["choices"] = list(meta["choices"])
        if f.type in (bool, "bool"):
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["metavar"] = f.name.upper()
        p.add_argument(flag, **kwargs)
    p.add_argument("--seed", type=int, default=0, help="seed of NumPy and Brian2 (same seed, same result)")
    p.add_argument("--out", default=None, help="output directory for summary.json and plots")
    p.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show a progress bar"
    )
    p.set_defaults(func=_cmd_run, sim_name=sim.name)


def _cmd_run(args) -> int:
    from .runner import execute

    sim = registry.get(args.sim_name)
    params = {name: getattr(args, name) for name in sim.fields()}
    summary = execute(sim.name, params, seed=args.seed, out=args.out, progress=args.progress)
    shown = {k: v for k, v in summary.items() if not isinstance(v, (dict, list))}
    print(json.dumps(shown, indent=2, sort_keys=True, default=str))
    if args.out:
        print(f"results written to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
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
    for name in registry.names():
        _add_sim_parser(run_sub, registry.get(name))
    for mod in _EXTRA_COMMANDS:
        try:
            importlib.import_module(mod).add_parser(sub)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"neuroplast: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("neuroplast: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
