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

Integration: the paper's program, exactly
------------------------------------------
Per time step :math:`\\Delta t` (1 ms in the paper; :math:`h = \\Delta t / 1\\,\\mathrm{ms}`),
in the order of the paper's MATLAB code:

1. neurons that crossed threshold in the last step were reset
   (:math:`v \\leftarrow c,\\ u \\leftarrow u + d`) and each of their outgoing weights
   :math:`w_{ij}` (mV) was added to the input :math:`I_{\\mathrm{syn},i}` of this step
   (scaled by :math:`1/h` so a spike moves :math:`v` by about :math:`w` for any step);
2. the input of the step is :math:`I = I_{\\mathrm{syn}} + \\sigma \\xi + I_{\\mathrm{drive}}`
   with :math:`\\xi \\sim \\mathcal{N}(0, 1)` redrawn every step (thalamic noise);
3. :math:`v` takes two forward-Euler half-steps with :math:`u` and :math:`I` held,

   .. math::

       v \\leftarrow v + \\tfrac{h}{2}\\,(0.04 v^2 + 5 v + 140 - u + I) \\quad\\text{(twice)},

4. then :math:`u` takes one full Euler step with the new :math:`v`,
   :math:`u \\leftarrow u + h\\,a (b v - u)`, and :math:`I_{\\mathrm{syn}} \\leftarrow 0`.

Brian2 then applies the threshold :math:`v \\ge 30` and propagates the spikes into
:math:`I_{\\mathrm{syn}}` of the next step, whose state update starts with the reset (as
the paper's program does), so a spike Brian2 stamps at step :math:`k` is the one the
paper's program detects at the start of step :math:`k + 1`.
:data:`IZHIKEVICH_SCHEME` is this step as a Brian2 state-update method; every variable
is in the paper's units (mV, mV/ms) and dimensionless in Brian2, so the compiled code
performs the same floating-point operations as the paper's program.

References
----------
E. M. Izhikevich, "Simple model of spiking neurons", IEEE Trans. Neural Networks
14(6):1569-1572, 2003.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plasticity_rules.validation import check_int, check_positive

__all__ = [
    "IZHIKEVICH_EQS",
    "IZHIKEVICH_THRESHOLD",
    "IZHIKEVICH_RESET",
    "IzhikevichScheme",
    "IZHIKEVICH_SCHEME",
    "izhikevich_namespace",
    "delayed_drive_equations",
    "IzhikevichParams",
    "FIRING_PATTERNS",
    "simulate_neuron",
]

#: Izhikevich (2003) model, Brian2 equation string, dimensionless in the paper's units
#: (``v``, ``u``, ``c``, ``d`` in mV; ``I_*`` and ``sigma_noise`` in mV/ms). ``I_syn`` is the
#: synaptic input of the coming step (spikes add to it, the step clears it), ``I_drive``
#: an injected current; ``a``-``d`` are per-neuron constants. The differential
#: equations document the model; the integration is :data:`IZHIKEVICH_SCHEME`.
IZHIKEVICH_EQS = """
dv/dt = (0.04*v**2 + 5*v + 140 - u + I_syn + I_drive)/ms : 1
du/dt = a*(b*v - u)/ms : 1
I_syn : 1
I_drive : 1
sigma_noise : 1 (constant)
a : 1 (constant)
b : 1 (constant)
c : 1 (constant)
d : 1 (constant)
r : 1 (constant)
is_exc : boolean (constant)
"""
IZHIKEVICH_THRESHOLD = "v >= 30"


def delayed_drive_equations(n_taps: int) -> str:
    """``I_drive`` as ``n_taps`` delayed, weighted reads of a ``TimedArray`` named ``drive``.

    .. math:: I_{\\mathrm{drive},i}(t) = \\sum_{k<K} g_{ik}\\, D(t - \\delta_{ik}, i)

    with per-neuron constants ``tap_delay_k`` (s) and ``tap_gain_k``; replaces the line
    ``I_drive : 1`` of :data:`IZHIKEVICH_EQS`. A ``TimedArray`` read before its start
    (:math:`t < \\delta_{ik}`) returns its first row.
    """
    n_taps = check_int("n_taps", n_taps)
    taps = " + ".join(f"tap_gain_{k}*drive(t - tap_delay_{k}, i)" for k in range(n_taps))
    consts = "".join(
        f"tap_delay_{k} : second (constant)\ntap_gain_{k} : 1 (constant)\n" for k in range(n_taps)
    )
    return f"I_drive = {taps} : 1\n{consts}"


#: The reset, as the paper's program applies it: at the start of the step after the one
#: in which ``v`` crossed threshold, inside :class:`IzhikevichScheme` (written so that it is
#: exact: ``v = c*1 + v*0`` is ``c`` and ``v = c*0 + v*1`` is ``v``). Groups using the
#: scheme pass ``reset=None``: one compiled code object less to run every step.
IZHIKEVICH_RESET = "spiked = int(v >= 30)\nv = c*spiked + v*(1 - spiked)\nu = u + d*spiked\n"


class IzhikevichScheme:
    """The paper's discrete step as a Brian2 state-update method (pass as ``method=``).

    Returns the abstract code of steps 1-4 of the module docstring::

        spiked = int(v >= 30)                     # the reset of last step's spikes
        v = c*spiked + v*(1 - spiked)
        u = u + d*spiked
        I_step = I_syn + sigma_noise*<noise>() + I_drive [+ I_noise] [+ I_exp]
        v = v + half_h*(0.04*v**2 + 5*v + 140 - u + I_step)      # twice
        u = u + h*(a*(b*v - u))
        I_syn = 0

    ``half_h`` (:math:`h/2`) and ``h`` (:math:`\\Delta t` in ms) come from the group's
    namespace (:func:`izhikevich_namespace`) as numbers, so for the paper's 1 ms step the
    code multiplies by exactly 0.5 and 1.0. With an ``I_exp`` variable in the model (an
    exponentially decaying synaptic current) it is added to the input and then decays
    exactly, :math:`I_{\\exp} \\leftarrow I_{\\exp} e^{-\\Delta t/\\tau_s}` (``syn_decay``).

    Parameters
    ----------
    noise : str or None
        Name of the noise function called once per neuron and step (``'randn'``, or a
        :func:`spiking.noise.generator_randn` function's name); ``None``: no noise term.
    record : str or None
        Name of a :func:`spiking.recorder.spike_recorder` function, called right after the
        reset as ``record(i, t_in_timesteps, spiked)`` to record last step's spikes.
    propagate : str or None
        Name of a :func:`spiking.propagation.recurrent_propagation` function, called once
        per step first (``propagated = f(t_in_timesteps)``; the group then needs a shared
        variable ``propagated``) to add last step's spikes to ``I_syn``.
    """

    def __init__(self, noise: str | None = "randn", record: str | None = None, propagate: str | None = None):
        self.noise = noise
        self.record = record
        self.propagate = propagate
        self.__name__ = f"izhikevich2003_paper_step(noise={noise}, record={record}, propagate={propagate})"

    def can_integrate(self, equations, variables, method_options=None):  # noqa: ARG002
        return {"v", "u"} <= set(equations.diff_eq_names)

    def __call__(self, equations, variables=None, method_options=None):  # noqa: ARG002
        if set(equations.diff_eq_names) != {"v", "u"}:
            raise ValueError(
                "IzhikevichScheme integrates exactly the differential equations for v and u, "
                f"got {sorted(equations.diff_eq_names)}"
            )
        terms = ["I_syn"]
        if self.noise is not None:
            terms.append(f"sigma_noise*{self.noise}()")
        terms.append("I_drive")
        if "I_noise" in equations.names:  # noise held over several steps, drawn elsewhere
            terms.append("I_noise")
        has_exp = "I_exp" in equations.names
        if has_exp:
            terms.append("I_exp")
        half = "v = v + half_h*(0.04*v**2 + 5*v + 140 - u + I_step)\n"
        record = "" if self.record is None else f"recorded = {self.record}(i, t_in_timesteps, spiked)\n"
        propagate = "" if self.propagate is None else f"propagated = {self.propagate}(t_in_timesteps)\n"
        code = (
            propagate
            + IZHIKEVICH_RESET
            + record
            + f"I_step = {' + '.join(terms)}\n"
            + half
            + half
            + "u = u + h*(a*(b*v - u))\nI_syn = 0\n"
        )
        if has_exp:
            code += "I_exp = I_exp*syn_decay\n"
        return code


#: The paper's step with Brian2's ``randn()`` noise (see :class:`IzhikevichScheme`).
IZHIKEVICH_SCHEME = IzhikevichScheme("randn")


def izhikevich_namespace(dt: float) -> dict:
    """Numbers the scheme reads: ``h`` (step in ms), ``half_h``, ``syn_gain`` (``1/h``)."""
    h = dt / 1e-3
    if np.isclose(h, round(h)):
        h = float(round(h))  # 1e-3 / 1e-3 is 1.0 exactly, but keep 2 ms etc. exact too
    return {"h": h, "half_h": 0.5 * h, "syn_gain": 1.0 / h}


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
    from . import engine

    b2 = engine.import_brian2()
    a_, b_, c_, d_ = check_pattern(pattern)
    if not np.isfinite(current):
        raise ValueError(f"current must be finite, got {current!r}")
    check_positive("duration", duration)
    check_positive("dt", dt)
    engine.configure("cython")
    G = b2.NeuronGroup(
        1,
        IZHIKEVICH_EQS,
        threshold=IZHIKEVICH_THRESHOLD,
        reset=None,  # applied by the scheme at the start of the next step
        method=IzhikevichScheme(noise=None),
        dt=dt * b2.second,
        name="single_neuron",
        namespace=izhikevich_namespace(dt),
    )
    G.a, G.b, G.c, G.d = a_, b_, c_, d_
    G.v = v_init
    G.u = b_ * v_init
    G.I_drive = current
    mon = b2.SpikeMonitor(G)
    net = b2.Network(G, mon)
    net.run(duration * b2.second, namespace={})
    return np.asarray(mon.t[:] / b2.second)
