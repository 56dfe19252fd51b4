"""Prediction benchmarks: generators, memory capacity and NRMSE."""

import numpy as np
import pytest

from plasticity_rules.readouts import RidgeReadout
from tasks import prediction as tp


def test_mackey_glass_is_chaotic_attractor_in_known_range():
    x = tp.mackey_glass(3000, seed=0)
    assert x.shape == (3000,)
    assert 0.2 < x.min() < 0.6 and 1.1 < x.max() < 1.5  # the tau=17 attractor's range
    # quasi-period ~50 time units: strong autocorrelation at short lags, decorrelated later
    xc = x - x.mean()
    ac = np.array([np.dot(xc[:-k], xc[k:]) for k in (1, 12)]) / np.dot(xc, xc)
    assert ac[0] > 0.95 and ac[1] < 0.5
    np.testing.assert_array_equal(tp.mackey_glass(100, seed=3), tp.mackey_glass(100, seed=3))
    # tau < 4.53 gives a stable fixed point (no chaos): the series settles
    fixed = tp.mackey_glass(300, tau=2.0, seed=0, washout=1500)
    assert np.ptp(fixed[-100:]) < 1e-3


def test_mackey_glass_step_independence():
    a = tp.mackey_glass(200, h=0.1, seed=0, washout=100)
    b = tp.mackey_glass(200, h=0.05, seed=0, washout=100)
    # same history draw length differs, so compare statistics, not samples
    assert abs(a.mean() - b.mean()) < 0.1


def test_narma10_recurrence():
    u, y = tp.narma10(500, washout=0, seed=1)
    assert u.min() >= 0 and u.max() <= 0.5
    # check the defining recurrence on the returned samples (y[t] is y(t+1))
    for t in range(20, 60):
        pred = 0.3 * y[t - 1] + 0.05 * y[t - 1] * y[t - 10 : t].sum() + 1.5 * u[t - 9] * u[t] + 0.1
        assert y[t] == pytest.approx(pred)


def test_memory_capacity_of_perfect_delay_line():
    u = tp.memory_capacity_input(2000, seed=2)
    assert np.abs(u).max() <= 0.8
    D = tp.delayed_targets(u, 10)
    np.testing.assert_array_equal(D[5:, 4], u[:-5])
    # a state that holds the last 5 inputs remembers exactly 5 delays
    X = np.stack([np.concatenate([np.zeros(k), u[:-k]]) for k in range(1, 6)], axis=1)
    r = RidgeReadout(alpha=1e-9).fit(X[100:1500], D[100:1500])
    mc, mck = tp.memory_capacity(D[1500:], r.predict(X[1500:]))
    assert mc == pytest.approx(5.0, abs=0.05)
    np.testing.assert_allclose(mck[:5], 1.0, atol=1e-6)
    assert np.all(mck[5:] < 0.02)


def test_nrmse():
    y = np.sin(np.linspace(0, 10, 200))
    assert tp.nrmse(y, y) == 0.0
    assert tp.nrmse(y, np.full_like(y, y.mean())) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="must not be constant"):
        tp.nrmse(np.ones(5), np.ones(5))
    with pytest.raises(ValueError, match="y_pred must have shape"):
        tp.nrmse(y, y[:-1])
    with pytest.raises(ValueError, match="y_pred contains 1 NaN"):
        tp.nrmse(y, np.where(np.arange(200) == 3, np.nan, y))


def test_bad_arguments():
    with pytest.raises(ValueError, match="multiples of h"):
        tp.mackey_glass(10, tau=17.05)
    with pytest.raises(ValueError, match="max_delay"):
        tp.delayed_targets(np.ones(5), 5)
    with pytest.raises(ValueError, match="horizon"):
        tp.horizon_targets(np.ones(5), 5)
    np.testing.assert_array_equal(tp.horizon_targets(np.arange(5.0), 2)[:3], [2, 3, 4])
