"""Feature-generation throughput of the NALSM liquid at the paper's sizes, and the full protocol's time.

For each liquid size (default 10x10x10 and 20x20x20, 784 inputs as for MNIST) and
engine, the liquid is built once, its code compiled by a warm-up sample, and then
``--samples`` samples of ``--sample-ms`` are featurised exactly as ``run nalsm`` does
at scale (per-sample seeds, plasticity on, decaying): samples per second on one core.
The Numba engine is the reference measured in the same run; the Brian2 engine is
reported as a ratio to it. Rates are per CPU second of the measuring process (what
one dedicated core does, independent of other work on the machine) and per wall
second. From the measured rate the script extrapolates the time
of the full protocol (50 000 + 10 000 + 10 000 samples, plus the initialisation of
``n_init`` samples of 20 ms, measured too) on 1, 2 and N workers, assuming feature
generation scales with workers (it is embarrassingly parallel; each worker holds
its own liquid). Inputs are random images with the mean pixel statistics of MNIST.

Usage::

    python benchmarks/bench_nalsm_scale.py [--grids 10x10x10,20x20x20] [--samples 8]
        [--engines numba,brian2] [--workers 2,16,64] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from spiking.liquid import Brian2Liquid, LiquidConfig, NumbaLiquid, sample_seeds

N_FULL = 70_000


def _images(n, rng):
    # MNIST-like inputs: ~19 % of the pixels on, normalised as the reference does
    x = (rng.random((n, 784)) < 0.19) * rng.uniform(0.3, 1.0, (n, 784))
    x /= x.sum(1, keepdims=True)
    return x / x.max()


def measure(grid, engine, n_samples, sample_ms, n_init, seed=0):
    cfg = LiquidConfig(grid_shape=grid, n_input=784, sample_steps=sample_ms)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    liq = NumbaLiquid(cfg, seed=seed) if engine == "numba" else Brian2Liquid(cfg, seed=seed)
    build_s = time.perf_counter() - t0
    probs = _images(n_samples + 1, rng)
    init_probs = _images(n_init, rng)
    liq.initialise(init_probs[:2], eta=0.15, w_astro=0.01)  # compile / warm up
    t0 = time.process_time()
    liq.initialise(init_probs, eta=0.15, w_astro=0.01)
    init_s = time.process_time() - t0
    kw = dict(eta=0.15, w_astro=0.01)
    liq.features(probs[:1], sample_seeds=sample_seeds(1, [0]), **kw)  # compile / warm up
    t0, c0 = time.perf_counter(), time.process_time()
    f = liq.features(probs[1:], sample_seeds=sample_seeds(1, np.arange(1, n_samples + 1)), **kw)
    feat_s, feat_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "grid": "x".join(map(str, grid)),
        "n_liquid": cfg.n_liquid,
        "n_synapses": int(liq.conn.pre.size),
        "engine": engine,
        "build_s": build_s,
        "init_samples_per_cpu_s": n_init / init_s,
        "samples_per_s": n_samples / feat_s,
        # CPU seconds of this process: what one dedicated core would do, whatever the machine's load
        "samples_per_cpu_s": n_samples / feat_cpu,
        "mean_rate_hz": float(f.counts.mean() / (sample_ms * 1e-3)),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grids", default="10x10x10,20x20x20")
    ap.add_argument("--engines", default="numba,brian2")
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--sample-ms", type=int, default=250)
    ap.add_argument("--n-init", type=int, default=100, help="initialisation samples measured (20 ms each)")
    ap.add_argument("--workers", default="2,16,64", help="worker counts of the extrapolation")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    grids = [tuple(int(v) for v in g.split("x")) for g in args.grids.split(",")]
    workers = [int(w) for w in args.workers.split(",")]
    rows = []
    for grid in grids:
        ref = None
        for engine in args.engines.split(","):
            r = measure(grid, engine, args.samples, args.sample_ms, args.n_init)
            ref = r["samples_per_cpu_s"] if ref is None else ref
            r["time_vs_first_engine"] = ref / r["samples_per_cpu_s"]
            # full protocol: 1000 initialisation samples, then 70 000 feature samples
            init_full = 1000 / r["init_samples_per_cpu_s"]
            r["full_protocol_h"] = {
                str(w): (init_full + N_FULL / (w * r["samples_per_cpu_s"])) / 3600 for w in [1, *workers]
            }
            rows.append(r)
            print(
                f"{r['grid']:>9s} {engine:6s} {r['n_synapses']:>8d} syn  "
                f"{r['samples_per_cpu_s']:7.2f} samples per CPU s ({r['samples_per_s']:.2f}/s wall; "
                f"x{r['time_vs_first_engine']:.2f} CPU time of first engine)  "
                f"init {r['init_samples_per_cpu_s']:6.1f}/CPU s  "
                f"rate {r['mean_rate_hz']:.1f} Hz  full protocol: "
                + ", ".join(f"{w} workers {h:.2f} h" for w, h in r["full_protocol_h"].items()),
                flush=True,
            )
    print(f"load average: {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rows, "loadavg": os.getloadavg(), "args": vars(args)}, fh, indent=2)


if __name__ == "__main__":
    main()
