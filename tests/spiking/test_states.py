import numpy as np
import pytest

from spiking.states import (
    bin_counts,
    filtered_traces,
    filtered_traces_reference,
    window_counts,
    window_counts_reference,
)


def _random_spikes(rng, n_units=17, n_spikes=500, duration=1.0):
    times = np.sort(rng.random(n_spikes) * duration)
    return rng.integers(0, n_units, n_spikes), times, n_units


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_window_counts_matches_reference(seed):
    rng = np.random.default_rng(seed)
    idx, times, n = _random_spikes(rng)
    starts = np.sort(rng.random(30) * 0.9)
    stops = starts + rng.random(30) * 0.2 + 1e-3
    np.testing.assert_array_equal(
        window_counts(idx, times, n, starts, stops), window_counts_reference(idx, times, n, starts, stops)
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_filtered_traces_matches_reference(seed):
    rng = np.random.default_rng(seed)
    idx, times, n = _random_spikes(rng)
    samples = np.sort(rng.random(40))
    samples[5] = times[10]  # a spike exactly at a sample time counts
    samples.sort()
    np.testing.assert_allclose(
        filtered_traces(idx, times, n, samples, 0.02),
        filtered_traces_reference(idx, times, n, samples, 0.02),
        rtol=1e-10,
        atol=1e-12,
    )


def test_edge_cases():
    empty_i, empty_t = np.array([], int), np.array([])
    assert filtered_traces(empty_i, empty_t, 3, [0.1, 0.2], 0.01).sum() == 0
    assert window_counts(empty_i, empty_t, 3, [0.0], [1.0]).shape == (1, 3)
    # one spike: trace is exp(-dt/tau) afterwards, 0 before
    tr = filtered_traces([1], [0.1], 2, [0.05, 0.1, 0.12], 0.02)
    np.testing.assert_allclose(tr[:, 1], [0.0, 1.0, np.exp(-1.0)])
    # unsorted spikes are sorted, not mis-counted
    counts = bin_counts([0, 1, 0], [0.5, 0.1, 0.05], 2, 0.25, 1.0)
    np.testing.assert_array_equal(counts, [[1, 1], [0, 0], [1, 0], [0, 0]])


def test_bin_counts_total():
    rng = np.random.default_rng(3)
    idx, times, n = _random_spikes(rng)
    counts = bin_counts(idx, times, n, 0.01, 1.0)
    assert counts.shape == (100, n)
    assert counts.sum() == idx.size


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: filtered_traces([0], [0.1], 1, [0.2], 0.0), "tau must be > 0"),
        (lambda: filtered_traces([3], [0.1], 2, [0.2], 0.1), r"indices must lie in \[0, n_units=2\)"),
        (lambda: filtered_traces([0], [np.nan], 1, [0.2], 0.1), "times contains 1 NaN"),
        (lambda: filtered_traces([0, 1], [0.1], 2, [0.2], 0.1), "same length"),
        (lambda: filtered_traces([0], [0.1], 1, [0.3, 0.2], 0.1), "non-decreasing"),
        (lambda: window_counts([0], [0.1], 1, [0.2], [0.1]), "stops must be greater"),
        (lambda: bin_counts([0], [0.1], 1, -0.1, 1.0), "bin_width must be > 0"),
        (lambda: bin_counts([0], [0.1], 0, 0.1, 1.0), "n_units must be >= 1"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_neuron_state_features_standardise_on_fit_rows_only():
    from spiking.states import neuron_state_features

    rng = np.random.default_rng(0)
    v = rng.normal(-65.0, 5.0, (50, 4))
    v[3, 1] = 35.0  # a spike's overshoot: clipped at the 30 mV cut-off
    u = rng.normal(-13.0, 2.0, (50, 4))
    u[:, 2] = 7.0  # constant: centred, not divided by zero
    z = neuron_state_features({"v": v, "u": u}, slice(0, 30))
    assert z.shape == (50, 8)
    np.testing.assert_allclose(z[:30].mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z[:30, [0, 1, 2, 3, 4, 5, 7]].std(0), 1.0)
    np.testing.assert_array_equal(z[:, 6], 0.0)
    clipped = np.minimum(v[:, 1], 30.0)
    np.testing.assert_allclose(z[:, 1], (clipped - clipped[:30].mean()) / clipped[:30].std())
    # held-out rows do not enter the statistics
    v2 = v.copy()
    v2[30:] += 100.0
    z2 = neuron_state_features({"v": v2, "u": u}, slice(0, 30))
    np.testing.assert_allclose(z2[:30], z[:30])


def test_neuron_state_features_bad_input():
    from spiking.states import neuron_state_features

    with pytest.raises(ValueError, match="at least one variable"):
        neuron_state_features({}, slice(0, 3))
    with pytest.raises(ValueError, match="rows, expected"):
        neuron_state_features({"v": np.zeros((5, 2)), "u": np.zeros((4, 2))}, slice(0, 3))
    with pytest.raises(ValueError, match="at least 2 rows"):
        neuron_state_features({"v": np.zeros((5, 2))}, slice(0, 1))
