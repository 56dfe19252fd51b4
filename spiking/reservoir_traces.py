"""Run an Izhikevich reservoir on input rates and read out multi-time-constant traces.

One call is the whole "input -> reservoir -> readout states" path of a session-long
simulation (e.g. the what/when paradigm, :mod:`tasks.whatwhen`):

1. Poisson-encode the input rates (:func:`spiking.encoders.poisson_encode`);
2. run the reservoir once over the whole duration (:class:`spiking.reservoir.IzhikevichReservoir`);
3. sample exponentially filtered spike traces at the given times, one time constant per
   neuron assigned round-robin (:func:`spiking.states.multi_tau_traces`);
4. divide by one global scale :math:`s` so that the mean squared norm of a state is 1,

   .. math:: s = \\sqrt{\\frac{1}{T}\\sum_{t=1}^{T} \\lVert x_t \\rVert^2},
             \\qquad \\tilde x_t = x_t / s,

   which makes readout learning rates "per unit power" (independent of firing rates).

The states are what a readout with heterogeneous synaptic time constants sees
(Maass, Natschläger & Markram 2002, Neural Comput. 14:2531; Yamada & Chao 2025,
arXiv:2510.14382).
"""

from __future__ import annotations

import time

import numpy as np

from plasticity_rules.validation import check_array, check_positive

from .encoders import poisson_encode
from .reservoir import IzhikevichReservoir, ReservoirConfig
from .states import multi_tau_traces

__all__ = ["reservoir_traces"]


def reservoir_traces(
    config: ReservoirConfig,
    rates,
    duration: float,
    sample_times,
    taus,
    *,
    seed=None,
    rates_dt: float = 1e-3,
    backend: str = "cython",
    reservoir: IzhikevichReservoir | None = None,
    trial_seed=None,
    state_scale: float | None = None,
    progress: bool = False,
):
    """Encode ``rates``, run the reservoir once, return its normalised multi-tau traces.

    Parameters
    ----------
    config : ReservoirConfig
        The network (``config.n_inputs`` must equal ``rates.shape[1]``); ignored when
        ``reservoir`` is given.
    rates : array_like, shape ``(n_steps, n_inputs)``
        Input firing rates in Hz, one row per ``rates_dt`` step.
    duration : float
        Simulated seconds (> 0).
    sample_times : array_like, shape ``(n_samples,)``
        Times (s, sorted) at which the traces are sampled.
    taus : sequence of float
        Trace time constants in seconds, assigned to neurons round-robin.
    seed : int or numpy.random.Generator, optional
        Randomness of the Poisson encoding and then of the network construction, drawn
        from the same generator in that order.
    rates_dt : float
        Step of ``rates`` and of the Poisson encoding (s).
    backend : {"cython", "numpy"}
        Brian2 code generation of a newly built reservoir.
    reservoir : IzhikevichReservoir, optional
        A reservoir returned by an earlier call: run another input on the same network.
    trial_seed : int, optional
        Noise seed of the run (an earlier ``run.brian_seed`` replays its noise).
    state_scale : float, optional
        Use this scale :math:`s` (an earlier ``timings['state_scale_hz']``) instead of
        the one measured on these states.
    progress : bool
        Show Brian2's progress.

    Returns
    -------
    states : ndarray, shape ``(n_samples, n_neurons)``
        Traces divided by the scale.
    run : ReservoirRun
        The reservoir's spikes (``run.brian_seed`` replays its noise).
    timings : dict
        ``build_s``, ``reservoir_s`` (code generation counted as build), ``states_s``
        and ``state_scale_hz`` (the scale :math:`s`).
    reservoir : IzhikevichReservoir
        The network, to run further inputs on.
    """
    rates = check_array("rates", rates, ndim=2)
    sample_times = check_array("sample_times", sample_times, ndim=1)
    check_positive("duration", duration)
    taus = tuple(check_positive("taus", t) for t in taus)
    if not taus:
        raise ValueError("taus must list at least one time constant (s)")
    t0 = time.perf_counter()
    spikes = poisson_encode(rates, duration, dt=rates_dt, seed=seed)
    res = IzhikevichReservoir(config, seed=seed, backend=backend) if reservoir is None else reservoir
    n_neurons = res.config.n_neurons
    t1 = time.perf_counter()
    run = res.run(duration, input_spikes=spikes, progress=progress, seed=trial_seed)
    t2 = time.perf_counter()
    t_codegen = res.last_timing_["build_s"]  # code generation inside the run is build time
    X = multi_tau_traces(run.spikes.indices, run.spikes.times, n_neurons, sample_times, taus)
    scale = float(np.sqrt(np.mean(np.sum(X**2, axis=1)))) if state_scale is None else float(state_scale)
    X /= scale if scale > 0 else 1.0
    t3 = time.perf_counter()
    timings = {
        "build_s": t1 - t0 + t_codegen,
        "reservoir_s": t2 - t1 - t_codegen,
        "states_s": t3 - t2,
        "state_scale_hz": scale,
    }
    return X, run, timings, res
