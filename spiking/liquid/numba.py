"""Hand-written Numba simulation of the NALSM liquid (ground truth and speed reference).

It integrates exactly the same discrete-time map as the Brian2 engine
(:mod:`spiking.liquid.brian2`; the model and its equations are in
:mod:`spiking.liquid.model`, the per-step constants in
:func:`spiking.liquid.model.step_constants`), using the STDP kernel of :mod:`plasticity_rules.stdp` and the
astrocyte of :mod:`plasticity_rules.astrocyte`. Neurons are numbered liquid
first (``0 .. n_liquid-1``, excitatory then inhibitory), then input
(``n_liquid .. n_liquid+n_input-1``). Input spikes are Bernoulli draws from
a ``numpy.random.Generator`` passed into the Numba function, so only
deterministic inputs (probabilities 0 or 1) give spike trains identical to
Brian2's.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from plasticity_rules.astrocyte import astro_spike_weights, astrocyte_step
from plasticity_rules.stdp import csr_by_row, stdp_weight_update_events

from .model import Liquid, LiquidFeatures, _check_sample_seeds, step_constants

__all__ = ["simulate_liquid_numba", "NumbaLiquid"]


@njit(cache=True)
def _grow(buf, n):
    if n < buf.shape[0]:
        return buf
    new = np.empty(2 * buf.shape[0] + 16, dtype=buf.dtype)
    new[: buf.shape[0]] = buf
    return new


@njit(cache=True)
def _simulate(
    probs,
    n_steps,
    n_liquid,
    n_input,
    pre,
    post,
    w,
    w_init_arr,
    w_min,
    w_max,
    inh,
    out_ptr,
    out_syn,
    in_ptr,
    in_syn,
    reset_weights,
    eta0,
    k_liq0,
    k_in0,
    bias0,
    tau_astro,
    gamma,
    leak,
    v_th,
    t_ref,
    inv_tau_u,
    decay_u,
    a_trace,
    decay_x,
    input_current,
    rng,
    n_record,
):
    n_samples = probs.shape[0]
    n_tot = n_liquid + n_input
    v = np.zeros(n_tot)
    rfr = np.zeros(n_tot)
    e = np.zeros(n_tot)
    ic = np.zeros(n_tot)
    x = np.zeros(n_tot)
    is_sp = np.zeros(n_tot, dtype=np.bool_)
    spiking = np.empty(n_tot, dtype=np.int64)
    counts = np.zeros((n_samples, n_liquid))
    rec_t = np.empty(1024, dtype=np.int64)
    rec_i = np.empty(1024, dtype=np.int64)
    n_rec = 0
    n_astro = min(n_record, n_samples) * n_steps
    astro = np.empty(n_astro)
    for smp in range(n_samples):
        # per-sample reset (the reference resets V, S, refractoriness, synaptic state, A, eta)
        for n in range(n_tot):
            v[n] = 0.0
            rfr[n] = 0.0
            e[n] = 0.0
            ic[n] = 0.0
            x[n] = 0.0
        if reset_weights:
            for s in range(w.shape[0]):
                w[s] = w_init_arr[s]
        A = eta0
        eta = eta0
        kl = k_liq0
        ki = k_in0
        b = bias0
        for step in range(n_steps):
            # 1. threshold
            n_sp = 0
            n_l = 0
            for n in range(n_tot):
                fire = v[n] >= v_th and rfr[n] < 0.5
                is_sp[n] = fire
                if fire:
                    spiking[n_sp] = n
                    n_sp += 1
                    if n < n_liquid:
                        n_l += 1
            # 2. propagation with the weights before this step's plasticity
            for k in range(n_sp):
                n = spiking[k]
                jump = inv_tau_u - e[n]
                for q in range(out_ptr[n], out_ptr[n + 1]):
                    s = out_syn[q]
                    ic[post[s]] += w[s] * jump
            # 3. STDP (traces before update)
            if n_sp > 0 and (eta != 0.0 or A != 0.0):
                stdp_weight_update_events(
                    w,
                    pre,
                    post,
                    spiking[:n_sp],
                    is_sp,
                    x,
                    inh,
                    eta,
                    A,
                    w_min,
                    w_max,
                    out_ptr,
                    out_syn,
                    in_ptr,
                    in_syn,
                )
            # 4. reset
            for k in range(n_sp):
                n = spiking[k]
                v[n] = 0.0
                rfr[n] = t_ref + 1.0
                e[n] = inv_tau_u
                x[n] += a_trace
                if n < n_liquid:
                    counts[smp, n] += 1.0
                    if smp < n_record:
                        rec_t = _grow(rec_t, n_rec)
                        rec_i = _grow(rec_i, n_rec)
                        rec_t[n_rec] = smp * n_steps + step
                        rec_i[n_rec] = n
                        n_rec += 1
            # 5. astrocyte, then the decays of feature generation
            A = astrocyte_step(A, n_l, n_sp - n_l, kl, ki, b, tau_astro)
            if smp < n_record:
                astro[smp * n_steps + step] = A
            A *= gamma
            eta *= gamma
            kl *= gamma
            ki *= gamma
            b *= gamma
            # 6. membrane update, synaptic/trace decay, refractory countdown
            for n in range(n_liquid):
                v[n] = v[n] * leak + ic[n]
            for j in range(n_input):
                n = n_liquid + j
                drive = input_current if rng.random() < probs[smp, j] else 0.0
                v[n] = v[n] * leak + drive
            for n in range(n_tot):
                ic[n] *= decay_u
                e[n] *= decay_u
                rfr[n] -= 1.0
                x[n] *= decay_x
    return counts, rec_t[:n_rec], rec_i[:n_rec], astro


def simulate_liquid_numba(
    conn,
    config,
    probs,
    *,
    n_steps,
    w_start,
    reset_weights,
    eta,
    w_astro,
    gamma,
    seed,
    n_record=0,
    sample_seeds=None,
):
    """Simulate ``probs.shape[0]`` samples back to back; see :class:`NumbaLiquid`.

    With ``sample_seeds`` (one per sample, ``reset_weights`` required), sample ``i``
    draws its inputs from ``numpy.random.default_rng(sample_seeds[i])`` and ``seed``
    is unused, so each sample's result is independent of the others.

    Returns
    -------
    counts : ndarray, shape (n_samples, n_liquid)
    rec_steps, rec_neurons : ndarray of int64
        Liquid spikes of the first ``n_record`` samples (global step index, neuron).
    astro : ndarray, shape (min(n_record, n_samples) * n_steps,)
        Depression rate :math:`A` after each step's update for the recorded samples.
    w : ndarray
        Weights at the end (after the last sample).
    """
    k = step_constants(config)
    n_liq, n_in = conn.n_liquid, conn.n_input
    pre = conn.pre_global
    post = conn.post_global
    n_tot = n_liq + n_in
    out_ptr, out_syn = csr_by_row(pre, n_tot)
    in_ptr, in_syn = csr_by_row(post, n_tot)
    inh = np.zeros(n_tot, dtype=np.bool_)
    inh[conn.n_exc : n_liq] = True
    k_l, k_i = astro_spike_weights(w_astro, n_liq, n_in)
    w = np.array(w_start, dtype=np.float64, copy=True)
    w_init_arr = np.array(w_start, dtype=np.float64, copy=True)
    probs = np.ascontiguousarray(probs, dtype=np.float64)

    def run(p, rng, n_rec):
        return _simulate(
            p,
            int(n_steps),
            n_liq,
            n_in,
            pre,
            post,
            w,
            w_init_arr,
            conn.w_min,
            conn.w_max,
            inh,
            out_ptr,
            out_syn,
            in_ptr,
            in_syn,
            bool(reset_weights),
            float(eta),
            k_l,
            k_i,
            float(eta),
            k["tau_A"],
            float(gamma),
            k["leak"],
            k["v_th"],
            k["t_ref"],
            k["inv_tau_u"],
            k["decay_u"],
            k["a_trace"],
            k["decay_x"],
            k["input_current"],
            rng,
            int(n_rec),
        )

    if sample_seeds is None:
        counts, rt, ri, astro = run(probs, np.random.default_rng(int(seed)), n_record)
        return counts, rt, ri, astro, w
    if not reset_weights:
        raise ValueError("sample_seeds need reset_weights=True (independent samples)")
    sample_seeds = _check_sample_seeds(sample_seeds, probs.shape[0])
    parts = [
        run(probs[i : i + 1], np.random.default_rng(sample_seeds[i]), int(i < n_record))
        for i in range(probs.shape[0])
    ]
    counts = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, n_liq))
    rt = np.concatenate([p[1] + i * int(n_steps) for i, p in enumerate(parts)] or [np.zeros(0, np.int64)])
    ri = np.concatenate([p[2] for p in parts] or [np.zeros(0, np.int64)])
    astro = np.concatenate([p[3] for p in parts] or [np.zeros(0)])
    return counts, rt, ri, astro, w


class NumbaLiquid(Liquid):
    """The NALSM protocol on the Numba simulation (interface of :class:`~spiking.liquid.brian2.Brian2Liquid`).

    Parameters
    ----------
    config : LiquidConfig
    seed : int, Generator or None
        Draws the connectivity and the seeds of the input draws.
    """

    backend = "numba"

    def __init__(self, config, *, seed=None):
        self._rng = self._setup(config, seed)

    def initialise(self, probs, *, eta, w_astro, seed=None, callback=None):
        """Liquid-initialisation phase from the initial weights ``conn.w0``: plasticity on, no decay.

        ``seed`` / ``callback``: see :meth:`Liquid.initialise`.
        """
        c = self.config
        probs = self._check_probs(probs)
        seed = int(self._rng.integers(2**31 - 1)) if seed is None else int(seed)
        _, _, _, _, w = simulate_liquid_numba(
            self.conn,
            c,
            probs,
            n_steps=c.init_steps,
            w_start=self.conn.w0,
            reset_weights=False,
            eta=eta,
            w_astro=w_astro,
            gamma=1.0,
            seed=seed,
        )
        self.w_init_ = w
        if callback is not None:
            callback(probs.shape[0])
        return self

    def features(self, probs, *, eta, w_astro, n_record=0, sample_seeds=None) -> LiquidFeatures:
        """Spike counts per sample from the initialised weights with decaying plasticity.

        ``sample_seeds``: one seed per sample (see :meth:`Liquid.features`); the liquid's
        own generator is then not used. Input spikes are not recorded: their arrays are empty.
        """
        c = self.config
        probs = self._check_probs(probs)
        counts, rt, ri, astro, _ = simulate_liquid_numba(
            self.conn,
            c,
            probs,
            n_steps=c.sample_steps,
            w_start=self.w_init_,
            reset_weights=True,
            eta=eta,
            w_astro=w_astro,
            gamma=c.lr_decay,
            seed=None if sample_seeds is not None else int(self._rng.integers(2**31 - 1)),
            n_record=n_record,
            sample_seeds=sample_seeds,
        )
        empty = np.zeros(0, dtype=np.int64)
        return LiquidFeatures(
            counts=counts,
            spike_samples=rt // c.sample_steps,
            spike_steps=rt % c.sample_steps,
            spike_neurons=ri,
            input_samples=empty,
            input_steps=empty,
            input_neurons=empty,
            astro=astro.reshape(-1, c.sample_steps),
            n_recorded=min(int(n_record), probs.shape[0]),
            n_neurons=c.n_liquid,
            n_steps=c.sample_steps,
        )
