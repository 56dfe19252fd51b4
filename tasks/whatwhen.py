"""The "what"/"when" prediction paradigm: blocks, trials, targets and gates (after Yamada & Chao 2025).

Each trial of duration :math:`T` starts with a cue at ``cue_time``; after a
latency :math:`L` one of ``K`` stimuli appears, stimulus ``k`` with probability
:math:`p_k`. Trials come in blocks; a block fixes ``L`` and ``p``, so a block
boundary is a *switch* of timing and/or probabilities.

Readouts and targets (``n_outputs = 1 + K``, column 0 is "when"):

* "when": :math:`y^*_0(t) = B(t)`, a Gaussian bump of width :math:`\\sigma`
  centred at the stimulus onset :math:`t_{on} = t_{cue} + L`,
  :math:`B(t) = \\exp(-(t - t_{on})^2 / 2\\sigma^2)`;
* "what" ``k`` (``what_target``):

  - ``'plateau'`` (default since issue 15): the identity as a tonic expectation held from
    the cue to the stimulus offset, :math:`y^*_k(t) = [s = k]\\, P(t)`,
    :math:`P(t) = \\tfrac12[\\operatorname{erf}(\\tfrac{t - t_{cue}}{\\sqrt2\\sigma}) -
    \\operatorname{erf}(\\tfrac{t - t_{off}}{\\sqrt2\\sigma})]`, :math:`t_{off} = t_{on} + D`;
  - ``'bump'`` (the earlier design): :math:`y^*_k(t) = [s = k]\\, B(t)`.

  With ``'bump'`` the "when" target is the sum of the "what" targets,
  :math:`y^*_0 = \\sum_k y^*_k`, so any rule applied alike to every output learns
  :math:`w_0 = \\sum_k w_k` and the what/when subspaces coincide by construction. With
  ``'plateau'`` identity and timing are different things to learn: *which* stimulus is
  expected (a level that holds over the trial, amplitude :math:`p_k`) and *when* it comes
  (a phasic, identity-free bump at :math:`t_{on}`), and the sum of the "what" targets is
  :math:`P(t)`, not :math:`B(t)`.

Before the onset the reservoir cannot know which stimulus comes, so the best
anticipatory "what" output is the expectation :math:`E[y^*_k] = p_k B(t)`
(``expected_targets``); the "when" readout is identity-free. A model encodes
the complete prediction object when its readouts peak at :math:`t_{on}`
(when) with peak amplitudes :math:`\\propto p_k` (what).

The metrics of the paradigm are in :mod:`tasks.whatwhen_metrics`.

Reference: Y. Yamada & Z. C. Chao (2025), "Joint encoding of 'what' and 'when'
predictions through error-modulated plasticity in reservoir spiking networks",
arXiv:2510.14382. The exact trial timings of the paper were not available;
every quantity here is a parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from plasticity_rules.gates import GATE_SHAPES, attention_gate
from plasticity_rules.validation import (
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
    check_probability,
    make_rng,
)

__all__ = [
    "Block",
    "WhatWhenParadigm",
    "WhatWhenSession",
    "generate",
    "parse_blocks",
    "trial_view",
]

_PROB_TOL = 1e-6
#: Shapes of the "what" targets (see the module docstring).
WHAT_TARGETS = ("plateau", "bump")
#: Orders of the stimuli within a block (see :class:`WhatWhenParadigm`).
STIMULUS_ORDERS = ("balanced", "iid")


@dataclass(frozen=True)
class Block:
    """A block of trials with fixed latency and stimulus probabilities.

    Parameters
    ----------
    n_trials : int
        Trials in the block (>= 1).
    latency : float
        Cue onset to stimulus onset (s, > 0).
    probabilities : tuple of float
        :math:`p_k` of each stimulus; non-negative, summing to 1.
    """

    n_trials: int
    latency: float
    probabilities: tuple

    def __post_init__(self):
        check_int("block n_trials", self.n_trials, minimum=1)
        check_positive("latency", self.latency)
        p = tuple(float(x) for x in self.probabilities)
        object.__setattr__(self, "probabilities", p)
        if len(p) < 1:
            raise ValueError("probabilities must list at least one stimulus")
        for k, x in enumerate(p):
            if not math.isfinite(x) or x < 0:
                raise ValueError(f"probabilities[{k}] must be a finite number >= 0, got {x!r}")
        if abs(sum(p) - 1.0) > _PROB_TOL:
            raise ValueError(f"probabilities must sum to 1, got {p!r} (sum {sum(p)!r})")


def parse_blocks(spec: str) -> tuple[Block, ...]:
    """Parse ``"40:0.3:0.7,0.2,0.1; 40:0.5:0.7,0.2,0.1"`` (trials:latency_s:probabilities per block)."""
    blocks = []
    for k, part in enumerate(p for p in str(spec).split(";") if p.strip()):
        fields = part.strip().split(":")
        if len(fields) != 3:
            raise ValueError(f"blocks entry {k} ({part.strip()!r}) must be 'n_trials:latency_s:p1,p2,...'")
        try:
            n, lat, probs = int(fields[0]), float(fields[1]), tuple(float(x) for x in fields[2].split(","))
        except ValueError:
            raise ValueError(
                f"blocks entry {k} ({part.strip()!r}) must be 'n_trials:latency_s:p1,p2,...'"
            ) from None
        blocks.append(Block(n, lat, probs))
    if not blocks:
        raise ValueError(f"blocks must describe at least one block, got {spec!r}")
    return tuple(blocks)


_DEFAULT_BLOCKS = (
    Block(30, 0.30, (0.6, 0.3, 0.1)),
    Block(30, 0.45, (0.6, 0.3, 0.1)),
    Block(30, 0.45, (0.1, 0.3, 0.6)),
)


@dataclass(frozen=True)
class WhatWhenParadigm:
    """Timing of the what/when paradigm (all times in seconds).

    Parameters
    ----------
    blocks : tuple of Block
        The blocks, in order; all with the same number of stimuli.
    trial_duration : float
        Length of a trial (cue, latency, stimulus and the rest until the next cue).
    cue_time, cue_duration : float
        Cue onset within the trial and its length.
    stimulus_duration : float
        Length of the stimulus.
    target_width : float
        :math:`\\sigma` of the target bump.
    dt : float
        Step of targets, gates and readout updates.
    gate_shape : {"constant", "boxcar", "ramp", "gaussian"}
        Shape of the attention gate (see :func:`plasticity_rules.gates.attention_gate`);
        it opens from the cue to ``3 sigma`` after the stimulus offset.
    gate_floor : float
        Gate outside the attended window, in [0, 1].
    gate_rise : float
        Rise time of the ramp/Gaussian gates.
    probe_fraction : float
        Probability that a trial is a probe (peak-interval procedure): the stimulus is
        omitted and nothing is learned (gate 0), so the readouts' peaks in probe trials
        show the *anticipated* time and amplitude without any stimulus-evoked response.
    what_gate : {"window", "onset"}
        Gate of the "what" readouts. ``window``: the same gate as "when". ``onset``:
        attention is drawn to the moment the identity is revealed, a Gaussian
        :math:`g(t) = \\exp(-(t - t_{on})^2 / 2 r^2)` around the stimulus onset with
        :math:`r` = ``gate_rise`` (plus ``gate_floor``); "when" keeps the ``gate_shape``
        window from cue to stimulus offset.
    what_target : {"plateau", "bump"}
        Shape of the "what" targets: a tonic identity level from cue to stimulus offset,
        or the "when" bump restricted to trials of that stimulus (module docstring).
    stimulus_order : {"balanced", "iid"}
        ``iid``: every trial's stimulus drawn independently with probabilities :math:`p`, so
        a block's realised frequencies scatter around :math:`p` (binomial, s.d.
        :math:`\\sqrt{p(1-p)/n}`: .08 for :math:`p = .3` over 30 teaching trials).
        ``balanced``: the teaching trials of each block hold the stimuli in exactly the
        proportions :math:`p` (counts rounded by largest remainder) in a random order, the
        usual design of probabilistic-cueing experiments, so that the probability a readout
        can learn in a block *is* :math:`p`. Probe trials (no stimulus shown) are drawn
        first in this mode; their identity is drawn independently and never shown.
    """

    blocks: tuple = _DEFAULT_BLOCKS
    trial_duration: float = 0.8
    cue_time: float = 0.1
    cue_duration: float = 0.05
    stimulus_duration: float = 0.05
    target_width: float = 0.03
    dt: float = 0.005
    gate_shape: str = "boxcar"
    gate_floor: float = 0.1
    gate_rise: float = 0.05
    probe_fraction: float = 0.2
    what_gate: str = "window"
    what_target: str = "plateau"
    stimulus_order: str = "balanced"

    def __post_init__(self):
        blocks = tuple(self.blocks)
        if not blocks or not all(isinstance(b, Block) for b in blocks):
            raise ValueError("blocks must be a non-empty sequence of Block")
        object.__setattr__(self, "blocks", blocks)
        for name in (
            "trial_duration",
            "cue_duration",
            "stimulus_duration",
            "target_width",
            "dt",
            "gate_rise",
        ):
            check_positive(name, getattr(self, name))
        check_nonnegative("cue_time", self.cue_time)
        check_choice("gate_shape", self.gate_shape, GATE_SHAPES)
        check_choice("what_gate", self.what_gate, ("window", "onset"))
        check_choice("what_target", self.what_target, WHAT_TARGETS)
        check_choice("stimulus_order", self.stimulus_order, STIMULUS_ORDERS)
        check_probability("gate_floor", self.gate_floor)
        check_probability("probe_fraction", self.probe_fraction)
        if self.probe_fraction >= 1:
            raise ValueError(
                f"probe_fraction must be < 1 (some trials must teach), got {self.probe_fraction!r}"
            )
        k = len(blocks[0].probabilities)
        for i, b in enumerate(blocks):
            if len(b.probabilities) != k:
                raise ValueError(
                    f"blocks[{i}] has {len(b.probabilities)} probabilities, expected {k} like blocks[0]"
                )
            end = self.cue_time + b.latency + self.stimulus_duration
            if end > self.trial_duration + 1e-12:
                raise ValueError(
                    f"latency of blocks[{i}] ({b.latency!r} s) is beyond the trial: cue_time + latency + "
                    f"stimulus_duration = {end:.4g} s > trial_duration = {self.trial_duration!r} s"
                )
            if b.latency < self.cue_duration:
                raise ValueError(
                    f"latency of blocks[{i}] ({b.latency!r} s) must be >= cue_duration "
                    f"({self.cue_duration!r} s)"
                )
        steps = self.trial_duration / self.dt
        if abs(steps - round(steps)) > 1e-6:
            raise ValueError(
                f"trial_duration ({self.trial_duration!r} s) must be a whole number of dt ({self.dt!r} s)"
            )

    @property
    def n_stimuli(self) -> int:
        return len(self.blocks[0].probabilities)

    @property
    def n_trials(self) -> int:
        return sum(b.n_trials for b in self.blocks)

    @property
    def steps_per_trial(self) -> int:
        return int(round(self.trial_duration / self.dt))


@dataclass(frozen=True)
class WhatWhenSession:
    """One generated session. Arrays are per step (``n_steps = n_trials * steps_per_trial``) or per trial.

    Attributes
    ----------
    paradigm : WhatWhenParadigm
    stimulus : ndarray of int, shape (n_trials,)
        Identity of each trial's stimulus.
    latency : ndarray, shape (n_trials,)
    probabilities : ndarray, shape (n_trials, n_stimuli)
    block : ndarray of int, shape (n_trials,)
    probe : ndarray of bool, shape (n_trials,)
        Probe trials: stimulus omitted, gate 0 (no learning).
    trial_start, cue_onset, stimulus_onset : ndarray, shape (n_trials,)
        Absolute times (s).
    times : ndarray, shape (n_steps,)
        Sample times (s); sample ``i`` is at ``i * dt``.
    targets, expected_targets : ndarray, shape (n_steps, 1 + n_stimuli)
        Column 0 "when", columns 1.. "what".
    gate : ndarray, shape (n_steps, 1 + n_stimuli)
    trial_end : ndarray of bool, shape (n_steps,)
        Last step of each trial (offline consolidation points).
    learn : ndarray of bool, shape (n_steps,)
        Steps of non-probe trials (where a teacher is present).
    switch_trials : ndarray of int
        First trial of every block after the first.
    """

    paradigm: WhatWhenParadigm
    stimulus: np.ndarray
    latency: np.ndarray
    probabilities: np.ndarray
    block: np.ndarray
    probe: np.ndarray
    trial_start: np.ndarray
    cue_onset: np.ndarray
    stimulus_onset: np.ndarray
    times: np.ndarray
    targets: np.ndarray
    expected_targets: np.ndarray
    gate: np.ndarray
    trial_end: np.ndarray
    learn: np.ndarray
    switch_trials: np.ndarray
    extra: dict = field(default_factory=dict)

    @property
    def n_trials(self) -> int:
        return int(self.stimulus.size)

    @property
    def duration(self) -> float:
        return self.n_trials * self.paradigm.trial_duration

    def input_rates(self, dt: float, *, rate: float = 100.0, background: float = 0.0) -> np.ndarray:
        """Rates (Hz) of the input channels per step of ``dt``: column 0 the cue, 1.. the stimuli.

        Returns
        -------
        ndarray, shape (round(duration / dt), 1 + n_stimuli)
        """
        check_positive("dt", dt)
        check_nonnegative("rate", rate)
        check_nonnegative("background", background)
        par = self.paradigm
        n = int(round(self.duration / dt))
        t = (np.arange(n) + 0.5) * dt
        out = np.full((n, 1 + par.n_stimuli), float(background))
        for i in range(self.n_trials):
            c0 = self.cue_onset[i]
            out[(t >= c0) & (t < c0 + par.cue_duration), 0] = rate
            if self.probe[i]:
                continue
            s0 = self.stimulus_onset[i]
            out[(t >= s0) & (t < s0 + par.stimulus_duration), 1 + self.stimulus[i]] = rate
        return out


def _exact_counts(p: np.ndarray, n: int) -> np.ndarray:
    """Counts summing to ``n`` closest to ``n p`` (largest-remainder rounding)."""
    raw = p * n
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def generate(paradigm: WhatWhenParadigm | None = None, *, seed=None) -> WhatWhenSession:
    """Draw stimulus identities and build targets, expected targets and gates for a session.

    Parameters
    ----------
    paradigm : WhatWhenParadigm, optional
    seed : int, Generator or None
        Seeds the stimulus draws.
    """
    par = WhatWhenParadigm() if paradigm is None else paradigm
    rng = make_rng(seed)
    K = par.n_stimuli
    n_tr = par.n_trials
    spt = par.steps_per_trial
    balanced = par.stimulus_order == "balanced"
    if balanced:  # probes first, then exact proportions over each block's teaching trials
        probe = rng.random(n_tr) < par.probe_fraction
    stim, lat, prob, blk = [], [], [], []
    start = 0
    for b_i, b in enumerate(par.blocks):
        p = np.asarray(b.probabilities)
        s_b = rng.choice(K, size=b.n_trials, p=p / p.sum())
        if balanced:
            teach = np.flatnonzero(~probe[start : start + b.n_trials])
            s_b[teach] = rng.permutation(np.repeat(np.arange(K), _exact_counts(p / p.sum(), teach.size)))
        stim.append(s_b)
        lat.append(np.full(b.n_trials, b.latency))
        prob.append(np.tile(p, (b.n_trials, 1)))
        blk.append(np.full(b.n_trials, b_i))
        start += b.n_trials
    stim, lat, prob, blk = (np.concatenate(a) for a in (stim, lat, prob, blk))
    if not balanced:
        probe = rng.random(n_tr) < par.probe_fraction
    trial_start = np.arange(n_tr) * par.trial_duration
    cue_on = trial_start + par.cue_time
    onset = cue_on + lat
    times = np.arange(n_tr * spt) * par.dt
    tt = times.reshape(n_tr, spt) - onset[:, None]
    bump = np.exp(-0.5 * (tt / par.target_width) ** 2)
    targets = np.zeros((n_tr, spt, 1 + K))
    expected = np.zeros_like(targets)
    targets[:, :, 0] = bump
    expected[:, :, 0] = bump
    if par.what_target == "plateau":
        from scipy.special import erf

        rel_cue = times.reshape(n_tr, spt) - cue_on[:, None]
        rel_off = tt - par.stimulus_duration
        s2 = np.sqrt(2.0) * par.target_width
        shape = 0.5 * (erf(rel_cue / s2) - erf(rel_off / s2))
    else:
        shape = bump
    for k in range(K):
        targets[:, :, 1 + k] = shape * (stim == k)[:, None]
        expected[:, :, 1 + k] = shape * prob[:, k][:, None]
    win_end = onset + par.stimulus_duration + 3 * par.target_width
    g = attention_gate(
        n_tr * spt, par.dt, cue_on, win_end, shape=par.gate_shape, floor=par.gate_floor, rise=par.gate_rise
    )
    trial_end = np.zeros(n_tr * spt, dtype=bool)
    trial_end[spt - 1 :: spt] = True
    learn = np.repeat(~probe, spt)
    gate = np.tile(g[:, None], (1, 1 + K))
    if par.what_gate == "onset":
        gate[:, 1:] = attention_gate(
            n_tr * spt, par.dt, onset, onset, shape="gaussian", floor=par.gate_floor, rise=par.gate_rise
        )[:, None]
    gate *= learn[:, None]
    switch = np.cumsum([b.n_trials for b in par.blocks])[:-1].astype(np.int64)
    return WhatWhenSession(
        paradigm=par,
        stimulus=stim.astype(np.int64),
        latency=lat,
        probabilities=prob,
        block=blk.astype(np.int64),
        probe=probe,
        trial_start=trial_start,
        cue_onset=cue_on,
        stimulus_onset=onset,
        times=times,
        targets=targets.reshape(n_tr * spt, 1 + K),
        expected_targets=expected.reshape(n_tr * spt, 1 + K),
        gate=gate,
        trial_end=trial_end,
        learn=learn,
        switch_trials=switch,
    )


def trial_view(session: WhatWhenSession, array) -> np.ndarray:
    """Reshape a per-step array ``(n_steps, ...)`` to ``(n_trials, steps_per_trial, ...)``."""
    a = np.asarray(array)
    spt = session.paradigm.steps_per_trial
    if a.shape[0] != session.n_trials * spt:
        raise ValueError(f"array must have {session.n_trials * spt} rows (one per step), got shape {a.shape}")
    return a.reshape((session.n_trials, spt) + a.shape[1:])


def __getattr__(name):
    # the metrics moved to tasks.whatwhen_metrics; old attribute access keeps working
    if name in _MOVED_TO_METRICS:
        from . import whatwhen_metrics

        return getattr(whatwhen_metrics, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_MOVED_TO_METRICS = (
    "timing_errors",
    "mean_response_timing",
    "anticipatory_amplitudes",
    "amplitude_probability_fit",
    "evaluation_trials",
    "trial_errors",
    "recovery_after_switches",
    "subspace_cosine",
)
