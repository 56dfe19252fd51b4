"""The thalamic noise stream: the Numba kernel equals its NumPy reference, and switching
from NumPy to Numba mid-stream does not change a single deviate."""

import numpy as np
import pytest

from spiking import noise
from spiking.noise import NoiseStream, fill_reference


@pytest.mark.parametrize("n", [0, 1, 7, 4096])
def test_kernel_equals_numpy_reference(n):
    from spiking.noise import fill_standard_normal

    a, b = np.random.default_rng(11), np.random.default_rng(11)
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    fill_standard_normal(a, x)
    fill_reference(b, y)
    np.testing.assert_array_equal(x, y)
    # both Generators advanced identically: their next draws agree too
    assert a.standard_normal() == b.standard_normal()


def test_switch_to_numba_keeps_the_stream(monkeypatch):
    """A process that switches engines after 3 refills gives NumPy's stream unchanged."""
    monkeypatch.setattr(noise, "_kernel_loaded", lambda: False)
    monkeypatch.setattr(noise, "NUMBA_AFTER", 10**9)
    ref = NoiseStream(64)
    ref.reset(np.random.default_rng(5))
    expected = ref.take(64 * 6)  # NumPy throughout (threshold not reached)
    monkeypatch.setattr(noise, "NUMBA_AFTER", 64 * 3)
    monkeypatch.setattr(noise, "_drawn", 0)  # the count is per process: start it here
    calls = []
    from spiking import _noise_kernel

    real = _noise_kernel.fill_standard_normal

    def spy(rng, out):
        calls.append(out.size)
        real(rng, out)

    monkeypatch.setattr(_noise_kernel, "fill_standard_normal", spy)
    st = NoiseStream(64)
    st.reset(np.random.default_rng(5))
    got = st.take(64 * 6)
    np.testing.assert_array_equal(got, expected)
    assert calls == [64, 64, 64]  # refills 4-6 by the kernel
    assert noise._drawn == 64 * 6


def test_switch_counts_the_draws_of_every_stream(monkeypatch):
    """Loading Numba is a cost per process: the streams' draws add up towards NUMBA_AFTER."""
    monkeypatch.setattr(noise, "_kernel_loaded", lambda: False)
    monkeypatch.setattr(noise, "NUMBA_AFTER", 64 * 2)
    monkeypatch.setattr(noise, "_drawn", 0)
    used = []
    from spiking import _noise_kernel

    real = _noise_kernel.fill_standard_normal

    def by(name, fill):
        return lambda rng, out: used.append(name) or fill(rng, out)

    monkeypatch.setattr(noise, "fill_reference", by("numpy", noise.fill_reference))
    monkeypatch.setattr(_noise_kernel, "fill_standard_normal", by("numba", real))
    for seed in range(3):  # three streams of one refill each, e.g. three points of a scan
        st = NoiseStream(64)
        st.reset(np.random.default_rng(seed))
        st.take(64)
    assert used == ["numpy", "numpy", "numba"]
