"""Input encoders: arrays to spike trains (Poisson rate, latency) or injected currents.

Every encoder is a pure function of its inputs and a ``seed`` (or Generator);
spike trains come back as :class:`SpikeTrains` (flat ``indices``/``times``
arrays, times in seconds, sorted by time) ready for a Brian2
``SpikeGeneratorGroup``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plasticity_rules.validation import check_array, check_int, check_positive, check_probability, make_rng

__all__ = [
    "SpikeTrains",
    "ENCODERS",
    "poisson_encode",
    "latency_encode",
    "current_encode",
    "delay_taps",
    "concatenate_trains",
    "encode",
]


@dataclass(frozen=True)
class SpikeTrains:
    """Spikes of ``n_units`` sources over ``[0, duration)``.

    Attributes
    ----------
    indices : ndarray of int64, shape ``(n_spikes,)``
    times : ndarray of float64, shape ``(n_spikes,)``
        Spike times in seconds, non-decreasing.
    n_units : int
    duration : float
        Seconds.
    """

    indices: np.ndarray
    times: np.ndarray
    n_units: int
    duration: float

    def __post_init__(self):
        if self.indices.shape != self.times.shape:
            raise ValueError(
                f"indices and times must have the same shape, got {self.indices.shape} and {self.times.shape}"
            )
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= self.n_units):
            raise ValueError(
                f"indices must lie in [0, {self.n_units}), got [{self.indices.min()}, {self.indices.max()}]"
            )

    @property
    def n_spikes(self) -> int:
        return int(self.indices.size)

    def shifted(self, offset: float) -> SpikeTrains:
        """The same spikes delayed by ``offset`` seconds."""
        return SpikeTrains(self.indices, self.times + offset, self.n_units, self.duration + offset)


def _sorted(indices, times, n_units, duration) -> SpikeTrains:
    order = np.lexsort((indices, times))
    return SpikeTrains(
        indices[order].astype(np.int64), times[order].astype(np.float64), int(n_units), float(duration)
    )


def poisson_encode(rates, duration: float, *, dt: float = 1e-3, seed=None) -> SpikeTrains:
    """Poisson (Bernoulli per time step) rate coding.

    In each step of length :math:`\\Delta t` unit :math:`k` spikes with
    probability :math:`\\min(1, r_k(t)\\,\\Delta t)` (at most one spike per step,
    at the step's start, so spikes align with a simulation clock of step ``dt``).

    Parameters
    ----------
    rates : array_like, shape ``(n_units,)`` or ``(n_steps, n_units)``
        Firing rates in Hz, constant or per time step (non-negative, finite).
    duration : float
        Seconds (> 0).
    dt : float
        Time step in seconds (> 0).
    seed : int, Generator or None
    """
    check_positive("duration", duration)
    check_positive("dt", dt)
    rates = check_array("rates", rates, ndim=(1, 2))
    if np.any(rates < 0):
        raise ValueError(f"rates must be >= 0 Hz, got minimum {rates.min()!r}")
    n_steps = int(round(duration / dt))
    if n_steps < 1:
        raise ValueError(f"duration ({duration!r} s) must be at least one dt ({dt!r} s)")
    if rates.ndim == 2 and rates.shape[0] != n_steps:
        raise ValueError(f"rates has {rates.shape[0]} time steps, expected duration/dt = {n_steps}")
    n_units = rates.shape[-1]
    rng = make_rng(seed)
    p = np.clip(rates * dt, 0.0, 1.0)
    fired = rng.random((n_steps, n_units)) < p
    steps, idx = np.nonzero(fired)
    return _sorted(idx, steps * dt, n_units, n_steps * dt)


def latency_encode(
    values, t_max: float, *, threshold: float = 0.0, jitter: float = 0.0, seed=None
) -> SpikeTrains:
    """Latency (time-to-first-spike) coding: stronger inputs spike earlier.

    .. math:: t_k = t_{\\max} (1 - x_k), \\qquad x_k \\in [0, 1]

    Units with :math:`x_k \\le` ``threshold`` stay silent. Optional Gaussian
    ``jitter`` (seconds) is added and clipped to ``[0, t_max]``.

    Parameters
    ----------
    values : array_like, shape ``(n_units,)``
        Intensities in [0, 1].
    t_max : float
        Latency of the weakest input, seconds (> 0).
    """
    check_positive("t_max", t_max)
    if not (0.0 <= threshold < 1.0):
        raise ValueError(f"threshold must be in [0, 1), got {threshold!r}")
    check_positive("jitter", jitter, allow_zero=True)
    values = check_array("values", values, ndim=1)
    if values.min() < 0 or values.max() > 1:
        raise ValueError(f"values must lie in [0, 1], got range [{values.min()!r}, {values.max()!r}]")
    rng = make_rng(seed)
    idx = np.flatnonzero(values > threshold)
    times = t_max * (1.0 - values[idx])
    if jitter > 0:
        times = np.clip(times + jitter * rng.standard_normal(idx.size), 0.0, t_max)
    return _sorted(idx, times, values.size, t_max)


def current_encode(
    series, n_neurons: int, *, gain: float = 1.0, p_connect: float = 1.0, seed=None
) -> tuple[np.ndarray, np.ndarray]:
    """Time-series injection: project input channels onto neurons as currents.

    .. math:: I(t) = g\\, W_{\\mathrm{in}}\\, u(t), \\qquad
              W_{ij} \\sim U(-1, 1)\\ \\text{with probability } p, \\text{ else } 0

    Parameters
    ----------
    series : array_like, shape ``(n_steps, n_channels)`` or ``(n_steps,)``
    n_neurons : int
    gain : float
        Current scale (mV per ms of the neuron model).
    p_connect : float
        Probability that a channel drives a neuron.

    Returns
    -------
    current : ndarray, shape ``(n_steps, n_neurons)``
    w_in : ndarray, shape ``(n_neurons, n_channels)``
    """
    series = check_array("series", series, ndim=(1, 2))
    if series.ndim == 1:
        series = series[:, None]
    check_int("n_neurons", n_neurons)
    check_positive("gain", gain, allow_zero=True)
    check_probability("p_connect", p_connect)
    rng = make_rng(seed)
    w_in = rng.uniform(-1.0, 1.0, (n_neurons, series.shape[1]))
    w_in *= rng.random(w_in.shape) < p_connect
    return gain * series @ w_in.T, w_in


def delay_taps(n_neurons: int, max_delay: float, dt: float, n_taps: int = 1, *, seed=None):
    """Delays and gains of ``n_taps`` delayed copies of each neuron's input current.

    Neuron :math:`i` receives :math:`\\sum_{k<K} g_{ik} I_i(t - \\delta_{ik})` with

    .. math:: \\delta_{ik} = m_{ik} \\Delta t,\\quad m_{ik} \\sim U\\{0, \\dots,
              \\mathrm{round}(\\delta_{\\max}/\\Delta t)\\},\\qquad
              g_{ik} = \\gamma_{ik} / \\lVert \\gamma_i \\rVert,\\quad \\gamma_{i0} = 1,\\quad
              \\gamma_{ik} \\sim U(-1, 1)

    (the taps share the neuron's input weight, so the drive's power is that of one tap).
    Fixed heterogeneous delays make the input projection a delay line: the network's state
    holds the last :math:`\\delta_{\\max}` of input (delay-based reservoirs, Appeltant et al.
    2011, Nat. Commun. 2:468; conduction delays, Izhikevich 2006, Neural Comput. 18:245), and a
    neuron that sees the input at several times responds to their products.

    Returns
    -------
    delays : ndarray, shape ``(n_neurons, n_taps)``
        Seconds, whole multiples of ``dt`` in ``[0, max_delay]``.
    gains : ndarray, shape ``(n_neurons, n_taps)``
        Unit norm per row; all 1 for one tap.
    """
    n_neurons = check_int("n_neurons", n_neurons)
    n_taps = check_int("n_taps", n_taps)
    check_positive("max_delay", max_delay, allow_zero=True)
    check_positive("dt", dt)
    rng = make_rng(seed)
    max_steps = int(round(max_delay / dt))
    delays = rng.integers(0, max_steps + 1, (n_neurons, n_taps)) * dt
    gains = rng.uniform(-1.0, 1.0, (n_neurons, n_taps))
    gains[:, 0] = 1.0
    return delays, gains / np.linalg.norm(gains, axis=1, keepdims=True)


def concatenate_trains(trains, sample_duration: float) -> SpikeTrains:
    """Place samples back to back: sample ``s`` occupies ``[s T, (s+1) T)``."""
    check_positive("sample_duration", sample_duration)
    trains = list(trains)
    if not trains:
        raise ValueError("trains must contain at least one SpikeTrains")
    n_units = trains[0].n_units
    for k, tr in enumerate(trains):
        if tr.n_units != n_units:
            raise ValueError(f"trains[{k}] has {tr.n_units} units, expected {n_units}")
        if tr.n_spikes and tr.times.max() >= sample_duration:
            raise ValueError(f"trains[{k}] has spikes at or after sample_duration={sample_duration!r} s")
    idx = np.concatenate([t.indices for t in trains])
    times = np.concatenate([t.times + k * sample_duration for k, t in enumerate(trains)])
    return _sorted(idx, times, n_units, len(trains) * sample_duration)


#: Spike encoders by name (for configs and the CLI).
ENCODERS = {"poisson": poisson_encode, "latency": latency_encode}


def encode(name: str, *args, **kwargs) -> SpikeTrains:
    """Call the spike encoder ``name`` (``'poisson'`` or ``'latency'``)."""
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; allowed: {', '.join(ENCODERS)}")
    return ENCODERS[name](*args, **kwargs)
