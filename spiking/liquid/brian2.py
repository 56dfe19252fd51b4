"""The NALSM liquid on Brian2: LIF neurons on a 3-D grid, STDP, and an in-simulation astrocyte.

The model, its parameters and the protocol are in :mod:`spiking.liquid.model`;
this engine integrates exactly the same discrete-time map as the Numba one
(:mod:`spiking.liquid.numba`), and its spikes, weights and astrocyte trace equal the
Numba engine's bit for bit where the inputs are the same.

Implementation: the astrocyte is a one-neuron Brian2 group per liquid copy, updated
every step in compiled code (``run_regularly`` at ``'end'``) from the step's liquid
and input spike counts; every neuron reads ``A`` and :math:`\\eta_+` through linked
variables. The network simulates ``batch`` copies of the liquid side by side so
that one compiled step advances several samples (see :class:`Brian2Liquid`). Many
samples share one ``run()``, the network is built once and restored with
``restore()`` per chunk, and plasticity parameters are group variables, so changing
the model (LSM: :math:`\\eta_+ = 0`; STDP: :math:`w_\\mathrm{astro} = 0`; NALSM:
:math:`w_\\mathrm{astro} > 0`) never recompiles. Every object runs on the network's
own 1 ms clock; Brian2's global ``defaultclock`` is left alone.

Cost per step (what made it 1.7x slower than the Numba twin, and what it does now):
runtime mode pays a fixed Python cost per code object and step, and the synaptic
event loops dominate at 784 inputs. So (1) every factor of the STDP update that
depends on one neuron only is computed once per neuron and step, in the step's last
update, and the input synapses' event loops (most of the events at 784 inputs) read 5
values per event instead of 11; (2) the weight
clip is a ``noexcept`` Cython function (Brian2's ``clip`` makes Cython call
``PyErr_Occurred()`` after every event); (3) the network runs on one clock: the
per-sample resets run from a Python operation every ``T`` steps instead of on clocks
of their own, which made Brian2 search the next clock every step; (4) the groups
have no differential equations and no Brian2 refractoriness (the model's own counter
``rfr`` does it), so their state updaters are switched off;
(5) the astrocyte's spike counts are read from the thresholders' spike lists (one
Python call) instead of two compiled summed variables over all neurons.
"""

from __future__ import annotations

import numpy as np

from plasticity_rules.astrocyte import astro_spike_weights
from plasticity_rules.validation import check_int, check_nonnegative

from .model import Liquid, LiquidConfig, LiquidFeatures, _check_sample_seeds, input_drive, step_constants

__all__ = ["Brian2Liquid"]


# Sign and bounds depend only on the presynaptic neuron, so they are per-neuron
# constants of the source group (``inh``, ``lo``, ``hi``): per-synapse copies
# tripled the memory every spike event touches. Every factor of the STDP update
# that depends on one neuron only is computed once per neuron and step (``_PER_STEP_*``)
# instead of once per synaptic event.
_SYN_MODEL = """
w : 1
w_init : 1
reset_w : 1 (shared)
"""
# Per neuron and step, computed for the next step at the end of each step (and by the
# sample resets); nothing changes v, rfr, x, A or eta between there and the next step's
# thresholder and synaptic events:
#   sp     1 if the neuron spikes in this step (the threshold condition)
#   dexc   depression of an excitatory synapse onto it: -A x_post
#   dinh   its inhibitory counterpart: +eta x_post
#   speta  potentiation rate if it spikes now (sp * eta, else 0)
#   pot    potentiation of its outgoing synapses when their target spikes: (eta | -A) x_pre
#   potq   pot, or 0 if it spikes itself (the pre-spike pathway then did both terms)
# Each product is the one the Numba kernel computes, in the same order, so weights stay
# bit-identical (a + 0 == a and 1 * a == a exactly in IEEE arithmetic).
_PER_STEP_LIQUID = (
    "sp = int(v >= v_th) * int(rfr < 0.5)\n"
    "dexc = -A_c * x\n"
    "dinh = eta_c * x\n"
    "speta = sp * eta_c\n"
    "pot = (eta_c * (1 - inh) - A_c * inh) * x\n"
    "potq = (1 - sp) * pot\n"
)
_PER_STEP_INPUT = (
    "sp = int(v >= v_th) * int(rfr < 0.5)\n"
    "potq = (1 - sp) * eta_c * x\n"
)
# liquid -> liquid, pre spike: propagate with the current weight, then STDP (depression;
# potentiation too if post spiked now)
_ON_PRE_LIQUID = (
    "Ic_post += w * (inv_tau_u - ek_pre)\n"
    "w = w + (dinh_post * inh_pre + dexc_post * (1 - inh_pre))\n"
    "w = clip_w(w + sp_post * pot_pre, lo_pre, hi_pre)\n"
)
# post spike: potentiation term, unless the pre neuron spiked in this step (potq = 0)
_ON_POST_LIQUID = "w = clip_w(w + potq_pre, lo_pre, hi_pre)\n"
# input -> liquid: inputs are excitatory-type with bounds [-w_max, w_max]
_ON_PRE_INPUT = (
    "Ic_post += w * (inv_tau_u - ek_pre)\n"
    "w = w + dexc_post\n"
    "w = clip_w(w + speta_post * x_pre, -w_max, w_max)\n"
)
_ON_POST_INPUT = "w = clip_w(w + potq_pre, -w_max, w_max)\n"


# Brian2's Cython ``clip`` is a ``cdef`` function without ``noexcept``: Cython 3 then calls
# ``PyErr_Occurred()`` after every call, i.e. once per synaptic event, which made the STDP
# loops about twice as slow as the hand-written Numba ones. The same clip, declared
# ``noexcept nogil`` (NumPy target: ``np.clip``; both as Brian2's own ``clip``).
_CLIP_CYTHON = """
cdef inline double clip_w(double x, double low, double high) noexcept nogil:
    if x < low:
        return low
    if x > high:
        return high
    return x
"""
_CLIP_FUNCTION = None


def _clip_function():
    """The Brian2 ``Function`` ``clip_w(x, low, high)`` (built once, after Brian2 is imported)."""
    global _CLIP_FUNCTION
    if _CLIP_FUNCTION is None:
        import brian2 as b2

        @b2.implementation("cython", _CLIP_CYTHON)
        @b2.check_units(x=1, low=1, high=1, result=1)
        def clip_w(x, low, high):
            return np.clip(x, low, high)

        _CLIP_FUNCTION = clip_w
    return _CLIP_FUNCTION


#: Synaptic-table budget of the automatic ``batch`` (bytes). Once the fixed cost per step
#: had been cut, one copy of the 1000-neuron, 64-input liquid (26 239 synapses, 420 KB)
#: ran faster than 2 or 4 copies side by side (bench_liquid, 2026-12-03: 65 vs 59 and
#: 60 samples per CPU second), so copies are only batched for small liquids.
_BATCH_BYTES = 2**18
#: Budget of the per-step input drives of one ``run()`` with per-sample seeds (bytes, float64).
_DRIVE_BYTES = 32 * 2**20


class Brian2Liquid(Liquid):
    """Brian2 NALSM liquid, built once; see :mod:`spiking.liquid.model` for the model.

    The network holds ``batch`` independent copies of the liquid side by side
    (same connectivity, each with its own astrocyte and input neurons), so one
    time step of the compiled simulation advances ``batch`` samples at once.
    In runtime mode the fixed cost of a step (~20 code-object calls from
    Python) then falls on ``batch`` samples instead of one. Feature generation
    feeds sample ``slot * batch + b`` to copy ``b`` in time slot ``slot``;
    initialisation, which carries weights from sample to sample, uses copy 0
    only (the other copies get no input and stay silent).

    Parameters
    ----------
    config : LiquidConfig
    seed : int, Generator or None
        Draws the connectivity and Brian2's seed.
    backend : {'cython', 'numpy'}
        Brian2 runtime code-generation target (via :func:`spiking.engine.configure`).
    chunk : int
        Samples per ``run()`` in :meth:`features` (fixed so compiled code is reused).
    init_chunk : int
        Samples per ``run()`` in :meth:`initialise`.
    batch : int or None
        Liquid copies simulated side by side (capped at ``chunk``). ``None`` picks
        as many as keep the synaptic tables of all copies within 256 KiB
        (16 bytes per synapse: weight and two indices), since spike events touch
        them at random and throughput drops once they leave the caches (1000
        neurons: 1 copy; 100 neurons, 16 inputs: 16). The Bernoulli
        input draws depend on it, so results are reproducible for a given
        ``(seed, batch)``; with 0/1 input probabilities they do not depend on it.

    Attributes
    ----------
    conn : Connectivity
    w_init_ : ndarray, shape (n_synapses,)
        Weights feature generation starts from (set by :meth:`initialise`).
    """

    def __init__(
        self,
        config: LiquidConfig,
        *,
        seed=None,
        backend: str = "cython",
        chunk: int = 200,
        init_chunk: int = 1000,
        batch: int | None = None,
    ):
        from ..engine import configure, seed_brian2

        chunk = check_int("chunk", chunk, minimum=1)
        init_chunk = check_int("init_chunk", init_chunk, minimum=1)
        self._rng = self._setup(config, seed)
        self.chunk, self.init_chunk = chunk, init_chunk
        if batch is None:
            batch = max(1, min(16, _BATCH_BYTES // (16 * max(1, self.conn.pre.size))))
        self.batch = min(check_int("batch", batch, minimum=1), self.chunk)
        self.slots = -(-self.chunk // self.batch)  # samples per copy per run()
        # seeded features hold every step's input drive of a run() in memory: fewer slots per run
        drive_row = 8 * config.sample_steps * self.batch * self.conn.n_input
        self.drive_slots = max(1, min(self.slots, _DRIVE_BYTES // drive_row))
        self.backend = configure(backend)
        self.brian_seed_ = seed_brian2(self._rng)
        self._build()

    # ------------------------------------------------------------------ build
    def _build(self):
        import brian2 as b2

        c, conn, B = self.config, self.conn, self.batch
        # the network's own clock: changing Brian2's global defaultclock would change every other network
        clock = b2.Clock(dt=1 * b2.ms, name="liquid_clock")
        n, n_in = conn.n_liquid, conn.n_input
        neuron_eqs = """
        v : 1
        ek : 1
        rfr : 1
        x : 1
        inh : 1 (constant)
        lo : 1 (constant)
        hi : 1 (constant)
        """
        # no `refractory`: the refractory count `rfr` is part of the model, and without it
        # Brian2 runs no state updater per step (the groups have no differential equations)
        self.liquid = b2.NeuronGroup(
            B * n,
            neuron_eqs
            + "Ic : 1\ncount : 1\nA_c : 1 (linked)\neta_c : 1 (linked)\n"
            + "".join(f"{v} : 1\n" for v in ("sp", "dexc", "dinh", "speta", "pot", "potq")),
            threshold="sp > 0.5",  # v >= v_th and rfr < 0.5, evaluated at the previous step's end
            reset="v = 0\nrfr = t_ref + 1\nek = inv_tau_u\nx += a_trace\ncount += 1",
            clock=clock,
            name="liquid",
        )
        self.inputs = b2.NeuronGroup(
            B * n_in,
            neuron_eqs
            + "t0 : second (shared)\ncol : integer\neta_c : 1 (linked)\n"
            + "".join(f"{v} : 1\n" for v in ("sp", "potq")),
            threshold="sp > 0.5",  # v >= v_th and rfr < 0.5, evaluated at the previous step's end
            reset="v = 0\nrfr = t_ref + 1\nek = inv_tau_u\nx += a_trace",
            clock=clock,
            name="inputs",
        )
        self.astro = b2.NeuronGroup(
            B,
            "\n".join(
                f"{v} : 1"
                for v in ("A", "A_rec", "eta", "kl", "ki", "b", "nL", "nI")
                + ("A0", "eta0", "kl0", "ki0", "b0", "gamma")
            ),
            clock=clock,
            name="astrocyte",
        )
        copy_of_neuron = np.repeat(np.arange(B), n)
        copy_of_input = np.repeat(np.arange(B), n_in)
        # each neuron sees its copy's astrocyte; the per-neuron factors of the STDP update are
        # computed from it once per step (synaptic code cannot read indexed links anyway)
        self.liquid.A_c = b2.linked_var(self.astro, "A", index=copy_of_neuron)
        self.liquid.eta_c = b2.linked_var(self.astro, "eta", index=copy_of_neuron)
        self.inputs.eta_c = b2.linked_var(self.astro, "eta", index=copy_of_input)

        nls = conn.n_liquid_syn
        off_l = np.repeat(np.arange(B) * n, nls)
        off_i = np.repeat(np.arange(B) * n_in, conn.pre.size - nls)
        off_p = np.repeat(np.arange(B) * n, conn.pre.size - nls)
        self.syn_ll = b2.Synapses(
            self.liquid,
            self.liquid,
            _SYN_MODEL,
            on_pre=_ON_PRE_LIQUID,
            on_post=_ON_POST_LIQUID,
            clock=clock,
            name="syn_liquid",
        )
        self.syn_il = b2.Synapses(
            self.inputs,
            self.liquid,
            _SYN_MODEL,
            on_pre=_ON_PRE_INPUT,
            on_post=_ON_POST_INPUT,
            clock=clock,
            name="syn_input",
        )
        self.syn_ll.connect(i=np.tile(conn.pre[:nls], B) + off_l, j=np.tile(conn.post[:nls], B) + off_l)
        self.syn_il.connect(i=np.tile(conn.pre[nls:], B) + off_i, j=np.tile(conn.post[nls:], B) + off_p)
        inh = np.tile(np.arange(n) >= conn.n_exc, B).astype(float)
        self.liquid.inh = inh
        self.liquid.lo = -c.w_max * inh
        self.liquid.hi = c.w_max * (1 - inh)
        self.inputs.inh = 0.0
        self.inputs.lo = -c.w_max
        self.inputs.hi = c.w_max
        self._set_weights(conn.w0, as_init=True)
        # The step's spike counts per copy reach the astrocyte at the end of the step (after
        # the resets, before its update): read from the thresholders' spike lists, which hold
        # the spiking indices in increasing order with their number in the last entry. One
        # Python operation here costs less than two compiled summed variables over all neurons.
        def count_spikes():
            for space, size, out in self._count_io:
                k = space[-1]
                if B == 1:
                    out[0] = k
                else:
                    out[:] = np.bincount(space[:k] // size, minlength=B)

        self._count_io = ()
        self._counter = b2.NetworkOperation(
            count_spikes, clock=clock, when="end", order=-4, name="astro_count"
        )
        end_code = "v = v * leak + {drive}\nek = ek * decay_u\nrfr = rfr - 1\nx = x * decay_x"
        # the step's last update also computes the per-neuron STDP factors of the next step
        # (nothing changes the state in between, except the sample resets, which compute them too)
        self.liquid.run_regularly(
            end_code.format(drive="Ic") + "\nIc = Ic * decay_u\n" + _PER_STEP_LIQUID,
            when="end",
            name="liquid_step",
        )
        self._input_rand = self.inputs.run_regularly(
            end_code.format(drive="input_current * int(rand() < stim(t - t0, col))") + "\n" + _PER_STEP_INPUT,
            when="end",
            name="input_step",
        )
        # per-sample seeded inputs: the Bernoulli draws are made in NumPy from each sample's own
        # generator and read from a TimedArray of 0/1 drives (see features(sample_seeds=...))
        self._input_drive = self.inputs.run_regularly(
            end_code.format(drive="input_current * drive(t - t0, col)") + "\n" + _PER_STEP_INPUT,
            when="end",
            name="input_step_drive",
        )
        self._input_drive.active = False
        # astrocyte update, then the decays of feature generation (A_rec: A before its decay)
        self.astro.run_regularly(
            "A_rec = A + (kl * nL - ki * nI + b - A) / tau_A\n"
            "A = A_rec * gamma\neta = eta * gamma\nkl = kl * gamma\nki = ki * gamma\nb = b * gamma",
            when="end",
            order=-3,
            name="astro_step",
        )
        self.astro_mon = b2.StateMonitor(
            self.astro, "A_rec", record=True, when="end", order=-2, name="astro_mon"
        )
        self.spike_mon = b2.SpikeMonitor(self.liquid, name="liquid_spikes")
        self.input_mon = b2.SpikeMonitor(self.inputs, name="input_spikes")

        # Per-sample resets. They are not network objects: one Python operation on the
        # network's clock runs them every `_period` steps (and records the cumulative spike
        # counts there), so the whole network runs on a single clock; Brian2 then skips its
        # per-step search for the next clock(s) to update.
        from brian2.groups.group import CodeRunner

        def runner(group, code, name):
            return CodeRunner(group, "stateupdate", code=code, clock=clock, when="start", name=name)

        reset_w = "w = w_init * reset_w + w * (1 - reset_w)"
        self._reset_ops = [  # the astrocyte first: the neurons' STDP factors read its A and eta
            runner(self.astro, "A = A0\neta = eta0\nkl = kl0\nki = ki0\nb = b0", "astro_reset"),
            runner(self.liquid, "v = 0\nIc = 0\nek = 0\nrfr = 0\nx = 0\n" + _PER_STEP_LIQUID, "liquid_reset"),
            runner(self.inputs, "v = 0\nek = 0\nrfr = 0\nx = 0\n" + _PER_STEP_INPUT, "input_reset"),
            runner(self.syn_ll, reset_w, "syn_liquid_reset"),
            runner(self.syn_il, reset_w, "syn_input_reset"),
        ]
        self._period, self._step, self._snapshots = c.sample_steps, 0, None
        self._count_array = None

        def sample_boundary():
            k = self._step
            self._step = k + 1
            if k % self._period == 0:
                if self._snapshots is not None:  # cumulative counts before each sample
                    self._snapshots.append(self._count_array.copy())
                for op in self._reset_ops:
                    op.run()

        self._boundary = b2.NetworkOperation(
            sample_boundary, clock=clock, when="start", order=-100, name="sample_boundary"
        )
        # no differential equations: the state updaters would run empty code every step
        for group in (self.liquid, self.inputs, self.astro):
            group.state_updater.active = False
        self.net = b2.Network(
            self.liquid,
            self.inputs,
            self.astro,
            self.syn_ll,
            self.syn_il,
            self._counter,
            self.astro_mon,
            self.spike_mon,
            self.input_mon,
            self._boundary,
            name="nalsm_network",
        )
        self.net.store("built")
        self._namespace_const = dict(step_constants(c), w_max=float(c.w_max), clip_w=_clip_function())

    # ------------------------------------------------------------------ helpers
    def _run(self, steps, n_steps, namespace, snapshots):
        """``net.run`` of ``n_steps`` steps, samples of ``steps`` steps starting now."""
        import brian2 as b2

        self._period, self._step, self._snapshots = steps, 0, snapshots
        self._count_array = self.liquid.variables["count"].get_value()
        value = lambda group, name: group.variables[name].get_value()  # noqa: E731
        self._count_io = (
            (value(self.liquid, "_spikespace"), self.conn.n_liquid, value(self.astro, "nL")),
            (value(self.inputs, "_spikespace"), self.conn.n_input, value(self.astro, "nI")),
        )
        for op in self._reset_ops:  # not in the network: prepare their code here
            op.before_run(namespace)
        self.net.run(n_steps * b2.ms, namespace=namespace)

    def _set_plasticity(self, eta, w_astro, gamma):
        eta = float(check_nonnegative("eta", eta))
        kl, ki = astro_spike_weights(w_astro, self.conn.n_liquid, self.conn.n_input)
        a = self.astro
        a.A0 = eta
        a.eta0 = eta
        a.b0 = eta
        a.kl0 = kl
        a.ki0 = ki
        a.gamma = gamma

    @staticmethod
    def _stim(values, steps, name="stim"):
        import brian2 as b2

        return b2.TimedArray(values, dt=steps * b2.ms, name=name)

    def _use_drive(self, seeded: bool):
        self._input_rand.active = not seeded
        self._input_drive.active = seeded

    def _set_weights(self, w, *, as_init: bool):
        nls = self.conn.n_liquid_syn
        for syn, sl in ((self.syn_ll, slice(0, nls)), (self.syn_il, slice(nls, None))):
            tiled = np.tile(w[sl], self.batch)
            syn.w = tiled
            if as_init:
                syn.w_init = tiled

    def weights(self) -> np.ndarray:
        """Current synaptic weights of copy 0, liquid synapses first (same order as ``conn``)."""
        nls = self.conn.n_liquid_syn
        n_il = self.conn.pre.size - nls
        return np.concatenate([np.asarray(self.syn_ll.w[:nls]), np.asarray(self.syn_il.w[:n_il])])

    # ------------------------------------------------------------------ protocol
    def initialise(self, probs, *, eta: float, w_astro: float, seed=None, callback=None):
        """Liquid-initialisation phase (plasticity on, no decay, weights carried across samples).

        Parameters
        ----------
        probs : array_like, shape (n_samples, n_input)
            Per-step spike probabilities of the input neurons, one row per sample.
        eta, w_astro : float
            Potentiation rate (0 = fixed weights) and astrocyte weight (0 = plain STDP).
        seed : int, optional
            Re-seeds Brian2's generator first, so the weights do not depend on what this
            process simulated before (default: continue its stream).
        callback : callable, optional
            Called with the number of samples done after each ``run()`` of ``init_chunk`` samples.
        """
        import brian2 as b2

        c, n_in = self.config, self.conn.n_input
        probs = self._check_probs(probs)
        if seed is not None:
            b2.seed(int(seed))
        self.net.restore("built")
        self._use_drive(False)
        self._set_plasticity(eta, w_astro, 1.0)
        self._set_weights(self.conn.w0, as_init=True)
        self.syn_ll.reset_w = 0.0
        self.syn_il.reset_w = 0.0
        # copy 0 reads the sample's columns; the other copies read an all-zero column
        col = np.full(self.batch * n_in, n_in)
        col[:n_in] = np.arange(n_in)
        self.inputs.col = col
        self.spike_mon.active = self.input_mon.active = self.astro_mon.active = False
        for start in range(0, probs.shape[0], self.init_chunk):
            block = probs[start : start + self.init_chunk]
            values = np.zeros((self.init_chunk, n_in + 1))
            values[: block.shape[0], :n_in] = block
            ns = dict(self._namespace_const, stim=self._stim(values, c.init_steps))
            self.inputs.t0 = self.net.t
            self._run(c.init_steps, block.shape[0] * c.init_steps, ns, None)
            if callback is not None:
                callback(start + block.shape[0])
        self.w_init_ = self.weights()
        return self

    def features(self, probs, *, eta: float, w_astro: float, n_record: int = 0, sample_seeds=None):
        """Liquid spike counts per sample from the initialised weights, with decaying plasticity.

        Parameters
        ----------
        probs : array_like, shape (n_samples, n_input)
        eta, w_astro : float
            As in :meth:`initialise`; parameters decay by ``config.lr_decay`` each step.
        n_record : int
            Record every liquid spike and the astrocyte trace of the first ``n_record`` samples.
        sample_seeds : sequence, optional
            One seed per sample (:func:`~spiking.liquid.model.sample_seeds`): input spikes are
            drawn in NumPy from each sample's own generator
            (:func:`~spiking.liquid.model.input_drive`) and read from a TimedArray, so a sample's
            counts do not depend on its batch slot, its run or the other samples, and equal
            the Numba engine's. Default: Brian2's ``rand()`` stream (depends on ``batch``).

        Returns
        -------
        LiquidFeatures
            Counts, recorded liquid and input spikes (step within the sample) and the
            astrocyte trace :math:`A` after each step's update.
        """
        import brian2 as b2

        c, conn, B = self.config, self.conn, self.batch
        probs = self._check_probs(probs)
        n_record = check_int("n_record", n_record, minimum=0)
        seeded = sample_seeds is not None
        if seeded:
            sample_seeds = _check_sample_seeds(sample_seeds, probs.shape[0])
        slots = self.drive_slots if seeded else self.slots
        n, per_run, n_in = probs.shape[0], slots * B, conn.n_input
        T = c.sample_steps
        counts = np.zeros((n, conn.n_liquid))
        rec = {
            k: []
            for k in (
                "spike_samples",
                "spike_steps",
                "spike_neurons",
                "input_samples",
                "input_steps",
                "input_neurons",
            )
        }
        astro = []
        for start in range(0, n, per_run):
            block = probs[start : start + per_run]
            m = block.shape[0]
            slots_used = -(-m // B)
            self.net.restore("built")
            self._use_drive(seeded)
            self._set_plasticity(eta, w_astro, c.lr_decay)
            self._set_weights(self.w_init_, as_init=True)
            self.syn_ll.reset_w = 1.0
            self.syn_il.reset_w = 1.0
            self.inputs.col = np.arange(B * conn.n_input)
            record = start < n_record
            self.spike_mon.active = self.input_mon.active = self.astro_mon.active = record
            self.inputs.t0 = 0 * b2.ms
            if seeded:
                # step `slot * T + k` of copy b reads row slot * T + k, columns of copy b
                drive = np.zeros((slots * T, B * n_in))
                for k in range(m):
                    slot, b = divmod(k, B)
                    drive[slot * T : (slot + 1) * T, b * n_in : (b + 1) * n_in] = input_drive(
                        block[k], sample_seeds[start + k], T
                    )
                ns = dict(self._namespace_const, drive=self._stim(drive, 1, "drive"))
            else:
                # row `slot` holds the samples of all copies: sample slot * B + b feeds copy b
                padded = np.zeros((per_run, n_in))
                padded[:m] = block
                ns = dict(self._namespace_const, stim=self._stim(padded.reshape(slots, -1), T))
            snapshots = []
            self._run(T, slots_used * T, ns, snapshots)
            cum = np.vstack(snapshots + [np.asarray(self.liquid.count[:])])  # before each slot, end
            per_slot = np.diff(cum, axis=0).reshape(slots_used * B, conn.n_liquid)
            counts[start : start + m] = per_slot[:m]
            if record:
                n_rec_here = min(n_record - start, m)
                for mon, pref, size in (
                    (self.spike_mon, "spike", conn.n_liquid),
                    (self.input_mon, "input", conn.n_input),
                ):
                    steps = np.round(np.asarray(mon.t / b2.ms)).astype(np.int64)
                    idx = np.asarray(mon.i[:], dtype=np.int64)
                    smp = (steps // T) * B + idx // size
                    keep = smp < n_rec_here
                    rec[f"{pref}_samples"].append(smp[keep] + start)
                    rec[f"{pref}_steps"].append(steps[keep] % T)
                    rec[f"{pref}_neurons"].append(idx[keep] % size)
                a_tr = np.asarray(self.astro_mon.A_rec[:])  # (B, slots_used * T)
                a_tr = a_tr.reshape(B, slots_used, T).transpose(1, 0, 2).reshape(-1, T)
                astro.append(a_tr[:n_rec_here])
        arrays = {k: (np.concatenate(v) if v else np.zeros(0, dtype=np.int64)) for k, v in rec.items()}
        return LiquidFeatures(
            counts=counts,
            **arrays,
            astro=np.vstack(astro) if astro else np.zeros((0, c.sample_steps)),
            n_recorded=min(n_record, n),
            n_neurons=conn.n_liquid,
            n_steps=T,
        )
