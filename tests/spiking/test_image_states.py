"""Liquid and reservoir states of image batches: determinism per seed, windows, bad input."""

import numpy as np
import pytest

from spiking.encoders import current_encode
from spiking.image_states import liquid_counts, reservoir_counts
from spiking.liquid import LiquidConfig, NumbaLiquid


def test_liquid_counts_depend_only_on_model_images_and_seed():
    liq = NumbaLiquid(LiquidConfig(grid_shape=(4, 4, 4), n_input=16, sample_steps=40), seed=0)
    liq.use_initial_weights(1.0)
    P = np.random.default_rng(0).random((6, 16)) * 0.5
    a = liquid_counts(liq, P, eta=0.0, w_astro=0.0, seed=5)
    b = liquid_counts(liq, P, eta=0.0, w_astro=0.0, seed=5)
    c = liquid_counts(liq, P, eta=0.0, w_astro=0.0, seed=6)
    assert a.shape == (6, 64) and a.sum() > 0
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # silent inputs drive no spikes: the counts come from the images
    assert liquid_counts(liq, np.zeros((2, 16)), eta=0.0, w_astro=0.0, seed=5).sum() == 0
    with pytest.raises(ValueError, match="seed"):
        liquid_counts(liq, P, eta=0.0, w_astro=0.0, seed=-1)


def test_reservoir_counts_spikes_mode_windows_and_determinism():
    from spiking.reservoir import IzhikevichReservoir, preset

    cfg = preset("izhikevich2003", n_neurons=50, n_inputs=16, noise_exc=0.0, noise_inh=0.0)
    res = IzhikevichReservoir(cfg, seed=0)
    X = np.zeros((4, 16))
    X[1] = X[3] = 1.0  # images 1 and 3 drive the reservoir, 0 and 2 are blank
    a = reservoir_counts(res, X, sample_s=0.05, settle_s=0.0, mode="spikes", max_rate=200.0, seed=1)
    b = reservoir_counts(res, X, sample_s=0.05, settle_s=0.0, mode="spikes", max_rate=200.0, seed=1)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (4, 50)
    assert a[1].sum() > 0 and a[3].sum() > 0 and a[0].sum() == 0
    with pytest.raises(ValueError, match="n_inputs = 8"):
        reservoir_counts(res, np.zeros((2, 8)), mode="spikes")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        reservoir_counts(res, X * 2, mode="spikes")
    with pytest.raises(ValueError, match="settle_s"):
        reservoir_counts(res, X, sample_s=0.01, settle_s=0.02, mode="spikes")
    _, w_in = current_encode(np.zeros((1, 16)), 50, seed=0)
    with pytest.raises(ValueError, match="w_in"):
        reservoir_counts(res, X, mode="current", w_in=w_in[:, :3])
