"""Upper bounds checked before a simulation builds anything: step counts and memory.

Step counts. Brian2 and the Numba engines count time steps in 64-bit integers
and compute the time as ``t = i * dt`` in float64, which is exact only while
:math:`i \\le 2^{53}`; Brian2's clock silently runs 0 steps when
``duration / dt`` overflows. :func:`check_steps` refuses any run longer than
:data:`MAX_STEPS` steps with a clear error (at ``dt = 1`` ms that is 285 000
years of biological time: no real run is refused, every overflow is).

Memory. Each simulation declares :func:`estimate` parts (bytes, and the option
that makes the part smaller) computed from its parameters; :func:`check_memory`
compares the total with the memory the machine has available
(``MemAvailable`` of ``/proc/meminfo``) and refuses with one line naming what
is needed, what is available and which option to lower; ``--max-memory``
replaces the available figure (to run anyway, or to set a tighter limit on a
shared machine).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping

__all__ = [
    "MAX_STEPS",
    "MAX_SCAN_RUNS",
    "check_steps",
    "check_count",
    "parse_size",
    "format_size",
    "available_memory",
    "check_memory",
]

#: Largest number of time steps of one run (float64 time ``i * dt`` is exact up to 2**53).
MAX_STEPS = 2**53
#: Largest number of (point, seed) runs of one scan; counted before any point is built.
MAX_SCAN_RUNS = 1_000_000

_SIZE_RE = re.compile(r"^\s*(\d+(\.\d*)?|\.\d+)\s*([kKMGT]i?B?|B)?\s*$")
_SIZE_SCALE = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def check_steps(name: str, duration: float, dt: float, *, option: str | None = None) -> int:
    """Number of ``dt`` steps in ``duration``; ``ValueError`` when it exceeds :data:`MAX_STEPS`."""
    steps = float(duration) / float(dt)
    if not math.isfinite(steps) or steps > MAX_STEPS:
        raise ValueError(
            f"{name} = {duration:g} s is {steps:.3g} steps of {dt * 1e3:g} ms; at most "
            f"{MAX_STEPS:.3g} steps ({MAX_STEPS * dt:.3g} s) fit the step counter; "
            f"lower {option or name}"
        )
    return int(round(steps))


def check_count(name: str, value: int, maximum: int, *, why: str) -> int:
    """``ValueError`` when ``value`` exceeds ``maximum`` (``why`` says where the bound comes from)."""
    if value > maximum:
        raise ValueError(f"{name} = {value} exceeds the maximum {maximum} ({why})")
    return value


def parse_size(text, *, name: str = "--max-memory") -> int:
    """``'8G'``, ``'8GB'``, ``'512MiB'``, ``'1.5T'`` or a number of bytes -> bytes (powers of 1024)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value, unit = float(text), ""
    else:
        m = _SIZE_RE.match(str(text))
        if not m:
            raise ValueError(f"{name} must be a size such as '8G', '512M' or bytes, got {text!r}")
        value, unit = float(m.group(1)), (m.group(3) or "")[:1].upper()
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive size such as '8G', got {text!r}")
    return int(value * _SIZE_SCALE[unit])


def format_size(n: float) -> str:
    """Bytes as a short human figure (``'23.4 GiB'``)."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def available_memory() -> int:
    """Memory available to a new allocation without swapping, in bytes (``MemAvailable``)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:  # other Unixes: free physical pages
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - no way to know
        return 2**62


def check_memory(parts: Mapping[str, tuple[float, str]], max_memory=None, *, what: str = "this run") -> int:
    """Refuse a run whose estimated memory exceeds the available memory (or ``max_memory``).

    Parameters
    ----------
    parts : mapping
        ``{description: (bytes, option)}``: each part of the estimate and the
        option that makes it smaller.
    max_memory : int or str, optional
        Limit in bytes (or a size such as ``'8G'``) replacing the available memory.

    Returns
    -------
    int
        The estimated total in bytes.
    """
    total = float(sum(b for b, _ in parts.values()))
    limit = available_memory() if max_memory is None else parse_size(max_memory)
    if total > limit:
        name, (big, option) = max(parts.items(), key=lambda kv: kv[1][0])
        source = "available" if max_memory is None else "allowed by --max-memory"
        raise ValueError(
            f"{what} needs about {format_size(total)} of memory ({name}: {format_size(big)}) but "
            f"{format_size(limit)} is {source}; lower {option} (or raise --max-memory to run anyway)"
        )
    return int(total)


# --- building blocks of the simulations' estimates (measured on this project's networks) ----------
#: Python, NumPy, Brian2 and Matplotlib loaded (a 100-neuron reservoir run peaks at ~0.3 GB).
BASELINE_BYTES = 300 * 2**20
#: Brian2 runtime synapse (weights, pre/post indices, delays, connect() temporaries): peak RSS grew
#: by 331 MB from 1e6 to 9e6 synapses (reservoir 1000 -> 3000 neurons), 41 B each; 48 with margin.
BYTES_PER_SYNAPSE = 48
#: A recorded spike: SpikeMonitor int32 index + float64 time with its doubling growth, plus the
#: int64/float64 copy handed back to Python.
BYTES_PER_SPIKE = 40
#: Mean firing rate assumed for recorded spikes; the reservoirs of this project fire at 5-50 Hz.
ASSUMED_RATE_HZ = 20.0


def reservoir_synapses(config) -> int:
    """Recurrent synapses of a :class:`spiking.reservoir.ReservoirConfig` (expected count)."""
    n = config.n_exc + config.n_inh
    if config.connectivity == "all":
        return n * n
    if config.connectivity == "prob":
        return int(config.p_connect * n * n)
    return n * config.indegree


def spikes_bytes(n_neurons: int, duration: float, rate_hz: float = ASSUMED_RATE_HZ) -> float:
    """Memory of the spikes of ``n_neurons`` recorded for ``duration`` seconds at ``rate_hz``."""
    return float(n_neurons) * rate_hz * duration * BYTES_PER_SPIKE
