"""Cost per training batch of HLOP against the exact SVD projection and the unprotected update.

All measured in the same run, on the default network of ``neuroplast run
continual`` (784-256-256-10 LIF, 10 steps, batch 32) at a later task (the
protected subspace already holds ``n_old`` directions per layer and
``n_new`` neurons of the current task are learning):

* ``unprotected``: forward pass, DSR backward pass and weight update (the
  fine-tuning step);
* ``hlop``: the same step plus, per layer, the projection of the traces onto
  the complement of the old neurons' subspace and ``iterations`` Oja updates of
  the lateral neurons (what HLOP adds to every batch);
* ``exact``: the same step plus the exact projection with a stored SVD basis;
  the SVD itself runs once per task (``svd_per_task_s``), reported also as a
  per-batch amortised cost over one task's batches, and as the cost of
  recomputing it every batch (``exact_svd_every_batch``, the naive exact
  alternative to a running Hebbian estimate).

Usage::

    python benchmarks/bench_hlop.py [--repeats 50] [--n-old 100] [--n-new 20]

Prints one JSON object: seconds per batch and ratios to the unprotected step,
as wall time and as process CPU time (the latter is less distorted when other
processes share the cores). BLAS is limited to one thread.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

from plasticity_rules.hlop import HLOPConfig, HLOPLayer
from plasticity_rules.projection import ExactSubspaceProjector
from spiking.feedforward import FeedforwardConfig, FeedforwardSNN


def _time(fn, repeats):
    """Best of three: wall seconds per call, and process CPU seconds per call in that round.

    CPU time is reported too because on a shared machine the wall time also counts
    the time other processes hold the core.
    """
    fn()  # warm-up (JIT)
    rounds = []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            fn()
        rounds.append(((time.perf_counter() - t0) / repeats, (time.process_time() - c0) / repeats))
    return min(rounds)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--n-old", type=int, default=100, help="protected directions per layer")
    ap.add_argument("--n-new", type=int, default=20, help="learning subspace neurons per layer")
    ap.add_argument("--iterations", type=int, default=5, help="Oja updates per batch")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--task-samples", type=int, default=1437,
                    help="training samples per task (for amortising)")
    ap.add_argument("--svd-samples", type=int, default=500, help="samples in the SVD representation matrix")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    net = FeedforwardSNN(784, 10, FeedforwardConfig(n_hidden=(256, 256), n_steps=10), seed=rng)
    X = rng.random((args.batch, 784))
    y = rng.integers(0, 10, args.batch)
    Xrep = rng.random((args.svd_samples, 784))
    reps = net.forward(Xrep).traces
    dims = net.layer_sizes[:-1]

    hlops = []
    exact = []
    for n, A in zip(dims, reps, strict=True):
        h = HLOPLayer(n, HLOPConfig(iterations=args.iterations), seed=rng)
        h.add_subspace(args.n_old).consolidate().add_subspace(args.n_new)
        hlops.append(h)
        exact.append(ExactSubspaceProjector(n).add_task(A, n_components=args.n_old))

    def step(project=None, hebbian=False):
        fp = net.forward(X)
        deltas, _ = net.backward(fp, y)
        traces = fp.traces if project is None else [project(i, x) for i, x in enumerate(fp.traces)]
        net.apply_update(deltas, traces, 1e-6)
        if hebbian:
            for h, x in zip(hlops, fp.traces, strict=True):
                h.update(x)

    def svd_all():
        return [ExactSubspaceProjector(n).add_task(A, n_components=args.n_old)
                for n, A in zip(dims, reps, strict=True)]

    def exact_every_batch():
        projs = svd_all()
        step(lambda i, x: projs[i].project(x))

    with threadpool_limits(limits=1, user_api="blas"):
        w_plain, c_plain = _time(step, args.repeats)
        w_hlop, c_hlop = _time(lambda: step(lambda i, x: hlops[i].project(x), hebbian=True), args.repeats)
        w_hlop_proj, c_hlop_proj = _time(lambda: step(lambda i, x: hlops[i].project(x)), args.repeats)
        w_exact, c_exact = _time(lambda: step(lambda i, x: exact[i].project(x)), args.repeats)
        w_svd, c_svd = _time(svd_all, max(args.repeats // 10, 3))
        w_every, c_every = _time(exact_every_batch, max(args.repeats // 10, 3))
    batches_per_task = int(np.ceil(args.task_samples / args.batch))
    out = {"config": vars(args)}
    for label, (t_plain, t_hlop, t_hlop_proj, t_exact, t_svd, t_exact_every) in (
        ("wall", (w_plain, w_hlop, w_hlop_proj, w_exact, w_svd, w_every)),
        ("cpu", (c_plain, c_hlop, c_hlop_proj, c_exact, c_svd, c_every)),
    ):
        out[label] = _report(t_plain, t_hlop, t_hlop_proj, t_exact, t_svd, t_exact_every, batches_per_task)
    print(json.dumps(out, indent=2))
    return out


def _report(t_plain, t_hlop, t_hlop_proj, t_exact, t_svd, t_exact_every, batches_per_task):
    return {
        "unprotected_s_per_batch": t_plain,
        "hlop_s_per_batch": t_hlop,
        "hlop_projection_only_s_per_batch": t_hlop_proj,
        "hlop_hebbian_s_per_batch": t_hlop - t_hlop_proj,
        "exact_projection_s_per_batch": t_exact,
        "svd_per_task_s": t_svd,
        "exact_amortised_s_per_batch": t_exact + t_svd / batches_per_task,
        "exact_svd_every_batch_s_per_batch": t_exact_every,
        "ratio_hlop_to_unprotected": t_hlop / t_plain,
        "ratio_exact_amortised_to_unprotected": (t_exact + t_svd / batches_per_task) / t_plain,
        "ratio_exact_svd_every_batch_to_unprotected": t_exact_every / t_plain,
        "ratio_hlop_to_exact_amortised": t_hlop / (t_exact + t_svd / batches_per_task),
    }


if __name__ == "__main__":
    main()
