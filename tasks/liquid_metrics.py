"""Measurements of liquid dynamics: branching factor, kernel quality, generalisation rank.

Branching factor (as defined by the NALSM reference code,
``compute_branching_factor.py`` / ``get_branching_factor.py``)
----------------------------------------------------------------
For every liquid neuron :math:`n` and every step :math:`t` at which it spikes
(within ``[buffer + w, T - buffer - w)``), count the *descendant* spikes of its
targets in the :math:`w` steps after it and the *ancestor* spikes of its
sources in the :math:`w` steps before it:

.. math::

    d_n(t) = \\sum_{m \\in \\mathrm{post}(n)} \\sum_{u=t+1}^{t+w} S_m(u), \\qquad
    a_n(t) = \\sum_{m \\in \\mathrm{pre}(n)} \\sum_{u=t-w}^{t-1} S_m(u),

    \\sigma_n = \\big\\langle d_n(t) / \\mathrm{clip}(a_n(t), 1, N w + 100) \\big\\rangle_t, \\qquad
    \\sigma = \\big\\langle \\mathrm{nanmean}_n\\, \\sigma_n \\big\\rangle_\\mathrm{samples}

with :math:`w = 4` ms, ``buffer`` = 25 ms (spikes in the first and last 25 ms of a
sample are discarded before counting) and only liquid-to-liquid connections.
Neurons that never spike in the window give NaN and are skipped (``nanmean``),
as in the reference. :math:`\\sigma \\approx 1` is critical, :math:`> 1`
super-critical.

*Chance level.* The measure is not 1 for activity without any propagation: for
independent spike trains :math:`d_n / a_n` is about the ratio of the
out-degree-weighted to the in-degree-weighted rates of ``n``'s neighbours, and
in the NALSM liquid inhibitory neurons have about three times more targets than
sources (``C`` = 0.3 I→E vs 0.1 E→I). :func:`branching_factor_chance` computes
the measure after circularly shifting every neuron's spike train within each
sample by an independent random offset, which keeps every neuron's rate and
inter-spike intervals and destroys the timing between neurons; the difference
between the two is what propagation contributes.

Kernel quality / generalisation rank (Legenstein & Maass 2007, as computed in
the reference's ``compute_SP_AP_kernel_quality_measures.py``)
-------------------------------------------------------------------------
The rank of the (n_neurons x n_samples) matrix of liquid spike counts for
``n_per_class`` randomly drawn samples of every class, averaged over random
draws. On clean inputs it measures separation (higher is better); on noisy
inputs (generalisation rank) lower is better.

References
----------
V. Ivanov and K. Michmizos, NeurIPS 2021; github.com/combra-lab/NALSM.
R. Legenstein and W. Maass, "Edge of chaos and prediction of computational
performance for neural circuit models", Neural Networks 20 (2007).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from plasticity_rules.validation import check_array, check_int, make_rng

__all__ = [
    "branching_factor",
    "branching_factor_reference",
    "branching_factor_chance",
    "matrix_rank",
    "matrix_rank_reference",
    "kernel_quality",
    "accuracy",
    "confusion_matrix",
]


def _csr(rows, cols, n):
    order = np.argsort(rows, kind="stable")
    counts = np.bincount(rows, minlength=n)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr, np.ascontiguousarray(cols[order], dtype=np.int64)


@njit(cache=True)
def _bf_samples(
    samples, steps, neurons, n_samples, n_neurons, n_steps, src_ptr, src_idx, tgt_ptr, tgt_idx, window, buffer
):
    """Per-sample branching factors and per-(sample, neuron) averages; spikes sorted by sample."""
    clip_hi = n_neurons * window + 100.0
    per_sample = np.full(n_samples, np.nan)
    per_neuron = np.full((n_samples, n_neurons), np.nan)
    raster = np.zeros((n_steps, n_neurons), dtype=np.uint8)
    cum = np.zeros((n_steps + 1, n_neurons), dtype=np.int64)
    k = 0
    n_spk = samples.shape[0]
    for smp in range(n_samples):
        raster[:, :] = 0
        while k < n_spk and samples[k] < smp:
            k += 1
        while k < n_spk and samples[k] == smp:
            t = steps[k]
            if buffer <= t < n_steps - buffer:
                raster[t, neurons[k]] = 1
            k += 1
        for t in range(n_steps):
            for n in range(n_neurons):
                cum[t + 1, n] = cum[t, n] + raster[t, n]
        total = 0.0
        valid = 0
        for n in range(n_neurons):
            acc = 0.0
            cnt = 0
            for t in range(buffer + window, n_steps - buffer - window):
                if raster[t, n] == 0:
                    continue
                pre = 0.0
                for q in range(src_ptr[n], src_ptr[n + 1]):
                    m = src_idx[q]
                    pre += cum[t, m] - cum[t - window, m]
                post = 0.0
                for q in range(tgt_ptr[n], tgt_ptr[n + 1]):
                    m = tgt_idx[q]
                    post += cum[t + 1 + window, m] - cum[t + 1, m]
                if pre < 1.0:
                    pre = 1.0
                elif pre > clip_hi:
                    pre = clip_hi
                acc += post / pre
                cnt += 1
            if cnt > 0:
                per_neuron[smp, n] = acc / cnt
                total += acc / cnt
                valid += 1
        if valid > 0:
            per_sample[smp] = total / valid
    return per_sample, per_neuron


def _check_bf_inputs(samples, steps, neurons, n_samples, n_neurons, n_steps, pre, post, window, buffer):
    n_samples = check_int("n_samples", n_samples, minimum=1)
    n_neurons = check_int("n_neurons", n_neurons, minimum=1)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    window = check_int("window", window, minimum=1)
    buffer = check_int("buffer", buffer, minimum=0)
    samples = check_array("samples", samples, ndim=1, dtype=np.int64, allow_empty=True)
    steps = check_array("steps", steps, ndim=1, dtype=np.int64, allow_empty=True)
    neurons = check_array("neurons", neurons, ndim=1, dtype=np.int64, allow_empty=True)
    if not (samples.shape == steps.shape == neurons.shape):
        raise ValueError(
            f"samples, steps and neurons must have the same length, got {samples.shape}, {steps.shape}, "
            f"{neurons.shape}"
        )
    pre = check_array("pre", pre, ndim=1, dtype=np.int64, allow_empty=True)
    post = check_array("post", post, ndim=1, dtype=np.int64, allow_empty=True)
    if pre.shape != post.shape:
        raise ValueError(f"pre and post must have the same length, got {pre.shape} and {post.shape}")
    for name, arr, hi in (
        ("samples", samples, n_samples),
        ("steps", steps, n_steps),
        ("neurons", neurons, n_neurons),
        ("pre", pre, n_neurons),
        ("post", post, n_neurons),
    ):
        if arr.size and (arr.min() < 0 or arr.max() >= hi):
            raise ValueError(f"{name} must lie in [0, {hi}), got values in [{arr.min()}, {arr.max()}]")
    return samples, steps, neurons, n_samples, n_neurons, n_steps, pre, post, window, buffer


def branching_factor(
    samples,
    steps,
    neurons,
    n_samples,
    n_neurons,
    n_steps,
    pre,
    post,
    *,
    window=4,
    buffer=25,
    return_details=False,
):
    """Branching factor of a liquid, exactly as the NALSM reference defines it.

    Parameters
    ----------
    samples, steps, neurons : array_like of int, shape (n_spikes,)
        Sample index, time step within the sample (0-based, 1 step = 1 ms) and
        liquid-neuron index of every spike.
    n_samples, n_neurons, n_steps : int
        Number of samples, liquid neurons and steps per sample.
    pre, post : array_like of int, shape (n_synapses,)
        Liquid-to-liquid connections (source, target).
    window : int
        Width :math:`w` of the ancestor/descendant windows in steps (4).
    buffer : int
        Steps discarded at both ends of each sample (25).
    return_details : bool
        Also return the per-sample values and the (n_samples, n_neurons) per-neuron averages.

    Returns
    -------
    float
        ``nanmean`` over samples of the per-sample ``nanmean`` over neurons (NaN if no neuron spiked).
    """
    args = _check_bf_inputs(samples, steps, neurons, n_samples, n_neurons, n_steps, pre, post, window, buffer)
    samples, steps, neurons, n_samples, n_neurons, n_steps, pre, post, window, buffer = args
    per_sample, per_neuron = _BFInputs(samples, neurons, n_samples, n_neurons, n_steps, pre, post).run(
        steps, window, buffer
    )
    value = _nanmean_or_nan(per_sample)
    if return_details:
        return value, per_sample, per_neuron
    return value


def _nanmean_or_nan(x):
    return float(np.nanmean(x)) if np.any(np.isfinite(x)) else float("nan")


class _BFInputs:
    """Validated spikes sorted by sample plus the connectivity in CSR form, built once.

    :func:`branching_factor_chance` evaluates many surrogates that differ only in
    their spike steps; the sort order (by sample) and the CSR tables stay the same.
    """

    def __init__(self, samples, neurons, n_samples, n_neurons, n_steps, pre, post):
        self.order = np.argsort(samples, kind="stable")
        self.samples, self.neurons = samples[self.order], neurons[self.order]
        self.n_samples, self.n_neurons, self.n_steps = n_samples, n_neurons, n_steps
        self.src = _csr(post, pre, n_neurons)  # sources of each target neuron
        self.tgt = _csr(pre, post, n_neurons)  # targets of each source neuron

    def run(self, steps, window, buffer):
        """(per_sample, per_neuron) of :func:`_bf_samples` for ``steps`` in the caller's spike order."""
        return _bf_samples(
            self.samples,
            steps[self.order],
            self.neurons,
            self.n_samples,
            self.n_neurons,
            self.n_steps,
            *self.src,
            *self.tgt,
            window,
            buffer,
        )


def branching_factor_reference(
    samples,
    steps,
    neurons,
    n_samples,
    n_neurons,
    n_steps,
    pre,
    post,
    *,
    window=4,
    buffer=25,
    return_details=False,
):
    """Direct NumPy port of the reference algorithm (``np.where`` per spike); slow, for tests."""
    args = _check_bf_inputs(samples, steps, neurons, n_samples, n_neurons, n_steps, pre, post, window, buffer)
    samples, steps, neurons, n_samples, n_neurons, n_steps, pre, post, window, buffer = args
    sources = [pre[post == n] for n in range(n_neurons)]
    targets = [post[pre == n] for n in range(n_neurons)]
    start, end = buffer, n_steps - buffer
    clip_hi = n_neurons * window + 100
    per_sample = np.full(n_samples, np.nan)
    per_neuron = np.full((n_samples, n_neurons), np.nan)
    for smp in range(n_samples):
        keep = (samples == smp) & (steps >= start) & (steps < end)
        # the reference keeps one entry per (step, neuron): spikes are binary per step
        pairs = np.unique(np.stack([steps[keep], neurons[keep]], axis=1), axis=0)
        ft, fn = pairs[:, 0], pairs[:, 1]
        vals = []
        for n in range(n_neurons):
            ratios = []
            for t in range(start + window, end - window):
                if not np.any((ft == t) & (fn == n)):
                    continue
                before = fn[(ft >= t - window) & (ft < t)]
                after = fn[(ft >= t + 1) & (ft < t + 1 + window)]
                a = sum(int(np.sum(before == m)) for m in sources[n])
                d = sum(int(np.sum(after == m)) for m in targets[n])
                ratios.append(d / np.clip(a, 1, clip_hi))
            if ratios:
                per_neuron[smp, n] = np.mean(ratios)
            vals.append(per_neuron[smp, n])
        if np.any(np.isfinite(vals)):
            per_sample[smp] = np.nanmean(vals)
    value = _nanmean_or_nan(per_sample)
    if return_details:
        return value, per_sample, per_neuron
    return value


def branching_factor_chance(
    samples,
    steps,
    neurons,
    n_samples,
    n_neurons,
    n_steps,
    pre,
    post,
    *,
    window=4,
    buffer=25,
    n_shuffles=5,
    seed=None,
):
    """Branching factor of the same spikes with the timing between neurons destroyed.

    Every neuron's spike train in every sample is shifted circularly by an
    independent uniform offset in ``[0, n_steps)``; the result is the mean of
    :func:`branching_factor` over ``n_shuffles`` such surrogates (see the module
    docstring). Arguments are as in :func:`branching_factor`.
    """
    args = _check_bf_inputs(samples, steps, neurons, n_samples, n_neurons, n_steps, pre, post, window, buffer)
    samples, steps, neurons, n_samples, n_neurons, n_steps, pre, post, window, buffer = args
    check_int("n_shuffles", n_shuffles, minimum=1)
    rng = make_rng(seed)
    bf = _BFInputs(samples, neurons, n_samples, n_neurons, n_steps, pre, post)
    values = []
    for _ in range(n_shuffles):
        shift = rng.integers(0, n_steps, (n_samples, n_neurons))
        per_sample, _ = bf.run((steps + shift[samples, neurons]) % n_steps, window, buffer)
        values.append(_nanmean_or_nan(per_sample))
    return _nanmean_or_nan(values)


def matrix_rank(M) -> int:
    """Numerical rank of ``M`` (shape (m, n)) with NumPy's default tolerance ``s_max * max(m, n) * eps``.

    ``M`` must be finite (a NaN or inf state has no rank; ``ValueError`` names it).
    """
    M = check_array("matrix", M, ndim=2, allow_empty=True)
    return int(_matrix_rank_kernel(np.ascontiguousarray(M)))


@njit(cache=True)
def _matrix_rank_kernel(M):
    """Numba kernel of :func:`matrix_rank` (finite, C-contiguous float64 input)."""
    if M.shape[0] == 0 or M.shape[1] == 0:
        return 0
    s = np.linalg.svd(M)[1]
    tol = s.max() * max(M.shape[0], M.shape[1]) * np.finfo(np.float64).eps
    r = 0
    for v in s:
        if v > tol:
            r += 1
    return r


def matrix_rank_reference(M):
    """NumPy twin of :func:`matrix_rank`."""
    M = check_array("matrix", M, ndim=2, allow_empty=True)
    if M.size == 0:
        return 0
    return int(np.linalg.matrix_rank(M))


def kernel_quality(states, labels, *, n_per_class=100, n_draws=20, seed=None):
    """Mean rank of liquid-state matrices over random class-balanced draws.

    Parameters
    ----------
    states : array_like, shape (n_samples, n_neurons)
        Liquid spike counts (clean inputs: kernel quality / separation rank;
        noisy inputs: generalisation rank).
    labels : array_like of int, shape (n_samples,)
        Class of each sample.
    n_per_class : int
        Samples drawn per class for one matrix (the reference uses 100).
        Classes with fewer samples contribute all they have.
    n_draws : int
        Number of random draws averaged (the reference uses 1000).
    seed : int, Generator or None

    Returns
    -------
    float
        Average rank of the (n_neurons, n_drawn) matrices.
    """
    states = check_array("states", states, ndim=2)
    labels = check_array("labels", labels, ndim=1, dtype=np.int64)
    if labels.shape[0] != states.shape[0]:
        raise ValueError(
            f"labels must have one entry per state row ({states.shape[0]}), got {labels.shape[0]}"
        )
    n_per_class = check_int("n_per_class", n_per_class, minimum=1)
    n_draws = check_int("n_draws", n_draws, minimum=1)
    rng = make_rng(seed)
    classes = np.unique(labels)
    by_class = [np.flatnonzero(labels == c) for c in classes]
    ranks = []
    for _ in range(n_draws):
        idx = np.concatenate([rng.permutation(ix)[:n_per_class] for ix in by_class])
        ranks.append(_matrix_rank_kernel(np.ascontiguousarray(states[idx].T)))
    return float(np.mean(ranks))


def accuracy(y_true, y_pred) -> float:
    """Fraction of equal entries."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D of equal length, got {y_true.shape} and {y_pred.shape}"
        )
    if y_true.size == 0:
        raise ValueError("y_true must not be empty")
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """``C[i, j]`` = number of samples of class ``i`` predicted as ``j``; shape (n_classes, n_classes)."""
    n_classes = check_int("n_classes", n_classes, minimum=1)
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have equal shapes, got {y_true.shape} and {y_pred.shape}")
    for name, arr in (("y_true", y_true), ("y_pred", y_pred)):
        if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
            raise ValueError(f"{name} must lie in [0, {n_classes}), got values in [{arr.min()}, {arr.max()}]")
    C = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(C, (y_true, y_pred), 1)
    return C
