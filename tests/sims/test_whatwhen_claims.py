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


@pytest.mark.xfail(reason="worst centre .940 / .897 / .944 / .933 / .904 (seed 1 at 350 ms)", strict=False)
def test_time_is_decodable_over_the_whole_trial(runs):
    """Part 1: held-out R^2 >= .90 at every centre up to 400 ms after the cue."""
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
    for s in runs:
        tf, force = s["comparison"]["three_factor"], s["comparison"]["force"]
        assert np.sum(tf["recovery_trials"]) < np.sum(force["recovery_trials"])


@pytest.mark.xfail(reason="measured .84 / .96 / .68 / .86 / .74 (seeds 0-4)", strict=False)
def test_amplitude_probability_correlation(runs):
    for s in runs:
        assert s["amplitude_probability_corr"] >= 0.9


@pytest.mark.xfail(
    reason="block 2: -20 ms (seed 1), -25 ms (seed 3); 13 of 15 blocks within 15 ms", strict=False
)
def test_timing_bias_per_block(runs):
    for s in runs:
        assert np.all(np.abs(s["timing_bias_ms_per_block"]) <= 15.0)


@pytest.mark.xfail(reason="anchored recovery 9-40 trials (own-baseline 4-40)", strict=False)
def test_recovery_within_ten_trials(runs):
    for s in runs:
        assert all(s["recovered"]) and max(s["recovery_trials"]) <= 10


@pytest.mark.xfail(reason="final error 1.47-2.37x FORCE-with-reset's (holds on seed 1 only)", strict=False)
def test_final_error_within_1_5x_force_with_reset(runs):
    for s in runs:
        assert s["final_error"] <= 1.5 * s["comparison"]["force_reset"]["final_error"]


@pytest.mark.xfail(reason="cosine .28 / .34 / .30 / .29 / .29 (seeds 0-4)", strict=False)
def test_what_when_near_orthogonal(runs):
    for s in runs:
        assert s["what_when_cosine"] <= 0.3
