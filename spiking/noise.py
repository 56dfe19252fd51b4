"""Thalamic noise for Brian2 code drawn from a :class:`numpy.random.Generator`.

Brian2's ``randn()`` draws from NumPy's legacy global ``RandomState``
(polar Box-Muller, about 19 ns per draw here, and a stream no other engine
reproduces). :func:`generator_randn` is a Brian2 function returning the next
value of a :class:`NoiseStream`: standard normal deviates drawn in blocks from a
:class:`numpy.random.Generator` (NumPy's ziggurat method) into a buffer that the
compiled code reads one value per call. The blocks are drawn by
``Generator.standard_normal(out=...)`` (about 20 ns per draw here: NumPy calls the
bit generator through a function pointer per draw) until the process has drawn
:data:`NUMBA_AFTER` deviates (all streams together), then by a Numba kernel
(``fill_standard_normal`` in ``spiking._noise_kernel``, about 6.5 ns per draw) that gives bit-identical
values. Importing Numba and loading the kernel from its cache costs 0.5-0.9 s per
process here, more than NumPy spends on the 10^7 draws of a 10 s run at 1000
neurons, so short runs never load it and long ones switch once it pays off. The
stream is consumed in the order the code asks for it (neuron ``0 .. n-1`` within a step,
step after step), which is exactly the order of a loop like

.. code-block:: python

    for step in range(n_steps):
        for k in range(n):
            noise[step, k] = rng.standard_normal()

in NumPy or in Numba (whose ``Generator`` gives bit-identical draws), so a
reference simulation seeded with the same integer sees the same noise.

Only runtime targets (Cython, NumPy) can call back into Python to refill the
buffer; ``cpp_standalone`` keeps Brian2's own ``randn()``.
"""

from __future__ import annotations

import itertools
import sys
import weakref

import numpy as np

__all__ = ["NoiseStream", "generator_randn", "fill_reference", "BUFFER_SIZE", "NUMBA_AFTER"]
# also ``fill_standard_normal`` (the Numba kernel), imported on first access

#: Deviates drawn per refill: 512 KiB of doubles, refilled in ~0.3 ms, so the
#: Python call per refill is negligible and the buffer stays in cache.
BUFFER_SIZE = 1 << 16

#: Deviates a process draws with NumPy before it switches to the Numba kernel: 2^24
#: (1.7e7, ~0.35 s of NumPy draws here). Loading Numba (0.5-0.9 s) is repaid by the
#: ~14 ns saved per draw after 3.5-6e7 draws; switching at half that bounds what a
#: process loses either way (the README's 10 s run at 1000 neurons, 1e7 draws, never
#: loads Numba) and lets a long-lived process (many trials, a benchmark's repeated
#: runs, 10k neurons) reach the kernel's speed within its first 1.7e7 draws. At once
#: when the kernel is already loaded.
NUMBA_AFTER = 1 << 24


def fill_reference(rng: np.random.Generator, out: np.ndarray) -> None:
    """NumPy reference of the Numba kernel ``fill_standard_normal``: ``rng.standard_normal(out=out)``.

    ``out`` (1-D float64) receives :math:`\\xi_k \\sim \\mathcal{N}(0, 1)`, drawn by NumPy's
    ziggurat method (Marsaglia & Tsang 2000) from ``rng``'s bit generator, which advances.
    """
    rng.standard_normal(out=out)


def __getattr__(name):
    # The kernel's module imports Numba (0.3 s); only a long stream or a caller needs it.
    if name == "fill_standard_normal":
        from ._noise_kernel import fill_standard_normal

        return fill_standard_normal
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _kernel_loaded() -> bool:
    """Whether the Numba kernel is already compiled or loaded in this process."""
    mod = sys.modules.get(f"{__package__}._noise_kernel")
    return mod is not None and bool(mod.fill_standard_normal.signatures)


#: Deviates drawn by every stream of this process: loading Numba is a cost per process,
#: so a scan's or a session's many short runs reach the kernel as one long run does.
_drawn = 0


def _fill(rng: np.random.Generator, out: np.ndarray) -> None:
    """Fill ``out`` from ``rng`` with NumPy or Numba (identical values), by cost."""
    global _drawn
    use_kernel = _drawn >= NUMBA_AFTER or _kernel_loaded()
    _drawn += out.size
    if use_kernel:
        from ._noise_kernel import fill_standard_normal

        fill_standard_normal(rng, out)
    else:
        fill_reference(rng, out)


_streams: weakref.WeakValueDictionary[int, NoiseStream] = weakref.WeakValueDictionary()
_ids = itertools.count(1)


class NoiseStream:
    """A buffered stream of standard normal deviates from one Generator.

    ``buffer`` and ``state`` (``[next index, stream id, buffer size]``) are handed to the
    compiled code through the Brian2 function's namespace; the code calls
    :func:`refill` with the stream id when it has used the whole buffer.

    Parameters
    ----------
    size : int
        Buffer length (number of deviates drawn per refill).
    frozen : bool
        Frozen noise: the buffer is drawn once per :meth:`reset` and then replayed
        cyclically, so the stream repeats with period ``size`` deviates,
        :math:`\\xi_{k + \\mathrm{size}} = \\xi_k`. With ``size = n_neurons * steps``
        every window of ``steps`` steps (e.g. every trial) sees the same noise realisation
        ("frozen noise", Mainen & Sejnowski 1995).
    """

    def __init__(self, size: int = BUFFER_SIZE, *, frozen: bool = False):
        self.buffer = np.zeros(int(size), dtype=np.float64)
        self.frozen = bool(frozen)
        self.state = np.zeros(3, dtype=np.int64)
        self.state[1] = next(_ids)
        self.state[2] = self.buffer.size
        self.state[0] = self.buffer.size  # empty: the first draw refills
        self.rng = np.random.default_rng(0)
        _streams[int(self.state[1])] = self

    def reset(self, rng: np.random.Generator) -> None:
        """Start drawing from ``rng``; the next draw is ``rng``'s first deviate."""
        self.rng = rng
        self.state[0] = self.buffer.size
        if self.frozen:
            self._draw()

    def _draw(self) -> None:
        _fill(self.rng, self.buffer)

    def refill(self) -> None:
        if not self.frozen:  # frozen: replay the same realisation
            self._draw()
        self.state[0] = 0

    def take(self, n: int) -> np.ndarray:
        """The next ``n`` deviates of the stream (used by Brian2's NumPy target)."""
        out = np.empty(n)
        filled = 0
        while filled < n:
            if self.state[0] >= self.buffer.size:
                self.refill()
            k = int(self.state[0])
            m = min(n - filled, self.buffer.size - k)
            out[filled : filled + m] = self.buffer[k : k + m]
            self.state[0] = k + m
            filled += m
        return out


def refill(stream_id: int) -> None:
    """Refill the buffer of stream ``stream_id`` (called from compiled Cython code)."""
    _streams[int(stream_id)].refill()


# Cython implementation: one indexed load per draw; the Python call happens once
# per BUFFER_SIZE draws. ``_namespace_noise_buffer`` etc. are Brian2's names for the
# namespace arrays ``_noise_buffer`` and ``_noise_state`` given below. The buffer size
# is read from ``state[2]``: Brian2's ``_namespace_num...`` length is a Python global,
# and comparing with it would cost more than the draw itself.
_CYTHON_CODE = """
cdef double _generator_randn(int _idx):
    cdef int64_t _k = _namespace_noise_state[0]
    if _k >= _namespace_noise_state[2]:
        from spiking.noise import refill as _refill_noise
        _refill_noise(_namespace_noise_state[1])
        _k = 0
    _namespace_noise_state[0] = _k + 1
    return _namespace_noise_buffer[_k]
"""


def generator_randn(stream: NoiseStream):
    """A Brian2 ``Function`` (use as ``name()`` in code) returning ``stream``'s next deviate.

    Parameters
    ----------
    stream : NoiseStream

    Returns
    -------
    brian2.Function
        Implemented for the Cython and NumPy runtime targets.
    """
    import brian2
    from brian2.codegen.generators.cython_generator import CythonCodeGenerator
    from brian2.codegen.generators.numpy_generator import NumpyCodeGenerator

    def _numpy_impl(vectorisation_idx):
        try:
            n = len(vectorisation_idx)
        except TypeError:  # scalar context
            return float(stream.take(1)[0])
        return stream.take(n)

    func = brian2.Function(
        pyfunc=_numpy_impl, arg_units=[], return_unit=1, stateless=False, auto_vectorise=True
    )
    func.implementations.add_implementation(NumpyCodeGenerator, code=_numpy_impl)
    func.implementations.add_implementation(
        CythonCodeGenerator,
        code=_CYTHON_CODE,
        name="_generator_randn",
        namespace={"_noise_buffer": stream.buffer, "_noise_state": stream.state},
    )
    return func
