"""The thalamic noise stream: the compiled (Cython) fill and the Numba kernel equal NumPy's
``standard_normal`` bit for bit, and switching between them mid-stream does not change a deviate."""

import numpy as np
import pytest

from spiking import _ziggurat, noise
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


def _compiled_draws(stream, n, steps, python_first=0):
    """``steps`` steps of ``n`` neurons each drawing ``stream``'s next deviate in Cython code."""
    from spiking.engine import configure, import_brian2

    b2 = import_brian2()
    assert configure("cython") == "cython"
    first = stream.take(python_first)  # consumed in Python before the compiled code runs
    G = b2.NeuronGroup(n, "x : 1", namespace={"stream_randn": noise.generator_randn(stream)})
    G.run_regularly("x = stream_randn()", dt=b2.defaultclock.dt)
    mon = b2.StateMonitor(G, "x", record=True)
    b2.Network(G, mon).run(steps * b2.defaultclock.dt)
    return np.concatenate([first, mon.x[:].T.ravel()])


def test_compiled_fill_is_numpys_ziggurat_bit_for_bit():
    """Cython code refills the buffer itself (NumPy's ziggurat on the Generator's bit generator):
    the values, tails included, and the Generator's state afterwards are NumPy's."""
    st = NoiseStream(1000)  # 300 refills in the run below
    st.reset(np.random.default_rng(3))
    got = _compiled_draws(st, 500, 600, python_first=250)  # the first refill in Python
    ref_rng = np.random.default_rng(3)
    ref = ref_rng.standard_normal(got.size)
    np.testing.assert_array_equal(got, ref)
    assert (np.abs(got) > _ziggurat.R).sum() > 20  # the tail branch ran (P = 2.6e-4 per draw)
    ref_rng.standard_normal((-got.size) % 1000)  # the stream draws whole buffers
    assert st.rng.bit_generator.state == ref_rng.bit_generator.state


def test_ziggurat_tables_are_numpys():
    """A plain-Python ziggurat on the tables gives NumPy's draws (without Brian2 or a compiler)."""
    FI, INV_R, KI, R, WI = _ziggurat.FI, _ziggurat.INV_R, _ziggurat.KI, _ziggurat.R, _ziggurat.WI
    rng, ref = np.random.default_rng(8), np.random.default_rng(8)
    bits = rng.bit_generator

    def next_double():  # PCG64's next_double: the top 53 bits of the next 64-bit output
        return (int(bits.random_raw()) >> 11) * 2.0**-53

    out, tails = [], 0
    while len(out) < 40000:
        r = int(bits.random_raw())
        idx, r = r & 0xFF, r >> 8
        rabs = (r >> 1) & ((1 << 52) - 1)
        x = rabs * WI[idx] * (-1.0 if r & 1 else 1.0)
        if rabs < KI[idx]:
            out.append(x)
        elif idx == 0:
            while True:
                xx = -INV_R * np.log1p(-next_double())
                yy = -np.log1p(-next_double())
                if yy + yy > xx * xx:
                    break
            out.append(-(R + xx) if (rabs >> 8) & 1 else R + xx)
            tails += 1
        elif (FI[idx - 1] - FI[idx]) * next_double() + FI[idx] < np.exp(-0.5 * x * x):
            out.append(x)
    np.testing.assert_array_equal(np.array(out), ref.standard_normal(len(out)))
    assert tails > 0 and bits.state == ref.bit_generator.state


def test_reset_needs_a_generator():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        NoiseStream(8).reset(np.random.RandomState(0))
