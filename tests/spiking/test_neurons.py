import numpy as np
import pytest

from spiking.neurons import FIRING_PATTERNS, simulate_neuron


def _reference_spikes(a, b, c, d, current, duration, dt):
    """NumPy integration of the same model and scheme (two Euler half-steps per dt)."""
    v, u = -65.0, b * -65.0
    spikes = []
    h = dt * 1e3  # ms
    for k in range(int(round(duration / dt))):
        for _ in range(2):
            dv = 0.04 * v * v + 5 * v + 140 - u + current
            du = a * (b * v - u)
            v, u = v + 0.5 * h * dv, u + 0.5 * h * du
        if v >= 30:
            spikes.append(k * dt)  # Brian2 stamps a spike with the start of its step
            v, u = c, u + d
    return np.array(spikes)


@pytest.mark.parametrize("pattern", ["regular_spiking", "fast_spiking"])
def test_matches_numpy_reference(pattern):
    a, b, c, d = FIRING_PATTERNS[pattern]
    got = simulate_neuron(pattern, 10.0, 0.3)
    ref = _reference_spikes(a, b, c, d, 10.0, 0.3, 0.25e-3)
    assert abs(got.size - ref.size) <= 1
    # The compiled code uses -ffast-math, so late spikes may drift by a few steps;
    # the first spikes agree to one step and the mean ISI to 1 %.
    np.testing.assert_allclose(got[:8], ref[:8], atol=0.26e-3)
    assert np.mean(np.diff(got)) == pytest.approx(np.mean(np.diff(ref)), rel=0.01)


def test_regular_vs_fast_spiking_patterns():
    """Izhikevich (2003, Fig. 2): RS adapts (ISIs lengthen); FS fires fast without much adaptation."""
    rs = simulate_neuron("regular_spiking", 10.0, 0.5)
    fs = simulate_neuron("fast_spiking", 10.0, 0.5)
    rs_isi, fs_isi = np.diff(rs), np.diff(fs)
    assert rs_isi[0] < 0.7 * rs_isi[-1]  # spike-frequency adaptation
    assert 10 < 1 / rs_isi[-1] < 40  # tonic rate of RS at I = 10, Hz
    assert 1 / fs_isi[-1] > 80  # FS: high-frequency tonic spiking
    assert fs_isi[0] > 0.5 * fs_isi[-1]  # little adaptation
    assert fs.size > 3 * rs.size


def test_no_current_no_spikes():
    assert simulate_neuron("regular_spiking", 0.0, 0.2).size == 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"pattern": "bursty"}, "unknown firing pattern 'bursty'"),
        ({"duration": -1.0}, "duration must be > 0"),
        ({"current": float("nan")}, "current must be finite"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"pattern": "regular_spiking", "current": 10.0, "duration": 0.1} | kwargs
    with pytest.raises(ValueError, match=match):
        simulate_neuron(**args)
