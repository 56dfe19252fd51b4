"""Benchmark of ``neuroplast scan``: 2 workers (process pool, Dask) against one process, compile share, reuse.

A 16-run scan of the Izhikevich reservoir (2 sizes x 4 weight scales x 2 seeds,
all sharing one network structure, i.e. one set of compiled code objects) is
run six ways, each as a fresh ``neuroplast scan`` process:

1. ``--serial`` (all points one after the other in one process), cold caches;
2. the same, warm caches (the Cython/Numba code compiled by run 1);
3. ``--workers 2`` (the default on one machine: a process pool), cold caches;
4. the same, warm caches;
5. ``--workers 2 --local-dask`` (local Dask cluster), cold per-worker caches;
6. the same, warm per-worker caches.

Reported (ratios against references measured in the same run):

* speed-up of 2 workers (pool and Dask) over one process, cold and warm (wall
  time of the whole command, including pool/cluster start-up and imports);
* CPU time of each command with all its processes, and its ratio to the serial
  run's: the work that running in parallel adds, which (unlike the speed-up)
  does not depend on how much of the cores other jobs took;
* share of the cold sequential scan spent compiling: the sum over points of
  (cold task time - warm task time of the same point) over the cold wall time;
* what compiled-code reuse saves: the scan as run (one compilation, then
  reuse in the same process) against compiling for every point (16 x the
  first cold point) and against a fresh process per point with a warm disk
  cache (measured for ``--fresh-points`` points, extrapolated to 16).

Usage::

    python benchmarks/bench_scan.py [--duration 20s] [--sizes 500,1000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SPEC = """
simulation = "reservoir"
seeds = [0, 1]
metrics = ["mean_rate_exc_hz", "build_time_s", "run_time_s"]
[fixed]
preset = "{preset}"
duration = "{duration}"
backend = "cython"
[scan]
n_neurons = [{sizes}]
weight_scale = [0.5, 0.75, 1.0, 1.25]
"""


def _scan(spec: Path, out: Path, cache: Path, *args: str) -> float:
    env = dict(os.environ)
    # the sequential run uses the same cache layout as a worker; the Dask workers get theirs from --cache-dir
    env.pop("NEUROPLAST_SCAN_CACHE_ROOT", None)
    cmd = [
        sys.executable,
        "-m",
        "sims.cli",
        "scan",
        str(spec),
        "--out",
        str(out),
        "--no-progress",
        "--cache-dir",
        str(cache),
        *args,
    ]
    t0 = time.perf_counter()
    c0 = _children_cpu()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    _CPU[str(out)] = _children_cpu() - c0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall


# CPU seconds (user + system) of each scan command with all its processes, by --out directory.
_CPU: dict = {}


def _children_cpu() -> float:
    """CPU time of this process's finished children and their descendants (workers included)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _fresh_point(cache: Path, params: dict, seed: int) -> float:
    """One point in a new Python process (imports included), with the caches under ``cache``."""
    code = (
        "import json, sys\n"
        "from sims.scan import configure_worker_caches\n"
        f"configure_worker_caches({str(cache)!r})\n"
        "from sims.runner import execute\n"
        f"execute('reservoir', json.loads({json.dumps(json.dumps(params))}), seed={seed})\n"
    )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - t0


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", default="20s")
    ap.add_argument(
        "--sizes", default="500,1000", help="two reservoir sizes (x 4 weight scales x 2 seeds = 16)"
    )
    ap.add_argument("--preset", default="izhikevich2003")
    ap.add_argument("--fresh-points", type=int, default=2, help="points run in fresh processes (warm cache)")
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)

    from sims.scan import load_scan, load_spec

    tmp = Path(tempfile.mkdtemp(prefix="bench_scan_"))
    spec_path = tmp / "spec.toml"
    spec_path.write_text(SPEC.format(preset=args.preset, duration=args.duration, sizes=args.sizes))
    spec = load_spec(spec_path)
    n_runs = len(spec.runs())
    res: dict = {
        "n_runs": n_runs,
        "duration": args.duration,
        "sizes": args.sizes,
        "preset": args.preset,
        "cpus": len(os.sched_getaffinity(0)),
        "load_avg_start": os.getloadavg(),
    }
    try:
        seq_cache, pool_cache, dask_cache = tmp / "cache-seq", tmp / "cache-pool", tmp / "cache-dask"
        walls = {}
        for label, cache, extra in (
            ("serial", seq_cache, ["--serial"]),
            ("pool2", pool_cache, ["--workers", "2"]),
            ("dask2", dask_cache, ["--workers", "2", "--local-dask"]),
        ):
            for phase in ("cold", "warm"):
                out = tmp / f"{label}-{phase}"
                walls[f"{label}_{phase}"] = _scan(spec_path, out, cache, *extra)
                df = load_scan(out)
                assert (df.status == "done").all() and len(df) == n_runs, df[["status", "error"]]
                res[f"{label}_{phase}_wall_s"] = round(walls[f"{label}_{phase}"], 2)
                res[f"{label}_{phase}_cpu_s"] = round(_CPU[str(out)], 2)
                res[f"{label}_{phase}_task_sum_s"] = round(float(df.task_time_s.sum()), 2)
                res[f"_{label}_{phase}_df"] = df
                wall, load = walls[f"{label}_{phase}"], os.getloadavg()[0]
                cpu = _CPU[str(out)]
                print(f"{label:6s} {phase}: {wall:7.1f} s wall, {cpu:6.1f} s CPU (load {load:.1f})",
                      flush=True)

        cold, warm = res.pop("_serial_cold_df"), res.pop("_serial_warm_df")
        d_cold, d_warm = res.pop("_dask2_cold_df"), res.pop("_dask2_warm_df")
        res.pop("_pool2_cold_df"), res.pop("_pool2_warm_df")
        for label in ("pool2", "dask2"):
            for phase in ("cold", "warm"):
                res[f"speedup_{label}_vs_serial_{phase}"] = round(
                    walls[f"serial_{phase}"] / walls[f"{label}_{phase}"], 2
                )
                # work the parallel run adds (CPU time over the serial run's): unlike the wall-time
                # speed-up, it does not depend on how much of the two cores other jobs took
                res[f"cpu_{label}_over_serial_{phase}"] = round(
                    res[f"{label}_{phase}_cpu_s"] / res[f"serial_{phase}_cpu_s"], 3
                )
        # compile share of the cold sequential scan (per-point difference cold - warm, same point, same order)
        t_cold = cold.set_index("key")["task_time_s"]
        t_warm = warm.set_index("key")["task_time_s"]
        compile_s = float((t_cold - t_warm.reindex(t_cold.index)).clip(lower=0).sum())
        res["serial_cold_compile_s"] = round(compile_s, 2)
        res["compile_share_serial_cold"] = round(compile_s / walls["serial_cold"], 3)
        tw = d_warm.set_index("key")["task_time_s"]
        tc = d_cold.set_index("key")["task_time_s"]
        d_compile = float((tc - tw.reindex(tc.index)).clip(lower=0).sum())
        res["dask2_cold_compile_cpu_s"] = round(d_compile, 2)
        res["compile_share_dask2_cold"] = round(d_compile / (2 * walls["dask2_cold"]), 3)
        res["first_point_cold_s"] = round(float(cold.sort_values("finished_at").iloc[0].task_time_s), 2)
        res["median_point_warm_s"] = round(float(warm.task_time_s.median()), 3)
        res["median_point_dask_warm_s"] = round(float(d_warm.task_time_s.median()), 3)
        # without reuse: every point compiles (16 x the first cold point)
        res["no_reuse_compile_every_point_s_est"] = round(n_runs * res["first_point_cold_s"], 1)
        res["reuse_saving_vs_compile_every_point"] = round(
            res["no_reuse_compile_every_point_s_est"] / walls["serial_cold"], 1
        )
        # a fresh process per point with a warm disk cache (import + load of the compiled code each time)
        runs = spec.runs()[: args.fresh_points]
        fresh = []
        for r in runs:
            fresh.append(_fresh_point(_serial_cache_dir(seq_cache), r.params, r.seed))
        per = sum(fresh) / len(fresh)
        res["fresh_process_per_point_warm_s"] = round(per, 2)
        res["fresh_process_per_point_16_s_est"] = round(per * n_runs, 1)
        res["reuse_saving_vs_fresh_process_warm"] = round(per * n_runs / walls["serial_warm"], 2)
        res["load_avg_end"] = os.getloadavg()
        print(json.dumps(res, indent=2, default=str))
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=2, default=str))
        return res
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")


def _serial_cache_dir(root: Path) -> Path:
    """The per-host directory that ``--serial --cache-dir root`` used."""
    dirs = [p for p in root.iterdir() if p.name.endswith("-serial")]
    if len(dirs) != 1:
        raise RuntimeError(f"expected one serial cache under {root}, found {dirs}")
    return dirs[0]


if __name__ == "__main__":
    main()
