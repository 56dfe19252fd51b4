"""The ``neuroplast scan`` and ``neuroplast scan-plot`` sub-commands, and ``--dry-run``'s description."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .driver import run_scan
from .spec import SPEC_GRAMMAR, ScanSpec, load_spec
from .store import load_scan

__all__ = ["describe", "add_parser"]


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
    if args.local_dask and (args.serial or args.scheduler is not None):
        raise ValueError("--local-dask excludes --serial and --scheduler")
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
        local_dask=args.local_dask,
    )
    return 1 if summary.failed else 0


def _cmd_plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    from .plot import plot_scan

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
seeds: on this machine (default: a process pool, one worker per core) or on a Dask cluster
(--scheduler). Each finished point is
stored in DIR/scan.sqlite at once; the same command again skips finished points and retries
failed ones. Read the results with sims.scan.load_scan(DIR); plot with `neuroplast scan-plot`.

spec (TOML; examples in sims/specs/):
""" + "".join("  " + line + "\n" for line in SPEC_GRAMMAR.splitlines())


def add_parser(subparsers) -> None:
    """Register ``scan`` and ``scan-plot`` on the ``neuroplast`` command line."""
    p = subparsers.add_parser(
        "scan",
        help="run a grid/random parameter scan of a simulation (process pool or Dask; resumable)",
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
        help="worker processes on this machine (default: one per core)",
    )
    p.add_argument(
        "--serial", action="store_true", help="run the points one by one in this process (no Dask)"
    )
    p.add_argument(
        "--local-dask",
        action="store_true",
        help="without --scheduler, run the workers as a local Dask cluster instead of a process pool",
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
