"""State extraction: spike trains to ``(n_samples, n_units)`` state matrices for readouts.

Two representations, each a Numba kernel with a NumPy reference:

* spike counts in time windows ``[start_s, stop_s)`` (binning is the special
  case of contiguous windows);
* exponentially filtered traces sampled at given times,

  .. math:: x_k(t) = \\sum_{t_k^f \\le t} \\exp\\!\\left(-\\frac{t - t_k^f}{\\tau}\\right),

  i.e. the solution of :math:`\\dot x_k = -x_k/\\tau + \\sum_f \\delta(t - t_k^f)`
  (a spike at exactly the sample time is included).

* sampled neuron variables (membrane potential, recovery variable, synaptic current),
  standardised per unit (:func:`neuron_state_features`).

Spikes are ``(indices, times)`` arrays as a Brian2 ``SpikeMonitor`` returns them
(times in seconds).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from plasticity_rules.validation import check_array, check_int, check_positive

__all__ = [
    "window_counts",
    "window_counts_reference",
    "bin_counts",
    "filtered_traces",
    "filtered_traces_reference",
    "multi_tau_traces",
    "neuron_state_features",
]


@njit(cache=True)
def _window_counts_kernel(idx, times, n_units, starts, stops):
    n_win = starts.shape[0]
    out = np.zeros((n_win, n_units))
    # windows sorted by start; spikes sorted by time -> two-pointer sweep
    for w in range(n_win):
        lo = np.searchsorted(times, starts[w], side="left")
        hi = np.searchsorted(times, stops[w], side="left")
        for s in range(lo, hi):
            out[w, idx[s]] += 1.0
    return out


def window_counts_reference(idx, times, n_units, starts, stops):
    """NumPy reference of :func:`window_counts` (same arguments)."""
    out = np.zeros((len(starts), n_units))
    for w, (a, b) in enumerate(zip(starts, stops, strict=True)):
        sel = (times >= a) & (times < b)
        out[w] = np.bincount(idx[sel], minlength=n_units)
    return out


def _prepare(idx, times, n_units):
    n_units = check_int("n_units", n_units)
    idx = check_array("indices", idx, ndim=1, dtype=np.int64, allow_empty=True)
    times = check_array("times", times, ndim=1, dtype=np.float64, allow_empty=True)
    if idx.shape != times.shape:
        raise ValueError(f"indices and times must have the same length, got {idx.size} and {times.size}")
    if idx.size and (idx.min() < 0 or idx.max() >= n_units):
        raise ValueError(f"indices must lie in [0, n_units={n_units}), got range [{idx.min()}, {idx.max()}]")
    if times.size > 1 and np.any(np.diff(times) < 0):
        order = np.argsort(times, kind="stable")
        idx, times = idx[order], times[order]
    return np.ascontiguousarray(idx), np.ascontiguousarray(times), n_units


def window_counts(indices, times, n_units: int, starts, stops) -> np.ndarray:
    """Spike counts per unit in each window ``[starts[w], stops[w])``.

    Parameters
    ----------
    indices, times : array_like, shape ``(n_spikes,)``
        Spiking unit and time (s) of each spike.
    n_units : int
    starts, stops : array_like, shape ``(n_windows,)``
        Window bounds in seconds, ``stops > starts``.

    Returns
    -------
    ndarray, shape ``(n_windows, n_units)``
    """
    idx, times, n_units = _prepare(indices, times, n_units)
    starts = check_array("starts", starts, ndim=1)
    stops = check_array("stops", stops, shape=(starts.size,))
    if np.any(stops <= starts):
        raise ValueError("stops must be greater than starts in every window")
    return _window_counts_kernel(idx, times, n_units, starts, stops)


def bin_counts(indices, times, n_units: int, bin_width: float, duration: float, t_start: float = 0.0):
    """Spike counts in contiguous bins of ``bin_width`` s over ``[t_start, t_start + duration)``.

    Returns
    -------
    ndarray, shape ``(n_bins, n_units)`` with ``n_bins = round(duration / bin_width)``
    """
    check_positive("bin_width", bin_width)
    check_positive("duration", duration)
    n_bins = int(round(duration / bin_width))
    if n_bins < 1:
        raise ValueError(f"duration ({duration!r} s) must span at least one bin of {bin_width!r} s")
    starts = t_start + bin_width * np.arange(n_bins)
    return window_counts(indices, times, n_units, starts, starts + bin_width)


@njit(cache=True)
def _filtered_traces_kernel(idx, times, n_units, sample_times, tau):
    n_samp = sample_times.shape[0]
    out = np.empty((n_samp, n_units))
    trace = np.zeros(n_units)
    last = np.zeros(n_units)  # time each unit's trace was last brought up to date
    s = 0
    n_spikes = times.shape[0]
    for k in range(n_samp):
        t = sample_times[k]
        while s < n_spikes and times[s] <= t:
            u = idx[s]
            trace[u] = trace[u] * np.exp(-(times[s] - last[u]) / tau) + 1.0
            last[u] = times[s]
            s += 1
        for u in range(n_units):
            out[k, u] = trace[u] * np.exp(-(t - last[u]) / tau)
    return out


def filtered_traces_reference(idx, times, n_units, sample_times, tau):
    """NumPy reference of :func:`filtered_traces`: the defining sum, evaluated directly."""
    out = np.zeros((len(sample_times), n_units))
    for k, t in enumerate(sample_times):
        sel = times <= t
        np.add.at(out[k], idx[sel], np.exp(-(t - times[sel]) / tau))
    return out


def filtered_traces(indices, times, n_units: int, sample_times, tau: float) -> np.ndarray:
    """Exponentially filtered spike trains sampled at ``sample_times``.

    Parameters
    ----------
    indices, times : array_like, shape ``(n_spikes,)``
        Spiking unit and time (s) of each spike.
    n_units : int
    sample_times : array_like, shape ``(n_samples,)``
        Non-decreasing sample times in seconds.
    tau : float
        Filter time constant in seconds (> 0).

    Returns
    -------
    ndarray, shape ``(n_samples, n_units)``
    """
    idx, times, n_units = _prepare(indices, times, n_units)
    check_positive("tau", tau)
    sample_times = check_array("sample_times", sample_times, ndim=1)
    if sample_times.size > 1 and np.any(np.diff(sample_times) < 0):
        raise ValueError("sample_times must be non-decreasing")
    return _filtered_traces_kernel(idx, times, n_units, np.ascontiguousarray(sample_times), float(tau))


def multi_tau_traces(indices, times, n_units: int, sample_times, taus) -> np.ndarray:
    """Filtered rates with per-neuron time constants ``taus[i % len(taus)]``.

    .. math:: x_i(t) = \\frac{1}{\\tau_i} \\sum_{t_i^f \\le t} e^{-(t - t_i^f)/\\tau_i}

    (Hz: a filtered rate), the readout synapses of neuron ``i`` having time constant
    ``taus[i % len(taus)]`` (heterogeneous synapses assigned round-robin); computed
    with :func:`filtered_traces`.

    Parameters
    ----------
    indices, times : array_like, shape (n_spikes,)
        Spiking unit and time (s) of every spike.
    n_units : int
    sample_times : array_like, shape (n_samples,)
        Times (s) at which the traces are read.
    taus : sequence of float
        Time constants (s), each > 0.

    Returns
    -------
    ndarray, shape (n_samples, n_units)
    """
    taus = tuple(check_positive("taus", t) for t in taus)
    if not taus:
        raise ValueError("taus must hold at least one time constant")
    indices = np.asarray(indices, dtype=np.int64)
    times = np.asarray(times, dtype=np.float64)
    out = np.zeros((len(sample_times), n_units))
    group = np.arange(n_units) % len(taus)
    for g, tau in enumerate(taus):
        units = np.flatnonzero(group == g)
        sel = np.isin(indices, units)
        tr = filtered_traces(indices[sel], times[sel], n_units, sample_times, tau)
        out[:, units] = tr[:, units] / tau
    return out


def neuron_state_features(samples: dict, fit_rows, *, v_peak: float = 30.0) -> np.ndarray:
    """Sampled neuron variables as readout features, standardised per unit.

    Each variable :math:`s_i(t)` (e.g. the membrane potential ``v``, the recovery variable
    ``u`` or the synaptic current ``I_exp`` of an Izhikevich neuron, sampled at the end of
    every input sample) becomes

    .. math:: z_i(t) = \\frac{s_i(t) - \\bar s_i}{\\sigma_i},

    mean :math:`\\bar s_i` and standard deviation :math:`\\sigma_i` (1 where it is 0) taken
    over ``fit_rows`` only (the training samples: no statistics of held-out data enter).
    ``v`` is first clipped at ``v_peak``: a sample at a spike's peak reads the threshold value,
    not the overshoot of the integration step. A neuron's analogue state carries what its few
    spikes per sample cannot: below threshold, :math:`v` follows the input current (fast,
    :math:`\\sim 1` ms), :math:`u` low-pass filters :math:`v` and the spikes (time constant
    :math:`1/a`: 50 ms for regular-spiking cells, Izhikevich 2003), a graded code read
    alongside the spike traces (membrane-potential readouts of liquid state machines: Maass,
    Natschläger & Markram 2002, Neural Comput. 14:2531).

    Parameters
    ----------
    samples : dict of str to array_like, each shape (n_samples, n_units)
        Variables in the order they become column blocks (e.g. ``ReservoirRun.state_samples``).
    fit_rows : slice or array_like of int
        Rows whose statistics standardise every row.
    v_peak : float
        Clip of ``v`` (mV; the Izhikevich spike cut-off).

    Returns
    -------
    ndarray, shape (n_samples, n_units * len(samples))
    """
    if not samples:
        raise ValueError("samples must hold at least one variable")
    check_positive("v_peak", v_peak)
    blocks = []
    n = None
    for name, values in samples.items():
        x = check_array(f"samples[{name!r}]", values, ndim=2)
        if n is not None and x.shape[0] != n:
            raise ValueError(f"samples[{name!r}] has {x.shape[0]} rows, expected {n}")
        n = x.shape[0]
        if name == "v":
            x = np.minimum(x, v_peak)
        fit = x[fit_rows]
        if fit.shape[0] < 2:
            raise ValueError(f"fit_rows must select at least 2 rows, got {fit.shape[0]}")
        sd = fit.std(axis=0)
        blocks.append((x - fit.mean(axis=0)) / np.where(sd > 0, sd, 1.0))
    return np.hstack(blocks)
