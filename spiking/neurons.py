"""Neuron model templates: equations as data, parameters as frozen dataclasses.

The Izhikevich (2003) model
---------------------------
.. math::

    \\frac{dv}{dt} = 0.04 v^2 + 5 v + 140 - u + I, \\qquad
    \\frac{du}{dt} = a (b v - u), \\qquad
    v \\ge 30\\,\\mathrm{mV} \\Rightarrow v \\leftarrow c,\\; u \\leftarrow u + d

with time in ms and :math:`v, u` in mV. Heterogeneity follows the paper's
network (one :math:`r \\sim U(0, 1)` per neuron):

* excitatory: :math:`a = 0.02,\\ b = 0.2,\\ c = -65 + 15 r^2,\\ d = 8 - 6 r^{p_d}`
* inhibitory: :math:`a = 0.02 + 0.08 r,\\ b = 0.25 - 0.05 r,\\ c = -65,\\ d = 2`

The paper's published MATLAB code uses :math:`p_d = 2` (``d = 8 - 6 re.^2``),
the default here; ``d_exponent=1`` gives the linear variant :math:`d = 8 - 6r`.

Synaptic input follows the paper's code: a presynaptic spike adds the weight
(mV) to the postsynaptic :math:`v` within the step, and the thalamic noise is a
current redrawn every millisecond, :math:`I = \\sigma\\,\\mathcal{N}(0, 1)`,
held constant over that millisecond.

References
----------
E. M. Izhikevich, "Simple model of spiking neurons", IEEE Trans. Neural Networks
14(6):1569-1572, 2003.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from brian2 import ExplicitStateUpdater

from plasticity_rules.validation import check_int, check_positive

__all__ = [
    "HALF_STEP_EULER",
    "IZHIKEVICH_EQS",
    "IZHIKEVICH_THRESHOLD",
    "IZHIKEVICH_RESET",
    "IzhikevichParams",
    "FIRING_PATTERNS",
    "simulate_neuron",
]

#: Izhikevich (2003) model, Brian2 equation string. ``I_drive`` is an injected
#: current and ``I_noise`` the thalamic noise, both in the paper's units (mV per ms,
#: written as volt with the 1/ms in the equation); ``a``-``d`` are per-neuron constants.
IZHIKEVICH_EQS = """
dv/dt = (0.04*v**2/mV + 5*v + 140*mV - u + I_noise + I_drive)/ms : volt
du/dt = a*(b*v - u)/ms : volt
I_noise : volt
I_drive : volt
sigma_noise : volt (constant)
a : 1 (constant)
b : 1 (constant)
c : volt (constant)
d : volt (constant)
r : 1 (constant)
is_exc : boolean (constant)
"""
IZHIKEVICH_THRESHOLD = "v >= 30*mV"
IZHIKEVICH_RESET = "v = c; u += d"

#: Two forward-Euler half-steps per time step, the integration scheme of the paper's code
#: (``v = v + 0.5*(...)`` twice per millisecond), applied to ``v`` and ``u`` jointly.
HALF_STEP_EULER = ExplicitStateUpdater("x_half = x + 0.5*dt*f(x,t)\nx_new = x_half + 0.5*dt*f(x_half,t)")


@dataclass(frozen=True)
class IzhikevichParams:
    """Parameters of the heterogeneous Izhikevich (2003) population.

    Parameters
    ----------
    v_init : float
        Initial membrane potential (mV); ``u`` starts at ``b * v_init`` as in the paper.
    d_exponent : int
        Exponent :math:`p_d` of :math:`r` in the excitatory ``d`` (2 as in the paper's code).
    """

    v_init: float = -65.0
    d_exponent: int = 2

    def __post_init__(self):
        if not np.isfinite(self.v_init):
            raise ValueError(f"v_init must be finite, got {self.v_init!r}")
        check_int("d_exponent", self.d_exponent, minimum=1, maximum=2)


#: Izhikevich (2003, Fig. 2) single-neuron presets (a, b, c, d): regular spiking and fast spiking.
FIRING_PATTERNS = {
    "regular_spiking": (0.02, 0.2, -65.0, 8.0),
    "fast_spiking": (0.1, 0.2, -65.0, 2.0),
    "intrinsically_bursting": (0.02, 0.2, -55.0, 4.0),
    "chattering": (0.02, 0.2, -50.0, 2.0),
    "low_threshold_spiking": (0.02, 0.25, -65.0, 2.0),
}


def check_pattern(name: str) -> tuple[float, float, float, float]:
    """Return the (a, b, c, d) of a named Izhikevich firing pattern."""
    if name not in FIRING_PATTERNS:
        raise ValueError(f"unknown firing pattern {name!r}; allowed: {', '.join(FIRING_PATTERNS)}")
    return FIRING_PATTERNS[name]


def simulate_neuron(pattern: str, current, duration: float, *, dt: float = 0.25e-3, v_init: float = -65.0):
    """Spike times of one Izhikevich neuron driven by a step current.

    Parameters
    ----------
    pattern : str
        A key of :data:`FIRING_PATTERNS` (e.g. ``'regular_spiking'``, ``'fast_spiking'``).
    current : float
        Step current amplitude in the paper's units (mV/ms), switched on at t = 0.
    duration : float
        Seconds (> 0).
    dt : float
        Step in seconds (small: single-neuron traces are compared to the paper's figure).

    Returns
    -------
    ndarray, shape ``(n_spikes,)``
        Spike times in seconds.
    """
    import brian2 as b2

    a_, b_, c_, d_ = check_pattern(pattern)
    if not np.isfinite(current):
        raise ValueError(f"current must be finite, got {current!r}")
    check_positive("duration", duration)
    check_positive("dt", dt)
    G = b2.NeuronGroup(
        1,
        IZHIKEVICH_EQS,
        threshold=IZHIKEVICH_THRESHOLD,
        reset=IZHIKEVICH_RESET,
        method=HALF_STEP_EULER,
        dt=dt * b2.second,
        name="single_neuron",
    )
    G.a, G.b, G.c, G.d = a_, b_, c_ * b2.mV, d_ * b2.mV
    G.v = v_init * b2.mV
    G.u = b_ * v_init * b2.mV
    G.I_drive = current * b2.mV
    mon = b2.SpikeMonitor(G)
    net = b2.Network(G, mon)
    net.run(duration * b2.second, namespace={})
    return np.asarray(mon.t[:] / b2.second)
