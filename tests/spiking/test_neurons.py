import numpy as np
import pytest

from spiking.neurons import FIRING_PATTERNS, simulate_neuron


def _reference_spikes(a, b, c, d, current, duration, dt):
    """NumPy transliteration of the paper's step: v in two half-steps with u held, then u."""
    v, u = -65.0, b * -65.0
    spikes = []
    h = dt * 1e3  # ms
    for k in range(int(round(duration / dt))):
        for _ in range(2):  # summed in the order of Brian2's generated code
            v = v + 0.5 * h * ((140.0 + ((current + 0.04 * v**2) + 5.0 * v)) - u)
        u = u + h * (a * (b * v - u))
        if v >= 30:
            spikes.append(k * dt)  # Brian2 stamps a spike with the start of its step
            v, u = c, u + d
    return np.array(spikes)


@pytest.mark.parametrize("pattern", ["regular_spiking", "fast_spiking"])
def test_matches_numpy_reference(pattern):
    """Same scheme, same operations: the spike times agree exactly."""
    a, b, c, d = FIRING_PATTERNS[pattern]
    got = simulate_neuron(pattern, 10.0, 0.3)
    ref = _reference_spikes(a, b, c, d, 10.0, 0.3, 0.25e-3)
    assert ref.size > 3
    np.testing.assert_array_equal(got, ref)


def test_u_is_updated_with_the_new_v():
    """The paper's order: a joint half-step scheme for (v, u) fires at other times."""
    a, b, c, d = FIRING_PATTERNS["regular_spiking"]
    got = simulate_neuron("regular_spiking", 10.0, 0.3, dt=1e-3)
    v, u, joint = -65.0, b * -65.0, []
    for k in range(300):
        for _ in range(2):
            v, u = v + 0.5 * (0.04 * v * v + 5 * v + 140 - u + 10.0), u + 0.5 * a * (b * v - u)
        if v >= 30:
            joint.append(k * 1e-3)
            v, u = c, u + d
    np.testing.assert_array_equal(got, _reference_spikes(a, b, c, d, 10.0, 0.3, 1e-3))
    assert not np.array_equal(got, np.array(joint))


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
