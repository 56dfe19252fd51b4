"""Shared matplotlib figures (headless: the Agg backend), saved to files by the CLI."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

__all__ = ["figure", "raster", "save"]

# Keywords of plt.subplots that lay out the axes; the others go to the Figure.
_SUBPLOTS_KEYS = ("sharex", "sharey", "squeeze", "width_ratios", "height_ratios", "subplot_kw", "gridspec_kw")


def figure(*args, **kwargs):
    """``(fig, axes)`` as ``plt.subplots`` returns them, drawn by Agg.

    When ``matplotlib.pyplot`` is already imported (a notebook, a tutorial, a script
    that plots), the figure is a pyplot figure on the non-interactive Agg backend (or
    the inline one), so ``plt.show()`` and gallery scrapers see it. Otherwise (the CLI)
    it is a bare :class:`matplotlib.figure.Figure`, which needs neither pyplot nor a
    backend to be imported (about 0.3 s of a short run here) and saves identically.
    """
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        from matplotlib.figure import Figure

        grid = {k: kwargs.pop(k) for k in _SUBPLOTS_KEYS if k in kwargs}
        fig = Figure(**kwargs)
        return fig, fig.subplots(*args, **grid)
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def save(fig, path: str | Path) -> Path:
    """Save ``fig`` to ``path`` (PNG at 120 dpi) and close it."""
    path = Path(path)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)  # a bare Figure is simply dropped
    return path


def raster(
    indices,
    times,
    n_exc: int,
    n_units: int,
    duration: float,
    *,
    title: str = "",
    bin_width: float = 5e-3,
    max_time: float | None = 2.0,
):
    """Raster (excitatory blue, inhibitory red) above the population rate.

    Parameters
    ----------
    indices, times : ndarray, shape ``(n_spikes,)``
        Spikes (times in seconds).
    n_exc, n_units : int
        Neurons ``< n_exc`` are excitatory.
    duration : float
        Seconds.
    max_time : float or None
        Show at most this many seconds (dense rasters are unreadable beyond).
    """
    shown = duration if max_time is None else min(duration, max_time)
    sel = times < shown
    idx, t = indices[sel], times[sel]
    fig, (ax, ax_rate) = figure(2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    exc = idx < n_exc
    ax.scatter(t[exc] * 1e3, idx[exc], s=0.5, c="tab:blue", marker=".", linewidths=0, label="excitatory")
    ax.scatter(t[~exc] * 1e3, idx[~exc], s=0.5, c="tab:red", marker=".", linewidths=0, label="inhibitory")
    ax.set_ylabel("neuron")
    ax.set_ylim(-0.5, n_units - 0.5)
    ax.set_title(title)
    ax.legend(loc="upper right", markerscale=20, fontsize="small")
    n_bins = max(1, int(round(shown / bin_width)))
    hist, edges = np.histogram(t, bins=n_bins, range=(0, shown))
    ax_rate.plot(edges[:-1] * 1e3, hist / (bin_width * n_units), color="k", lw=0.8)
    ax_rate.set_xlabel("time (ms)")
    ax_rate.set_ylabel("rate (Hz)")
    ax_rate.set_xlim(0, shown * 1e3)
    return fig
