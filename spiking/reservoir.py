"""Heterogeneous Izhikevich spiking reservoir on Brian2.

The network follows Izhikevich (2003): ``n_exc`` excitatory and ``n_inh``
inhibitory neurons with the paper's heterogeneity (see :mod:`spiking.neurons`),
Dale's law (excitatory weights :math:`w_{ij} = w_E U_{ij}`, inhibitory
:math:`w_{ij} = -w_I U_{ij}`, :math:`U_{ij} \\sim U(0, 1)`), thalamic noise
:math:`\\sigma_E \\mathcal{N}(0,1)` / :math:`\\sigma_I \\mathcal{N}(0,1)` redrawn every
millisecond, and optional inputs: a ``SpikeGeneratorGroup`` connected with
probability ``p_input`` and weights :math:`w_{in} U(0,1)`, and/or an injected
current ``(n_steps, n_neurons)`` (see :func:`spiking.encoders.current_encode`).

Connectivity is ``'all'`` (the paper: every pair, self-connections included),
``'prob'`` (Bernoulli with ``p_connect``) or ``'indegree'`` (each neuron
receives exactly ``indegree`` synapses from distinct sources).

The preset ``'izhikevich2003'`` is the paper's network (1000 neurons,
all-to-all, weights ``0.5 U`` / ``-U``, noise 5 / 2). For other sizes, all-to-all
weights are scaled by ``1000 / n`` so that each neuron's summed input, and so
the dynamical regime, stays that of the paper.

Brian2 usage: one named :class:`brian2.Network` is built once, stored with ``store()``
and restored with ``restore()`` before each trial, so many trials cost one compilation. The
random structure (connectivity, weights, heterogeneity) is drawn by Brian2's RNG seeded
from the reservoir's ``numpy.random.Generator``, so the same model code runs in runtime
and ``cpp_standalone`` mode; in runtime mode the ``'indegree'`` sources are drawn by
NumPy (:func:`indegree_pairs`) so that synapses are stored by presynaptic neuron.
The thalamic noise of a trial is drawn from ``numpy.random.default_rng(trial_seed)``
(:mod:`spiking.noise`) in runtime mode, by Brian2's ``randn()`` in standalone mode.

Speed (Cython runtime mode, the default): one compiled state update does per step
what the paper's program does (recurrent transmission from CSR arrays,
:mod:`spiking.propagation`; reset; spike recording, :mod:`spiking.recorder`; noise
drawn in blocks by NumPy's ziggurat compiled into the same code, :mod:`spiking.noise`; integration), so each
step runs two code objects (state update and threshold) instead of seven; the
recurrent ``Synapses`` object stays, inactive, as the description of the structure
(input synapses stay active). Synapses are contiguous per source, and Brian2's
``gc.collect()`` at each ``run()`` skips the frozen heap. The NumPy target and
``cpp_standalone`` run the same model with Brian2's own monitor and synapses.

References
----------
E. M. Izhikevich, "Simple model of spiking neurons", IEEE TNN 14(6), 2003.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import time
from dataclasses import dataclass, field

import numpy as np

from plasticity_rules.validation import (
    check_array,
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
    check_probability,
    make_rng,
)

from . import engine
from .encoders import SpikeTrains, delay_taps
from .neurons import (
    IZHIKEVICH_EQS,
    IZHIKEVICH_THRESHOLD,
    IzhikevichParams,
    IzhikevichScheme,
    delayed_drive_equations,
    izhikevich_namespace,
)
from .noise import NoiseStream, generator_randn
from .propagation import recurrent_propagation
from .recorder import SpikeRecorder, spike_recorder

#: Most time steps of one run: time is ``i * dt`` in float64, exact while i <= 2**53.
MAX_STEPS = 2**53

__all__ = ["ReservoirConfig", "PRESETS", "preset", "IzhikevichReservoir", "ReservoirRun", "indegree_pairs"]

CONNECTIVITY = ("all", "prob", "indegree")
#: Variables :class:`IzhikevichReservoir` can sample per input row (``record_state``).
RECORDABLE_STATE = ("v", "u", "I_exp")
INPUT_TARGETS = ("all", "exc")


@dataclass(frozen=True)
class ReservoirConfig:
    """Structure and parameters of an Izhikevich reservoir.

    Parameters
    ----------
    n_exc, n_inh : int
        Excitatory / inhibitory population sizes (``n_exc >= 1``, ``n_inh >= 0``).
    connectivity : {'all', 'prob', 'indegree'}
    p_connect : float
        Connection probability for ``'prob'``.
    indegree : int
        Synapses per neuron for ``'indegree'`` (at most ``n_exc + n_inh``).
    w_exc, w_inh : float
        Weight scales in mV: excitatory weights ``w_exc * U(0,1)``, inhibitory ``-w_inh * U(0,1)``.
    noise_exc, noise_inh : float
        Thalamic noise amplitudes (mV), redrawn every ``noise_period``.
    noise_period : float
        Seconds between noise draws (1 ms in the paper).
    noise_repeat : float
        0 (default): fresh noise throughout a run. > 0: *frozen* noise, the noise
        realisation of the first ``noise_repeat`` seconds is replayed in every following
        window of that length, :math:`\\xi_i(t + T_r) = \\xi_i(t)` (with ``noise_repeat``
        equal to the trial length, every trial of a session sees the same background
        drive; a new realisation is drawn per ``run()``). A multiple of ``dt``; needs
        ``noise_period == dt`` and a runtime backend.
    dt : float
        Step in seconds (1 ms as in the paper). Each step is the paper's program
        (:class:`spiking.neurons.IzhikevichScheme`): ``v`` in two Euler half-steps,
        then ``u`` in one with the new ``v``; thresholds, resets and synaptic input
        are applied once per step.
    n_inputs : int
        Size of the spike input population (0: none).
    p_input : float
        Probability that an input neuron connects to a reservoir neuron.
    w_input : float
        Input weight scale in mV (weights ``w_input * U(0,1)``).
    input_target : {'all', 'exc'}
        Which reservoir neurons inputs may reach.
    tau_syn : float
        Synaptic time constant in seconds. 0 (the paper): a spike's weight enters
        the input :math:`I` of the next step (moving :math:`v` by about :math:`w`).
        > 0: it adds to a current decaying exactly per step,
        :math:`I_s \\leftarrow I_s e^{-\\Delta t/\\tau_s}`, with
        :math:`I_s \\leftarrow I_s + w (1 - e^{-\\Delta t/\\tau_s})/h` per spike, so each PSP
        keeps the area of the instantaneous one while lasting :math:`\\sim\\tau_s` (longer memory).
    input_delay : float
        Largest delay (s) of the injected current; 0 (default): none. > 0: neuron :math:`i`
        receives :math:`\\sum_{k<K} g_{ik} I_{\\mathrm{drive},i}(t - \\delta_{ik})`, fixed delays
        and gains drawn from the structure seed (:func:`spiking.encoders.delay_taps`): delay
        lines in the input projection, a memory of the last ``input_delay`` of input.
    input_taps : int
        :math:`K`, delayed copies of its input current per neuron (> 1 needs ``input_delay > 0``).
    input_spike_delay : float
        Largest delay (s) of the input-spike synapses; 0 (default): none. > 0: synapse
        :math:`j` of the input projection transmits after a fixed delay
        :math:`\\delta_j = m_j \\Delta t`, :math:`m_j \\sim U\\{0, \\dots,
        \\mathrm{round}(\\delta_{\\max}/\\Delta t)\\}`, drawn from the structure seed (after every
        other structure draw): the spike-input counterpart of ``input_delay``, which acts on
        the injected current only. A brief input (a cue) then reaches the network over the
        whole ``input_spike_delay``, a noise-free clock after it.
    neuron : IzhikevichParams
    """

    n_exc: int = 800
    n_inh: int = 200
    connectivity: str = "all"
    p_connect: float = 0.1
    indegree: int = 100
    w_exc: float = 0.5
    w_inh: float = 1.0
    noise_exc: float = 5.0
    noise_inh: float = 2.0
    noise_period: float = 1e-3
    noise_repeat: float = 0.0
    dt: float = 1e-3
    n_inputs: int = 0
    p_input: float = 0.1
    w_input: float = 10.0
    input_target: str = "all"
    tau_syn: float = 0.0
    input_delay: float = 0.0
    input_taps: int = 1
    input_spike_delay: float = 0.0
    neuron: IzhikevichParams = field(default_factory=IzhikevichParams)

    def __post_init__(self):
        check_int("n_exc", self.n_exc, minimum=1)
        check_int("n_inh", self.n_inh, minimum=0)
        check_choice("connectivity", self.connectivity, CONNECTIVITY)
        check_probability("p_connect", self.p_connect)
        check_int(
            "indegree",
            self.indegree,
            minimum=1,
            maximum=self.n_neurons if self.connectivity == "indegree" else None,
        )
        for name in ("w_exc", "w_inh", "noise_exc", "noise_inh", "w_input"):
            check_nonnegative(name, getattr(self, name))
        check_positive("noise_period", self.noise_period)
        check_positive("dt", self.dt)
        if self.noise_period < self.dt:
            raise ValueError(f"noise_period ({self.noise_period!r} s) must be >= dt ({self.dt!r} s)")
        check_nonnegative("noise_repeat", self.noise_repeat)
        if self.noise_repeat > 0:
            steps = self.noise_repeat / self.dt
            if abs(steps - round(steps)) > 1e-6 or round(steps) < 1:
                raise ValueError(
                    f"noise_repeat ({self.noise_repeat!r} s) must be a whole number of dt ({self.dt!r} s)"
                )
            if not np.isclose(self.noise_period, self.dt):
                raise ValueError(
                    f"noise_repeat > 0 needs noise_period == dt ({self.dt!r} s), got {self.noise_period!r}"
                )
        check_int("n_inputs", self.n_inputs, minimum=0)
        check_probability("p_input", self.p_input)
        check_choice("input_target", self.input_target, INPUT_TARGETS)
        check_nonnegative("tau_syn", self.tau_syn)
        if 0 < self.tau_syn < 2 * self.dt:
            raise ValueError(
                f"tau_syn must be 0 or >= 2*dt ({2 * self.dt!r} s) for stable integration, "
                f"got {self.tau_syn!r}"
            )
        check_nonnegative("input_delay", self.input_delay)
        check_nonnegative("input_spike_delay", self.input_spike_delay)
        check_int("input_taps", self.input_taps, minimum=1)
        if self.input_taps > 1 and self.input_delay == 0:
            raise ValueError(
                f"input_taps = {self.input_taps} needs input_delay > 0 (taps differ by their delays)"
            )
        if not isinstance(self.neuron, IzhikevichParams):
            raise ValueError(f"neuron must be an IzhikevichParams, got {type(self.neuron).__name__}")

    @property
    def n_neurons(self) -> int:
        return self.n_exc + self.n_inh

    def replace(self, **changes) -> ReservoirConfig:
        """A copy with ``changes`` applied (validated)."""
        return dataclasses.replace(self, **changes)


#: Named configurations. ``izhikevich2003`` is the paper's network.
# The trial-timing network (preset "timing" below), also the base of "prediction".
_TIMING = ReservoirConfig(
    connectivity="indegree", indegree=100, w_exc=2.5, w_inh=5.0, tau_syn=0.03, noise_exc=6.0,
    noise_inh=2.4,
)

PRESETS: dict[str, ReservoirConfig] = {
    "izhikevich2003": ReservoirConfig(),
    # Sparse variant with the same mean summed input per neuron (80 E + 20 I sources).
    "sparse": ReservoirConfig(connectivity="indegree", indegree=100, w_exc=5.0, w_inh=10.0),
    # Trial-timing reservoir (issue 15; scan in sims/specs/timing_reservoir.toml): the sparse
    # network at half its weights, 30 ms synapses and strong thalamic noise (6 / 2.4 mV) that
    # dominates the recurrent input, so the network is noise-driven, not chaotic (exc ~10 Hz).
    # With frozen noise (noise_repeat = trial length, set by the what/when simulation) its
    # trajectory repeats from trial to trial and elapsed time is decodable over the whole trial.
    "timing": _TIMING,
    # Prediction reservoir (issue 15; scans sims/specs/prediction_reservoir.toml and
    # prediction_taps.toml): the timing network whose input current reaches each neuron three
    # times, after three delays of 0..150 ms (1 ms steps) with gains sharing its input weight.
    # Without delays the states of a 10 ms-per-sample series remember about two samples whatever
    # the recurrence (memory capacity ~2, also with recurrent weights 0); the delay lines hold
    # the last 15 samples, and a neuron's response to three input times holds their products
    # (NARMA10). input_delay acts on the injected-current path only; spike inputs (the what/when
    # cue and stimuli) get their own delay lines of 0..450 ms per synapse (input_spike_delay),
    # which carry a noise-free trial clock to 400 ms after the cue (docs/results.rst).
    "prediction": dataclasses.replace(_TIMING, input_delay=0.15, input_taps=3, input_spike_delay=0.45),
}


def preset(name: str = "izhikevich2003", n_neurons: int | None = None, **overrides) -> ReservoirConfig:
    """Return preset ``name``, resized to ``n_neurons`` (80 % excitatory), with ``overrides``.

    For all-to-all presets, weights are scaled by ``1000 / n_neurons`` so each
    neuron's summed recurrent input matches the 1000-neuron paper network.
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; allowed: {', '.join(PRESETS)}")
    cfg = PRESETS[name]
    if n_neurons is not None:
        n_neurons = check_int("n_neurons", n_neurons, minimum=2)
        n_exc = max(1, int(round(0.8 * n_neurons)))
        changes = {"n_exc": n_exc, "n_inh": n_neurons - n_exc}
        if cfg.connectivity == "all":
            scale = cfg.n_neurons / n_neurons
            changes.update(w_exc=cfg.w_exc * scale, w_inh=cfg.w_inh * scale)
        else:
            changes["indegree"] = min(cfg.indegree, n_neurons)
        cfg = cfg.replace(**changes)
    return cfg.replace(**overrides) if overrides else cfg


@dataclass(frozen=True)
class ReservoirRun:
    """Spikes of one reservoir trial.

    Attributes
    ----------
    spikes : SpikeTrains
        Reservoir spikes (neurons ``0..n_exc-1`` excitatory, then inhibitory).
    n_exc, n_inh : int
    duration : float
        Seconds.
    brian_seed : int
        The Brian2 seed used for this trial's noise.
    state_samples : dict or None
        With ``IzhikevichReservoir(record_state=...)`` and an injected current: each recorded
        variable's values at the start of every ``current_dt`` row, ``{name: (n_rows, n_neurons)}``
        (row ``k``: the state after the steps before ``k * current_dt``, so row ``k + 1`` is
        the state at the end of input row ``k``); else None.
    """

    spikes: SpikeTrains
    n_exc: int
    n_inh: int
    duration: float
    brian_seed: int
    state_samples: dict | None = None

    def rates_hz(self) -> np.ndarray:
        """Per-neuron mean firing rate, shape ``(n_neurons,)``."""
        counts = np.bincount(self.spikes.indices, minlength=self.n_exc + self.n_inh)
        return counts / self.duration

    def mean_rate(self, population: str = "exc") -> float:
        """Mean firing rate (Hz) of ``'exc'``, ``'inh'`` or ``'all'`` neurons."""
        rates = self.rates_hz()
        sel = {"exc": slice(0, self.n_exc), "inh": slice(self.n_exc, None), "all": slice(None)}
        check_choice("population", population, sel)
        part = rates[sel[population]]
        return float(part.mean()) if part.size else float("nan")

    def population_rate(self, bin_width: float = 1e-3) -> np.ndarray:
        """Population rate (Hz per neuron) in bins of ``bin_width`` s, shape ``(n_bins,)``."""
        from .states import bin_counts  # imports Numba: only when a run is analysed

        counts = bin_counts(
            self.spikes.indices, self.spikes.times, self.n_exc + self.n_inh, bin_width, self.duration
        )
        return counts.sum(axis=1) / (bin_width * (self.n_exc + self.n_inh))

    def counts(self, starts, stops) -> np.ndarray:
        """Spike counts per window, shape ``(n_windows, n_neurons)``."""
        from .states import window_counts

        return window_counts(self.spikes.indices, self.spikes.times, self.n_exc + self.n_inh, starts, stops)

    def traces(self, sample_times, tau: float) -> np.ndarray:
        """Exponentially filtered traces sampled at ``sample_times``, shape ``(n_samples, n_neurons)``."""
        from .states import filtered_traces

        return filtered_traces(
            self.spikes.indices, self.spikes.times, self.n_exc + self.n_inh, sample_times, tau
        )


def indegree_pairs(n: int, indegree: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Fixed in-degree connectivity, sorted by presynaptic neuron.

    Each of the ``n`` neurons receives ``indegree`` synapses from distinct sources drawn
    uniformly. Sorting by source makes a spiking neuron's synapses contiguous in
    Brian2's synapse arrays: its spike then reads them sequentially instead of from
    ``indegree``-spaced cache lines across the whole table (measured: ~30 ns against
    ~4 ns per synaptic event at 10 000 neurons).

    Returns
    -------
    pre, post : ndarray of int32, shape ``(n * indegree,)``
    """
    pre = np.empty((n, indegree), dtype=np.int32)
    for j in range(n):
        pre[j] = rng.choice(n, size=indegree, replace=False)
    post = np.repeat(np.arange(n, dtype=np.int32), indegree)
    order = np.lexsort((post, pre.ravel()))
    return pre.ravel()[order], post[order]


class IzhikevichReservoir:
    """A built Izhikevich reservoir that runs many trials from one compilation.

    Parameters
    ----------
    config : ReservoirConfig
    seed : int or numpy.random.Generator
        Seeds the structure (connectivity, weights, heterogeneity) and, through
        the same Generator, the noise of successive trials.
    backend : {'cython', 'numpy', 'cpp_standalone'}
        ``'cpp_standalone'`` compiles one binary per (structure, duration) into
        the cache and re-runs it per trial with a new seed; it supports spike
        inputs fixed at build time only and no injected current.
    record_state : sequence of str
        Neuron variables (of :data:`RECORDABLE_STATE`: membrane potential ``v``, recovery
        ``u``, synaptic current ``I_exp`` when ``tau_syn > 0``) sampled once per row of an
        injected current (:attr:`ReservoirRun.state_samples`); default none.

    Examples
    --------
    >>> res = IzhikevichReservoir(preset("izhikevich2003", n_neurons=200), seed=0)  # doctest: +SKIP
    >>> run = res.run(0.5)                                                          # doctest: +SKIP
    >>> run.mean_rate("exc")                                                        # doctest: +SKIP
    """

    def __init__(
        self, config: ReservoirConfig | None = None, *, seed=0, backend: str = "cython", record_state=()
    ):
        self.config = config if config is not None else ReservoirConfig()
        if not isinstance(self.config, ReservoirConfig):
            raise ValueError(f"config must be a ReservoirConfig, got {type(self.config).__name__}")
        check_choice("backend", backend, engine.BACKENDS)
        self.record_state = tuple(record_state)
        for name in self.record_state:
            check_choice("record_state", name, RECORDABLE_STATE)
        if "I_exp" in self.record_state and self.config.tau_syn == 0:
            raise ValueError("record_state 'I_exp' needs tau_syn > 0 (no synaptic current otherwise)")
        if self.record_state and backend == "cpp_standalone":
            raise ValueError(
                "record_state needs an injected current, which 'cpp_standalone' does not support"
            )
        self.rng = make_rng(seed)
        self.structure_seed = engine.brian_seed_from(self.rng)
        self.backend = engine.configure(backend)
        self._net = None
        self._standalone_dir = None
        cfg = self.config
        if cfg.noise_repeat > 0:
            if self.backend == "cpp_standalone":
                raise ValueError("noise_repeat > 0 (frozen noise) needs backend 'cython' or 'numpy'")
            # one deviate per neuron and step, replayed every noise_repeat seconds
            self._noise = NoiseStream(cfg.n_neurons * round(cfg.noise_repeat / cfg.dt), frozen=True)
        else:
            self._noise = NoiseStream()
        self._recorder = SpikeRecorder()
        if self.backend != "cpp_standalone":
            self._build_runtime()

    def input_taps(self) -> tuple[np.ndarray, np.ndarray]:
        """Delays (s) and gains of the injected current's taps (:func:`spiking.encoders.delay_taps`),
        each ``(n_neurons, input_taps)``, drawn from ``default_rng([structure_seed, 1])``."""
        cfg = self.config
        rng = np.random.default_rng([self.structure_seed, 1])
        return delay_taps(cfg.n_neurons, cfg.input_delay, cfg.dt, cfg.input_taps, seed=rng)

    # -- model -------------------------------------------------------------
    def _create_objects(self, input_spikes: SpikeTrains | None = None, drive_dt: float | None = None):
        """Create the Brian2 objects (structure drawn from Brian2's RNG, already seeded)."""
        import brian2 as b2

        cfg = self.config
        n = cfg.n_neurons
        eqs = IZHIKEVICH_EQS
        delayed = drive_dt is not None and cfg.input_delay > 0
        if delayed:
            eqs = eqs.replace("I_drive : 1", delayed_drive_equations(cfg.input_taps))
        elif drive_dt is not None:
            eqs = eqs.replace("I_drive : 1", "I_drive = drive(t, i) : 1")
        # A spike adds w (mV) to the next step's input; scaled by 1/h so it moves v by ~w.
        on_pre = "I_syn_post += w*syn_gain"
        if cfg.tau_syn > 0:
            eqs += "I_exp : 1\n"
            on_pre = "I_exp_post += w*exp_gain"
        # Parameters go through the namespace, not into the code strings, so every
        # size and weight scale shares one set of compiled code objects.
        ns = {
            "n_exc": cfg.n_exc,
            "d_exponent": float(cfg.neuron.d_exponent),
            "noise_exc": cfg.noise_exc,
            "noise_inh": cfg.noise_inh,
            "w_exc": cfg.w_exc,
            "w_inh": cfg.w_inh,
            "w_input": cfg.w_input,
            "v_init": cfg.neuron.v_init,
            "indegree": cfg.indegree,
            "p_connect": cfg.p_connect,
            "p_input": cfg.p_input,
            **izhikevich_namespace(cfg.dt),
        }
        if cfg.tau_syn > 0:
            # Each PSP keeps the area of the instantaneous one: sum_k gain*decay^k*h = 1.
            decay = float(np.exp(-cfg.dt / cfg.tau_syn))
            ns.update(syn_decay=decay, exp_gain=(1.0 - decay) / ns["h"])
        same_period = bool(np.isclose(cfg.noise_period, cfg.dt))
        standalone = self.backend == "cpp_standalone"
        record = propagate = None
        if self.backend == "cython":
            # Spikes recorded by the state update's reset instead of a SpikeMonitor, and
            # recurrent spikes added there from CSR arrays instead of a spike queue.
            ns["spike_record"] = spike_recorder(self._recorder)
            record, propagate = "spike_record", "recurrent_propagate"
            eqs += "propagated : 1 (shared)\n"
        if same_period and not standalone:
            # Noise drawn inside the state update from the trial's numpy Generator.
            ns["thalamic_randn"] = generator_randn(self._noise)
            scheme = IzhikevichScheme("thalamic_randn", record=record, propagate=propagate)
        elif same_period:
            scheme = IzhikevichScheme("randn")
        else:
            eqs += "I_noise : 1\n"
            eqs = eqs.replace("I_syn + I_drive)/ms", "I_syn + I_drive + I_noise)/ms")
            scheme = IzhikevichScheme(None, record=record, propagate=propagate)
        # One clock for every object: objects left on Brian2's 0.1 ms defaultclock
        # would make the network step 10x more often than the neurons.
        clock = b2.Clock(dt=cfg.dt * b2.second, name="reservoir_clock")
        G = b2.NeuronGroup(
            n,
            eqs,
            threshold=IZHIKEVICH_THRESHOLD,
            reset=None,  # the scheme resets at the start of the next step, as the paper does
            method=scheme,
            clock=clock,
            name="reservoir",
            namespace=ns,
        )
        G.is_exc = "i < n_exc"
        G.r = "rand()"
        G.a = "0.02 + (1 - int(is_exc))*0.08*r"
        G.b = "0.2 + (1 - int(is_exc))*(0.05 - 0.05*r)"
        G.c = "-65 + int(is_exc)*15*r**2"
        G.d = "int(is_exc)*(8 - 6*r**d_exponent) + (1 - int(is_exc))*2"
        G.sigma_noise = "int(is_exc)*noise_exc + (1 - int(is_exc))*noise_inh"
        G.v = "v_init"
        G.u = "b*v"
        if delayed:  # drawn by NumPy, so Brian2's structure stream is that of the undelayed network
            delays, gains = self.input_taps()
            for k in range(cfg.input_taps):
                setattr(G, f"tap_delay_{k}", delays[:, k] * b2.second)
                setattr(G, f"tap_gain_{k}", gains[:, k])
        objects = [G]
        if not same_period:
            # Noise held for noise_period: a separate draw every period (Brian2's randn()).
            objects.append(
                G.run_regularly(
                    "I_noise = sigma_noise*randn()",
                    dt=cfg.noise_period * b2.second,
                    when="start",
                    name="thalamic_noise",
                )
            )
        S = b2.Synapses(G, G, "w : 1", on_pre=on_pre, name="recurrent", namespace=ns, clock=clock)
        if cfg.connectivity == "all":
            S.connect()
        elif cfg.connectivity == "prob":
            S.connect(p="p_connect")
        elif standalone:
            # Drawn inside the binary by Brian2's RNG, so one build serves every structure seed.
            S.connect(i="k for k in sample(N_pre, size=indegree)")
        else:
            pre, post = indegree_pairs(n, cfg.indegree, np.random.default_rng(self.structure_seed))
            S.connect(i=pre, j=post)
        # rand() first, then the Dale's-law scale (Brian2's numpy expression target
        # mis-vectorises rand() inside a branch).
        S.w = "rand()"
        S.w = "w*(int(is_exc_pre)*w_exc - (1 - int(is_exc_pre))*w_inh)"
        objects.append(S)
        if propagate is not None:
            # S stays as the description of the structure; the state update transmits.
            target, gain = ("I_exp", ns["exp_gain"]) if cfg.tau_syn > 0 else ("I_syn", ns["syn_gain"])
            G.namespace[propagate], self._propagation_arrays = recurrent_propagation(G, S, target, gain)
            S.active = False
        if record is None:
            objects.append(b2.SpikeMonitor(G, name="spikes"))
        if cfg.n_inputs > 0:
            if input_spikes is None:
                inp = b2.SpikeGeneratorGroup(cfg.n_inputs, [], [] * b2.second, clock=clock, name="input")
            else:
                inp = b2.SpikeGeneratorGroup(
                    cfg.n_inputs,
                    input_spikes.indices,
                    input_spikes.times * b2.second,
                    clock=clock,
                    name="input",
                )
            S_in = b2.Synapses(
                inp, G, "w : 1", on_pre=on_pre, name="input_synapses", namespace=ns, clock=clock
            )
            S_in.connect(condition="is_exc_post" if cfg.input_target == "exc" else "True", p="p_input")
            S_in.w = "w_input*rand()"
            if cfg.input_spike_delay > 0:  # last structure draw: undelayed networks keep their streams
                steps = int(round(cfg.input_spike_delay / cfg.dt))
                S_in.delay = f"floor(rand() * {steps + 1}) * {cfg.dt!r} * second"
            objects += [inp, S_in]
        return objects

    def _build_runtime(self):
        import brian2 as b2

        b2.start_scope()
        b2.seed(self.structure_seed)
        objs = self._create_objects(drive_dt=None)
        self._objects = {o.name: o for o in objs}
        self._net = b2.Network(*objs, name="reservoir_network")
        self._net.store("initial")
        self._drive_net = None

    def _build_drive(self, drive_dt: float):
        """A second network variant with a TimedArray current drive (built lazily, once)."""
        import brian2 as b2

        b2.seed(self.structure_seed)  # same structure as the plain network
        objs = self._create_objects(drive_dt=drive_dt)
        if self.record_state:  # state at the start of every row of the current (one record per row)
            objs.append(
                b2.StateMonitor(
                    objs[0], list(self.record_state), record=True, dt=drive_dt * b2.second,
                    when="start", name="state_samples",
                )
            )
        self._drive_objects = {o.name: o for o in objs}
        self._drive_net = b2.Network(*objs, name="reservoir_drive_network")
        self._drive_net.store("initial")
        self._drive_dt = drive_dt

    # -- running -----------------------------------------------------------
    def run(
        self,
        duration: float,
        *,
        input_spikes: SpikeTrains | None = None,
        input_current=None,
        current_dt: float | None = None,
        seed=None,
        progress: bool = False,
    ) -> ReservoirRun:
        """Run one trial from the initial state and return its spikes.

        Parameters
        ----------
        duration : float
            Seconds (> 0).
        input_spikes : SpikeTrains, optional
            Spikes of the ``n_inputs`` input neurons (times in ``[0, duration)``).
        input_current : array_like, shape ``(n_steps, n_neurons)``, optional
            Injected current (mV per ms), held for ``current_dt`` seconds per row.
        current_dt : float, optional
            Row duration of ``input_current`` (default: ``duration / n_steps``).
        seed : int, optional
            Noise seed of this trial; by default the next draw from the reservoir's Generator.
        progress : bool
            Show a tqdm progress bar.
        """
        check_positive("duration", duration)
        cfg = self.config
        if not duration / cfg.dt <= MAX_STEPS:  # Brian2's clock would silently run 0 steps
            raise ValueError(
                f"duration = {duration:g} s is {duration / cfg.dt:.3g} steps of dt = {cfg.dt:g} s; "
                f"at most {MAX_STEPS:.3g} steps fit the step counter"
            )
        if input_spikes is not None:
            if cfg.n_inputs == 0:
                raise ValueError("input_spikes given but the reservoir has n_inputs=0")
            if not isinstance(input_spikes, SpikeTrains):
                raise ValueError(f"input_spikes must be SpikeTrains, got {type(input_spikes).__name__}")
            if input_spikes.n_units != cfg.n_inputs:
                raise ValueError(
                    f"input_spikes has {input_spikes.n_units} units, expected n_inputs={cfg.n_inputs}"
                )
            if input_spikes.n_spikes and input_spikes.times.max() >= duration:
                raise ValueError(f"input_spikes has spikes at or after duration={duration!r} s")
        if input_current is not None:
            input_current = check_array("input_current", input_current, ndim=2)
            if input_current.shape[1] != cfg.n_neurons:
                raise ValueError(
                    f"input_current must have shape (n_steps, {cfg.n_neurons}), got {input_current.shape}"
                )
            if current_dt is None:
                current_dt = duration / input_current.shape[0]
            check_positive("current_dt", current_dt)
        trial_seed = engine.brian_seed_from(self.rng) if seed is None else int(seed)
        if self.backend == "cpp_standalone":
            if input_current is not None:
                raise ValueError("backend 'cpp_standalone' does not support input_current; use 'cython'")
            return self._run_standalone(duration, input_spikes, trial_seed)
        return self._run_runtime(duration, input_spikes, input_current, current_dt, trial_seed, progress)

    def _run_runtime(self, duration, input_spikes, input_current, current_dt, trial_seed, progress):
        import brian2 as b2

        namespace = {}
        if input_current is not None:
            if self._drive_net is None or not np.isclose(self._drive_dt, current_dt):
                self._build_drive(current_dt)
            net, objs = self._drive_net, self._drive_objects
            namespace["drive"] = b2.TimedArray(input_current, dt=current_dt * b2.second)
        else:
            net, objs = self._net, self._objects
        net.restore("initial")
        if "input" in objs:
            inp = objs["input"]
            if input_spikes is None:
                inp.set_spikes([], [] * b2.second)
            else:
                inp.set_spikes(input_spikes.indices, input_spikes.times * b2.second)
        b2.seed(trial_seed)
        self._noise.reset(np.random.default_rng(trial_seed))
        bar = None
        t_start = time.perf_counter()
        t_ready = []  # Brian2 calls `report` first when code generation is done and the loop starts

        def report(elapsed, complete, t_start, total):  # noqa: ARG001 - Brian2's signature
            nonlocal bar
            if not t_ready:
                t_ready.append(time.perf_counter())
                if progress:  # the bar starts with the simulation loop, after code generation
                    from tqdm.auto import tqdm

                    bar = tqdm(total=round(duration, 6), unit="s(bio)", desc="reservoir", leave=False)
            if bar is not None:
                bar.n = round(float(complete) * duration, 6)
                bar.refresh()

        # Brian2 calls gc.collect() at every run(): 0.1-0.5 s over the heap of an
        # imported Brian2/SymPy. Frozen objects are skipped by the collector, so only
        # what was allocated since is scanned; unfreeze hands them back afterwards.
        gc.freeze()
        self._recorder.reset()
        try:
            net.run(duration * b2.second, namespace=namespace, report=report, report_period=1 * b2.second)
        finally:
            gc.unfreeze()
            if bar is not None:
                bar.close()
        t_end = time.perf_counter()
        if float(net.t) < duration * (1 - 1e-9):  # stopped early (Brian2's stop, a time limit)
            raise KeyboardInterrupt(f"the run stopped at {float(net.t):g} s of {duration:g} s")
        t_ready = t_ready[0] if t_ready else t_start
        self.last_timing_ = {"build_s": t_ready - t_start, "run_s": t_end - t_ready}
        if "spikes" in objs:
            run = self._collect(objs["spikes"], duration, trial_seed)
        else:
            G = objs["reservoir"]
            last_step = int(G.clock.variables["timestep"].get_value()[0]) - 1
            idx, steps = self._recorder.finish(last_step, np.asarray(G.v[:]))
            run = self._spikes_run(idx, steps * self.config.dt, duration, trial_seed)
        if "state_samples" in objs:
            mon = objs["state_samples"]
            samples = {k: np.array(getattr(mon, k)).T for k in self.record_state}
            run = dataclasses.replace(run, state_samples=samples)
        return run

    def _run_standalone(self, duration, input_spikes, trial_seed):
        import brian2 as b2

        key = engine.structure_hash(
            self.config,
            duration,
            b2.__version__,
            input_spikes and (input_spikes.indices.tobytes(), input_spikes.times.tobytes()),
        )
        directory = engine.cache_dir() / "standalone" / f"reservoir_{key}"
        t_start = time.perf_counter()
        if self._standalone_dir != directory:
            b2.set_device("cpp_standalone", directory=str(directory), build_on_run=False)
            b2.prefs.devices.cpp_standalone.extra_make_args_unix = ["-j2"]
            b2.prefs.devices.cpp_standalone.openmp_threads = 0
            b2.device.insert_code("main", engine.standalone_seed_code())
            objs = self._create_objects(input_spikes=input_spikes)
            b2.device.insert_code("main", engine.standalone_seed_code(engine.STANDALONE_TRIAL_SEED_ENV))
            net = b2.Network(*objs, name="reservoir_network")
            net.run(duration * b2.second)
            # A binary built earlier for this exact structure is reused: the code is
            # regenerated (Brian2 needs its array bookkeeping) but not recompiled.
            marker = directory / ".neuroplast_built"
            compiled = marker.exists() and (directory / "main").exists()
            b2.device.build(directory=str(directory), compile=not compiled, run=False, with_output=False)
            marker.touch()
            self._standalone_dir = directory
            self._standalone_objs = {o.name: o for o in objs}
            t_built = time.perf_counter()
        else:
            t_built = t_start
        # The binary seeds Brian2's RNG with the structure seed before building the
        # network and with the trial seed before running it (see engine.standalone_seed_code).
        os.environ[engine.STANDALONE_SEED_ENV] = str(self.structure_seed)
        os.environ[engine.STANDALONE_TRIAL_SEED_ENV] = str(trial_seed)
        try:
            b2.device.run(directory=str(directory), with_output=False, run_args=[])
        finally:
            os.environ.pop(engine.STANDALONE_SEED_ENV, None)
            os.environ.pop(engine.STANDALONE_TRIAL_SEED_ENV, None)
        self.last_timing_ = {"build_s": t_built - t_start, "run_s": time.perf_counter() - t_built}
        return self._collect(self._standalone_objs["spikes"], duration, trial_seed)

    def _collect(self, mon, duration, trial_seed) -> ReservoirRun:
        """The trial's spikes from the ``SpikeMonitor`` (times in seconds)."""
        # copies: the monitor's arrays are views that the next trial overwrites in place
        return self._spikes_run(np.array(mon.i[:]), np.array(mon.t_[:]), duration, trial_seed)

    def _spikes_run(self, indices, times, duration, trial_seed) -> ReservoirRun:
        spikes = SpikeTrains(
            np.asarray(indices, dtype=np.int64),
            np.asarray(times, dtype=np.float64),
            self.config.n_neurons,
            duration,
        )
        return ReservoirRun(spikes, self.config.n_exc, self.config.n_inh, duration, trial_seed)

    def close(self):
        """Release a standalone device so later code runs in runtime mode again."""
        if self.backend == "cpp_standalone" and self._standalone_dir is not None:
            import brian2 as b2

            b2.device.reinit()
            b2.set_device("runtime")
            self._standalone_dir = None
