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
    # Layers of any size firing at the same per-neuron rates drive the astrocyte exactly as the
    # reference network (1000 liquid, 784 input neurons) does: the trace does not depend on the sizes.
    steps = np.ones(300)
    rate_l, rate_i = 0.02, 0.05  # spikes per neuron and step
    ref = astrocyte_run(0.15, 1000 * rate_l * steps, 784 * rate_i * steps, kl, ki, 0.15, 100.0, 1.0)
    assert abs(ref[-1] - ref[0]) > 0.05  # the drive moves A: the comparison below is not trivial
    for n_liq, n_in in ((1000, 64), (125, 784), (343, 100)):
        k = astro_spike_weights(0.01, n_liq, n_in)
        tr = astrocyte_run(0.15, n_liq * rate_l * steps, n_in * rate_i * steps, *k, 0.15, 100.0, 1.0)
        np.testing.assert_allclose(tr, ref, rtol=1e-10)
        # the same weights without the size scaling would not reproduce it
        unscaled = astrocyte_run(
            0.15, n_liq * rate_l * steps, n_in * rate_i * steps, 0.01, 0.01, 0.15, 100.0, 1.0
        )
        assert not np.allclose(unscaled, ref, rtol=1e-3)
    with pytest.raises(ValueError, match="n_input"):
        astro_spike_weights(0.01, 1000, 0)
    with pytest.raises(ValueError, match="w_astro"):
        astro_spike_weights(-1.0, 1000, 64)
