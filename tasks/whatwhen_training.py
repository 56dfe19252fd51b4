"""Training readouts through a what/when session (:mod:`tasks.whatwhen`), and no-switch controls.

Four readouts of the same reservoir states ``X`` (shape ``(n_steps, n_units)``), each trained
online through the session so that its outputs are the ones produced *while learning*:

* ``three_factor``: :class:`~plasticity_rules.three_factor.ThreeFactorReadout`, "when" online
  (eta ``eta_when``), each "what" consolidated at the trial end (eta ``eta_what``), gated by the
  session's attention gate; with ``center_when`` > 0 the "when" readout is a separate
  readout whose inputs are centred on running presynaptic means (covariance rule,
  :func:`~plasticity_rules.three_factor.center_rates`) while "what" reads the rates themselves;
* ``force``: :class:`~plasticity_rules.force.ForceReadout` (recursive least squares,
  Sussillo & Abbott 2009), learning on teaching trials only;
* ``force_reset``: the same with :math:`P` reset to :math:`I/\\alpha` at every block switch;
* ``ridge``: :class:`~plasticity_rules.readouts.RidgeReadout` refit on all teaching trials so
  far at each trial end, so trial :math:`n` is predicted with the weights of trials :math:`< n`.

A no-switch control of a switch runs the whole session in the post-switch block's condition;
its per-trial errors anchor "recovery" after the switch (:func:`tasks.whatwhen_metrics.score_readout`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from plasticity_rules.decorrelation import Decorrelator
from plasticity_rules.force import ForceReadout
from plasticity_rules.readouts import RidgeReadout
from plasticity_rules.three_factor import ThreeFactorReadout, center_rates
from plasticity_rules.validation import (
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
    check_probability,
)

from . import whatwhen as ww
from . import whatwhen_metrics as wwm

__all__ = [
    "READOUTS",
    "ReadoutSettings",
    "common_mode_basis",
    "check_centred_when",
    "NEEDS_CENTRED_WHEN",
    "WhenWhatReadouts",
    "train_readout",
    "control_paradigms",
    "control_errors",
]

READOUTS = ("three_factor", "force", "force_reset", "ridge")


@dataclass(frozen=True)
class ReadoutSettings:
    """Hyper-parameters of the four what/when readouts.

    Attributes
    ----------
    eta_when, eta_what : float
        Three-factor learning rates of the online "when" and the consolidated "what" readouts.
    eligibility_tau : float
        Presynaptic eligibility-trace time constant (s; 0: the rate itself).
    normalise : bool
        Three-factor normalised rule (update divided by :math:`\\epsilon + \\lVert\\bar e\\rVert^2`).
    fit_intercept : bool
        Three-factor: learn a bias per output.
    surprise : float
        Three-factor surprise-gate threshold (0: off).
    depression : float
        Three-factor rate of output-lowering updates relative to eta.
    center_when : float
        Three-factor: time constant (s) of the running presynaptic means the "when" readout is
        centred on (0: no centring, "when" and "what" in one readout).
    decorrelate : float
        Three-factor, centred "when" readout only: learning rate :math:`\\eta_R` of an online
        anti-Hebbian decorrelating stage :math:`z = R\\,\\tilde x` between the centred rates and
        the "when" readout (:class:`~plasticity_rules.decorrelation.Decorrelator`, after Ahmad
        2024); 0: off.
    decorrelate_kappa : float
        Whitening weight :math:`\\kappa` of that stage (0: decorrelate only).
    decorrelate_every : int
        Update :math:`R` every k steps.
    decorrelate_noise : float
        Learning-noise variance of that stage relative to its target power (regularised
        whitening; 0: full whitening).
    decorrelate_seed : int
        Seed of that learning noise.
    decorrelate_what : bool
        Put the "what" readouts behind their own decorrelating stage too (on the raw rates).
    what_anneal, what_anneal_trials : float
        Three-factor: the consolidation rate of the "what" readouts starts at ``what_anneal``
        times ``eta_what`` and decays with the number :math:`n` of teaching trials consolidated
        so far, :math:`\\eta_n = \\eta_{what} \\max(1, A / (1 + n / n_0))` (Robbins & Monro 1951:
        a running average whose weight falls as :math:`1/n` until it reaches the floor
        :math:`\\eta_{what}`, which keeps it tracking later changes); ``what_anneal`` 1: a
        constant rate.
    what_common : float
        Three-factor, centred "when" readout only: learning rate of the **common mode** of the
        "what" outputs (0: off). The "what" outputs are learned in an orthonormal output basis
        :math:`Q` whose first vector is :math:`\\mathbf 1/\\sqrt K`: the common mode
        :math:`\\sum_k y_k/\\sqrt K` ("some stimulus is coming", the same target on every trial
        since :math:`\\sum_k p_k = 1`) is a timing signal, learned at this rate (consolidated
        at each trial end, or online with ``what_common_online``) and not annealed, while
        the :math:`K-1` differential modes (which stimulus: outcome-dependent, learned as a
        running average) are consolidated at the annealed ``eta_what``. With equal rates the
        split changes nothing (the rule is equivariant under output rotations).
    what_common_online : bool
        Learn the common mode online (every step; else consolidated at the trial end).
    force_alpha : float
        FORCE: :math:`P(0) = I/\\alpha`.
    force_every : int
        FORCE: update every k steps.
    ridge_alpha : float
        Ridge penalty.
    """

    eta_when: float = 0.3
    eta_what: float = 0.002
    eligibility_tau: float = 0.0
    normalise: bool = True
    fit_intercept: bool = False
    surprise: float = 0.0
    depression: float = 1.0
    center_when: float = 0.6
    decorrelate: float = 0.001
    decorrelate_kappa: float = 0.5
    decorrelate_every: int = 1
    decorrelate_noise: float = 3.0
    decorrelate_seed: int = 0
    decorrelate_what: bool = False
    what_anneal: float = 10.0
    what_anneal_trials: float = 3.0
    what_common: float = 0.015
    what_common_online: bool = False
    force_alpha: float = 1.0
    force_every: int = 2
    ridge_alpha: float = 1.0

    def __post_init__(self):
        for name in ("eta_when", "eta_what", "force_alpha", "what_anneal_trials"):
            check_positive(name, getattr(self, name))
        if not self.what_anneal >= 1:
            raise ValueError(f"what_anneal must be >= 1 (1: a constant rate), got {self.what_anneal!r}")
        for name in ("eligibility_tau", "surprise", "depression", "ridge_alpha", "center_when",
                     "decorrelate", "decorrelate_noise", "what_common"):
            check_nonnegative(name, getattr(self, name))
        check_probability("decorrelate_kappa", self.decorrelate_kappa)
        check_int("force_every", self.force_every)
        check_int("decorrelate_every", self.decorrelate_every)
        check_centred_when(self)


#: Three-factor settings that act on the centred "when" readout only (``center_when > 0``).
NEEDS_CENTRED_WHEN = ("decorrelate", "what_common")


def check_centred_when(settings, name: Callable[[str], str] = str, sep: str = "=") -> None:
    """Raise ``ValueError`` when a setting of :data:`NEEDS_CENTRED_WHEN` is on with ``center_when`` 0.

    ``settings`` has those attributes and ``center_when`` (:class:`ReadoutSettings`, or the
    what/when simulation's config); ``name`` and ``sep`` spell a setting as its user writes it
    (``decorrelate=0.01``; the command line: ``--decorrelate 0.01``).
    """
    on = [f"{name(n)}{sep}{getattr(settings, n):g}" for n in NEEDS_CENTRED_WHEN if getattr(settings, n) > 0]
    if settings.center_when == 0 and on:
        off = " and ".join(f"{name(n)}{sep}0" for n in NEEDS_CENTRED_WHEN)
        raise ValueError(
            f"{' and '.join(on)} need the centred 'when' readout ({name('center_when')} > 0); "
            f"with {name('center_when')}{sep}0 also set {off}"
        )


@dataclass
class WhenWhatReadouts:
    """A centred "when" readout and the "what" readouts, trained side by side on the same states.

    Attributes
    ----------
    when, what : ThreeFactorReadout
        One output ("when", centred inputs) and one per stimulus ("what", raw rates).
    when_decorrelator, what_decorrelator : Decorrelator or None
        Decorrelating stages in front of the readouts (``when`` then reads decorrelated centred
        rates, ``when_mean`` holding the last running means; ``what`` decorrelated raw rates).
    """

    when: ThreeFactorReadout
    what: ThreeFactorReadout
    when_decorrelator: Decorrelator | None = None
    what_decorrelator: Decorrelator | None = None
    when_mean: np.ndarray | None = None
    what_basis: np.ndarray | None = None

    @property
    def coef_(self) -> np.ndarray:
        """Weights of all outputs on the rates, ``(1 + n_stimuli, n_features)``, "when" first
        (through a decorrelating stage :math:`R` the weights on the rates are :math:`W R`)."""
        w_when, w_what = self.when.coef_, self.what.coef_
        if self.when_decorrelator is not None:
            w_when = w_when @ self.when_decorrelator.R_
        if self.what_decorrelator is not None:
            w_what = w_what @ self.what_decorrelator.R_
        if self.what_basis is not None:
            w_what = self.what_basis @ w_what
        return np.vstack([w_when, w_what])

    def predict(self, X) -> np.ndarray:
        """Outputs of all readouts, "when" first (stages and means frozen at their last values)."""
        X = np.asarray(X, dtype=float)
        if self.when_decorrelator is None:
            when = self.when.predict(X)
        else:
            when = self.when.predict(self.when_decorrelator.transform(X - self.when_mean))
        Xw = X if self.what_decorrelator is None else self.what_decorrelator.transform(X)
        what = self.what.predict(Xw)
        if self.what_basis is not None:
            what = what @ self.what_basis.T
        return np.hstack([when, what])


def train_readout(
    name: str, session: ww.WhatWhenSession, X, settings: ReadoutSettings = ReadoutSettings()
) -> tuple[np.ndarray, object]:
    """Train readout ``name`` through the session.

    Parameters
    ----------
    name : {"three_factor", "force", "force_reset", "ridge"}
    session : WhatWhenSession
    X : ndarray, shape ``(n_steps, n_units)``
        States at the session's time steps.
    settings : ReadoutSettings

    Returns
    -------
    outputs : ndarray, shape ``(n_steps, 1 + n_stimuli)``
        Outputs produced while learning (each trial before it is learned from).
    readout : estimator
        The trained readout (its weights in ``coef_``).
    """
    check_choice("readout", name, READOUTS)
    Y = session.targets
    spt = session.paradigm.steps_per_trial
    if name == "three_factor":
        k = session.paradigm.n_stimuli
        common = dict(
            trace_tau=settings.eligibility_tau,
            dt=session.paradigm.dt,
            normalise=settings.normalise,
            fit_intercept=settings.fit_intercept,
            surprise=settings.surprise,
            depression=settings.depression,
        )
        if settings.center_when > 0:
            return _fit_when_what(session, X, Y, settings, common)
        m = ThreeFactorReadout(
            eta=[settings.eta_when] + [settings.eta_what] * k,
            online=np.array([True] + [False] * k),
            **common,
        )
        out = _fit_annealed(m, session, X, Y, session.gate, settings, what=np.arange(1 + k) > 0)
        return out, m
    if name in ("force", "force_reset"):
        m = ForceReadout(alpha=settings.force_alpha, update_every=settings.force_every)
        reset = session.switch_trials * spt if name == "force_reset" else None
        m.fit(X, Y, reset_at=reset, learn=session.learn)
        return m.train_predictions_, m
    m = RidgeReadout(alpha=settings.ridge_alpha)
    out = np.zeros_like(Y)
    for i in range(session.n_trials):
        sl = slice(i * spt, (i + 1) * spt)
        if hasattr(m, "coef_"):  # trials before the first teaching trial output 0
            out[sl] = m.predict(X[sl])
        if not session.probe[i]:
            m.partial_fit(X[sl], Y[sl])
    return out, m


def _fit_when_what(session, X, Y, settings: ReadoutSettings, common: dict):
    """Centred "when" readout (optionally behind a decorrelating stage) and the "what" readouts."""
    dt = session.paradigm.dt
    dec_when = dec_what = mean = None
    Xwhen, Xwhat, center_tau = X, X, settings.center_when
    if settings.decorrelate > 0:
        stage = dict(eta=settings.decorrelate, kappa=settings.decorrelate_kappa,
                     every=settings.decorrelate_every, noise=settings.decorrelate_noise)
        Xc, mean = center_rates(np.ascontiguousarray(X, dtype=np.float64),
                                float(np.exp(-dt / settings.center_when)), np.zeros(X.shape[1]))
        dec_when = Decorrelator(**stage, seed=np.random.default_rng([settings.decorrelate_seed, 0]))
        Xwhen, center_tau = dec_when.transform_learn(Xc), 0.0
        if settings.decorrelate_what:
            dec_what = Decorrelator(**stage, seed=np.random.default_rng([settings.decorrelate_seed, 1]))
            Xwhat = dec_what.transform_learn(X)
    when = ThreeFactorReadout(eta=settings.eta_when, online=True, center_tau=center_tau, **common)
    when.fit(Xwhen, Y[:, :1], gate=session.gate[:, :1], segment_ends=session.trial_end)
    k = Y.shape[1] - 1
    eta, online, anneal, Q = settings.eta_what, False, None, None
    if settings.what_common > 0 and k > 1:  # common mode apart: its own rate, never annealed
        Q = common_mode_basis(k)
        eta = [settings.what_common] + [settings.eta_what] * (k - 1)
        online = np.array([settings.what_common_online] + [False] * (k - 1))
        anneal = np.arange(k) > 0
    what = ThreeFactorReadout(eta=eta, online=online, **common)
    # the gate is one value per step for all "what" outputs, so it commutes with Q
    Yw = Y[:, 1:] if Q is None else Y[:, 1:] @ Q
    what_out = _fit_annealed(what, session, Xwhat, Yw, session.gate[:, 1:], settings, what=anneal)
    if Q is not None:
        what_out = what_out @ Q.T
    readouts = WhenWhatReadouts(when, what, dec_when, dec_what, mean, Q)
    return np.hstack([when.train_predictions_, what_out]), readouts


def common_mode_basis(k: int) -> np.ndarray:
    """Orthonormal ``(k, k)`` basis whose first column is :math:`\\mathbf 1/\\sqrt k` (common mode).

    The other columns span the differences between outputs (Helmert contrasts, orthonormalised),
    so ``Y @ Q`` has the common mode first and ``(Y @ Q) @ Q.T`` gives ``Y`` back.
    """
    k = check_int("k", k)
    A = np.eye(k)
    A[:, 0] = 1.0
    Q, _ = np.linalg.qr(A)
    return Q * np.sign(Q[0, 0])  # first column +1/sqrt(k), not -1/sqrt(k)


def _fit_annealed(m, session, X, Y, gate, settings: ReadoutSettings, what=None) -> np.ndarray:
    """Fit three-factor readout ``m``, its "what" outputs (mask ``what``; all if None) at the
    annealed rate of ``settings`` (trial by trial); returns the outputs produced while learning."""
    if settings.what_anneal == 1:
        m.fit(X, Y, gate=gate, segment_ends=session.trial_end)
        return m.train_predictions_
    base = np.broadcast_to(np.asarray(m.eta, dtype=float), (Y.shape[1],)).copy()
    what = np.ones(Y.shape[1], bool) if what is None else np.asarray(what, bool)
    spt = session.paradigm.steps_per_trial
    out = np.empty_like(Y)
    n = 0
    for i in range(session.n_trials):
        sl = slice(i * spt, (i + 1) * spt)
        k = max(1.0, settings.what_anneal / (1.0 + n / settings.what_anneal_trials))
        m.eta = np.where(what, base * k, base)
        m.partial_fit(X[sl], Y[sl], gate=gate[sl], segment_ends=session.trial_end[sl])
        out[sl] = m.train_predictions_
        n += int(not session.probe[i])
    m.eta = base
    return out


def control_paradigms(paradigm: ww.WhatWhenParadigm) -> list[ww.WhatWhenParadigm]:
    """One no-switch control per switch: the whole session in the post-switch block's condition.

    Returns
    -------
    list of WhatWhenParadigm, one per switch (block ``1..``), each a single block of
    ``paradigm.n_trials`` trials with that block's latency and probabilities.
    """
    return [
        dataclasses.replace(paradigm, blocks=(ww.Block(paradigm.n_trials, b.latency, b.probabilities),))
        for b in paradigm.blocks[1:]
    ]


def control_errors(
    session: ww.WhatWhenSession,
    names: Sequence[str],
    states: Callable[[ww.WhatWhenSession, np.random.Generator], np.ndarray],
    *,
    seed: int,
    settings: ReadoutSettings = ReadoutSettings(),
) -> dict:
    """Per readout name, the per-trial errors of the no-switch control of every switch.

    Parameters
    ----------
    session : WhatWhenSession
        The session whose switches get controls.
    names : sequence of str
        Readouts (see :data:`READOUTS`).
    states : callable ``(control_session, rng) -> X``
        States of a control session, ``X`` of shape ``(n_steps, n_units)``; it should run the
        same network with the same frozen noise and state scale as the session, drawing its
        input spikes from ``rng``.
    seed : int
        The control of block ``b`` draws its stimuli (then ``states`` its inputs) from
        ``default_rng([seed, 1, b])``; identical conditions share one control.
    settings : ReadoutSettings

    Returns
    -------
    dict
        ``{name: [trial_errors of the control of switch 1, ...]}``.
    """
    for n in names:
        check_choice("readout", n, READOUTS)
    out = {n: [] for n in names}
    cache = {}
    for b, par in enumerate(control_paradigms(session.paradigm), start=1):
        key = (par.blocks[0].latency, par.blocks[0].probabilities)
        if key not in cache:
            crng = np.random.default_rng([seed, 1, b])
            csess = ww.generate(par, seed=crng)
            Xc = states(csess, crng)
            cache[key] = {n: wwm.trial_errors(csess, train_readout(n, csess, Xc, settings)[0]) for n in names}
        for n in names:
            out[n].append(cache[key][n])
    return out
