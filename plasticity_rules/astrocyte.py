"""The NALSM astrocyte: one global leaky integrator that sets the STDP depression rate.

The astrocyte integrates, every time step, the number of liquid spikes minus
the number of input spikes and drives the depression rate :math:`A` of every
plastic synapse (Ivanov & Michmizos, NeurIPS 2021, eq. 3):

.. math::

    \\tau_A \\frac{dA}{dt} = w_\\mathrm{astro}
        \\Big(\\sum_{i \\in \\mathrm{liquid}} S_i(t) - \\sum_{k \\in \\mathrm{input}} S_k(t)\\Big)
        + b_A - A,

integrated with the reference code's Euler step (:math:`\\Delta t` = 1 ms,
:math:`\\tau_A` = 100 ms, :math:`b_A = A(0) = \\eta_+`). When the liquid fires
more than its input, :math:`A > \\eta_+` and depression outweighs potentiation;
when it fires less, potentiation wins. This pulls the liquid towards the
critical (branching factor ~1) regime.

**Scaling of** :math:`w_\\mathrm{astro}` **with the layer sizes.** The reference
network has :math:`N_L^{\\mathrm{ref}} = 1000` liquid neurons and
:math:`N_I^{\\mathrm{ref}} = 784` input neurons, so its two spike sums are of
the same order. With a much smaller input (8x8 digits: 64 pixels) the raw sum
difference is dominated by the liquid and :math:`A` would saturate. We
therefore weight each spike by the size of its layer relative to the
reference:

.. math::

    \\tau_A \\frac{dA}{dt} = w_\\mathrm{astro}
        \\Big(\\frac{N_L^{\\mathrm{ref}}}{N_L} \\sum_{i} S_i
        - \\frac{N_I^{\\mathrm{ref}}}{N_I} \\sum_{k} S_k\\Big) + b_A - A,

i.e. the astrocyte compares the *mean rates* of the two layers with the
reference's relative weighting. With the reference sizes the rule is exactly
the paper's; :func:`astro_spike_weights` returns the two per-spike weights.

During feature generation the reference multiplies :math:`A`,
:math:`w_\\mathrm{astro}`, :math:`b_A` (and :math:`\\eta_+`) by a decay factor
:math:`\\gamma` (0.99) after every step, so plasticity fades within a sample.

References
----------
V. Ivanov and K. Michmizos, NeurIPS 2021; github.com/combra-lab/NALSM
(``NALSM_ASTRO.py``, ``update_astro_state`` and ``decay_astro_*``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .validation import check_int, check_nonnegative, check_positive

__all__ = [
    "REFERENCE_N_LIQUID",
    "REFERENCE_N_INPUT",
    "astro_spike_weights",
    "astrocyte_step",
    "astrocyte_step_reference",
    "astrocyte_run",
    "astrocyte_run_reference",
]

#: Liquid size of the reference network (10x10x10).
REFERENCE_N_LIQUID = 1000
#: Input size of the reference network (28x28 MNIST pixels).
REFERENCE_N_INPUT = 784


def astro_spike_weights(w_astro: float, n_liquid: int, n_input: int) -> tuple[float, float]:
    """Per-spike astrocyte weights ``(k_liquid, k_input)`` for the given layer sizes.

    ``k_liquid = w_astro * 1000 / n_liquid`` and ``k_input = w_astro * 784 / n_input``
    (see the module docstring); both equal ``w_astro`` at the reference sizes.
    """
    check_nonnegative("w_astro", w_astro)
    check_int("n_liquid", n_liquid, minimum=1)
    check_int("n_input", n_input, minimum=1)
    return (
        float(w_astro) * REFERENCE_N_LIQUID / n_liquid,
        float(w_astro) * REFERENCE_N_INPUT / n_input,
    )


@njit(cache=True)
def astrocyte_step(A, n_liquid_spikes, n_input_spikes, k_liquid, k_input, bias, tau):
    """One Euler step: :math:`A + (k_L \\sum S_L - k_I \\sum S_I + b_A - A)/\\tau_A` (``tau`` in steps)."""
    return A + (k_liquid * n_liquid_spikes - k_input * n_input_spikes + bias - A) / tau


def astrocyte_step_reference(A, n_liquid_spikes, n_input_spikes, k_liquid, k_input, bias, tau):
    """NumPy twin of :func:`astrocyte_step` (broadcasts over arrays)."""
    return np.asarray(A, dtype=np.float64) + (
        k_liquid * np.asarray(n_liquid_spikes, dtype=np.float64)
        - k_input * np.asarray(n_input_spikes, dtype=np.float64)
        + bias
        - A
    ) / tau


@njit(cache=True)
def astrocyte_run(A0, liquid_counts, input_counts, k_liquid, k_input, bias, tau, decay):
    """Run the astrocyte over a spike-count series.

    Parameters
    ----------
    A0 : float
        Initial depression rate.
    liquid_counts, input_counts : ndarray, shape (n_steps,)
        Number of liquid / input spikes at every step.
    k_liquid, k_input, bias, tau : float
        Per-spike weights (:func:`astro_spike_weights`), :math:`b_A`, :math:`\\tau_A` in steps.
    decay : float
        Factor applied to ``A``, ``k_liquid``, ``k_input`` and ``bias`` after every
        step (1.0 = no decay, 0.99 in the reference's feature generation).

    Returns
    -------
    ndarray, shape (n_steps,)
        :math:`A` after each step's update (before that step's decay).
    """
    n = liquid_counts.shape[0]
    out = np.empty(n)
    A = A0
    kl = k_liquid
    ki = k_input
    b = bias
    for t in range(n):
        A = A + (kl * liquid_counts[t] - ki * input_counts[t] + b - A) / tau
        out[t] = A
        A *= decay
        kl *= decay
        ki *= decay
        b *= decay
    return out


def astrocyte_run_reference(A0, liquid_counts, input_counts, k_liquid, k_input, bias, tau, decay):
    """NumPy twin of :func:`astrocyte_run` (closed-form decay factors, explicit recurrence)."""
    check_positive("tau", tau)
    liquid_counts = np.asarray(liquid_counts, dtype=np.float64)
    input_counts = np.asarray(input_counts, dtype=np.float64)
    n = liquid_counts.shape[0]
    g = decay ** np.arange(n)  # parameters at step t carry decay**t
    drive = g * (k_liquid * liquid_counts - k_input * input_counts + bias)
    out = np.empty(n)
    A = float(A0)
    for t in range(n):
        A = A + (drive[t] - A) / tau
        out[t] = A
        A = A * decay
    return out
