"""Metrics of the "what"/"when" paradigm (:mod:`tasks.whatwhen`), on outputs produced while learning.

All metrics use outputs produced *during* learning, so they are learning curves:

* :func:`timing_errors` — peak time of a readout minus the onset, per trial;
* :func:`anticipatory_amplitudes` and :func:`amplitude_probability_fit` —
  peak of each "what" readout in the anticipatory window ``[cue, onset]``,
  and the Pearson correlation and slope of these amplitudes against :math:`p_k`;
* :func:`trial_errors` — per-trial normalised squared error against the
  expected targets; :func:`recovery_after_switches` — trials until it is back
  under a threshold after each switch, and the worst error after the switch;
* :func:`subspace_cosine` — principal angles between the "what" and "when"
  weight subspaces (Björck & Golub 1973).
* :func:`time_decoding` — how well reservoir states carry elapsed time since the cue;
* :func:`score_readout` — all of the above for one readout, as reported by ``neuroplast run whatwhen``.
"""

from __future__ import annotations

import numpy as np

from plasticity_rules.validation import (
    check_array,
    check_choice,
    check_int,
    check_positive,
)

from .whatwhen import WhatWhenSession, trial_view

__all__ = [
    "timing_errors",
    "mean_response_timing",
    "anticipatory_amplitudes",
    "amplitude_probability_fit",
    "evaluation_trials",
    "trial_errors",
    "recovery_after_switches",
    "subspace_cosine",
    "time_decoding",
    "score_readout",
]


def _check_pred(session: WhatWhenSession, predictions) -> np.ndarray:
    n_out = 1 + session.paradigm.n_stimuli
    return check_array("predictions", predictions, shape=(session.times.size, n_out))


def _rel_times(session: WhatWhenSession) -> np.ndarray:
    return np.arange(session.paradigm.steps_per_trial) * session.paradigm.dt


def _peak_window(session: WhatWhenSession, window_factor: float) -> np.ndarray:
    """Mask ``(n_trials, steps_per_trial)`` of the peak search window ``[cue offset, cue + f * latency]``."""
    check_positive("window_factor", window_factor)
    par = session.paradigm
    rel = _rel_times(session)
    end = par.cue_time + window_factor * session.latency[:, None] + 1e-12
    return (rel[None, :] >= par.cue_time + par.cue_duration) & (rel[None, :] <= end)


def timing_errors(
    session: WhatWhenSession, predictions, output: int = 0, *, window_factor: float = 2.0
) -> np.ndarray:
    """Peak time of readout ``output`` minus the stimulus onset, per trial (s).

    The peak is searched from the cue offset to ``window_factor`` latencies after the
    cue onset (as in the peak-interval procedure, where probe trials last a multiple
    of the trained interval), or to the trial end if that comes first.

    Returns
    -------
    ndarray, shape (n_trials,)
    """
    pred = trial_view(session, _check_pred(session, predictions))[:, :, output]
    rel = _rel_times(session)
    mask = _peak_window(session, window_factor)
    idx = np.argmax(np.where(mask, pred, -np.inf), axis=1)
    return rel[idx] - (session.paradigm.cue_time + session.latency)


def mean_response_timing(
    session: WhatWhenSession, predictions, trials, output: int = 0, *, window_factor: float = 2.0
) -> float:
    """Peak time of the readout averaged over ``trials`` (all of one latency) minus the onset (s).

    This is the peak-interval measure: the response is averaged over probe trials
    first, then its peak is located.
    """
    trials = np.asarray(trials, dtype=np.int64)
    if trials.size == 0:
        raise ValueError("trials must not be empty")
    lat = session.latency[trials]
    if np.ptp(lat) > 0:
        raise ValueError("trials must share one latency")
    pred = trial_view(session, _check_pred(session, predictions))[trials, :, output].mean(axis=0)
    rel = _rel_times(session)
    mask = _peak_window(session, window_factor)[trials[0]]
    return float(rel[np.argmax(np.where(mask, pred, -np.inf))] - (session.paradigm.cue_time + lat[0]))


def anticipatory_amplitudes(
    session: WhatWhenSession, predictions, window: str = "anticipatory"
) -> np.ndarray:
    """Peak of each "what" readout per trial.

    Parameters
    ----------
    window : {"anticipatory", "post_cue"}
        ``[cue onset, stimulus onset]`` (before the stimulus can be seen), or from the
        cue onset to the trial end (meaningful on probe trials, where no stimulus comes).

    Returns
    -------
    ndarray, shape (n_trials, n_stimuli)
    """
    check_choice("window", window, ("anticipatory", "post_cue"))
    pred = trial_view(session, _check_pred(session, predictions))[:, :, 1:]
    par = session.paradigm
    rel = _rel_times(session)
    out = np.empty((session.n_trials, par.n_stimuli))
    for i in range(session.n_trials):
        end = par.cue_time + session.latency[i] + 1e-12 if window == "anticipatory" else np.inf
        m = (rel >= par.cue_time) & (rel <= end)
        out[i] = pred[i, m].max(axis=0)
    return out


def evaluation_trials(session: WhatWhenSession, last_n: int, *, probes: bool) -> list[np.ndarray]:
    """Per block, the last ``last_n`` probe trials (``probes=True``) or teaching trials."""
    check_int("last_n", last_n, minimum=1)
    out = []
    for b in np.unique(session.block):
        sel = (session.block == b) & (session.probe if probes else ~session.probe)
        idx = np.flatnonzero(sel)[-last_n:]
        if idx.size == 0:
            raise ValueError(f"block {b} has no {'probe' if probes else 'teaching'} trials to evaluate")
        out.append(idx)
    return out


def amplitude_probability_fit(
    session: WhatWhenSession,
    predictions,
    last_n: int = 10,
    *,
    probes: bool | None = None,
    average: str = "response",
    baseline: bool = False,
) -> dict:
    """Correlation and slope of anticipatory "what" amplitude against probability.

    For every block, its last ``last_n`` probe trials (default when the session has
    probes in every block; peak searched after the cue) or teaching trials (peak in
    ``[cue, onset]``) give one (probability, amplitude) pair per block and stimulus.

    Parameters
    ----------
    average : {"response", "peaks"}
        ``response`` (peak-interval procedure): average each readout's response over the
        trials first, then take its peak, :math:`A_k = \\max_t \\langle y_k(t) \\rangle_n`;
        ``peaks``: average the single-trial peaks, :math:`\\langle \\max_t y_k(t) \\rangle_n`
        (biased upwards by trial-to-trial noise, most for small amplitudes, which
        flattens the slope).
    baseline : bool
        With ``average="response"``: subtract the mean of the averaged response before
        the cue, :math:`A_k = \\max_t \\langle y_k \\rangle - \\langle y_k \\rangle_{t < t_{cue}}`,
        so that only the cue-locked modulation counts, not a tonic offset (a readout
        that encodes :math:`p_k` as a constant level through its bias scores 0).

    Returns
    -------
    dict with ``corr`` (Pearson r), ``slope``, ``intercept``, ``probabilities`` and
    ``amplitudes`` (flattened pairs).
    """
    check_choice("average", average, ("response", "peaks"))
    if baseline and average != "response":
        raise ValueError("baseline subtraction needs average='response'")
    if probes is None:
        probes = all(np.any(session.probe[session.block == b]) for b in np.unique(session.block))
    window = "post_cue" if probes else "anticipatory"
    ps, amps = [], []
    if average == "peaks":
        amp = anticipatory_amplitudes(session, predictions, window)
    else:
        pred = trial_view(session, _check_pred(session, predictions))[:, :, 1:]
        par = session.paradigm
        rel = _rel_times(session)
    for trials in evaluation_trials(session, last_n, probes=probes):
        ps.append(session.probabilities[trials[0]])
        if average == "peaks":
            amps.append(amp[trials].mean(axis=0))
        else:
            end = par.cue_time + session.latency[trials[0]] + 1e-12 if window == "anticipatory" else np.inf
            m = (rel >= par.cue_time) & (rel <= end)
            mean_resp = pred[trials].mean(axis=0)
            a = mean_resp[m].max(axis=0)
            if baseline:
                a = a - mean_resp[rel < par.cue_time].mean(axis=0)
            amps.append(a)
    ps, amps = np.concatenate(ps), np.concatenate(amps)
    if np.ptp(ps) == 0 or np.ptp(amps) == 0:
        corr = float("nan")
    else:
        corr = float(np.corrcoef(ps, amps)[0, 1])
    slope, intercept = np.polyfit(ps, amps, 1) if np.ptp(ps) > 0 else (float("nan"), float("nan"))
    return {
        "corr": corr,
        "slope": float(slope),
        "intercept": float(intercept),
        "probabilities": ps,
        "amplitudes": amps,
    }


def trial_errors(session: WhatWhenSession, predictions, window: str = "anticipatory") -> np.ndarray:
    """Per-trial normalised squared error against the expected targets.

    The "when" output and the "what" outputs are normalised separately and averaged, so
    that timing and identity count equally whatever the energy of their targets (a tonic
    "what" plateau has far more than a "when" bump):

    .. math:: \\varepsilon_n = \\frac12 \\sum_{G \\in \\{\\text{when}, \\text{what}\\}}
              \\frac{\\sum_{t \\in W_n} \\sum_{o \\in G} (\\hat y_o(t) - E[y^*_o(t)])^2}
                   {\\sum_{t \\in W_n} \\sum_{o \\in G} E[y^*_o(t)]^2}

    A silent readout (:math:`\\hat y = 0`) scores 1.

    Parameters
    ----------
    window : {"anticipatory", "trial"}
        :math:`W_n`: from the cue onset to the stimulus onset (the prediction proper; after
        the onset the stimulus itself reveals the identity, so the expected target is no
        longer the best output), or the whole trial.

    Returns
    -------
    ndarray, shape (n_trials,)
    """
    check_choice("window", window, ("anticipatory", "trial"))
    pred = trial_view(session, _check_pred(session, predictions))
    exp = trial_view(session, session.expected_targets)
    if window == "trial":
        m = np.ones(exp.shape[:2])
    else:
        par = session.paradigm
        rel = _rel_times(session)
        m = (rel[None, :] >= par.cue_time) & (rel[None, :] <= par.cue_time + session.latency[:, None] + 1e-12)
    out = np.zeros(session.n_trials)
    for group in (slice(0, 1), slice(1, None)):
        sq = ((pred[:, :, group] - exp[:, :, group]) ** 2).sum(axis=2)
        ref = (exp[:, :, group] ** 2).sum(axis=2)
        out += 0.5 * (sq * m).sum(axis=1) / (ref * m).sum(axis=1)
    return out


def recovery_after_switches(
    errors,
    switch_trials,
    *,
    threshold=None,
    factor: float = 1.5,
    baseline_trials: int = 5,
    consecutive: int = 3,
) -> list[dict]:
    """Trials needed to recover after each switch, and the worst error after it.

    After switch ``s`` (first trial of a new block) the readout has recovered at
    the first trial ``n`` from which ``consecutive`` trials in a row have an
    error at or below the threshold. The threshold is ``threshold`` if given
    (one number, or one per switch), else ``factor`` times the median error of the
    ``baseline_trials`` trials before the switch. ``recovery_trials = n - s``; when it never recovers
    within the block, ``recovered`` is False and ``recovery_trials`` is the
    block length (a censored count).

    Returns
    -------
    list of dict (one per switch) with ``switch_trial``, ``threshold``,
    ``recovery_trials``, ``recovered``, ``worst_error``, ``worst_trial_offset``.
    """
    err = check_array("errors", errors, ndim=1)
    switch = np.asarray(switch_trials, dtype=np.int64)
    check_positive("factor", factor)
    check_int("baseline_trials", baseline_trials, minimum=1)
    check_int("consecutive", consecutive, minimum=1)
    ends = list(switch[1:]) + [err.size]
    if threshold is not None:
        thresholds = np.broadcast_to(np.asarray(threshold, dtype=float), switch.shape)
    out = []
    for i, (s, e) in enumerate(zip(switch, ends, strict=True)):
        if not (0 < s < err.size):
            raise ValueError(f"switch trial {s} is outside the session of {err.size} trials")
        thr = (
            float(thresholds[i])
            if threshold is not None
            else factor * float(np.median(err[max(0, s - baseline_trials) : s]))
        )
        seg = err[s:e]
        ok = seg <= thr
        n_rec = None
        for i in range(seg.size - consecutive + 1):
            if ok[i : i + consecutive].all():
                n_rec = i
                break
        out.append(
            {
                "switch_trial": int(s),
                "threshold": thr,
                "recovery_trials": int(n_rec if n_rec is not None else seg.size),
                "recovered": n_rec is not None,
                "worst_error": float(seg.max()),
                "worst_trial_offset": int(np.argmax(seg)),
            }
        )
    return out


def subspace_cosine(A, B) -> dict:
    """Principal angles between the row spaces of two weight matrices.

    For orthonormal bases :math:`Q_A, Q_B` of the row spaces, the cosines of the
    principal angles are the singular values of :math:`Q_A^\\top Q_B`
    (Björck & Golub 1973). 0 means orthogonal subspaces, 1 a shared direction.

    Note on the what/when readouts: the "when" target is the sum of the "what"
    targets, :math:`y^*_0 = \\sum_k y^*_k`. Any readout whose weights are linear in
    the targets with one rule for all outputs (ridge, FORCE/RLS from zero weights,
    the three-factor rule with equal gates, rates and modes) therefore has
    :math:`w_0 = \\sum_k w_k`, inside the "what" subspace: ``max_cosine`` is 1 by
    construction. Values below 1 can only come from the outputs learning
    differently (online vs consolidated, different gates or rates);
    ``mean_row_cosine`` compares the individual vectors.

    Parameters
    ----------
    A : array_like, shape (n_a, n_features)
        E.g. the "when" weights (one row).
    B : array_like, shape (n_b, n_features)
        E.g. the "what" weights (one row per stimulus).

    Returns
    -------
    dict with ``max_cosine`` (cosine of the smallest principal angle),
    ``cosines`` (all, descending), ``angles_deg`` and ``mean_row_cosine``
    (mean absolute cosine between every row of A and every row of B).
    """
    A = check_array("A", A, ndim=(1, 2))
    B = check_array("B", B, ndim=(1, 2))
    A, B = np.atleast_2d(A), np.atleast_2d(B)
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"A and B must have the same number of features, got {A.shape} and {B.shape}")
    na, nb = np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1)
    if np.any(na == 0) or np.any(nb == 0):
        raise ValueError("A and B must not contain all-zero weight vectors")

    def basis(M):
        u, s, vt = np.linalg.svd(M, full_matrices=False)
        r = int(np.sum(s > s[0] * 1e-10))
        return vt[:r].T

    qa, qb = basis(A), basis(B)
    cos = np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), 0.0, 1.0)
    rows = np.abs((A / na[:, None]) @ (B / nb[:, None]).T)
    return {
        "max_cosine": float(cos.max()),
        "cosines": cos,
        "angles_deg": np.degrees(np.arccos(cos)),
        "mean_row_cosine": float(rows.mean()),
    }


def time_decoding(
    session: WhatWhenSession, X, *, alpha: float = 1.0, spacing: float = 0.05, horizon: float = 0.0
) -> dict:
    """How well the reservoir states carry elapsed time since the cue (held-out ridge fit).

    Targets are Gaussian bumps of width ``target_width`` centred ``c = spacing, 2 spacing, ...``
    up to the longest latency or ``horizon`` after the cue onset, whichever is later (and at
    most the end of the trial; centres beyond the longest latency are seen in probe trials only),
    :math:`B_c(t) = \\exp(-(t - t_{cue} - c)^2 /
    2\\sigma^2)`. Only stimulus-free activity is used: from the cue onset to the stimulus onset
    in teaching trials and to the trial end in probe trials, so a bump can only be produced
    from the reservoir's memory of the cue. A :class:`~plasticity_rules.readouts.RidgeReadout`
    is fitted on the even trials and scored on the odd ones:
    :math:`R^2_c = 1 - \\sum (\\hat B_c - B_c)^2 / \\sum (B_c - \\bar B_c)^2`.

    Parameters
    ----------
    session : WhatWhenSession
    X : array_like, shape (n_steps, n_features)
        Reservoir states, one row per step of the session.
    alpha : float
        Ridge penalty.
    spacing : float
        Spacing (s) of the bump centres after the cue.
    horizon : float
        Latest centre (s after the cue) to score, if later than the longest latency.

    Returns
    -------
    dict with ``centres_ms`` and ``r2`` (one per centre).
    """
    par = session.paradigm
    spt = par.steps_per_trial
    rel = np.arange(spt) * par.dt - par.cue_time
    check_positive("spacing", spacing)
    last = min(max(session.latency.max(), horizon), par.trial_duration - par.cue_time)
    centres = np.arange(spacing, last + 1e-9, spacing)
    Xt = trial_view(session, X)
    rows_tr, rows_te, y_tr, y_te = [], [], [], []
    for i in range(session.n_trials):
        end = np.inf if session.probe[i] else session.latency[i]
        m = (rel >= 0) & (rel < end - 1e-12)
        y = np.exp(-0.5 * ((rel[m][:, None] - centres[None, :]) / par.target_width) ** 2)
        (rows_tr if i % 2 == 0 else rows_te).append(Xt[i, m])
        (y_tr if i % 2 == 0 else y_te).append(y)
    from plasticity_rules.readouts import RidgeReadout

    model = RidgeReadout(alpha=alpha).fit(np.concatenate(rows_tr), np.concatenate(y_tr))
    Y = np.concatenate(y_te)
    P = model.predict(np.concatenate(rows_te))
    r2 = 1.0 - ((P - Y) ** 2).sum(axis=0) / ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
    return {"centres_ms": (centres * 1e3).round(3).tolist(), "r2": np.asarray(r2).tolist()}


def score_readout(
    session: WhatWhenSession,
    pred,
    coef,
    *,
    eval_trials: int = 5,
    recovery_factor: float = 1.2,
    timing_tolerance: float = 0.015,
    control_errors=None,
) -> dict:
    """Every metric of one readout, as ``neuroplast run whatwhen`` reports it.

    Parameters
    ----------
    session : WhatWhenSession
    pred : array_like, shape (n_steps, 1 + n_stimuli)
        Outputs produced while learning (column 0: "when").
    coef : array_like, shape (1 + n_stimuli, n_features)
        Final readout weights (for the what/when subspace angles).
    eval_trials : int
        Trials at the end of each block used for timing and amplitude metrics (probe
        trials when every block has them, else teaching trials).
    recovery_factor : float
        Recovered when the 3-trial mean error is at most this times the pre-switch median.
    timing_tolerance : float
        Timing recovery: two consecutive (probe) trials with ``|peak - onset|`` at most this (s).
    control_errors : sequence of array_like, optional
        One per switch: the per-trial errors of the same readout trained on a control session
        without switches, in the post-switch condition from the first trial. Then
        ``recovery_trials`` counts trials until the error is back within ``recovery_factor`` of
        the control's error at the same point of training (median of the control's trials
        ``[s - 5, s + 5)``): "recovered" means "as good as if the switch had not happened",
        which a readout that was never good cannot reach by being as bad as before. The
        unanchored count (within ``recovery_factor`` of the readout's own pre-switch error)
        is ``recovery_trials_own``.

    Returns
    -------
    dict
        Timing errors and biases (ms), amplitude-probability correlations and slopes,
        recovery after switches, what/when subspace cosines and the per-trial errors.
    """
    n_eval = check_int("eval_trials", eval_trials)
    check_positive("recovery_factor", recovery_factor)
    check_positive("timing_tolerance", timing_tolerance)
    probes = bool(np.all([np.any(session.probe[session.block == b]) for b in np.unique(session.block)]))
    te = timing_errors(session, pred, output=0)
    last = np.concatenate(evaluation_trials(session, n_eval, probes=probes))
    fit = amplitude_probability_fit(session, pred, last_n=n_eval, probes=probes)
    fit_peaks = amplitude_probability_fit(session, pred, last_n=n_eval, probes=probes, average="peaks")
    fit_mod = amplitude_probability_fit(session, pred, last_n=n_eval, probes=probes, baseline=True)
    err = trial_errors(session, pred)
    n_sw = len(session.switch_trials)
    rec_own = recovery_after_switches(err, session.switch_trials, factor=recovery_factor) if n_sw else []
    control_level = None
    if control_errors is not None:
        if len(control_errors) != n_sw:
            raise ValueError(
                f"control_errors must hold one error curve per switch ({n_sw}), got {len(control_errors)}"
            )
        control_level = [
            float(np.median(np.asarray(c)[max(0, s - 5) : s + 5]))
            for c, s in zip(control_errors, session.switch_trials, strict=True)
        ]
        rec = recovery_after_switches(
            err, session.switch_trials, threshold=[recovery_factor * c for c in control_level]
        )
    else:
        rec = rec_own
    timing_rec = []
    for s_i, s in enumerate(session.switch_trials):
        end = session.switch_trials[s_i + 1] if s_i + 1 < len(session.switch_trials) else session.n_trials
        trials = np.arange(s, end)
        if probes:
            trials = trials[session.probe[trials]]
        ok = np.abs(te[trials]) <= timing_tolerance + 1e-12  # single probe trials
        n = next((i for i in range(ok.size) if ok[i : i + 2].all()), None)
        timing_rec.append(int(trials[n] - s) if n is not None else int(end - s))
    W = np.asarray(coef)
    try:
        cos = subspace_cosine(W[:1], W[1:])
    except ValueError:
        cos = {"max_cosine": float("nan"), "mean_row_cosine": float("nan"), "angles_deg": np.array([np.nan])}
    # peak time of the "when" readout vs latency, per block (last eval trials)
    peak_vs_latency, mean_te = [], []
    for b, idx in zip(
        np.unique(session.block), evaluation_trials(session, n_eval, probes=probes), strict=True
    ):
        m_te = mean_response_timing(session, pred, idx)
        mean_te.append(m_te)
        peak_vs_latency.append(
            {
                "block": int(b),
                "latency_ms": float(session.latency[idx[0]] * 1e3),
                "mean_response_peak_after_cue_ms": float((session.latency[idx[0]] + m_te) * 1e3),
                "single_trial_peak_after_cue_ms": float((session.latency[idx] + te[idx]).mean() * 1e3),
            }
        )
    # the same peak-interval measure for every "what" readout (their peaks should be at the onset too)
    what_te = [
        mean_response_timing(session, pred, idx, output=o)
        for idx in evaluation_trials(session, n_eval, probes=probes)
        for o in range(1, 1 + session.paradigm.n_stimuli)
    ]
    # the same measure on teaching trials (includes the stimulus-evoked response after the onset)
    teach_te = [
        mean_response_timing(session, pred, idx) for idx in evaluation_trials(session, n_eval, probes=False)
    ]
    return {
        "timing_error_ms": float(np.mean(np.abs(mean_te)) * 1e3),
        "teaching_trial_timing_error_ms": float(np.mean(np.abs(teach_te)) * 1e3),
        "single_trial_timing_error_ms": float(np.mean(np.abs(te[last])) * 1e3),
        "timing_bias_ms": float(np.mean(mean_te) * 1e3),
        "timing_bias_ms_per_block": [float(x * 1e3) for x in mean_te],
        "what_timing_error_ms": float(np.mean(np.abs(what_te)) * 1e3),
        "what_timing_bias_ms": float(np.mean(what_te) * 1e3),
        "peak_vs_latency": peak_vs_latency,
        "amplitude_probability_corr": fit["corr"],
        "amplitude_probability_slope": fit["slope"],
        "amplitude_probability_corr_single_trial_peaks": fit_peaks["corr"],
        "amplitude_probability_slope_single_trial_peaks": fit_peaks["slope"],
        "amplitude_probability_corr_above_baseline": fit_mod["corr"],
        "amplitude_probability_slope_above_baseline": fit_mod["slope"],
        "amplitude_pairs": {
            "probability": fit["probabilities"].tolist(),
            "amplitude": fit["amplitudes"].tolist(),
        },
        "recovery_trials": [r["recovery_trials"] for r in rec],
        "recovered": [r["recovered"] for r in rec],
        "recovery_anchor": "no-switch control" if control_level is not None else "own pre-switch error",
        "control_error_at_switch": control_level,
        "recovery_trials_own": [r["recovery_trials"] for r in rec_own],
        "recovered_own": [r["recovered"] for r in rec_own],
        "pre_switch_error": [float(np.median(err[max(0, s - 5) : s])) for s in session.switch_trials],
        "worst_error_after_switch": [r["worst_error"] for r in rec],
        "mean_error_10_trials_after_switch": [
            float(err[sw : sw + 10].mean()) for sw in session.switch_trials
        ],
        "mean_error_10_trials_before_switch": [
            float(err[max(0, sw - 10) : sw].mean()) for sw in session.switch_trials
        ],
        "recovery_threshold": [r["threshold"] for r in rec],
        "timing_recovery_trials": timing_rec,
        "evaluated_on": "probe trials" if probes else "teaching trials",
        "final_error": float(np.mean(err[last])),
        "what_when_cosine": cos["max_cosine"],
        "what_when_mean_row_cosine": cos["mean_row_cosine"],
        "what_when_angles_deg": np.asarray(cos["angles_deg"]).tolist(),
        "trial_errors": err.tolist(),
    }
