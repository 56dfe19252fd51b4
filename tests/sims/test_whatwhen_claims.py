"""Issue 15's claims, one slow test each, at the defaults on seeds 0-4 (about 2 minutes per seed).

Claims that did not hold when measured are ``xfail`` with the measured figures in the
reason (docs/results.rst has the tables and the commands); they turn into passes, and
``strict=False`` lets them, if a later change makes them hold.
"""

import numpy as np
import pytest

from sims.runner import execute

pytestmark = pytest.mark.slow
SEEDS = range(5)


@pytest.fixture(scope="module")
def runs():
    return [execute("whatwhen", {}, seed=s) for s in SEEDS]


def test_time_decoding_horizon_and_rates(runs):
    for s in runs:
        assert max(s["time_decoding_centres_ms"]) == pytest.approx(400.0)
        assert 1.0 <= s["mean_rate_exc_hz"] <= 30.0
        assert min(s["time_decoding_r2"]) >= 0.88  # the frozen-noise clock (fresh noise: below 0)


def test_time_is_decodable_over_the_whole_trial(runs):
    """Part 1: held-out R^2 >= .90 at every centre up to 400 ms after the cue.

    Measured .950 / .947 / .944 / .946 / .925 (worst centre; seed 4 at 300 ms). With the previous
    i.i.d. stimulus order (other input spikes) seed 1 missed by .003 (.897 at 350 ms).
    """
    for s in runs:
        assert min(s["time_decoding_r2"]) >= 0.90


def test_final_error_below_silent_output(runs):
    for s in runs:
        assert s["final_error"] < 1.0


def test_recovers_no_slower_than_force_without_reset(runs):
    for s in runs:
        tf, force = s["comparison"]["three_factor"], s["comparison"]["force"]
        assert np.all(np.asarray(tf["recovery_trials"]) <= np.asarray(force["recovery_trials"]))


def test_recovers_strictly_faster_than_force_without_reset(runs):
    """FORCE never recovers within a block (40,40); the three-factor readout 38-67 trials summed.

    Without the centred "when" readout seed 4 tied (40,40 against 40,40).
    """
    for s in runs:
        tf, force = s["comparison"]["three_factor"], s["comparison"]["force"]
        assert np.sum(tf["recovery_trials"]) < np.sum(force["recovery_trials"])


def test_amplitude_probability_correlation(runs):
    """Measured .951 / .972 / .934 / .933 / .935, held-out seeds 5-9: .907 / .946 / .943 / .944 /
    .941 (balanced order, annealed eta_what; i.i.d.: .67-.91)."""
    for s in runs:
        assert s["amplitude_probability_corr"] >= 0.9


def test_timing_bias_per_block(runs):
    """Measured -5 to 0 ms in every block, held-out seeds 5-9: -10 to 5 ms (-15 to 0 ms before the
    decorrelating stage; without the centred "when" readout -20 ms in 2 blocks)."""
    for s in runs:
        assert np.all(np.abs(s["timing_bias_ms_per_block"]) <= 15.0)


@pytest.mark.xfail(
    reason="anchored recovery 13-40 trials, none of 10 switches within 10 (own-baseline 9-37, 1 within 10; "
    "held-out seeds 5-9: 10-40, 1 of 10 within 10); the oracle bounds of run whatwhen --oracles show that 10 "
    "trials are out of reach of any learner on these states (docs/results.rst)",
    strict=False,
)
def test_recovery_within_ten_trials(runs):
    for s in runs:
        assert all(s["recovered"]) and max(s["recovery_trials"]) <= 10


def test_final_error_within_1_5x_force_with_reset(runs):
    """Measured 1.10 / 1.34 / 1.14 / 1.24 / 1.41x (held-out seeds 5-9: 1.19 / 1.41 / 1.30 / 1.40 / 1.20x).

    Before the decorrelating stage and the common-mode split: 1.36 / 1.70 / 1.43 / 1.64 / 1.62x.
    """
    for s in runs:
        assert s["final_error"] <= 1.5 * s["comparison"]["force_reset"]["final_error"]


def test_what_when_near_orthogonal(runs):
    """Measured .17 / .28 / .27 / .27 / .28 (held-out seeds 5-9: .29 / .29 / .21 / .25 / .22); .18-.25
    before the common-mode split, whose fast common "what" mode is a timing signal (docs/results.rst)."""
    for s in runs:
        assert s["what_when_cosine"] <= 0.3


def test_common_mode_split_is_what_brings_the_final_error_within_1_5x():
    """Ablation on seed 1 (the worst seed before): without the split (``what_common`` 0) the
    final error is above 1.5x FORCE-with-reset's (1.55x measured), with it below (1.34x)."""
    ratio = {}
    for common in (0.0, 0.015):
        s = execute("whatwhen", {"what_common": common}, seed=1)
        ratio[common] = s["final_error"] / s["comparison"]["force_reset"]["final_error"]
    assert ratio[0.0] > 1.5 >= ratio[0.015]


def test_one_preset_for_the_trial_clock_and_the_benchmarks():
    """Part 1 with one preset: the ``prediction`` preset at the benchmarks' run settings (noise 0,
    recurrence x0.1; ``tests/sims/test_prediction_claims.py`` checks its three benchmark targets)
    carries elapsed time to 400 ms through its input-spike delay lines, without the frozen noise.
    Measured worst centre .918 / .936 / .937 / .929 / .934, 7.4-8.2 Hz."""
    params = {"reservoir_preset": "prediction", "noise": 0.0, "recurrent_scale": 0.1, "w_input": 90.0,
              "compare": False, "control": False}
    for seed in SEEDS:
        s = execute("whatwhen", params, seed=seed)
        assert max(s["time_decoding_centres_ms"]) == pytest.approx(400.0)
        assert min(s["time_decoding_r2"]) >= 0.90
        assert 1.0 <= s["mean_rate_exc_hz"] <= 30.0
