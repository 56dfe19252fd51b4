"""Thalamic noise for Brian2 code drawn from a :class:`numpy.random.Generator`.

Brian2's ``randn()`` draws from NumPy's legacy global ``RandomState``
(polar Box-Muller, about 19 ns per draw here, and a stream no other engine
reproduces). :func:`generator_randn` is a Brian2 function returning the next
value of a :class:`NoiseStream`: standard normal deviates drawn in blocks from a
:class:`numpy.random.Generator` into a buffer that the compiled code reads one value
per call.

In Cython code the blocks are drawn in the compiled code itself: NumPy's ziggurat
(Marsaglia & Tsang 2000; ``random_standard_normal`` in NumPy's
``distributions.c``, with NumPy's tables, :mod:`spiking._ziggurat`) run on the
Generator's own bit generator through the function pointers of its documented
``BitGenerator.ctypes`` interface, about 2.8 ns per draw here, with values and the
Generator's state afterwards bit for bit those of ``rng.standard_normal`` (tested).
No Python call per block and nothing to load: no Numba in the simulation loop.

Elsewhere (Brian2's NumPy target, :meth:`NoiseStream.take`, and the realisation of a
frozen stream) blocks are drawn in Python by ``Generator.standard_normal(out=...)``
(about 9 ns per draw: NumPy calls the bit generator and the sampler through function
pointers per draw) until the process has drawn :data:`NUMBA_AFTER` deviates that way,
then by a Numba kernel (``fill_standard_normal`` in ``spiking._noise_kernel``, about
2.8 ns) with identical values; importing Numba and loading the kernel costs about
0.3 s per process, so short runs never load it.

The stream is consumed in the order the code asks for it (neuron ``0 .. n-1`` within a
step, step after step), which is exactly the order of a loop like

.. code-block:: python

    for step in range(n_steps):
        for k in range(n):
            noise[step, k] = rng.standard_normal()

in NumPy or in Numba (whose ``Generator`` gives bit-identical draws), so a
reference simulation seeded with the same integer sees the same noise.

Only runtime targets (Cython, NumPy) can read a Generator; ``cpp_standalone`` keeps
Brian2's own ``randn()``.
"""

from __future__ import annotations

import itertools
import sys
import weakref

import numpy as np

from . import _ziggurat

__all__ = ["NoiseStream", "generator_randn", "fill_reference", "BUFFER_SIZE", "NUMBA_AFTER"]
# also ``fill_standard_normal`` (the Numba kernel), imported on first access

#: Deviates drawn per refill: 512 KiB of doubles, refilled in ~0.2 ms (compiled) or ~0.6 ms
#: (Python), so a Python call per refill is negligible and the buffer stays in cache.
BUFFER_SIZE = 1 << 16

#: Deviates a process draws with NumPy in Python (Brian2's NumPy target, frozen streams;
#: Cython code draws its own, see the module docstring) before it switches to the Numba
#: kernel: 2^24 (1.7e7, ~0.15 s of NumPy draws here). Loading Numba (~0.3 s) is repaid by
#: the ~6 ns saved per draw after ~5e7 draws; switching at a third of that bounds what a
#: process loses either way. At once when the kernel is already loaded.
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

    ``buffer`` and ``state`` (int64 ``[next index, stream id, buffer size, bit-generator
    state address, next_uint64 address, next_double address]``) are handed to the compiled
    code through the Brian2 function's namespace. When it has used the whole buffer, the
    code refills it from the Generator's bit generator itself, or, for a frozen stream
    (addresses 0), calls :func:`refill` with the stream id. The compiled code does not
    take the Generator's lock: a stream's Generator must not be drawn from by another
    thread while a network runs.

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
        self.state = np.zeros(6, dtype=np.int64)
        self.state[1] = next(_ids)
        self.state[2] = self.buffer.size
        self.state[0] = self.buffer.size  # empty: the first draw refills
        # Until reset(): default_rng(0), refilled through refill() (addresses 0). Not reset()
        # here: a frozen stream would draw a realisation that the first reset() replaces.
        self.rng = np.random.default_rng(0)
        _streams[int(self.state[1])] = self

    def reset(self, rng: np.random.Generator) -> None:
        """Start drawing from ``rng``; the next draw is ``rng``'s first deviate."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        self.rng = rng  # also keeps the bit generator whose addresses the compiled code holds
        self.state[0] = self.buffer.size
        if self.frozen:
            self.state[3:] = 0  # the compiled code calls refill(), which replays the buffer
            self._draw()
        else:
            self.state[3:] = _bit_generator_addresses(rng)

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


def _bit_generator_addresses(rng: np.random.Generator) -> tuple[int, int, int]:
    """Addresses of ``rng``'s bit-generator state and its ``next_uint64``/``next_double``.

    From NumPy's documented ``BitGenerator.ctypes`` interface (the one Numba and cffi
    users call); valid while the bit generator lives.
    """
    import ctypes

    iface = rng.bit_generator.ctypes
    return (
        int(iface.state_address),
        int(ctypes.cast(iface.next_uint64, ctypes.c_void_p).value),
        int(ctypes.cast(iface.next_double, ctypes.c_void_p).value),
    )


#: The ziggurat's tail start and its inverse, read by the compiled fill.
_ZIG_CONST = np.array([_ziggurat.R, _ziggurat.INV_R], dtype=np.float64)


def refill(stream_id: int) -> None:
    """Refill the buffer of stream ``stream_id`` (called from compiled Cython code)."""
    _streams[int(stream_id)].refill()


# Cython implementation: one indexed load per draw. When the buffer is used up, a stream
# with a Generator (``_noise_state[3] != 0``) is refilled here, in C, by NumPy's ziggurat
# (``random_standard_normal`` in numpy/random/src/distributions/distributions.c, with its
# tables from spiking._ziggurat) on the Generator's own bit generator, called through the
# function pointers of its documented ``BitGenerator.ctypes`` interface: no Python call and
# no Numba. A frozen stream (``_noise_state[3] == 0``) calls back into Python, which replays
# its realisation. ``_namespace_noise_buffer`` etc. are Brian2's names for the namespace
# arrays below. The buffer size is read from ``state[2]``: Brian2's ``_namespace_num...``
# length is a Python global, and comparing with it would cost more than the draw itself.
_CYTHON_CODE = """
ctypedef uint64_t (*_np_next_uint64)(void *) noexcept nogil
ctypedef double (*_np_next_double)(void *) noexcept nogil

cdef void _ziggurat_fill(double* out, int64_t n, int64_t* state) noexcept:
    # locals, not Brian2's module-level pointers: those are reloaded after every call
    # through a function pointer (the callee could change them), these stay in registers
    cdef void* st = <void*><size_t>state[3]
    cdef _np_next_uint64 next_uint64 = <_np_next_uint64><size_t>state[4]
    cdef _np_next_double next_double = <_np_next_double><size_t>state[5]
    cdef int64_t* ki = _namespace_zig_ki
    cdef double* wi = _namespace_zig_wi
    cdef double* fi = _namespace_zig_fi
    cdef double zig_r = _namespace_zig_const[0]
    cdef double zig_inv_r = _namespace_zig_const[1]
    cdef uint64_t r, rabs
    cdef int64_t k, idx
    cdef double x, xx, yy
    for k in range(n):
        while True:
            r = next_uint64(st)
            idx = <int64_t>(r & 0xff)
            r >>= 8
            # typed mask (a literal above 2**31 would be a Python int); the sign as a
            # factor of +-1 (exact), since a branch on a random bit mispredicts half the time
            rabs = (r >> 1) & ((<uint64_t>1 << 52) - 1)
            x = <double><int64_t>rabs * wi[idx] * (1.0 - 2.0 * <double>(r & 0x1))
            if <int64_t>rabs < ki[idx]:
                break  # 99.3 % of draws end here
            if idx == 0:  # the tail beyond R (1.0 - U avoids log(0), NumPy GH 13361)
                while True:
                    xx = -zig_inv_r * log1p(-next_double(st))
                    yy = -log1p(-next_double(st))
                    if yy + yy > xx * xx:
                        break
                if (rabs >> 8) & 0x1:
                    x = -(zig_r + xx)
                else:
                    x = zig_r + xx
                break
            if ((fi[idx - 1] - fi[idx]) * next_double(st) + fi[idx]) < exp(-0.5 * x * x):
                break
        out[k] = x

# Called through a pointer set when the module loads, so that the C compiler cannot inline
# the fill into the neuron loop (measured: 3 % slower steady state when it could).
ctypedef void (*_fill_fn)(double*, int64_t, int64_t*) noexcept
cdef _fill_fn _ziggurat_fill_ptr = _ziggurat_fill

cdef double _generator_randn(int _idx):
    cdef int64_t _k = _namespace_noise_state[0]
    if _k >= _namespace_noise_state[2]:
        if _namespace_noise_state[3] != 0:
            _ziggurat_fill_ptr(_namespace_noise_buffer, _namespace_noise_state[2], _namespace_noise_state)
        else:
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
        namespace={
            "_noise_buffer": stream.buffer,
            "_noise_state": stream.state,
            "_zig_ki": _ziggurat.KI,
            "_zig_wi": _ziggurat.WI,
            "_zig_fi": _ziggurat.FI,
            "_zig_const": _ZIG_CONST,
        },
    )
    return func
