"""Train one network on a continual-learning stream with a strategy, evaluating as it learns.

:func:`train_stream` is the loop every method shares (the methods differ only in the
:class:`~plasticity_rules.cl_strategies.Strategy` hooks it calls). The network is
passed in, so this module needs only its interface: ``layer_sizes``,
``forward(X) -> pass`` with ``pass.traces`` (the presynaptic traces of every layer),
``backward(pass, y, mask) -> (deltas, _)``, ``apply_update(deltas, traces, lr)``,
``weights`` and ``accuracy(X, y, class_mask)`` (as :class:`spiking.feedforward.FeedforwardSNN`).

Evaluation follows De Lange et al., "Continual evaluation for lifelong learning:
identifying the stability gap" (ICLR 2023): every ``eval_every`` iterations, all tasks
seen so far are evaluated on up to ``eval_samples`` test samples; after each task the
full test sets fill the accuracy matrix ``R`` (Lopez-Paz & Ranzato 2017), from which
:func:`tasks.cl_metrics.summarize` computes ACC, BWT, FWT, forgetting, min-ACC and WC-ACC.
"""

from __future__ import annotations

import time

import numpy as np

from plasticity_rules.validation import check_int, check_positive, make_rng

from . import cl_metrics
from .continual import TaskStream

__all__ = ["train_stream"]


def _batches(n, batch_size, rng):
    idx = rng.permutation(n)
    return [idx[i : i + batch_size] for i in range(0, n, batch_size)]


def train_stream(
    stream: TaskStream,
    net,
    strategy,
    *,
    epochs: int = 3,
    batch_size: int = 32,
    lr: float = 0.02,
    eval_every: int = 5,
    eval_samples: int = 100,
    seed=None,
    progress: bool = False,
) -> dict:
    """Train ``net`` on every task of ``stream`` in turn with ``strategy``; return matrices and curves.

    BLAS runs single-threaded inside: the matrices are small and a multithreaded
    BLAS on a shared 2-core machine was measured 10-20x slower.

    Parameters
    ----------
    stream : TaskStream
    net : network (see the module docstring)
    strategy : plasticity_rules.cl_strategies.Strategy
    epochs : int
        Passes over each task's training data (the strategy chooses the data).
    batch_size : int
    lr : float
        Learning rate of the network weights.
    eval_every, eval_samples : int
        Continual evaluation: every ``eval_every`` iterations, on up to ``eval_samples``
        test samples of every task seen so far.
    seed : int, Generator or None
        Batches, evaluation subsets and the strategy's draws (pass the generator that
        built ``net`` to reproduce a run from one seed).
    progress : bool

    Returns
    -------
    dict
        ``R`` (T, T), ``baseline`` (T,), ``curve`` (n_evals, T; NaN for unseen tasks),
        ``phase`` (n_evals,), ``iteration`` (n_evals,), ``metrics``, ``timing``
        (seconds per batch in the network update and in the protection), and the
        strategy's ``summary()`` entries.
    """
    from threadpoolctl import threadpool_limits

    if not isinstance(stream, TaskStream):
        raise ValueError(f"stream must be a TaskStream, got {type(stream).__name__}")
    for name, value in (
        ("epochs", epochs),
        ("batch_size", batch_size),
        ("eval_every", eval_every),
        ("eval_samples", eval_samples),
    ):
        check_int(name, value, minimum=1)
    check_positive("lr", lr)
    with threadpool_limits(limits=1, user_api="blas"):
        return _train(
            stream, net, strategy, epochs, batch_size, lr, eval_every, eval_samples, make_rng(seed), progress
        )


def _train(stream, net, strategy, epochs, batch_size, lr, eval_every, eval_samples, rng, progress):
    T = len(stream)
    strategy.before_training(net.layer_sizes, T, rng)
    # task-incremental: every task has its own output rows (a multi-head classifier, only the
    # current task's rows receive errors), so the output layer needs no protection, as with the
    # separate heads of the reference; other scenarios share the output layer and protect it
    n_protected = 2 if stream.scenario == "task" else 3
    eval_idx = [rng.permutation(len(e.y_test))[:eval_samples] for e in stream]

    def evaluate(tasks, full=False):
        acc = np.full(T, np.nan)
        for j in tasks:
            e = stream[j]
            X, y = (e.X_test, e.y_test) if full else (e.X_test[eval_idx[j]], e.y_test[eval_idx[j]])
            acc[j] = net.accuracy(X, y, stream.class_mask(j))
        return acc

    baseline = evaluate(range(T), full=True)
    R = np.zeros((T, T))
    curve, phase, iteration = [], [], []
    t_net = t_protect = 0.0
    n_batches_total = 0
    it = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=T * epochs, desc=f"continual {strategy.name or type(strategy).__name__}", unit="epoch"
        )
    masks = np.stack([stream.class_mask(j) for j in range(T)]) if stream.scenario == "task" else None
    for t, exp in enumerate(stream):
        strategy.before_experience(t)
        Xs, ys, owner = strategy.training_data(t, stream)
        n_iter = epochs * int(np.ceil(len(ys) / batch_size))
        strategy.plan_experience(t, len(ys), n_iter, batch_size)
        batches = []
        while len(batches) < n_iter:
            batches += _batches(len(ys), batch_size, rng)
        for bi, b in enumerate(batches[:n_iter]):
            t0 = time.perf_counter()
            mask = None if masks is None else masks[owner[b]]
            fp = net.forward(Xs[b])
            deltas, _ = net.backward(fp, ys[b], mask)
            t1 = time.perf_counter()
            traces = strategy.project(t, fp.traces, n_protected)
            t2 = time.perf_counter()
            net.apply_update(deltas, traces, lr)
            t3 = time.perf_counter()
            strategy.after_update(t, net, fp, lr)
            t4 = time.perf_counter()
            t_net += (t1 - t0) + (t3 - t2)
            t_protect += (t2 - t1) + (t4 - t3)
            n_batches_total += 1
            it += 1
            if it % eval_every == 0:
                curve.append(evaluate(range(t + 1)))
                phase.append(t)
                iteration.append(it)
            if bar is not None and (bi + 1) % max(n_iter // epochs, 1) == 0:
                bar.update(1)
        R[t] = evaluate(range(T), full=True)
        curve.append(evaluate(range(t + 1)))
        phase.append(t)
        iteration.append(it)
        strategy.after_experience(t, exp, net, stream.class_mask(t), rng)
    if bar is not None:
        bar.close()
    curve.append(evaluate(range(T)))
    phase.append(T)
    iteration.append(it)
    curve = np.array(curve)
    phase = np.array(phase)
    return {
        "R": R,
        "baseline": baseline,
        "curve": curve,
        "phase": phase,
        "iteration": np.array(iteration),
        "metrics": cl_metrics.summarize(R, curve, phase, baseline),
        "timing": {
            "net_s_per_batch": t_net / max(n_batches_total, 1),
            "protect_s_per_batch": t_protect / max(n_batches_total, 1),
        },
        **strategy.summary(),
    }
