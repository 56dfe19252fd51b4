"""Readout learning speed: Numba kernels against their NumPy references, same run, same data.

Setting of the issue: 1000 reservoir units, 4 readouts (1 "when" + 3 "what"),
recorded states replayed through

* ``three_factor``: :func:`plasticity_rules.three_factor.three_factor_train`
  ("when" online, "what" offline with a consolidation every 100 steps) against
  :func:`~plasticity_rules.three_factor.three_factor_train_reference`;
* ``force``: :func:`plasticity_rules.force.force_rls_train` (update every step)
  against :func:`~plasticity_rules.force.force_rls_train_reference`.

Both sides run single-threaded (BLAS limited to one thread), so the ratio
compares implementations, not core counts. A "readout update" is one time step
of one readout (its ``n_units`` weights). Then, unless ``--skip-sim``, the whole
``neuroplast run whatwhen`` at its defaults is timed (reservoir simulation,
state extraction and the four readouts).

Usage::

    python benchmarks/bench_readouts.py [--n-units 1000] [--steps 3000] [--force-steps 400] [--skip-sim]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from plasticity_rules.force import force_rls_train, force_rls_train_reference
from plasticity_rules.three_factor import three_factor_train, three_factor_train_reference


def _best(fn, repeats=3):
    fn()  # warm-up (JIT compile / cache load)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-units", type=int, default=1000)
    ap.add_argument("--n-readouts", type=int, default=4)
    ap.add_argument("--steps", type=int, default=3000, help="steps for the three-factor rule")
    ap.add_argument("--force-steps", type=int, default=400, help="steps for FORCE (O(N^2) per step)")
    ap.add_argument("--skip-sim", action="store_true", help="do not time `neuroplast run whatwhen`")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    try:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(1)
    except ImportError:  # pragma: no cover
        limiter = None

    rng = np.random.default_rng(args.seed)
    n, k = args.n_units, args.n_readouts
    X = rng.random((args.steps, n)) / np.sqrt(n)
    Y = rng.random((args.steps, k))
    G = np.ones((args.steps, k))
    eta = np.full(k, 0.01)
    online = np.array([True] + [False] * (k - 1))
    seg = np.zeros(args.steps, bool)
    seg[99::100] = True
    W0, b0 = np.zeros((k, n)), np.zeros(k)
    tf_args = (W0, b0, X, Y, G, eta, 0.5, online, seg, np.zeros(n), np.zeros((k, n)), np.zeros(k), True)
    res = {"n_units": n, "n_readouts": k}

    t_nb = _best(lambda: three_factor_train(*tf_args))
    t_np = _best(lambda: three_factor_train_reference(*tf_args), repeats=1)
    np.testing.assert_allclose(
        three_factor_train(*tf_args)[0], three_factor_train_reference(*tf_args)[0], rtol=1e-9, atol=1e-12
    )
    res["three_factor"] = {
        "steps": args.steps,
        "numba_s": t_nb,
        "numpy_s": t_np,
        "numba_readout_updates_per_s": args.steps * k / t_nb,
        "numpy_readout_updates_per_s": args.steps * k / t_np,
        "speedup": t_np / t_nb,
    }

    m = args.force_steps
    Xf, Yf = X[:m] * np.sqrt(n), Y[:m]
    P0 = np.eye(n)
    reset = np.zeros(m, bool)
    learn = np.ones(m, bool)
    f_args = (W0, P0, Xf, Yf, 1.0, 1, 0, reset, learn)
    t_nb = _best(lambda: force_rls_train(*f_args))
    t_np = _best(lambda: force_rls_train_reference(*f_args), repeats=1)
    np.testing.assert_allclose(
        force_rls_train(*f_args)[0], force_rls_train_reference(*f_args)[0], rtol=1e-6, atol=1e-9
    )
    res["force"] = {
        "steps": m,
        "numba_s": t_nb,
        "numpy_s": t_np,
        "numba_readout_updates_per_s": m * k / t_nb,
        "numpy_readout_updates_per_s": m * k / t_np,
        "speedup": t_np / t_nb,
    }
    if limiter is not None:
        limiter.restore_original_limits()

    if not args.skip_sim:
        from sims.runner import execute

        t0 = time.perf_counter()
        s = execute("whatwhen", {}, seed=args.seed)
        res["run_whatwhen"] = {
            "wall_s": time.perf_counter() - t0,
            "simulated_s": s["simulated_s"],
            "n_neurons": s["n_neurons"],
            "build_s": s["build_s"],
            "reservoir_s": s["reservoir_s"],
            "states_s": s["states_s"],
            "readout_train_s": s["readout_train_s"],
        }
    print(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
