"""Plastic linear readouts of fixed states for continual learning, with the network interface.

A liquid or reservoir is not trained; what learns a task stream is a linear readout
of its states. The two readouts here have the interface the continual-learning loop
(:func:`tasks.cl_training.train_stream`) and the strategies
(:mod:`plasticity_rules.cl_strategies`) use for :class:`spiking.feedforward.FeedforwardSNN`
(``layer_sizes``, ``forward``, ``backward``, ``apply_update``, ``weights``,
``accuracy``), so finetune, EWC, exact projection, HLOP and multitask protect them
unchanged: the "presynaptic traces" are the states, and HLOP's subspace neurons
learn the principal subspace of the states online (Oja subspace rule) while a task is
trained.

A constant unit :math:`x_0 = 1` is appended to every state, so the bias is an
ordinary weight that the projection methods and EWC protect like the others
(the states of every task share that direction).

:class:`SoftmaxStateReadout` (the delta rule of a softmax layer, i.e. SGD on the
cross-entropy):

.. math::

    p = \\operatorname{softmax}_{m}(W x), \\qquad
    W \\leftarrow W - \\frac{\\eta}{B} \\sum_s (p_s - y_s)\\, \\tilde x_s^\\top ,

where :math:`m` masks the outputs of other tasks' heads (task-incremental) and
:math:`\\tilde x` is the (possibly projected) state.

:class:`ThreeFactorStateReadout` (the normalised three-factor rule of
:mod:`plasticity_rules.three_factor` with an eligibility trace equal to the state,
:math:`\\tau_e = 0`): linear outputs :math:`\\hat y = W x`, error
:math:`e = y^* - \\hat y` (one-hot targets), attention gate :math:`g` = 1 on the
outputs of the current task's head (all outputs in domain / class-incremental
streams), and

.. math::

    W \\leftarrow W + \\frac{\\eta}{B} \\sum_s
        \\frac{(g \\odot e_s)\\, \\tilde x_s^\\top}{\\epsilon + \\lVert x_s \\rVert^2} .

With one sample per batch and no projection this is exactly one step of
:func:`plasticity_rules.three_factor.three_factor_train` (online, ``normalise=True``,
learned bias), which the tests check.

References
----------
B. Widrow, M. Hoff. "Adaptive switching circuits", IRE WESCON (1960).
M. Xiao et al. "Hebbian Learning based Orthogonal Projection for Continual Learning
of Spiking Neural Networks", ICLR 2024.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .validation import check_array, check_int, check_positive

__all__ = ["StatePass", "SoftmaxStateReadout", "ThreeFactorStateReadout", "READOUTS", "make_state_readout"]


@dataclass
class StatePass:
    """Result of ``forward``: ``traces = [states and constant unit (B, n_features + 1)]``, ``logits``."""

    traces: list
    logits: np.ndarray


def _masked(z, class_mask):
    if class_mask is None:
        return z
    m = np.asarray(class_mask, dtype=bool)
    return np.where(m if m.ndim == 2 else m[None, :], z, -np.inf)


def _gate(class_mask, B, n_out):
    if class_mask is None:
        return np.ones((B, n_out))
    m = np.asarray(class_mask, dtype=float)
    return np.broadcast_to(m if m.ndim == 2 else m[None, :], (B, n_out))


class _LinearStateReadout:
    """Shared part: weights ``[W (n_outputs, n_features + 1)]`` (last column: the bias), zero at start."""

    def __init__(self, n_inputs: int, n_outputs: int, seed=None):
        self.n_inputs = check_int("n_inputs", n_inputs, minimum=1)
        self.n_outputs = check_int("n_outputs", n_outputs, minimum=2)
        # zero start as the delta-rule readouts of this package; seed kept for the common signature
        self.weights = [np.zeros((self.n_outputs, self.n_inputs + 1))]

    @property
    def layer_sizes(self) -> list[int]:
        return [self.n_inputs + 1, self.n_outputs]

    def forward(self, X) -> StatePass:
        """States ``X`` ``(B, n_inputs)`` -> their linear outputs (the states are the traces)."""
        X = check_array("states", X, ndim=2)
        if X.shape[1] != self.n_inputs:
            raise ValueError(f"states must have {self.n_inputs} columns (n_inputs), got shape {X.shape}")
        Xb = np.hstack([X, np.ones((X.shape[0], 1))])
        return StatePass([Xb], Xb @ self.weights[0].T)

    def predict(self, X, class_mask=None) -> np.ndarray:
        """Predicted labels; ``class_mask`` (bool, ``(n_outputs,)``) restricts the candidates."""
        return np.argmax(_masked(self.forward(X).logits, class_mask), axis=1)

    def accuracy(self, X, y, class_mask=None, batch_size: int = 2048) -> float:
        """Fraction of correctly classified samples."""
        y = np.asarray(y)
        hits = sum(int(np.sum(self.predict(X[i : i + batch_size], class_mask) == y[i : i + batch_size]))
                   for i in range(0, len(y), batch_size))
        return hits / max(len(y), 1)

    def apply_update(self, deltas, traces, lr: float, extra_grads=None):
        """``W -= lr (delta^T x~ / B + extra)`` with the (possibly projected) states ``x~``."""
        g = deltas[0].T @ traces[0] / deltas[0].shape[0]
        if extra_grads is not None:
            g = g + extra_grads[0]
        self.weights[0] -= lr * g
        if not np.all(np.isfinite(self.weights[0])):
            raise FloatingPointError(
                f"readout weights diverged (non-finite) with lr={lr}; lower the learning rate"
            )
        return [g]


class SoftmaxStateReadout(_LinearStateReadout):
    """Softmax readout of states trained by the delta rule on the cross-entropy (module docstring)."""

    def backward(self, fp: StatePass, y, class_mask=None, *, labels_from_model=None):
        """Per-sample errors ``[p - onehot(y)]`` (B, n_outputs) and the mean cross-entropy.

        ``labels_from_model`` (a Generator): labels drawn from the model's distribution
        (the true Fisher of EWC).
        """
        z = _masked(fp.logits, class_mask)
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        B = p.shape[0]
        y = np.asarray(y)
        if labels_from_model is not None:
            u = labels_from_model.random(B)[:, None]
            y = np.minimum((u > np.cumsum(p, axis=1)).sum(axis=1), self.n_outputs - 1)
        loss = float(-np.mean(np.log(p[np.arange(B), y] + 1e-12)))
        d = p.copy()
        d[np.arange(B), y] -= 1.0
        return [d], loss


class ThreeFactorStateReadout(_LinearStateReadout):
    """Normalised, gated three-factor (delta/LMS) readout of states (module docstring).

    Parameters
    ----------
    n_inputs, n_outputs : int
    eps : float
        :math:`\\epsilon` of the normalisation.
    """

    def __init__(self, n_inputs: int, n_outputs: int, seed=None, eps: float = 1e-3):
        super().__init__(n_inputs, n_outputs, seed)
        self.eps = check_positive("eps", eps)

    def backward(self, fp: StatePass, y, class_mask=None, *, labels_from_model=None):
        """Per-sample errors ``-g e / (eps + |x|^2)`` (B, n_outputs) and the mean squared error.

        ``labels_from_model`` (a Generator): errors drawn from the model's unit-variance
        Gaussian likelihood, ``g * N(0, 1)`` (the true Fisher of EWC: :math:`E[x^2]`).
        """
        x = fp.traces[0]
        B = x.shape[0]
        g = _gate(class_mask, B, self.n_outputs)
        if labels_from_model is not None:
            return [g * labels_from_model.standard_normal((B, self.n_outputs))], float("nan")
        Y = np.zeros((B, self.n_outputs))
        Y[np.arange(B), np.asarray(y)] = 1.0
        e = g * (Y - fp.logits)
        power = self.eps + np.einsum("ij,ij->i", x, x)
        return [-e / power[:, None]], float(np.mean(e**2))


#: Readouts by name (``neuroplast run continual --readout``).
READOUTS = {"softmax": SoftmaxStateReadout, "three-factor": ThreeFactorStateReadout}


def make_state_readout(name: str, n_inputs: int, n_outputs: int, seed=None):
    """The readout registered as ``name``; ``ValueError`` names the allowed ones."""
    if name not in READOUTS:
        raise ValueError(f"unknown state readout {name!r}; allowed: {', '.join(READOUTS)}")
    return READOUTS[name](n_inputs, n_outputs, seed)
