"""Trace-based STDP of the NALSM liquid (Ivanov & Michmizos, NeurIPS 2021).

Every neuron ``j`` (input and liquid) keeps one presynaptic/postsynaptic trace
updated once per time step from its spike indicator :math:`S_j(t) \\in \\{0, 1\\}`:

.. math::

    x_j(t) = \\gamma_x \\left( x_j(t-1) + a\\, S_j(t) \\right), \\qquad
    \\gamma_x = e^{-\\Delta t / \\tau_x}

(``a = 0.1``, :math:`\\tau_x = 10` ms in the reference code). A synapse
``pre -> post`` with weight :math:`w` changes, in the same step and *before*
the traces are updated, by

.. math::

    \\Delta w = \\lambda_1(\\mathrm{pre})\\, x_\\mathrm{pre}\\, S_\\mathrm{post}
              + \\lambda_2(\\mathrm{pre})\\, x_\\mathrm{post}\\, S_\\mathrm{pre}, \\qquad
    (\\lambda_1, \\lambda_2) =
    \\begin{cases} (\\eta_+, -A) & \\text{excitatory or input presynaptic neuron} \\\\
                   (-A, \\eta_+) & \\text{inhibitory presynaptic neuron} \\end{cases}

followed by clipping to the synapse's class bounds (``[0, w_max]`` for
excitatory, ``[-w_max, 0]`` for inhibitory, ``[-w_max, w_max]`` for input
synapses). :math:`\\eta_+` is the potentiation rate and :math:`A` the
depression rate: a constant :math:`A = \\eta_+` gives plain STDP (the
reference's ``STDP_PURE``), while NALSM sets :math:`A` from the astrocyte
(:mod:`plasticity_rules.astrocyte`). For inhibitory presynaptic neurons the
signs are reversed, as in the reference: a causal pairing makes the (negative)
weight more negative by :math:`A x_\\mathrm{pre}`.

These kernels are the ground truth for the Brian2 liquid
(:mod:`spiking.liquid.brian2`) and for the hand-written Numba liquid
(:mod:`spiking.liquid.numba`).

References
----------
V. Ivanov and K. Michmizos, "Increasing Liquid State Machine Performance with
Edge-of-Chaos Dynamics Organized by Astrocyte-modulated Plasticity", NeurIPS
2021; reference code github.com/combra-lab/NALSM (``NALSM_STDP.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "trace_decay",
    "stdp_trace_update",
    "stdp_trace_update_reference",
    "stdp_weight_update",
    "stdp_weight_update_reference",
    "stdp_weight_update_events",
    "csr_by_row",
]


def trace_decay(tau_trace: float, dt: float = 1.0) -> float:
    """Per-step trace multiplier :math:`\\gamma_x = e^{-\\Delta t/\\tau_x}` (same units for both)."""
    if not (tau_trace > 0 and dt > 0):
        raise ValueError(f"tau_trace and dt must be > 0, got tau_trace={tau_trace!r}, dt={dt!r}")
    return float(np.exp(-dt / tau_trace))


@njit(cache=True)
def stdp_trace_update(trace, spikes, a, decay):
    """Return :math:`\\gamma_x (x + a S)`; ``trace`` and ``spikes`` have shape ``(n_neurons,)``."""
    out = np.empty_like(trace)
    for i in range(trace.shape[0]):
        out[i] = decay * (trace[i] + a * spikes[i])
    return out


def stdp_trace_update_reference(trace, spikes, a, decay):
    """NumPy twin of :func:`stdp_trace_update`."""
    return decay * (np.asarray(trace, dtype=np.float64) + a * np.asarray(spikes, dtype=np.float64))


@njit(cache=True)
def stdp_weight_update(w, pre, post, spikes, trace, pre_inhibitory, eta, A, w_min, w_max):
    """One step of the NALSM STDP rule on all synapses (dense form).

    Parameters
    ----------
    w, w_min, w_max : ndarray, shape (n_synapses,)
        Weights and their per-synapse clipping bounds.
    pre, post : ndarray of int, shape (n_synapses,)
        Presynaptic and postsynaptic neuron index of every synapse.
    spikes, trace : ndarray, shape (n_neurons,)
        Spike indicator of this step and traces *before* this step's update.
    pre_inhibitory : ndarray of bool, shape (n_neurons,)
        True for inhibitory neurons (signs of the rule reversed).
    eta, A : float
        Potentiation and depression rates.

    Returns
    -------
    ndarray, shape (n_synapses,)
        Updated, clipped weights.
    """
    out = np.empty_like(w)
    for s in range(w.shape[0]):
        i = pre[s]
        j = post[s]
        if pre_inhibitory[i]:
            l1 = -A
            l2 = eta
        else:
            l1 = eta
            l2 = -A
        v = w[s] + l1 * trace[i] * spikes[j] + l2 * trace[j] * spikes[i]
        if v < w_min[s]:
            v = w_min[s]
        elif v > w_max[s]:
            v = w_max[s]
        out[s] = v
    return out


def stdp_weight_update_reference(w, pre, post, spikes, trace, pre_inhibitory, eta, A, w_min, w_max):
    """NumPy twin of :func:`stdp_weight_update` (vectorised over synapses)."""
    pre = np.asarray(pre)
    post = np.asarray(post)
    spikes = np.asarray(spikes, dtype=np.float64)
    trace = np.asarray(trace, dtype=np.float64)
    inh = np.asarray(pre_inhibitory, dtype=bool)[pre]
    l1 = np.where(inh, -A, eta)
    l2 = np.where(inh, eta, -A)
    new = np.asarray(w, dtype=np.float64) + l1 * trace[pre] * spikes[post] + l2 * trace[post] * spikes[pre]
    return np.clip(new, w_min, w_max)


def csr_by_row(rows: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(ptr, order)`` so that synapses ``order[ptr[r]:ptr[r+1]]`` have ``rows == r``."""
    rows = np.asarray(rows, dtype=np.int64)
    order = np.argsort(rows, kind="stable").astype(np.int64)
    counts = np.bincount(rows, minlength=n_rows)
    ptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr, order


@njit(cache=True)
def stdp_weight_update_events(
    w,
    pre,
    post,
    spiking,
    is_spiking,
    trace,
    pre_inhibitory,
    eta,
    A,
    w_min,
    w_max,
    out_ptr,
    out_syn,
    in_ptr,
    in_syn,
):
    """Event-driven form of :func:`stdp_weight_update`, updating ``w`` in place.

    Only synapses whose presynaptic or postsynaptic neuron spiked this step are
    touched (the others have :math:`\\Delta w = 0` and are already within their
    bounds), which is what a simulation uses every step.

    Parameters
    ----------
    spiking : ndarray of int
        Indices of the neurons that spiked this step.
    is_spiking : ndarray of bool, shape (n_neurons,)
        Spike indicator of this step.
    out_ptr, out_syn : ndarray of int
        CSR of synapses by presynaptic neuron (:func:`csr_by_row` of ``pre``).
    in_ptr, in_syn : ndarray of int
        CSR of synapses by postsynaptic neuron (:func:`csr_by_row` of ``post``).
    Other parameters are as in :func:`stdp_weight_update`.
    """
    for k in range(spiking.shape[0]):
        n = spiking[k]
        # n is presynaptic: depression term (and the potentiation term if post also spiked)
        for q in range(out_ptr[n], out_ptr[n + 1]):
            s = out_syn[q]
            j = post[s]
            if pre_inhibitory[n]:
                l1 = -A
                l2 = eta
            else:
                l1 = eta
                l2 = -A
            v = w[s] + l2 * trace[j]
            if is_spiking[j]:
                v += l1 * trace[n]
            if v < w_min[s]:
                v = w_min[s]
            elif v > w_max[s]:
                v = w_max[s]
            w[s] = v
        # n is postsynaptic: potentiation term, unless pre also spiked (handled above)
        for q in range(in_ptr[n], in_ptr[n + 1]):
            s = in_syn[q]
            i = pre[s]
            if is_spiking[i]:
                continue
            l1 = -A if pre_inhibitory[i] else eta
            v = w[s] + l1 * trace[i]
            if v < w_min[s]:
                v = w_min[s]
            elif v > w_max[s]:
                v = w_max[s]
            w[s] = v
    return w
