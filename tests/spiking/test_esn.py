"""Echo state network baseline."""

import numpy as np
import pytest

from plasticity_rules.readouts import RidgeReadout
from spiking.esn import EchoStateNetwork, ESNConfig
from tasks import prediction as tp


def test_spectral_radius_and_echo_state_property():
    esn = EchoStateNetwork(ESNConfig(n_units=80, spectral_radius=0.8), seed=0)
    assert np.max(np.abs(np.linalg.eigvals(esn.W))) == pytest.approx(0.8)
    u = np.random.default_rng(1).uniform(-1, 1, 300)
    a = esn.run(u, x0=np.ones(80))
    b = esn.run(u, x0=-np.ones(80))
    assert np.abs(a[0] - b[0]).max() > 0.1
    assert np.abs(a[-1] - b[-1]).max() < 1e-6  # initial state washed out
    np.testing.assert_array_equal(
        esn.run(u), EchoStateNetwork(ESNConfig(n_units=80, spectral_radius=0.8), seed=0).run(u)
    )


def test_esn_predicts_mackey_glass_and_free_runs():
    x = tp.mackey_glass(1700, seed=0)
    u = (x - x.mean()) / x.std() * 0.5
    esn = EchoStateNetwork(ESNConfig(n_units=200), seed=0)
    X = esn.run(u)
    r = RidgeReadout(alpha=1e-6).fit(X[100:1200], u[101:1201])
    assert tp.nrmse(u[1201:], r.predict(X[1200:-1])) < 0.05
    gen = esn.run_closed_loop(r, X[1199], r.predict(X[1199:1200]), 20)
    assert gen.shape == (20, 1)
    assert tp.nrmse(u[1200:1220], gen[:, 0]) < 0.3


def test_memory_capacity_is_bounded_by_size():
    u = tp.memory_capacity_input(2200, seed=0)
    D = tp.delayed_targets(u, 40)
    esn = EchoStateNetwork(ESNConfig(n_units=30, spectral_radius=0.9, input_scale=0.1), seed=0)
    X = esn.run(u)
    r = RidgeReadout(alpha=1e-8).fit(X[100:1700], D[100:1700])
    mc, _ = tp.memory_capacity(D[1700:], r.predict(X[1700:]))
    assert 5 < mc <= 30 + 1  # Jaeger (2001): MC <= N (plus estimation noise)


def test_bad_config():
    with pytest.raises(ValueError, match="leak must be in \\(0, 1\\]"):
        ESNConfig(leak=0.0)
    with pytest.raises(ValueError, match="n_units must be >= 1"):
        ESNConfig(n_units=0)
    with pytest.raises(ValueError, match="u must have 2 input channel"):
        EchoStateNetwork(ESNConfig(n_units=5), n_inputs=2, seed=0).run(np.ones((4, 1)))
