"""Benchmark: whole-process time of the README's main job, warm and cold, against NEST's equivalent.

Runs as separate processes, each timed from launch to exit (imports included):

* ``neuroplast run reservoir --n-neurons 1000 --duration D --seed 0 --out DIR``
  with warm compile caches (best of ``--repeats``);
* the same with empty caches (first run after install), once;
* ``neuroplast warmup`` with empty caches, then the main job on the caches it filled
  (the one-off cost moved to the install step);
* NEST's equivalent script (same network and duration, a raster PNG and a JSON
  summary, one thread; best of ``--repeats``), when ``nest`` is installed.

Ratios are against the warm neuroplast process and against NEST, all measured in
this one invocation; the load average is printed with them.

Usage::

    python benchmarks/bench_process.py --duration 10 --repeats 3
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

_NEST = r"""
import json, sys, time
import numpy as np
import nest
duration, out = float(sys.argv[1]), sys.argv[2]
nest.set_verbosity("M_ERROR")
nest.SetKernelStatus({"resolution": 1.0, "local_num_threads": 1, "rng_seed": 1})
rng = np.random.default_rng(0)
n_exc, n_inh = 800, 200
n = n_exc + n_inh
re, ri = rng.random(n_exc), rng.random(n_inh)
pop = nest.Create("izhikevich", n, params={"consistent_integration": False, "V_th": 30.0})
exc, inh = pop[:n_exc], pop[n_exc:]
exc.set(a=0.02, b=0.2, c=list(-65 + 15 * re**2), d=list(8 - 6 * re**2), V_m=-65.0, U_m=-13.0)
inh.set(a=list(0.02 + 0.08 * ri), b=list(0.25 - 0.05 * ri), c=-65.0, d=2.0, V_m=-65.0,
        U_m=list(-65.0 * (0.25 - 0.05 * ri)))
for grp, sd in ((exc, 5.0), (inh, 2.0)):
    nest.Connect(nest.Create("noise_generator", params={"mean": 0.0, "std": sd, "dt": 1.0}), grp)
nest.Connect(exc, pop, "all_to_all", {"weight": 0.5 * rng.random((n, n_exc)), "delay": 1.0})
nest.Connect(inh, pop, "all_to_all", {"weight": -rng.random((n, n_inh)), "delay": 1.0})
rec = nest.Create("spike_recorder")
nest.Connect(pop, rec)
nest.Simulate(duration * 1000.0)
ev = rec.get("events")
senders, times = np.asarray(ev["senders"]) - pop[0].global_id, np.asarray(ev["times"]) / 1000.0
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(8, 4))
ax.plot(times, senders, ",k")
fig.savefig(out + "/raster.png", dpi=100)
rates = np.bincount(senders, minlength=n) / duration
json.dump({"mean_rate_exc_hz": float(rates[:n_exc].mean()), "mean_rate_inh_hz": float(rates[n_exc:].mean())},
          open(out + "/summary.json", "w"))
"""


def _timed(cmd, env=None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall


def _cold_env(tmp: str) -> dict:
    return dict(
        os.environ,
        CYTHON_CACHE_DIR=os.path.join(tmp, "cython"),
        NUMBA_CACHE_DIR=os.path.join(tmp, "numba"),
        NEUROPLAST_CACHE=os.path.join(tmp, "np"),
    )


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=10.0, help="biological seconds")
    ap.add_argument("--repeats", type=int, default=3, help="warm runs (best of)")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold (empty cache) runs")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    res: dict = {"duration_s": args.duration, "load_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:

        def job(out, e):
            cmd = [sys.executable, "-m", "sims.cli", "run", "reservoir", "--n-neurons", "1000"]
            cmd += ["--duration", f"{args.duration:g}s", "--seed", "0", "--out", out, "--no-progress"]
            return _timed(cmd, e)

        job(os.path.join(tmp, "prime"), env)  # make sure the user's caches are warm
        res["neuroplast_warm_s"] = min(job(os.path.join(tmp, f"w{k}"), env) for k in range(args.repeats))
        if importlib.util.find_spec("nest") is not None:
            nest_runs = []
            for k in range(args.repeats):
                d = os.path.join(tmp, f"nest{k}")
                os.makedirs(d)
                nest_runs.append(_timed([sys.executable, "-c", _NEST, str(args.duration), d], env))
            res["nest_s"] = min(nest_runs)
            res["warm_vs_nest"] = res["neuroplast_warm_s"] / res["nest_s"]
        else:
            print("NEST skipped: not installed (pip install nest-simulator, or neuroplast[bench])")
        if not args.no_cold:
            cold = os.path.join(tmp, "cold1")
            res["neuroplast_cold_s"] = job(os.path.join(tmp, "c1"), {**env, **_cold_env(cold)})
            res["cold_vs_warm"] = res["neuroplast_cold_s"] / res["neuroplast_warm_s"]
            cold2 = os.path.join(tmp, "cold2")
            warm_cmd = [sys.executable, "-m", "sims.cli", "warmup"]
            res["warmup_cold_s"] = _timed(warm_cmd, {**env, **_cold_env(cold2)})
            res["first_run_after_warmup_s"] = job(os.path.join(tmp, "c2"), {**env, **_cold_env(cold2)})
            res["first_after_warmup_vs_warm"] = res["first_run_after_warmup_s"] / res["neuroplast_warm_s"]
            if "nest_s" in res:
                res["cold_vs_nest"] = res["neuroplast_cold_s"] / res["nest_s"]
    res["load_end"] = os.getloadavg()[0]
    for k, v in res.items():
        print(f"{k:32s} {v:10.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return res


if __name__ == "__main__":
    main()
