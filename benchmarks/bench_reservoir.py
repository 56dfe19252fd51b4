"""Benchmark: the 1000-neuron Izhikevich (2003) network through neuroplast vs hand-written Numba.

Each variant runs in its own process with empty compile caches, so the
"first run" includes every compilation (Cython extensions, the standalone
binary, Numba's JIT); "repeated run" is the median of the following runs of
the already built network (``restore()`` + ``run()`` in Cython runtime mode,
a re-launch of the binary with a new seed in ``cpp_standalone``, a plain call
for Numba). Ratios are package / reference, measured in the same invocation.

Usage::

    python benchmarks/bench_reservoir.py --duration 10 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

_CHILD = r"""
import json, sys, time
variant, duration, repeats = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
t0 = time.perf_counter()
if variant == "numba":
    from spiking._numba_reference import izhikevich2003_numba as sim
    i, t = sim(duration, seed=0)
    first = time.perf_counter() - t0
    runs, rates = [], []
    for s in range(repeats):
        t1 = time.perf_counter(); i, t = sim(duration, seed=s + 1); runs.append(time.perf_counter() - t1)
        rates.append(float((i < 800).sum() / 800 / duration))
else:
    from spiking.reservoir import IzhikevichReservoir, preset
    res = IzhikevichReservoir(preset("izhikevich2003"), seed=0, backend=variant)
    res.run(duration)
    first = time.perf_counter() - t0
    runs, rates = [], []
    for s in range(repeats):
        t1 = time.perf_counter(); r = res.run(duration, seed=s + 1); runs.append(time.perf_counter() - t1)
        rates.append(r.mean_rate("exc"))
    res.close()
print(json.dumps({"first": first, "runs": runs, "rate_exc": rates}))
"""


def run_variant(variant: str, duration: float, repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(
            os.environ, NUMBA_CACHE_DIR=os.path.join(tmp, "numba"), NEUROPLAST_CACHE=os.path.join(tmp, "np")
        )
        # Brian2 keeps its Cython cache in a preference; point it at the empty dir.
        code = (
            "import brian2; brian2.prefs.codegen.runtime.cython.cache_dir = "
            f"{os.path.join(tmp, 'cython')!r}\n" + _CHILD
        )
        out = subprocess.run(
            [sys.executable, "-c", code, variant, str(duration), str(repeats)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=10.0, help="biological seconds per run")
    p.add_argument("--repeats", type=int, default=3, help="repeated runs after the first")
    p.add_argument("--variants", default="numba,cython,cpp_standalone")
    p.add_argument("--json", default=None, help="also write the results to this file")
    args = p.parse_args(argv)
    results = {}
    for v in args.variants.split(","):
        t = time.perf_counter()
        results[v] = run_variant(v, args.duration, args.repeats)
        results[v]["process_s"] = time.perf_counter() - t
    ref = results.get("numba")
    print(
        f"Izhikevich 2003 network, 1000 neurons, {args.duration:g} s biological time, "
        f"{args.repeats} repeated runs, {os.cpu_count()} cores"
    )
    print(
        f"{'variant':16s} {'first run (s)':>14s} {'repeated (s)':>13s} {'s per bio-s':>12s} "
        f"{'E rate (Hz)':>12s} {'first/ref':>10s} {'repeat/ref':>11s}"
    )
    for v, r in results.items():
        rep = sorted(r["runs"])[len(r["runs"]) // 2]
        r["repeated_median"] = rep
        line = (
            f"{v:16s} {r['first']:14.2f} {rep:13.3f} {rep / args.duration:12.4f} "
            f"{sum(r['rate_exc']) / len(r['rate_exc']):12.2f}"
        )
        if ref:
            ref_rep = sorted(ref["runs"])[len(ref["runs"]) // 2]
            r["ratio_first"] = r["first"] / ref["first"]
            r["ratio_repeated"] = rep / ref_rep
            line += f" {r['ratio_first']:10.2f} {r['ratio_repeated']:11.2f}"
        print(line)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
