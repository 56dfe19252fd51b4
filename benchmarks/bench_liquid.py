"""Liquid throughput: Brian2 NALSM liquid vs a hand-written Numba simulation of the same liquid.

Both simulate the same 1000-neuron liquid (same connectivity and initialised
weights), 250 ms per sample, astrocyte-modulated plasticity on, on the same
8x8-digit inputs, in the same process. Compilation (Cython and Numba JIT) is
done before timing; the Brian2 run simulates all samples in ``chunk``-sized
``run()`` calls as in feature generation.

Usage::

    python benchmarks/bench_liquid.py [--samples 200] [--grid 10x10x10] [--backend cython]
        [--batch N] [--repeats 3] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import time


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--grid", default="10x10x10")
    p.add_argument("--backend", default="cython", choices=("cython", "numpy"))
    p.add_argument("--eta", type=float, default=0.15)
    p.add_argument("--w-astro", type=float, default=0.01)
    p.add_argument(
        "--batch", type=int, default=None, help="liquid copies side by side in Brian2 (default: auto)"
    )
    p.add_argument("--repeats", type=int, default=3, help="timed repeats; the fastest counts")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)

    from sims.parsing import parse_grid
    from spiking.liquid import Brian2Liquid, LiquidConfig
    from spiking.liquid.numba import simulate_liquid_numba
    from tasks.datasets import load_digits_dataset

    ds = load_digits_dataset()
    probs = ds.x_train[: args.samples]
    cfg = LiquidConfig(grid_shape=parse_grid(args.grid), n_input=ds.n_pixels)
    t0 = time.perf_counter()
    liq = Brian2Liquid(cfg, seed=args.seed, backend=args.backend, batch=args.batch)  # 200 samples per run()
    liq.initialise(ds.x_train[:50], eta=args.eta, w_astro=args.w_astro)
    liq.features(probs[:2], eta=args.eta, w_astro=args.w_astro)  # compile / load the feature-generation code
    setup_b2 = time.perf_counter() - t0

    def best_of(fn):
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
        return min(times), result

    t_b2, out = best_of(lambda: liq.features(probs, eta=args.eta, w_astro=args.w_astro))

    kw = dict(
        n_steps=cfg.sample_steps,
        w_start=liq.w_init_,
        reset_weights=True,
        eta=args.eta,
        w_astro=args.w_astro,
        gamma=cfg.lr_decay,
        seed=args.seed,
    )
    t0 = time.perf_counter()
    simulate_liquid_numba(liq.conn, cfg, probs[:2], **kw)  # JIT (or load from cache)
    setup_nb = time.perf_counter() - t0
    t_nb, res_nb = best_of(lambda: simulate_liquid_numba(liq.conn, cfg, probs, **kw))
    counts_nb = res_nb[0]

    n_syn = int(liq.conn.pre.size)
    res = {
        "n_liquid": cfg.n_liquid,
        "n_input": cfg.n_input,
        "n_synapses": n_syn,
        "sample_ms": cfg.sample_steps,
        "samples": args.samples,
        "repeats": args.repeats,
        "backend": liq.backend,
        "batch": liq.batch,
        "eta": args.eta,
        "w_astro": args.w_astro,
        "brian2_samples_per_s": args.samples / t_b2,
        "numba_samples_per_s": args.samples / t_nb,
        "brian2_over_numba_time": t_b2 / t_nb,
        "brian2_rate_hz": float(out["counts"].mean() / (cfg.sample_steps * 1e-3)),
        "numba_rate_hz": float(counts_nb.mean() / (cfg.sample_steps * 1e-3)),
        "brian2_setup_s": setup_b2,
        "numba_setup_s": setup_nb,
    }
    text = json.dumps(res, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
    return res


if __name__ == "__main__":
    main()
