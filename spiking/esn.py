"""Rate-based echo state network (ESN): the non-spiking baseline reservoir (NumPy only).

Leaky-integrator ESN (Jaeger 2001; Jaeger & Haas 2004; Lukoševičius 2012, eq. 2-3):

.. math::

    \\tilde x(t) &= \\tanh\\big(W_{in} [1; u(t)] + W x(t-1)\\big) \\\\
    x(t) &= (1 - a)\\, x(t-1) + a\\, \\tilde x(t)

with ``W`` sparse random, rescaled to spectral radius :math:`\\rho`, and
``W_in`` uniform in :math:`[-s_{in}, s_{in}]`. Used with the same readouts and
the same number of units as the spiking reservoir, so the benchmarks compare
reservoirs, not readouts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plasticity_rules.validation import (
    check_array,
    check_int,
    check_nonnegative,
    check_positive,
    check_probability,
    make_rng,
)

__all__ = ["ESNConfig", "EchoStateNetwork"]


@dataclass(frozen=True)
class ESNConfig:
    """Parameters of :class:`EchoStateNetwork`.

    Parameters
    ----------
    n_units : int
        Reservoir size.
    spectral_radius : float
        :math:`\\rho` of ``W`` (> 0).
    leak : float
        Leak rate :math:`a \\in (0, 1]`.
    input_scale : float
        :math:`s_{in}`.
    bias_scale : float
        Scale of the bias column of ``W_in``.
    density : float
        Fraction of non-zero recurrent weights, in (0, 1].
    """

    n_units: int = 500
    spectral_radius: float = 0.9
    leak: float = 1.0
    input_scale: float = 0.5
    bias_scale: float = 0.2
    density: float = 0.1

    def __post_init__(self):
        check_int("n_units", self.n_units)
        check_positive("spectral_radius", self.spectral_radius)
        check_probability("leak", self.leak)
        if self.leak == 0:
            raise ValueError("leak must be in (0, 1], got 0")
        check_nonnegative("input_scale", self.input_scale)
        check_nonnegative("bias_scale", self.bias_scale)
        check_probability("density", self.density)
        if self.density == 0:
            raise ValueError("density must be in (0, 1], got 0")


class EchoStateNetwork:
    """A leaky tanh reservoir driven by ``n_inputs`` channels.

    Parameters
    ----------
    config : ESNConfig
    n_inputs : int
    seed : int, Generator or None
        Seeds ``W`` and ``W_in``.

    Attributes
    ----------
    W : ndarray, shape (n_units, n_units)
    W_in : ndarray, shape (n_units, 1 + n_inputs)
        Column 0 multiplies the constant bias input.
    """

    def __init__(self, config: ESNConfig | None = None, n_inputs: int = 1, *, seed=None):
        self.config = ESNConfig() if config is None else config
        self.n_inputs = check_int("n_inputs", n_inputs)
        rng = make_rng(seed)
        c = self.config
        n = c.n_units
        W = rng.uniform(-1.0, 1.0, (n, n)) * (rng.random((n, n)) < c.density)
        rho = np.max(np.abs(np.linalg.eigvals(W))) if n > 1 else abs(W[0, 0])
        if rho == 0:
            W = rng.uniform(-1.0, 1.0, (n, n))
            rho = np.max(np.abs(np.linalg.eigvals(W)))
        self.W = W * (c.spectral_radius / rho)
        w_in = rng.uniform(-1.0, 1.0, (n, 1 + n_inputs))
        w_in[:, 0] *= c.bias_scale
        w_in[:, 1:] *= c.input_scale
        self.W_in = w_in

    def run(self, u, x0=None) -> np.ndarray:
        """Drive the reservoir with ``u`` and return its states.

        Parameters
        ----------
        u : array_like, shape (n_steps,) or (n_steps, n_inputs)
        x0 : array_like, shape (n_units,), optional
            Initial state (zeros).

        Returns
        -------
        ndarray, shape (n_steps, n_units)
            ``x(t)`` after input ``u(t)``.
        """
        u = check_array("u", u, ndim=(1, 2))
        if u.ndim == 1:
            u = u[:, None]
        if u.shape[1] != self.n_inputs:
            raise ValueError(f"u must have {self.n_inputs} input channel(s), got shape {u.shape}")
        a = self.config.leak
        x = (
            np.zeros(self.config.n_units)
            if x0 is None
            else check_array("x0", x0, shape=(self.config.n_units,))
        )
        drive = u @ self.W_in[:, 1:].T + self.W_in[:, 0]
        out = np.empty((u.shape[0], x.size))
        for t in range(u.shape[0]):
            x = (1 - a) * x + a * np.tanh(drive[t] + self.W @ x)
            out[t] = x
        return out

    def run_closed_loop(self, readout, x0, u0, n_steps: int) -> np.ndarray:
        """Free-running generation: the readout's output is fed back as the next input.

        Parameters
        ----------
        readout : object with ``predict``
            Maps a state ``(1, n_units)`` to the next input ``(1, n_inputs)`` or ``(1,)``.
        x0 : array_like, shape (n_units,)
            State after the last teacher-forced input.
        u0 : array_like, shape (n_inputs,)
            First fed-back input (the readout's prediction from ``x0``).
        n_steps : int

        Returns
        -------
        ndarray, shape (n_steps, n_inputs)
            The generated inputs ``u(t)``, starting with ``u0``.
        """
        check_int("n_steps", n_steps)
        a = self.config.leak
        x = check_array("x0", x0, shape=(self.config.n_units,)).copy()
        u = np.atleast_1d(check_array("u0", u0, ndim=(0, 1))).astype(float)
        gen = np.empty((n_steps, self.n_inputs))
        for t in range(n_steps):
            gen[t] = u
            x = (1 - a) * x + a * np.tanh(self.W_in[:, 1:] @ u + self.W_in[:, 0] + self.W @ x)
            u = np.atleast_1d(readout.predict(x[None, :])).reshape(-1)[: self.n_inputs]
        return gen
