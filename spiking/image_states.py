"""States of a liquid or a reservoir for batches of images (features for plastic readouts).

Two sources of states for the same images:

* :func:`liquid_counts`: spike counts of the NALSM liquid (:mod:`spiking.liquid`),
  each image presented for ``config.sample_steps`` steps as per-step spike
  probabilities of the input neurons, from the liquid's initialised weights with
  plasticity decaying by ``lr_decay`` (the NALSM feature-generation protocol,
  Ivanov & Michmizos 2021).
* :func:`reservoir_counts`: spike counts of the Izhikevich (2003) reservoir
  (:mod:`spiking.reservoir`), the images presented back to back for ``sample_s``
  seconds each, either as injected currents :math:`I = g\\,W_{\\mathrm{in}} x`
  (``mode='current'``, :math:`W_{ij} \\sim U(-1, 1)` with probability
  ``p_connect``; :func:`spiking.encoders.current_encode`) or as Poisson spike
  trains of rate :math:`r_{\\max} x` of one input neuron per pixel
  (``mode='spikes'``, :func:`spiking.encoders.poisson_encode`). The reservoir is
  not reset between images (it is one running network); the first ``settle_s`` of
  each window is left out of the counts so the previous image's transient fades.

Both take an explicit ``seed`` for the draws of one call, so a batch's states
depend only on the model, the images and that seed (what a feature cache needs).

References
----------
W. Maass, T. Natschläger, H. Markram. "Real-time computing without stable states",
Neural Computation 14, 2002. V. Ivanov, K. Michmizos. "Increasing liquid state
machine performance with edge-of-chaos dynamics organized by astrocyte-modulated
plasticity", NeurIPS 2021. E. M. Izhikevich. "Simple model of spiking neurons",
IEEE TNN 14, 2003.
"""

from __future__ import annotations

import numpy as np

from plasticity_rules.validation import (
    check_array,
    check_choice,
    check_nonnegative,
    check_positive,
    check_seed,
)

from .encoders import concatenate_trains, poisson_encode
from .liquid import NumbaLiquid, simulate_liquid_numba

__all__ = ["liquid_counts", "reservoir_counts", "RESERVOIR_INPUTS"]

RESERVOIR_INPUTS = ("current", "spikes")


def liquid_counts(liquid, probs, *, eta: float, w_astro: float, seed: int) -> np.ndarray:
    """Liquid spike counts of every image, shape ``(n_images, n_liquid)``.

    Parameters
    ----------
    liquid : spiking.liquid.Liquid
        An initialised liquid (``w_init_`` set by ``initialise`` or ``use_initial_weights``).
    probs : array_like, shape (n_images, n_input)
        Per-step spike probabilities of the input neurons.
    eta, w_astro : float
        Plasticity during feature generation (0, 0: the fixed-weight LSM).
    seed : int
        Seed of the input draws of this call (Numba engine); a Brian2 liquid draws
        from its own generator instead.
    """
    check_seed(seed)
    if not isinstance(liquid, NumbaLiquid):
        return np.asarray(liquid.features(probs, eta=eta, w_astro=w_astro).counts, dtype=np.float64)
    c = liquid.config
    counts, *_ = simulate_liquid_numba(
        liquid.conn, c, liquid._check_probs(probs), n_steps=c.sample_steps, w_start=liquid.w_init_,
        reset_weights=True, eta=eta, w_astro=w_astro, gamma=c.lr_decay, seed=int(seed),
    )
    return counts.astype(np.float64)


def reservoir_counts(
    reservoir,
    images,
    *,
    sample_s: float = 0.1,
    settle_s: float = 0.01,
    mode: str = "current",
    w_in=None,
    gain: float = 10.0,
    max_rate: float = 100.0,
    seed: int = 0,
) -> np.ndarray:
    """Reservoir spike counts of every image, shape ``(n_images, n_neurons)``.

    Parameters
    ----------
    reservoir : spiking.reservoir.IzhikevichReservoir
        With ``n_inputs == n_pixels`` for ``mode='spikes'``.
    images : array_like, shape (n_images, n_pixels)
        Pixel values in [0, 1].
    sample_s, settle_s : float
        Seconds per image and the part of it left out at the start of the window.
    mode : {'current', 'spikes'}
    w_in : ndarray, shape (n_neurons, n_pixels)
        Input weights of ``mode='current'`` (fixed for a reservoir; see
        :func:`spiking.encoders.current_encode`).
    gain : float
        Current scale (mV per ms) of ``mode='current'``.
    max_rate : float
        Hz of a pixel of value 1 in ``mode='spikes'``.
    seed : int
        Seed of the noise and input spikes of this call.
    """
    check_choice("mode", mode, RESERVOIR_INPUTS)
    check_positive("sample_s", sample_s)
    check_nonnegative("settle_s", settle_s)
    if settle_s >= sample_s:
        raise ValueError(f"settle_s ({settle_s!r} s) must be shorter than sample_s ({sample_s!r} s)")
    images = check_array("images", images, ndim=2)
    if images.min() < 0 or images.max() > 1:
        raise ValueError(f"images must lie in [0, 1], got values in [{images.min()}, {images.max()}]")
    n = images.shape[0]
    rng = np.random.default_rng(check_seed(seed))
    starts = np.arange(n) * sample_s + settle_s
    stops = (np.arange(n) + 1) * sample_s
    if mode == "current":
        w_in = check_array("w_in", w_in, shape=(reservoir.config.n_neurons, images.shape[1]))
        run = reservoir.run(n * sample_s, input_current=gain * images @ w_in.T, current_dt=sample_s,
                            seed=int(rng.integers(2**31 - 1)))
    else:
        check_positive("max_rate", max_rate)
        if reservoir.config.n_inputs != images.shape[1]:
            raise ValueError(
                f"mode='spikes' needs a reservoir with n_inputs = {images.shape[1]} (one per pixel), "
                f"got n_inputs={reservoir.config.n_inputs}"
            )
        dt = reservoir.config.dt
        trains = [poisson_encode(max_rate * x, sample_s, dt=dt, seed=rng) for x in images]
        run = reservoir.run(n * sample_s, input_spikes=concatenate_trains(trains, sample_s),
                            seed=int(rng.integers(2**31 - 1)))
    return run.counts(starts, stops).astype(np.float64)
