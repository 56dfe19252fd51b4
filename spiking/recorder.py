"""Spike recording inside the Izhikevich state update (runtime targets), instead of a SpikeMonitor.

Brian2's ``SpikeMonitor`` runs a code object every step that, whenever a
neuron spiked, calls back into Python to resize its dynamic arrays: at 1000
neurons (a few spikes per 1 ms step) that alone cost about as much as the
whole hand-written Numba step. The paper's scheme (see
:mod:`spiking.neurons`) resets the neurons that crossed threshold at the start
of the next step, so the state update knows them anyway: :func:`spike_recorder`
is a Brian2 function that, called there with the reset flag, appends
``(neuron, step - 1)`` to a fixed buffer (one C store per spike). A full buffer
is handed to Python as a chunk and reused, so the pointer the compiled code
holds stays valid. Spikes of a run's last step are not reset within the run;
:meth:`SpikeRecorder.finish` adds them from ``v >= 30``. The order is that of
a ``SpikeMonitor``: by step, then by neuron index.
"""

from __future__ import annotations

import itertools
import weakref

import numpy as np

__all__ = ["SpikeRecorder", "spike_recorder", "flush"]

CHUNK = 1 << 16

_recorders: weakref.WeakValueDictionary[int, SpikeRecorder] = weakref.WeakValueDictionary()
_ids = itertools.count(1)


class SpikeRecorder:
    """Chunked spike buffer written by compiled code (``indices``, ``steps``, ``state``)."""

    def __init__(self, size: int = CHUNK):
        self.indices = np.zeros(int(size), dtype=np.int64)
        self.steps = np.zeros(int(size), dtype=np.int64)
        # [count, capacity, id]
        self.state = np.array([0, int(size), next(_ids)], dtype=np.int64)
        self._chunks: list[tuple[np.ndarray, np.ndarray]] = []
        _recorders[int(self.state[2])] = self

    def reset(self) -> None:
        """Forget recorded spikes (before a run)."""
        self._chunks.clear()
        self.state[0] = 0

    def flush(self) -> None:
        n = int(self.state[0])
        self._chunks.append((self.indices[:n].copy(), self.steps[:n].copy()))
        self.state[0] = 0

    def finish(self, last_step: int, v_last: np.ndarray, threshold: float = 30.0):
        """All spikes of the run: ``(indices, steps)``, adding those of step ``last_step``."""
        self.flush()
        last = np.flatnonzero(v_last >= threshold)
        chunks = self._chunks + [(last.astype(np.int64), np.full(last.size, last_step, dtype=np.int64))]
        self._chunks = []
        return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])


def flush(recorder_id: int) -> None:
    """Move a full buffer to the recorder's chunks (called from compiled Cython code)."""
    _recorders[int(recorder_id)].flush()


_CYTHON_CODE = """
cdef double _spike_record(int64_t i, int64_t step, int64_t spiked):
    cdef int64_t _n
    if spiked != 0:
        _n = _namespace_spikerec_state[0]
        if _n >= _namespace_spikerec_state[1]:
            from spiking.recorder import flush as _flush_spikes
            _flush_spikes(_namespace_spikerec_state[2])
            _n = 0
        _namespace_spikerec_i[_n] = i
        _namespace_spikerec_step[_n] = step - 1
        _namespace_spikerec_state[0] = _n + 1
    return 0.0
"""


def spike_recorder(recorder: SpikeRecorder):
    """A Brian2 ``Function`` ``f(i, t_in_timesteps, spiked)`` that records into ``recorder``.

    Cython target only (the NumPy target keeps a ``SpikeMonitor``).
    """
    import brian2
    from brian2.codegen.generators.cython_generator import CythonCodeGenerator

    def _python(i, step, spiked):  # pragma: no cover - only the Cython implementation is used
        raise NotImplementedError("spike_recorder is implemented for the Cython target only")

    func = brian2.Function(
        pyfunc=_python,
        arg_units=[1, 1, 1],
        arg_types=["integer", "integer", "integer"],
        return_unit=1,
        stateless=False,
    )
    func.implementations.add_implementation(
        CythonCodeGenerator,
        code=_CYTHON_CODE,
        name="_spike_record",
        namespace={
            "_spikerec_i": recorder.indices,
            "_spikerec_step": recorder.steps,
            "_spikerec_state": recorder.state,
        },
    )
    return func
