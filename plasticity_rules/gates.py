"""Attention gates: the third factor that opens plasticity in attended time windows.

A gate :math:`g(t) \\in [0, 1]` multiplies a learning rule's update (see the
three-factor rule, :mod:`plasticity_rules.three_factor`); the task that defines
the attended windows (:mod:`tasks.whatwhen`) builds it with :func:`attention_gate`.
It lives here, below both, so that a task does not import a learning rule to build
its gates, and :data:`GATE_SHAPES` is written once.
"""

from __future__ import annotations

import numpy as np

from .validation import check_choice, check_positive, check_probability

__all__ = ["GATE_SHAPES", "attention_gate"]


#: Shapes of :func:`attention_gate` (the one list every layer uses).
GATE_SHAPES = ("constant", "boxcar", "ramp", "gaussian")


def attention_gate(
    n_steps: int, dt: float, onsets, offsets, *, shape: str = "boxcar", floor: float = 0.0, rise: float = 0.05
) -> np.ndarray:
    """Attention gate :math:`g(t) \\in [0, 1]` that opens plasticity in attended windows.

    Parameters
    ----------
    n_steps : int
        Number of time steps.
    dt : float
        Step (s).
    onsets, offsets : array_like of float
        Start and end (s) of each attended window (e.g. cue onset to stimulus offset).
    shape : {"constant", "boxcar", "ramp", "gaussian"}
        ``constant``: :math:`g = 1` everywhere; ``boxcar``: 1 inside the windows;
        ``ramp``: linear rise over ``rise`` seconds after each onset, then 1;
        ``gaussian``: :math:`\\exp(-d^2 / 2\\,\\mathrm{rise}^2)` with ``d`` the distance to the window.
    floor : float
        Gate value outside the windows, in [0, 1].
    rise : float
        Rise time / width (s) of the ramp and Gaussian shapes.

    Returns
    -------
    ndarray, shape (n_steps,)
    """
    check_choice("gate shape", shape, GATE_SHAPES)
    check_probability("gate floor", floor)
    check_positive("dt", dt)
    check_positive("gate rise", rise)
    on = np.atleast_1d(np.asarray(onsets, dtype=float))
    off = np.atleast_1d(np.asarray(offsets, dtype=float))
    if on.shape != off.shape:
        raise ValueError(f"gate onsets and offsets must have the same length, got {on.size} and {off.size}")
    if np.any(off < on):
        raise ValueError("gate offsets must not precede their onsets")
    t = np.arange(n_steps) * dt
    if shape == "constant":
        return np.ones(n_steps)
    g = np.zeros(n_steps)
    for a, z in zip(on, off, strict=True):
        if shape == "boxcar":
            w = ((t >= a) & (t < z)).astype(float)
        elif shape == "ramp":
            w = np.where((t >= a) & (t < z), np.clip((t - a) / rise, 0.0, 1.0), 0.0)
        else:
            d = np.where(t < a, a - t, np.where(t > z, t - z, 0.0))
            w = np.exp(-0.5 * (d / rise) ** 2)
        g = np.maximum(g, w)
    return floor + (1.0 - floor) * g
