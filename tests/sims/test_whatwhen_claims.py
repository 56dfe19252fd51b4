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
    """Measured .956 / .965 / .942 / .933 / .936 (balanced order, annealed eta_what; i.i.d.: .67-.91)."""
    for s in runs:
        assert s["amplitude_probability_corr"] >= 0.9


def test_timing_bias_per_block(runs):
    """Measured -15 to 0 ms in every block (without the centred "when" readout -20 ms in 2 blocks)."""
    for s in runs:
        assert np.all(np.abs(s["timing_bias_ms_per_block"]) <= 15.0)


@pytest.mark.xfail(
    reason="anchored recovery 11-40 trials, none of 10 switches within 10 (own-baseline 9-35, 1 within 10); "
    "with --decorrelate 0.001 --eta-when 0.3: 13-40, none within 10 (the 'what' half is the bottleneck)",
    strict=False,
)
def test_recovery_within_ten_trials(runs):
    for s in runs:
        assert all(s["recovered"]) and max(s["recovery_trials"]) <= 10


@pytest.mark.xfail(
    reason="final error 1.36 / 1.70 / 1.43 / 1.64 / 1.62x FORCE-with-reset's (holds on seeds 0 and 2); "
    "with --decorrelate 0.001 --eta-when 0.3: 1.29 / 1.55 / 1.37 / 1.48 / 1.64x (seeds 0, 2, 3)",
    strict=False,
)
def test_final_error_within_1_5x_force_with_reset(runs):
    for s in runs:
        assert s["final_error"] <= 1.5 * s["comparison"]["force_reset"]["final_error"]


def test_what_when_near_orthogonal(runs):
    """Measured .18 / .25 / .20 / .23 / .21 (eta_what .005, uncentred "when": .26-.32)."""
    for s in runs:
        assert s["what_when_cosine"] <= 0.3


@pytest.fixture(scope="module")
def decorrelated_runs():
    return [execute("whatwhen", {"decorrelate": 0.001, "eta_when": 0.3}, seed=s) for s in SEEDS]


def test_decorrelated_when_keeps_the_claims_that_hold(decorrelated_runs):
    """Ablation ``--decorrelate 0.001 --eta-when 0.3``: bias within 5 ms (measured), r unchanged,
    cosine .09-.22, error after the latency switch below the defaults' (.23-.29 against .37-.45)."""
    for s in decorrelated_runs:
        assert np.all(np.abs(s["timing_bias_ms_per_block"]) <= 15.0)
        assert s["amplitude_probability_corr"] >= 0.9
        assert s["what_when_cosine"] <= 0.3
        assert s["final_error"] < 1.0
        assert s["mean_error_10_trials_after_switch"][0] < 0.35
        tf, force = s["comparison"]["three_factor"], s["comparison"]["force"]
        assert np.sum(tf["recovery_trials"]) < np.sum(force["recovery_trials"])
