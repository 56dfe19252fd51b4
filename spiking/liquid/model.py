"""The NALSM liquid model, shared by its engines: config, grid connectivity, step constants, features.

Model (Ivanov & Michmizos, NeurIPS 2021; reference code combra-lab/NALSM)
-------------------------------------------------------------------------
*Structure.* ``prod(grid_shape)`` liquid neurons sit on the points of a 3-D
grid; a random 80 % are excitatory (E), the rest inhibitory (I). Neuron ``i``
connects to ``j != i`` with probability :math:`C_{ij} e^{-(D_{ij}/\\lambda)^2}`
(:math:`\\lambda = 3`, :math:`C` = 0.2 E→E, 0.1 E→I, 0.3 I→E, 0.05 I→I, ``D``
the Euclidean grid distance). ``n_input`` input LIF neurons each project to a
random 15 % of the liquid. Weights start at their bound ``w_scale * w_max``
(+ for E, − for I, random sign for input) and stay within ``[0, w_max]`` (E),
``[-w_max, 0]`` (I), ``[-w_max, w_max]`` (input).

*Neurons* (1 ms steps, exactly the reference's update order). Every step
:math:`t`, a neuron spikes if :math:`v \\ge \\vartheta` (= 20) and it is not
refractory (2 steps after a spike); spiking neurons are reset to 0. Then

.. math::

    v_i(t) = v_i(t-1) \\Big(1 - \\frac{\\Delta t}{\\tau_v}\\Big) + \\sum_j w_{ij}
             \\frac{e^{-(t - \\hat t_j)/\\tau_u}}{\\tau_u} + I\\, \\mathbb{1}[U < p_i]

with :math:`\\tau_v` = 64 ms, :math:`\\tau_u` = 1 ms, :math:`\\hat t_j` the last
spike of ``j`` (only the last spike counts, as in the reference), and for input
neurons a Bernoulli drive of :math:`I = 100` with the pixel probability
:math:`p_i`. The synaptic term is kept per postsynaptic neuron
(:math:`I^c_i`): it decays by :math:`e^{-\\Delta t/\\tau_u}` each step and
jumps by :math:`w_{ij}(1/\\tau_u - e_j)` when ``j`` spikes (``e_j`` = ``j``'s
decayed kernel value), using the weight at the time of the spike (the
reference re-reads the weight every step; with :math:`\\tau_u` = 1 ms the
difference is a few hundredths of a threshold).

*Plasticity* is :mod:`plasticity_rules.stdp` (per-neuron traces ``x``) with the
depression rate ``A`` of the astrocyte (:mod:`plasticity_rules.astrocyte`).

*Protocol.* :meth:`Liquid.initialise` presents samples for ``init_steps`` ms
each with plasticity on (no decay), carrying weights from sample to sample,
starting from the initial weights ``conn.w0``. :meth:`Liquid.features` presents
each sample for ``sample_steps`` ms starting from the initialised weights, with
:math:`\\eta_+`, ``A``, :math:`w_\\mathrm{astro}` and :math:`b_A` multiplied by
``lr_decay`` every step, and returns liquid spike counts
(:class:`LiquidFeatures`). A fixed-weight LSM skips the initialisation and
starts from scaled initial weights (:meth:`Liquid.use_initial_weights`).
Traces and neuron states are reset at every sample start (the reference keeps
the traces; they decay within ~50 ms anyway).

Engines: :class:`spiking.liquid.brian2.Brian2Liquid` (Brian2) and
:class:`spiking.liquid.numba.NumbaLiquid` (hand-written Numba, the ground truth
and speed reference) implement :class:`Liquid`; both take their per-step
constants from :func:`step_constants`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plasticity_rules.validation import (
    check_array,
    check_int,
    check_nonnegative,
    check_positive,
    check_probability,
    make_rng,
)

__all__ = [
    "LiquidConfig",
    "Connectivity",
    "build_connectivity",
    "step_constants",
    "LiquidFeatures",
    "Liquid",
    "sample_seeds",
    "input_drive",
]


@dataclass(frozen=True)
class LiquidConfig:
    """Parameters of the NALSM liquid (reference values as defaults; times in 1 ms steps)."""

    grid_shape: tuple = (10, 10, 10)
    n_input: int = 64
    frac_exc: float = 0.8
    lam: float = 3.0
    c_ee: float = 0.2
    c_ei: float = 0.1
    c_ie: float = 0.3
    c_ii: float = 0.05
    p_input: float = 0.15
    w_max: float = 3.0
    w_scale: float = 1.0
    tau_v_steps: float = 64.0
    v_th: float = 20.0
    t_ref_steps: int = 2
    tau_u_steps: float = 1.0
    input_current: float = 100.0
    trace_a: float = 0.1
    tau_trace_steps: float = 10.0
    tau_astro_steps: float = 100.0
    init_steps: int = 20
    sample_steps: int = 250
    lr_decay: float = 0.99

    def __post_init__(self):
        shape = tuple(self.grid_shape)
        if len(shape) != 3 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) for s in shape):
            raise ValueError(f"grid_shape must be three integers, got {self.grid_shape!r}")
        if any(s < 1 for s in shape):
            raise ValueError(f"grid_shape must have sizes >= 1 in every dimension, got {self.grid_shape!r}")
        object.__setattr__(self, "grid_shape", tuple(int(s) for s in shape))
        check_int("n_input", self.n_input, minimum=1)
        check_probability("frac_exc", self.frac_exc)
        check_positive("lam", self.lam)
        for name in ("c_ee", "c_ei", "c_ie", "c_ii", "p_input"):
            check_probability(name, getattr(self, name))
        check_positive("w_max", self.w_max)
        check_nonnegative("w_scale", self.w_scale)
        if self.w_scale > 1:
            raise ValueError(
                f"w_scale must be in [0, 1] (initial |w| = w_scale * w_max), got {self.w_scale!r}"
            )
        for name in ("tau_v_steps", "v_th", "tau_u_steps", "tau_trace_steps", "tau_astro_steps"):
            check_positive(name, getattr(self, name))
        if self.tau_v_steps < 1:
            raise ValueError(f"tau_v_steps must be >= 1 (Euler step of 1 ms), got {self.tau_v_steps!r}")
        if self.tau_astro_steps < 1:
            raise ValueError(
                f"tau_astro_steps must be >= 1 (Euler step of 1 ms), got {self.tau_astro_steps!r}"
            )
        check_int("t_ref_steps", self.t_ref_steps, minimum=0)
        check_nonnegative("input_current", self.input_current)
        check_nonnegative("trace_a", self.trace_a)
        check_int("init_steps", self.init_steps, minimum=1)
        check_int("sample_steps", self.sample_steps, minimum=1)
        check_probability("lr_decay", self.lr_decay)

    @property
    def n_liquid(self) -> int:
        return int(np.prod(self.grid_shape))

    @property
    def n_exc(self) -> int:
        return int(np.round(self.n_liquid * self.frac_exc))


@dataclass(frozen=True)
class Connectivity:
    """Synapses of one liquid: liquid→liquid first, then input→liquid.

    ``pre``/``post`` index liquid neurons (``0..n_liquid-1``) for liquid synapses
    and ``pre`` indexes input neurons for input synapses; ``pre_global`` adds
    ``n_liquid`` to input indices (numbering used by the Numba simulation).
    """

    n_liquid: int
    n_exc: int
    n_input: int
    positions: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    n_liquid_syn: int
    w0: np.ndarray
    w_min: np.ndarray
    w_max: np.ndarray

    @property
    def pre_global(self) -> np.ndarray:
        g = self.pre.copy()
        g[self.n_liquid_syn :] += self.n_liquid
        return g

    @property
    def post_global(self) -> np.ndarray:
        return self.post.copy()

    @property
    def liquid_pre(self) -> np.ndarray:
        return self.pre[: self.n_liquid_syn]

    @property
    def liquid_post(self) -> np.ndarray:
        return self.post[: self.n_liquid_syn]


def build_connectivity(config: LiquidConfig, seed=None) -> Connectivity:
    """Draw positions, E/I identities and synapses of a liquid (see the module docstring)."""
    rng = make_rng(seed)
    n, n_exc, n_in = config.n_liquid, config.n_exc, config.n_input
    gx, gy, gz = config.grid_shape
    grid = np.stack(np.meshgrid(np.arange(gx), np.arange(gy), np.arange(gz), indexing="ij"), -1).reshape(
        -1, 3
    )
    positions = grid[rng.permutation(n)].astype(np.float64)  # neuron k (E first, then I) at a random point
    is_inh = np.arange(n) >= n_exc
    cls = is_inh.astype(np.int64)
    c_tab = np.array([[config.c_ee, config.c_ei], [config.c_ie, config.c_ii]])
    # blocks of rows keep the (n, n) temporaries small (an 8000-neuron liquid needed ~3.5 GB at
    # once); consecutive row blocks of rng.random draw the same stream as one (n, n) call
    rows = max(1, 2**21 // n)
    pre_parts, post_parts = [], []
    for a in range(0, n, rows):
        b = min(a + rows, n)
        d2 = ((positions[a:b, None, :] - positions[None, :, :]) ** 2).sum(-1)
        p = c_tab[cls[a:b, None], cls[None, :]] * np.exp(-d2 / config.lam**2)
        p[np.arange(b - a), np.arange(a, b)] = 0.0  # no self-connections
        r, col = np.nonzero(rng.random((b - a, n)) < p)
        pre_parts.append(r + a)
        post_parts.append(col)
    pre_l, post_l = np.concatenate(pre_parts), np.concatenate(post_parts)
    pre_i, post_i = np.nonzero(rng.random((n_in, n)) < config.p_input)
    w_abs = config.w_scale * config.w_max
    inh_syn = is_inh[pre_l]
    w_l = np.where(inh_syn, -w_abs, w_abs)
    lo_l = np.where(inh_syn, -config.w_max, 0.0)
    hi_l = np.where(inh_syn, 0.0, config.w_max)
    sign = np.where(rng.random(pre_i.size) < 0.5, -1.0, 1.0)
    w_i = sign * w_abs
    return Connectivity(
        n_liquid=n,
        n_exc=n_exc,
        n_input=n_in,
        positions=positions,
        pre=np.concatenate([pre_l, pre_i]).astype(np.int64),
        post=np.concatenate([post_l, post_i]).astype(np.int64),
        n_liquid_syn=int(pre_l.size),
        w0=np.concatenate([w_l, w_i]).astype(np.float64),
        w_min=np.concatenate([lo_l, np.full(pre_i.size, -config.w_max)]),
        w_max=np.concatenate([hi_l, np.full(pre_i.size, config.w_max)]),
    )


def step_constants(config: LiquidConfig) -> dict:
    """Per-step constants of the discrete-time map (1 ms steps), the same for every engine.

    .. math::

        \\mathrm{leak} = 1 - \\frac{1}{\\tau_v},\\quad
        \\mathrm{decay}_u = e^{-1/\\tau_u},\\quad
        \\mathrm{decay}_x = e^{-1/\\tau_x}

    Returns
    -------
    dict
        ``v_th``, ``t_ref`` (steps), ``inv_tau_u``, ``decay_u``, ``a_trace``, ``decay_x``,
        ``leak``, ``input_current`` and ``tau_A`` (steps), all plain floats.
    """
    c = config
    return {
        "v_th": float(c.v_th),
        "t_ref": float(c.t_ref_steps),
        "inv_tau_u": 1.0 / c.tau_u_steps,
        "decay_u": float(np.exp(-1.0 / c.tau_u_steps)),
        "a_trace": float(c.trace_a),
        "decay_x": float(np.exp(-1.0 / c.tau_trace_steps)),
        "leak": 1.0 - 1.0 / c.tau_v_steps,
        "input_current": float(c.input_current),
        "tau_A": float(c.tau_astro_steps),
    }


def sample_seeds(base_seed: int, indices) -> list[np.random.SeedSequence]:
    """Per-sample seeds: sample ``i`` draws its input spikes from ``SeedSequence(base_seed, (i,))``.

    A sample's input spikes then depend only on ``(base_seed, i)``, never on which
    other samples share a call, a batch or a worker, so features computed in
    parallel shards, or resumed after an interruption, are bit-identical to a
    serial run.

    Parameters
    ----------
    base_seed : int
        Non-negative entropy of the run (drawn once from the run's generator).
    indices : array_like of int, shape (n_samples,)
        Global sample indices (position in the data set being featurised).
    """
    base = check_int("base_seed", base_seed, minimum=0)
    return [np.random.SeedSequence(base, spawn_key=(int(i),)) for i in np.asarray(indices).ravel()]


def input_drive(p, seed, n_steps: int) -> np.ndarray:
    """Bernoulli input spikes of one sample: ``U[t, j] < p[j]`` with ``U`` from the sample's own generator.

    .. math::

        d_{tj} = \\mathbb{1}[U_{tj} < p_j],\\quad
        U \\sim \\mathcal{U}[0, 1)^{n_\\mathrm{steps} \\times n_\\mathrm{input}}

    ``U`` is drawn row by row (step, then input neuron) from
    ``numpy.random.default_rng(seed)``, the order in which the Numba engine draws
    ``rng.random()`` per input neuron and step, so both engines see the same inputs.

    Returns
    -------
    ndarray of bool, shape (n_steps, n_input)
    """
    p = np.asarray(p, dtype=np.float64)
    return np.random.default_rng(seed).random((int(n_steps), p.shape[0])) < p


def _check_sample_seeds(seeds, n: int) -> list:
    seeds = list(seeds)
    if len(seeds) != n:
        raise ValueError(f"sample_seeds must have one seed per sample ({n}), got {len(seeds)}")
    return seeds


@dataclass(frozen=True)
class LiquidFeatures:
    """What :meth:`Liquid.features` returns.

    Attributes
    ----------
    counts : ndarray, shape (n_samples, n_liquid)
        Liquid spike counts per sample.
    spike_samples, spike_steps, spike_neurons : ndarray of int64, shape (n_spikes,)
        Liquid spikes of the first ``n_recorded`` samples (sample, step within the sample, neuron).
    input_samples, input_steps, input_neurons : ndarray of int64
        Input spikes of the recorded samples (empty where the engine does not record them).
    astro : ndarray, shape (n_recorded, n_steps)
        Astrocyte depression rate :math:`A` after each step's update.
    n_recorded, n_neurons, n_steps : int
        Samples recorded, liquid neurons and steps per sample.

    Items can also be read as ``features["counts"]`` (the dictionary interface of earlier versions).
    """

    counts: np.ndarray
    spike_samples: np.ndarray
    spike_steps: np.ndarray
    spike_neurons: np.ndarray
    input_samples: np.ndarray
    input_steps: np.ndarray
    input_neurons: np.ndarray
    astro: np.ndarray
    n_recorded: int
    n_neurons: int
    n_steps: int

    def __getitem__(self, key: str):
        return getattr(self, key)

    def recorded_spikes(self) -> tuple:
        """``(samples, steps, neurons, n_recorded, n_neurons, n_steps)`` of the recorded liquid spikes.

        The first six arguments of :func:`tasks.liquid_metrics.branching_factor`; the last
        two are :meth:`Liquid.liquid_synapses`.
        """
        return (
            self.spike_samples,
            self.spike_steps,
            self.spike_neurons,
            self.n_recorded,
            self.n_neurons,
            self.n_steps,
        )


class Liquid:
    """The protocol every liquid engine implements (see the module docstring).

    Subclasses set ``config``, ``conn`` (:class:`Connectivity`), ``backend`` and the
    learned ``w_init_`` (weights feature generation starts from), and implement
    :meth:`initialise` and :meth:`features`.
    """

    config: LiquidConfig
    conn: Connectivity
    backend: str
    w_init_: np.ndarray

    def _setup(self, config, seed):
        """Validate the config, draw the connectivity and return the generator that drew it."""
        if not isinstance(config, LiquidConfig):
            raise ValueError(f"config must be a LiquidConfig, got {type(config).__name__}")
        self.config = config
        rng = make_rng(seed)
        self.conn = build_connectivity(config, rng)
        self.w_init_ = self.conn.w0.copy()
        return rng

    def initialise(
        self, probs, *, eta: float, w_astro: float, seed=None, callback=None
    ):  # pragma: no cover - interface
        """Liquid-initialisation phase: plasticity on, no decay, weights carried across samples.

        Parameters
        ----------
        probs : array_like, shape (n_samples, n_input)
            Per-step spike probabilities of the input neurons, one row per sample.
        eta, w_astro : float
            Potentiation rate (0 = fixed weights) and astrocyte weight (0 = plain STDP).
        seed : int, optional
            Seed of this phase's input draws (default: the liquid's generator), so the
            weights do not depend on what the liquid simulated before.
        callback : callable, optional
            Called with the number of samples done after each simulated block (progress).

        Returns
        -------
        self
        """
        raise NotImplementedError

    def features(
        self, probs, *, eta: float, w_astro: float, n_record: int = 0, sample_seeds=None
    ) -> LiquidFeatures:  # pragma: no cover - interface
        """Liquid spike counts per sample from ``w_init_``, with plasticity decaying by ``lr_decay``.

        ``n_record``: record every spike and the astrocyte trace of the first ``n_record`` samples.
        ``sample_seeds``: one seed per sample (:func:`sample_seeds`); sample ``i``'s input
        spikes are then :func:`input_drive` of its own seed, so its features do not depend on
        the other samples of the call (sharded, resumable generation; same inputs on every
        engine). Without it, one stream of the liquid's generator feeds all samples.
        """
        raise NotImplementedError

    def use_weights(self, w):
        """Start feature generation from weights ``w`` (e.g. initialised elsewhere, or loaded).

        ``w`` has one finite value per synapse (``conn`` order) within the synapse's bounds;
        returns ``self``.
        """
        w = check_array("w", w, ndim=1)
        if w.shape[0] != self.conn.pre.size:
            raise ValueError(f"w must have one weight per synapse ({self.conn.pre.size}), got {w.shape[0]}")
        if np.any(w < self.conn.w_min) or np.any(w > self.conn.w_max):
            raise ValueError("w must lie within the synapses' bounds [conn.w_min, conn.w_max]")
        self.w_init_ = np.array(w, dtype=np.float64, copy=True)
        return self

    def use_initial_weights(self, scale: float = 1.0):
        """Start feature generation from the initial weights times ``scale`` (a fixed-weight LSM).

        Sets ``w_init_ = scale * conn.w0`` without an initialisation phase; returns ``self``.
        """
        scale = check_nonnegative("scale", scale)
        self.w_init_ = self.conn.w0 * scale
        return self

    def liquid_synapses(self) -> tuple[np.ndarray, np.ndarray]:
        """``(pre, post)`` of the liquid-to-liquid synapses (input synapses excluded)."""
        return self.conn.liquid_pre, self.conn.liquid_post

    def _check_probs(self, probs):
        probs = check_array("probs", probs, ndim=2)
        if probs.shape[1] != self.conn.n_input:
            raise ValueError(
                f"probs must have shape (n_samples, {self.conn.n_input}) (one probability per input "
                f"neuron), got {probs.shape}"
            )
        if probs.min() < 0 or probs.max() > 1:
            raise ValueError(f"probs must lie in [0, 1], got values in [{probs.min()}, {probs.max()}]")
        return probs
