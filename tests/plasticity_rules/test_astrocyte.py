"""NALSM astrocyte: kernels vs references, fixed point, size scaling, decay."""

import numpy as np
import pytest

from plasticity_rules.astrocyte import (
    astro_spike_weights,
    astrocyte_run,
    astrocyte_run_reference,
    astrocyte_step,
    astrocyte_step_reference,
)


def test_step_matches_reference_and_equation():
    rng = np.random.default_rng(0)
    for _ in range(20):
        A, nl, ni = rng.random(), rng.integers(0, 50), rng.integers(0, 50)
        kl, ki, b, tau = rng.random() * 0.01, rng.random() * 0.01, 0.15, 100.0
        got = astrocyte_step(A, nl, ni, kl, ki, b, tau)
        assert got == pytest.approx(float(astrocyte_step_reference(A, nl, ni, kl, ki, b, tau)))
        assert got == pytest.approx(A + (kl * nl - ki * ni + b - A) / tau)


@pytest.mark.parametrize("decay", [1.0, 0.99])
def test_run_matches_reference(decay):
    rng = np.random.default_rng(1)
    nl = rng.poisson(20, 300).astype(float)
    ni = rng.poisson(10, 300).astype(float)
    got = astrocyte_run(0.15, nl, ni, 0.01, 0.02, 0.15, 100.0, decay)
    ref = astrocyte_run_reference(0.15, nl, ni, 0.01, 0.02, 0.15, 100.0, decay)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)


def test_fixed_point_and_direction():
    n = 5000
    # constant excess of liquid spikes: A converges to w*(SL - SI) + b > b (depression wins)
    tr = astrocyte_run(0.15, np.full(n, 30.0), np.full(n, 10.0), 0.01, 0.01, 0.15, 100.0, 1.0)
    assert tr[-1] == pytest.approx(0.01 * 20 + 0.15, rel=1e-6)
    # fewer liquid than input spikes: A drops below eta (potentiation wins)
    tr = astrocyte_run(0.15, np.full(n, 5.0), np.full(n, 10.0), 0.01, 0.01, 0.15, 100.0, 1.0)
    assert tr[-1] < 0.15
    # decay 0.99 drives everything to 0
    tr = astrocyte_run(0.15, np.full(n, 30.0), np.full(n, 10.0), 0.01, 0.01, 0.15, 100.0, 0.99)
    assert abs(tr[-1]) < 1e-6


def test_scaling_with_sizes():
    kl, ki = astro_spike_weights(0.01, 1000, 784)
    assert kl == pytest.approx(0.01) and ki == pytest.approx(0.01)  # reference sizes: the paper's rule
    kl, ki = astro_spike_weights(0.01, 1000, 64)
    assert kl == pytest.approx(0.01) and ki == pytest.approx(0.01 * 784 / 64)
    # equal mean rates in both layers give zero net drive, whatever the sizes
    assert kl * 1000 * 0.02 - ki * 64 * 0.02 == pytest.approx(0.01 * (1000 - 784) * 0.02)
    with pytest.raises(ValueError, match="n_input"):
        astro_spike_weights(0.01, 1000, 0)
    with pytest.raises(ValueError, match="w_astro"):
        astro_spike_weights(-1.0, 1000, 64)
