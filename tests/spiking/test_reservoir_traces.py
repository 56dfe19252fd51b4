"""Running a reservoir on input rates and reading normalised multi-tau traces."""

import numpy as np
import pytest

from spiking.reservoir import preset
from spiking.reservoir_traces import reservoir_traces
from spiking.states import multi_tau_traces


@pytest.fixture(scope="module")
def first():
    rates = np.zeros((300, 4))
    rates[50:100] = 200.0
    cfg = preset("timing", n_neurons=40).replace(n_inputs=4, p_input=0.5, w_input=30.0)
    times = np.arange(0.0, 0.3, 0.01) + 0.01 * (1 - 1e-9)
    X, run, timings, res = reservoir_traces(cfg, rates, 0.3, times, (0.02, 0.1), seed=0, backend="numpy")
    return cfg, rates, times, X, run, timings, res


def test_states_are_the_scaled_traces_of_the_run(first):
    cfg, rates, times, X, run, timings, res = first
    raw = multi_tau_traces(run.spikes.indices, run.spikes.times, 40, times, (0.02, 0.1))
    scale = timings["state_scale_hz"]
    assert scale > 0 and X.shape == (30, 40)
    np.testing.assert_allclose(X * scale, raw)
    assert np.mean(np.sum(X**2, axis=1)) == pytest.approx(1.0)


def test_replay_on_the_same_network_with_a_fixed_scale(first):
    cfg, rates, times, X, run, timings, res = first
    again, run2, t2, res2 = reservoir_traces(
        cfg, rates, 0.3, times, (0.02, 0.1), seed=0, reservoir=res, trial_seed=run.brian_seed,
        state_scale=timings["state_scale_hz"],
    )
    assert res2 is res and t2["state_scale_hz"] == timings["state_scale_hz"]
    np.testing.assert_array_equal(again, X)  # same input spikes, network and noise


def test_bad_arguments_are_rejected(first):
    cfg, rates, times, *_ = first
    with pytest.raises(ValueError, match="taus"):
        reservoir_traces(cfg, rates, 0.3, times, (), seed=0)
    with pytest.raises(ValueError, match="rates"):
        reservoir_traces(cfg, rates[:, 0], 0.3, times, (0.02,), seed=0)
