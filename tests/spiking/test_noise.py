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
    """A stream that switches engines after 3 refills gives NumPy's stream unchanged."""
    ref = NoiseStream(64)
    ref.reset(np.random.default_rng(5))
    monkeypatch.setattr(noise, "_kernel_loaded", lambda: False)
    expected = ref.take(64 * 6)  # NumPy throughout (threshold not reached)
    monkeypatch.setattr(noise, "NUMBA_AFTER", 64 * 3)
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
    assert st.drawn == 64 * 6
