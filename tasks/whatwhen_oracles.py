"""Oracle learners for the what/when task: how fast could *any* learner recover?

The what/when readouts (:mod:`tasks.whatwhen_training`) are scored by the anchored
recovery count of :func:`tasks.whatwhen_metrics.score_readout`: after switch :math:`s`,
the trials until three in a row have an error (:func:`tasks.whatwhen_metrics.trial_errors`)
at or below :math:`1.2\\,\\tilde\\varepsilon^{c}_s`, the median error of the *same learner*
in a no-switch control session (the post-switch condition from trial 0) over trials
:math:`s-5 .. s+4`. The learners here know the switch times (and, for the observers, more);
the recovery they reach bounds what a readout without that knowledge can reach.

Learners (each outputs trial :math:`n` from what it learned on the teaching trials
before :math:`n`, as the project's readouts do):

``ridge``
    Ridge on all teaching trials so far (the project's ``ridge`` readout; the control of
    the two linear oracles).
``ridge_since_switch``
    Ridge refit on the teaching trials of the current block only,
    :math:`W_n = \\arg\\min_W \\|Y_{[s,n)} - \\tilde X_{[s,n)} W\\|^2 + \\alpha \\|W'\\|^2`
    (:math:`\\tilde X` with a column of ones, the intercept unpenalised); until the first
    teaching trial of a block it keeps the previous weights.
``prior_ridge``
    A Gaussian prior centred on the pre-switch weights :math:`W_{pre}` (MAP of Bayesian
    linear regression, Bishop 2006, sec. 3.3):
    :math:`W_n = (A_{[s,n)} + \\lambda I)^{-1}(B_{[s,n)} + \\lambda W_{pre})`, with
    :math:`A = \\tilde X^\\top \\tilde X`, :math:`B = \\tilde X^\\top Y`; :math:`\\lambda \\to 0` is
    ``ridge_since_switch``, :math:`\\lambda \\to \\infty` never moves from :math:`W_{pre}`.
``observer``
    An ideal observer of the outcome statistics: it knows the trial's latency (so the
    exact shape of the expected targets) and estimates the stimulus probabilities by the
    posterior mean of a Dirichlet prior (Gelman et al. 2013, sec. 3.4),
    :math:`\\hat p_k = (\\kappa m_k + c_k) / (\\kappa + n)`, :math:`c_k` the counts of stimulus
    :math:`k` in the :math:`n` teaching trials since the last change of probabilities, and
    :math:`m` the uniform distribution or the previous block's estimate. Its output is the
    expected target with :math:`p` replaced by :math:`\\hat p` ("what" columns
    :math:`\\hat p_k` times the plateau, the "when" column exact). With the true :math:`p`
    it would score 0; its error is purely the sampling error of :math:`\\hat p`.

References
----------
Bishop, C. M. (2006). *Pattern Recognition and Machine Learning*. Springer.
Gelman, A. et al. (2013). *Bayesian Data Analysis*, 3rd ed. CRC Press.
"""

from __future__ import annotations

import numpy as np

from plasticity_rules.validation import check_choice, check_nonnegative

from . import whatwhen as ww
from . import whatwhen_metrics as wwm

LINEAR = ("ridge", "ridge_since_switch", "prior_ridge")


def _stats(session: ww.WhatWhenSession, X, Y=None):
    """Per-trial sufficient statistics :math:`A_i = \\tilde X_i^\\top \\tilde X_i`,
    :math:`B_i = \\tilde X_i^\\top Y_i`.
    """
    spt = session.paradigm.steps_per_trial
    X = np.asarray(X, dtype=float)
    if X.shape[0] != session.n_trials * spt:
        raise ValueError(f"X must have {session.n_trials * spt} rows (one per step), got {X.shape[0]}")
    Y = session.targets if Y is None else Y
    Xa = np.hstack([X, np.ones((X.shape[0], 1))]).reshape(session.n_trials, spt, -1)
    Ya = np.asarray(Y, dtype=float).reshape(session.n_trials, spt, -1)
    return Xa, np.einsum("nti,ntj->nij", Xa, Xa), np.einsum("nti,ntj->nij", Xa, Ya)


def linear_oracle(
    name: str, session: ww.WhatWhenSession, X, *, alpha: float = 1.0, prior: float = 1.0
) -> np.ndarray:
    """Outputs of linear learner ``name`` (module docstring) while it learns the session.

    Parameters
    ----------
    name : {"ridge", "ridge_since_switch", "prior_ridge"}
    session : WhatWhenSession
    X : ndarray, shape ``(n_steps, n_units)``
    alpha : float
        Ridge penalty :math:`\\alpha` (first block of every learner; every block of ``ridge``
        and ``ridge_since_switch``).
    prior : float
        :math:`\\lambda`, the precision of the prior on :math:`W_{pre}` (``prior_ridge``).

    Returns
    -------
    ndarray, shape ``(n_steps, 1 + n_stimuli)``; trials before any teaching trial output 0.
    """
    check_choice("name", name, LINEAR)
    check_nonnegative("alpha", alpha)
    check_nonnegative("prior", prior)
    Xa, A, B = _stats(session, X)
    m = A.shape[1]
    reg = np.full(m, float(alpha))
    reg[-1] = 0.0
    starts = set(session.switch_trials.tolist()) if name != "ridge" else set()
    out = np.zeros((session.n_trials, Xa.shape[1], B.shape[2]))
    W = None
    W_pre = None
    sA = np.zeros((m, m))
    sB = np.zeros((m, B.shape[2]))
    n_taught = 0
    for i in range(session.n_trials):
        if i in starts:
            W_pre, sA, sB, n_taught = W, np.zeros((m, m)), np.zeros_like(sB), 0
        if W is not None:
            out[i] = Xa[i] @ W
        if session.probe[i]:
            continue
        sA += A[i]
        sB += B[i]
        n_taught += 1
        if name == "prior_ridge" and W_pre is not None:
            W = np.linalg.solve(sA + prior * np.eye(m), sB + prior * W_pre)
        else:
            W = np.linalg.solve(sA + np.diag(reg), sB)
    return out.reshape(-1, B.shape[2])


def posterior_probabilities(counts, prior_mean, strength: float) -> np.ndarray:
    """Dirichlet posterior mean :math:`(\\kappa m + c) / (\\kappa + \\sum c)`.

    ``strength`` :math:`\\kappa = 0` with no counts returns ``prior_mean``.
    """
    c = np.asarray(counts, dtype=float)
    m = np.asarray(prior_mean, dtype=float)
    check_nonnegative("strength", strength)
    n = c.sum(axis=-1, keepdims=True)
    if strength == 0:
        return np.where(n > 0, c / np.maximum(n, 1e-300), m)
    return (strength * m + c) / (strength + n)


def observer_oracle(
    session: ww.WhatWhenSession, *, strength: float = 1.0, prior: str = "uniform", exact: bool = False
) -> np.ndarray:
    """Outputs of the ideal observer (module docstring).

    Parameters
    ----------
    strength : float
        :math:`\\kappa`, the Dirichlet prior's weight in pseudo-trials.
    prior : {"uniform", "previous"}
        :math:`m` after a change of probabilities: uniform, or the previous block's estimate
        at the switch (a learner that expects nothing to have changed). The first block
        always starts from uniform.
    exact : bool
        Use the true :math:`p` (the latency oracle alone: its error is 0 by construction).
    """
    check_choice("prior", prior, ("uniform", "previous"))
    check_nonnegative("strength", strength)
    k = session.paradigm.n_stimuli
    spt = session.paradigm.steps_per_trial
    exp = ww.trial_view(session, session.expected_targets)
    out = exp.copy()
    counts = np.zeros(k)
    mean = np.full(k, 1.0 / k)
    p_hat = mean
    for i in range(session.n_trials):
        if i > 0 and not np.allclose(session.probabilities[i], session.probabilities[i - 1]):
            mean = p_hat if prior == "previous" else np.full(k, 1.0 / k)
            counts = np.zeros(k)
        p_hat = posterior_probabilities(counts, mean, strength)
        if not exact:
            p = session.probabilities[i]
            # what column k is p_k times the plateau: rescale it to p_hat_k
            scale = np.where(p > 0, p_hat / np.where(p > 0, p, 1.0), 0.0)
            out[i, :, 1:] = exp[i, :, 1:] * scale[None, :]
        if not session.probe[i]:
            counts[session.stimulus[i]] += 1
    return out.reshape(-1, 1 + k)[: session.n_trials * spt]


def recovery(session, pred, control_session, control_pred, *, factor: float = 1.2, probes_only=False):
    """Anchored recovery of ``pred`` (as :func:`tasks.whatwhen_metrics.score_readout`) per switch.

    ``control_session``/``control_pred``: one per switch. Adds ``control_error_at_switch`` and
    ``error_10_ratio``, the mean error of trials ``s+10 .. s+12`` over the threshold. With
    ``probes_only`` the errors of probe trials alone are used (switch and control windows
    mapped to the probe trials among them, the control window widened to ``s-10 .. s+9`` so
    that it holds probes (~5 at 25 % probes); ``recovery_trials`` then counts *probe* trials; the
    error 10 trials after is the mean over the probe trials of ``s+10 .. s+19``).
    """
    err = wwm.trial_errors(session, pred)
    out = []
    for j, s in enumerate(session.switch_trials):
        cerr = wwm.trial_errors(control_session[j], control_pred[j])
        end = session.switch_trials[j + 1] if j + 1 < len(session.switch_trials) else session.n_trials
        if probes_only:
            cm = control_session[j].probe
            lo = max(0, s - 10)
            level = float(np.median(cerr[lo : s + 10][cm[lo : s + 10]]))
            pm = session.probe[s:end]
            seg = err[s:end][pm]
            after = err[s + 10 : s + 20][session.probe[s + 10 : s + 20]]
        else:
            level = float(np.median(cerr[max(0, s - 5) : s + 5]))
            seg = err[s:end]
            after = err[s + 10 : s + 13]
        thr = factor * level
        r = wwm.recovery_after_switches(np.concatenate([[0.0], seg]), [1], threshold=thr)[0]
        out.append(
            {
                "recovery_trials": r["recovery_trials"],
                "recovered": r["recovered"],
                "control_error_at_switch": level,
                "error_10_ratio": float(np.mean(after) / thr) if after.size and thr > 0 else float("nan"),
            }
        )
    return out


def oracle_learners(alpha: float = 1.0) -> dict:
    """The learners swept by :func:`oracle_summary`: ``{name: f(session, X) -> outputs}``.

    ``ridge_since_switch``; ``prior_ridge_L`` (:math:`\\lambda` = L in 1, 10, 100, 1000);
    ``observer_uniform_K`` / ``observer_previous_K`` (:math:`\\kappa` = K in 0, 1, 3, 10);
    ``observer_exact`` (true :math:`p`: the latency oracle alone).
    """
    out = {"ridge_since_switch": lambda s, x: linear_oracle("ridge_since_switch", s, x, alpha=alpha)}
    for lam in (1.0, 10.0, 100.0, 1000.0):
        out[f"prior_ridge_{lam:g}"] = lambda s, x, lam=lam: linear_oracle(
            "prior_ridge", s, x, alpha=alpha, prior=lam
        )
    for kap in (0.0, 1.0, 3.0, 10.0):
        for pr in ("uniform", "previous"):
            out[f"observer_{pr}_{kap:g}"] = lambda s, x, kap=kap, pr=pr: observer_oracle(
                s, strength=kap, prior=pr
            )
    out["observer_exact"] = lambda s, x: observer_oracle(s, exact=True)
    return out


def oracle_summary(session, X, control_sessions, control_states, *, alpha: float = 1.0, factor: float = 1.2):
    """Anchored recovery of every learner of :func:`oracle_learners`, each against its own control.

    The linear oracles' control is the cumulative ``ridge`` (without a switch they are ridge);
    the observers run in the control sessions themselves.

    Returns
    -------
    dict
        ``{"all": {name: [recovery dict per switch]}, "probes": {...}}`` (see :func:`recovery`).
    """
    pairs = list(zip(control_sessions, control_states, strict=True))
    ridge_c = [linear_oracle("ridge", c, x, alpha=alpha) for c, x in pairs]
    res = {"all": {}, "probes": {}}
    for name, f in oracle_learners(alpha).items():
        pred = f(session, X)
        cp = ridge_c if not name.startswith("observer") else [f(c, x) for c, x in pairs]
        res["all"][name] = recovery(session, pred, control_sessions, cp, factor=factor)
        res["probes"][name] = recovery(session, pred, control_sessions, cp, factor=factor, probes_only=True)
    return res
