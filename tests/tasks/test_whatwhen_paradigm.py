"""The what/when paradigm generator and its metrics."""

import numpy as np
import pytest

from tasks import whatwhen as ww


def _par(**kw):
    blocks = kw.pop("blocks", (ww.Block(6, 0.2, (0.7, 0.2, 0.1)), ww.Block(6, 0.3, (0.1, 0.2, 0.7))))
    return ww.WhatWhenParadigm(blocks=blocks, trial_duration=0.5, **kw)


def test_generate_shapes_targets_and_switches():
    par = _par(probe_fraction=0.0, what_target="bump")
    s = ww.generate(par, seed=0)
    spt = par.steps_per_trial
    assert s.targets.shape == (12 * spt, 4) == s.expected_targets.shape == s.gate.shape
    np.testing.assert_array_equal(s.switch_trials, [6])
    np.testing.assert_array_equal(s.block, [0] * 6 + [1] * 6)
    T = ww.trial_view(s, s.targets)
    E = ww.trial_view(s, s.expected_targets)
    rel = np.arange(spt) * par.dt
    for i in range(12):
        # when target peaks at the onset, what target only for the drawn stimulus
        assert rel[np.argmax(T[i, :, 0])] == pytest.approx(par.cue_time + s.latency[i], abs=par.dt / 2)
        np.testing.assert_allclose(T[i, :, 1 + s.stimulus[i]], T[i, :, 0])
        others = [k for k in range(3) if k != s.stimulus[i]]
        assert np.all(T[i, :, [1 + k for k in others]] == 0)
        np.testing.assert_allclose(E[i, :, 1:].max(0), s.probabilities[i], rtol=1e-6)
    assert s.trial_end.sum() == 12 and s.trial_end[spt - 1]


def test_plateau_what_targets_hold_identity_from_cue_to_stimulus_offset():
    par = _par(probe_fraction=0.0)
    assert par.what_target == "plateau"
    s = ww.generate(par, seed=0)
    T, E = ww.trial_view(s, s.targets), ww.trial_view(s, s.expected_targets)
    rel = np.arange(par.steps_per_trial) * par.dt
    for i in range(12):
        inside = (rel > par.cue_time + 3 * par.target_width) & (
            rel < par.cue_time + s.latency[i] + par.stimulus_duration - 3 * par.target_width
        )
        outside = (rel < par.cue_time - 4 * par.target_width) | (
            rel > par.cue_time + s.latency[i] + par.stimulus_duration + 4 * par.target_width
        )
        np.testing.assert_allclose(T[i, inside, 1 + s.stimulus[i]], 1.0, atol=1e-3)
        assert np.all(T[i, outside, 1:] < 1e-3)
        expected = np.tile(s.probabilities[i], (inside.sum(), 1))
        np.testing.assert_allclose(E[i, inside, 1:], expected, atol=1e-3)
        # "when" is no longer the sum of the "what" targets
        assert np.abs(T[i, :, 1:].sum(axis=1) - T[i, :, 0]).max() > 0.9
    with pytest.raises(ValueError, match="unknown what_target 'ramp'"):
        _par(what_target="ramp")


def test_stimulus_frequencies_follow_probabilities_and_seed():
    par = _par(
        blocks=(ww.Block(3000, 0.2, (0.6, 0.3, 0.1)),), probe_fraction=0.0, dt=0.01, stimulus_order="iid"
    )
    s = ww.generate(par, seed=1)
    freq = np.bincount(s.stimulus, minlength=3) / 3000
    np.testing.assert_allclose(freq, [0.6, 0.3, 0.1], atol=0.03)
    np.testing.assert_array_equal(ww.generate(par, seed=1).stimulus, s.stimulus)
    assert not np.array_equal(ww.generate(par, seed=2).stimulus, s.stimulus)


def test_balanced_order_holds_exact_proportions_over_teaching_trials():
    blocks = (ww.Block(40, 0.2, (0.6, 0.3, 0.1)), ww.Block(33, 0.3, (0.1, 0.25, 0.65)))
    for seed in range(5):
        s = ww.generate(_par(blocks=blocks, probe_fraction=0.25, stimulus_order="balanced"), seed=seed)
        for b, blk in enumerate(blocks):
            teach = (s.block == b) & ~s.probe
            counts = np.bincount(s.stimulus[teach], minlength=3)
            assert counts.sum() == teach.sum()
            # largest-remainder rounding: every count within one of n p
            assert np.all(np.abs(counts - teach.sum() * np.asarray(blk.probabilities)) < 1)
        again = ww.generate(_par(blocks=blocks, probe_fraction=0.25, stimulus_order="balanced"), seed=seed)
        np.testing.assert_array_equal(again.stimulus, s.stimulus)
    # the order within a block is random, not sorted
    assert len({tuple(ww.generate(_par(blocks=blocks), seed=k).stimulus[:10]) for k in range(5)}) > 1
    np.testing.assert_array_equal(ww._exact_counts(np.array([0.6, 0.3, 0.1]), 29), [17, 9, 3])
    # iid: frequencies scatter (binomial); at 10 trials the realised counts differ from n p somewhere
    iid = [ww.generate(_par(blocks=blocks, stimulus_order="iid"), seed=k) for k in range(5)]
    assert any(abs(np.sum(x.stimulus[x.block == 0] == 0) - 24) >= 2 for x in iid)
    with pytest.raises(ValueError, match="unknown stimulus_order 'sorted'"):
        _par(stimulus_order="sorted")


def test_probe_trials_have_no_stimulus_and_no_learning():
    par = _par(probe_fraction=0.5)
    s = ww.generate(par, seed=3)
    assert s.probe.any() and (~s.probe).any()
    G = ww.trial_view(s, s.gate)
    assert np.all(G[s.probe] == 0) and np.all(G[~s.probe].max(axis=(1, 2)) == 1)
    rates = s.input_rates(1e-3, rate=50.0)
    for i in range(s.n_trials):
        seg = rates[int(round(s.trial_start[i] / 1e-3)) : int(round((s.trial_start[i] + 0.5) / 1e-3))]
        assert seg[:, 0].max() == 50.0  # the cue is always there
        assert (seg[:, 1:].max() == 0) == bool(s.probe[i])
        if not s.probe[i]:
            assert seg[:, 1 + s.stimulus[i]].sum() == pytest.approx(50.0 * par.stimulus_duration / 1e-3)
    np.testing.assert_array_equal(s.learn, np.repeat(~s.probe, par.steps_per_trial))


def test_metrics_on_ideal_predictor():
    par = _par(probe_fraction=0.3)
    s = ww.generate(par, seed=4)
    ideal = s.expected_targets
    np.testing.assert_allclose(ww.timing_errors(s, ideal), 0.0, atol=par.dt / 2)
    fit = ww.amplitude_probability_fit(s, ideal, last_n=2)
    assert fit["corr"] == pytest.approx(1.0)
    assert fit["slope"] == pytest.approx(1.0, abs=0.02)
    np.testing.assert_allclose(ww.trial_errors(s, ideal), 0.0)
    rec = ww.recovery_after_switches(ww.trial_errors(s, ideal), s.switch_trials, threshold=0.01)
    assert rec[0]["recovery_trials"] == 0 and rec[0]["recovered"]
    trials = ww.evaluation_trials(s, 2, probes=False)[0]
    assert ww.mean_response_timing(s, ideal, trials) == pytest.approx(0.0, abs=par.dt / 2)


def test_what_gate_onset_is_gaussian_around_the_onset():
    par = _par(probe_fraction=0.0, what_gate="onset", gate_floor=0.1, gate_rise=0.02)
    s = ww.generate(par, seed=2)
    same = ww.generate(_par(probe_fraction=0.0, gate_floor=0.1, gate_rise=0.02), seed=2)
    np.testing.assert_array_equal(s.gate[:, 0], same.gate[:, 0])  # "when" keeps the window gate
    # the gate at time t is set by the nearest onset (the Gaussians of all trials, maximum)
    d = np.min(np.abs(s.times[:, None] - s.stimulus_onset[None, :]), axis=1)
    expect = 0.1 + 0.9 * np.exp(-0.5 * (d / 0.02) ** 2)
    for k in (1, 2, 3):
        np.testing.assert_allclose(s.gate[:, k], expect, atol=1e-12)
    assert np.all(s.gate[np.searchsorted(s.times, s.stimulus_onset - 1e-9), 1:] > 0.99)
    with pytest.raises(ValueError, match="what_gate"):
        _par(what_gate="stimulus")


def test_amplitude_fit_response_average_removes_peak_noise_bias():
    par = _par(probe_fraction=0.0, what_target="bump")  # a peak over a bump
    s = ww.generate(par, seed=6)
    noisy = s.expected_targets + np.random.default_rng(0).normal(0, 0.2, s.expected_targets.shape)
    resp = ww.amplitude_probability_fit(s, noisy, last_n=6, probes=False)
    peaks = ww.amplitude_probability_fit(s, noisy, last_n=6, probes=False, average="peaks")
    # the max of single noisy trials is biased upwards; averaging the response first is not (as much)
    assert np.all(peaks["amplitudes"] > resp["amplitudes"])
    assert abs(resp["slope"] - 1.0) < abs(peaks["slope"] - 1.0)
    # on noise-free predictions both agree exactly
    a = ww.amplitude_probability_fit(s, s.expected_targets, last_n=6, probes=False)
    b = ww.amplitude_probability_fit(s, s.expected_targets, last_n=6, probes=False, average="peaks")
    np.testing.assert_allclose(a["amplitudes"], b["amplitudes"])
    with pytest.raises(ValueError, match="average"):
        ww.amplitude_probability_fit(s, noisy, average="mean")
    # a tonic code (constant level p_k, no cue-locked modulation) passes the plain fit
    # but not the baseline-subtracted one; the ideal bumps pass both
    tonic = s.expected_targets.copy()
    tonic[:, 1:] = s.probabilities[np.repeat(np.arange(s.n_trials), par.steps_per_trial)]
    assert ww.amplitude_probability_fit(s, tonic, last_n=6, probes=False)["corr"] == pytest.approx(1.0)
    assert np.allclose(
        ww.amplitude_probability_fit(s, tonic, last_n=6, probes=False, baseline=True)["amplitudes"], 0.0
    )
    ideal = ww.amplitude_probability_fit(s, s.expected_targets, last_n=6, probes=False, baseline=True)
    assert ideal["corr"] == pytest.approx(1.0) and ideal["slope"] == pytest.approx(1.0, abs=0.02)
    with pytest.raises(ValueError, match="baseline"):
        ww.amplitude_probability_fit(s, noisy, average="peaks", baseline=True)


def test_metrics_detect_wrong_predictions():
    par = _par(probe_fraction=0.0)
    s = ww.generate(par, seed=5)
    # predictions shifted 40 ms late and with flat amplitudes
    spt = par.steps_per_trial
    shift = 8
    late = np.roll(ww.trial_view(s, s.expected_targets), shift, axis=1).reshape(-1, 4)
    np.testing.assert_allclose(ww.timing_errors(s, late), shift * par.dt, atol=1e-9)
    flat = s.expected_targets.copy()
    flat[:, 1:] = flat[:, :1] / 3
    assert np.isnan(ww.amplitude_probability_fit(s, flat, last_n=3)["corr"])
    assert np.all(ww.trial_errors(s, np.zeros_like(flat)) == pytest.approx(1.0))
    assert spt == 100


def test_recovery_after_switches_counts_trials():
    err = np.array([1, 1, 1, 1, 1, 5, 4, 3, 1, 1, 1, 2, 1, 1, 1, 1.0])
    rec = ww.recovery_after_switches(err, [5], factor=1.5, baseline_trials=5, consecutive=3)
    assert rec[0]["threshold"] == 1.5
    assert rec[0]["recovery_trials"] == 3  # trials 8, 9, 10 are the first three below 1.5
    assert rec[0]["worst_error"] == 5 and rec[0]["worst_trial_offset"] == 0
    never = ww.recovery_after_switches(np.array([1, 1, 9, 9, 9.0]), [2], factor=1.5)
    assert not never[0]["recovered"] and never[0]["recovery_trials"] == 3
    with pytest.raises(ValueError, match="outside the session"):
        ww.recovery_after_switches(err, [40])


def test_subspace_cosine():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(1, 50))
    b = rng.normal(size=(3, 50))
    b_orth = b - (b @ a.T) @ a / (a @ a.T)
    assert ww.subspace_cosine(a, b_orth)["max_cosine"] == pytest.approx(0.0, abs=1e-10)
    c = ww.subspace_cosine(a, np.vstack([b_orth, 2 * a]))
    assert c["max_cosine"] == pytest.approx(1.0)
    # row space, not rows: a in span(B) gives cosine 1 even if no row is parallel
    mix = np.vstack([a + b_orth[0], a - b_orth[0]])
    assert ww.subspace_cosine(a, mix)["max_cosine"] == pytest.approx(1.0)
    assert ww.subspace_cosine(a, mix)["mean_row_cosine"] < 1.0
    with pytest.raises(ValueError, match="same number of features"):
        ww.subspace_cosine(a, np.ones((2, 3)))
    with pytest.raises(ValueError, match="all-zero"):
        ww.subspace_cosine(np.zeros((1, 50)), b)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(blocks=(ww.Block(5, 0.45, (0.5, 0.5)),)), "beyond the trial"),
        (dict(gate_floor=1.5), "gate_floor must be a probability"),
        (dict(blocks=(ww.Block(5, 0.2, (0.5, 0.5)), ww.Block(5, 0.2, (1.0,)))), "expected 2"),
        (dict(probe_fraction=1.0), "probe_fraction must be < 1"),
        (dict(gate_shape="triangle"), "unknown gate_shape"),
    ],
)
def test_bad_paradigms(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _par(**kwargs)


def test_bad_blocks_and_predictions():
    with pytest.raises(ValueError, match="probabilities must sum to 1"):
        ww.Block(5, 0.2, (0.5, 0.6))
    with pytest.raises(ValueError, match="probabilities\\[1\\] must be a finite number >= 0"):
        ww.Block(5, 0.2, (1.2, -0.2))
    with pytest.raises(ValueError, match="latency must be > 0"):
        ww.Block(5, -0.1, (1.0,))
    with pytest.raises(ValueError, match="n_trials:latency_s"):
        ww.parse_blocks("10:0.2")
    assert ww.parse_blocks("10:0.2:0.5,0.5; 5:0.3:1,0")[1] == ww.Block(5, 0.3, (1.0, 0.0))
    s = ww.generate(_par(), seed=0)
    with pytest.raises(ValueError, match="predictions must have shape"):
        ww.trial_errors(s, np.zeros((10, 4)))
    bad = np.zeros_like(s.targets)
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="predictions contains 1 NaN"):
        ww.timing_errors(s, bad)
