import numpy as np
import pytest

from spiking.encoders import (
    SpikeTrains,
    concatenate_trains,
    current_encode,
    delay_taps,
    encode,
    latency_encode,
    poisson_encode,
)


def test_poisson_rates_and_seed():
    rates = np.array([0.0, 10.0, 100.0])
    tr = poisson_encode(rates, 20.0, dt=1e-3, seed=1)
    counts = np.bincount(tr.indices, minlength=3) / 20.0
    assert counts[0] == 0
    np.testing.assert_allclose(counts[1:], [10, 100], rtol=0.15)
    again = poisson_encode(rates, 20.0, dt=1e-3, seed=1)
    np.testing.assert_array_equal(tr.times, again.times)
    assert np.all(np.diff(tr.times) >= 0)
    other = poisson_encode(rates, 20.0, dt=1e-3, seed=2)
    assert not np.array_equal(tr.indices, other.indices)


def test_poisson_time_varying():
    rates = np.zeros((100, 2))
    rates[50:, 1] = 1000.0  # certain spike every step in the second half
    tr = poisson_encode(rates, 0.1, dt=1e-3, seed=0)
    assert np.all(tr.indices == 1) and tr.n_spikes == 50 and tr.times.min() == pytest.approx(0.05)


def test_latency_order():
    tr = latency_encode(np.array([0.0, 1.0, 0.5, 0.25]), 0.1)
    assert list(tr.indices) == [1, 2, 3]  # strongest first; zero is silent
    np.testing.assert_allclose(tr.times, [0.0, 0.05, 0.075])
    jit = latency_encode(np.array([0.5, 0.6]), 0.1, jitter=1e-3, seed=3)
    assert jit.n_spikes == 2 and np.all((jit.times >= 0) & (jit.times <= 0.1))


def test_current_encode_shapes():
    series = np.sin(np.linspace(0, 6, 200))
    cur, w = current_encode(series, 50, gain=2.0, p_connect=0.5, seed=0)
    assert cur.shape == (200, 50) and w.shape == (50, 1)
    np.testing.assert_allclose(cur, 2.0 * series[:, None] @ w.T)
    assert 0.3 < np.mean(w != 0) < 0.7


def test_concatenate():
    a = SpikeTrains(np.array([0]), np.array([0.01]), 2, 0.1)
    b = SpikeTrains(np.array([1]), np.array([0.02]), 2, 0.1)
    cat = concatenate_trains([a, b], 0.1)
    np.testing.assert_allclose(cat.times, [0.01, 0.12])
    assert cat.duration == pytest.approx(0.2)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: poisson_encode([1.0, np.nan], 1.0), "rates contains 1 NaN"),
        (lambda: poisson_encode([-1.0], 1.0), "rates must be >= 0"),
        (lambda: poisson_encode([1.0], 0.0), "duration must be > 0"),
        (lambda: poisson_encode(np.ones((5, 2)), 1.0), "expected duration/dt = 1000"),
        (lambda: latency_encode([1.5], 0.1), r"values must lie in \[0, 1\]"),
        (
            lambda: current_encode(np.ones(5), 10, p_connect=2.0),
            r"p_connect must be a probability in \[0, 1\]",
        ),
        (lambda: current_encode(np.ones((2, 2, 2)), 10), "series must have 1 or 2 dimension"),
        (lambda: encode("rank", [1.0], 1.0), "unknown encoder 'rank'"),
        (
            lambda: concatenate_trains([SpikeTrains(np.array([0]), np.array([0.5]), 1, 1.0)], 0.2),
            "at or after",
        ),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_delay_taps_ranges_norms_and_seed():
    d, g = delay_taps(300, 0.05, 1e-3, 3, seed=0)
    assert d.shape == g.shape == (300, 3)
    steps = d / 1e-3
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)
    assert steps.min() == 0 and steps.max() == 50  # every step 0..50 reachable
    np.testing.assert_allclose(np.linalg.norm(g, axis=1), 1.0)
    assert np.all(g[:, 0] > 0) and np.all(np.abs(g) <= 1)
    np.testing.assert_array_equal(d, delay_taps(300, 0.05, 1e-3, 3, seed=0)[0])
    one_d, one_g = delay_taps(10, 0.0, 1e-3, seed=1)
    np.testing.assert_array_equal(one_d, 0.0)
    np.testing.assert_array_equal(one_g, 1.0)
    with pytest.raises(ValueError, match="max_delay"):
        delay_taps(10, -0.1, 1e-3)
    with pytest.raises(ValueError, match="n_taps"):
        delay_taps(10, 0.1, 1e-3, 0)
