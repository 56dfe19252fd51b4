"""Delta-rule readout of reservoir / liquid states protected by HLOP.

A linear readout :math:`\\hat y = W x + b` of state vectors (filtered spike
traces of a reservoir or liquid) learns with the delta rule (LMS, Widrow-Hoff)
on mini-batches, with the presynaptic states replaced by their HLOP
projections :math:`\\tilde x = x - H_{\\text{old}}^\\top q(H_{\\text{old}} x)`:

.. math::

    W \\leftarrow W + \\frac{\\eta}{B} (Y - \\hat Y)^\\top \\tilde X, \\qquad
    b \\leftarrow b + \\frac{\\eta}{B} \\sum_s (y_s - \\hat y_s) .

The subspace neurons of the current task learn the principal subspace of the
states with the Oja subspace rule (:mod:`plasticity_rules.hlop`) while the
task is trained; :meth:`HLOPDeltaReadout.begin_task` freezes them and adds
neurons for the next task. As in the HLOP reference, the bias (which no
projection protects) learns during the first task only.

References
----------
B. Widrow, M. Hoff. "Adaptive switching circuits", IRE WESCON (1960).
M. Xiao et al. "Hebbian Learning based Orthogonal Projection for Continual
Learning of Spiking Neural Networks", ICLR 2024.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .hlop import HLOPConfig, HLOPLayer
from .readouts import Readout
from .validation import check_int, check_positive, make_rng

__all__ = ["delta_rule_update", "delta_rule_update_reference", "HLOPDeltaReadout"]


@njit(cache=True)
def delta_rule_update(W, b, X, Xp, Y, eta, learn_bias):
    """One batched delta-rule step with projected presynaptic states.

    Parameters
    ----------
    W : ndarray, shape (n_outputs, n_features)
    b : ndarray, shape (n_outputs,)
    X : ndarray, shape (B, n_features)
        States (for the prediction).
    Xp : ndarray, shape (B, n_features)
        Projected states (for the update).
    Y : ndarray, shape (B, n_outputs)
    eta : float
    learn_bias : bool

    Returns
    -------
    W_new, b_new : ndarray
    """
    B = X.shape[0]
    E = Y - (np.dot(X, np.ascontiguousarray(W.T)) + b)
    W_new = W + eta * np.dot(np.ascontiguousarray(E.T), Xp) / B
    b_new = b.copy()
    if learn_bias:
        for k in range(b.shape[0]):
            s = 0.0
            for i in range(B):
                s += E[i, k]
            b_new[k] += eta * s / B
    return W_new, b_new


def delta_rule_update_reference(W, b, X, Xp, Y, eta, learn_bias):
    """NumPy reference of :func:`delta_rule_update`."""
    E = Y - (X @ W.T + b)
    W_new = W + eta * E.T @ Xp / X.shape[0]
    b_new = b + (eta * E.mean(axis=0) if learn_bias else 0.0)
    return W_new, np.array(b_new, dtype=np.float64)


class HLOPDeltaReadout(Readout):
    """Delta-rule readout with HLOP-projected states, for continual learning on reservoir states.

    Parameters
    ----------
    eta : float
        Delta-rule learning rate.
    n_subspace : int
        HLOP neurons added per task.
    epochs : int
        Passes over each ``partial_fit`` chunk.
    batch_size : int
    hlop : HLOPConfig, optional
        Hebbian parameters of the subspace neurons.
    protect : bool
        Use projected states (``False``: plain delta rule, the fine-tuning baseline).
    seed : int, optional

    Attributes
    ----------
    coef_ : ndarray, shape (n_outputs, n_features)
    intercept_ : ndarray, shape (n_outputs,)
    hlop_ : HLOPLayer
    task_ : int
        Index of the current task (0-based).
    """

    def __init__(self, eta: float = 0.01, n_subspace: int = 20, epochs: int = 1, batch_size: int = 32,
                 hlop: HLOPConfig | None = None, protect: bool = True, seed=None):
        self.eta = eta
        self.n_subspace = n_subspace
        self.epochs = epochs
        self.batch_size = batch_size
        self.hlop = hlop
        self.protect = protect
        self.seed = seed

    def _validate_params(self) -> None:
        check_positive("eta", self.eta)
        check_int("n_subspace", self.n_subspace, minimum=1)
        check_int("epochs", self.epochs, minimum=1)
        check_int("batch_size", self.batch_size, minimum=1)
        if self.hlop is not None and not isinstance(self.hlop, HLOPConfig):
            raise ValueError(f"hlop must be an HLOPConfig or None, got {type(self.hlop).__name__}")

    def _init_state(self, n_features: int, n_outputs: int) -> None:
        self._rng = make_rng(self.seed)
        self.coef_ = np.zeros((n_outputs, n_features))
        self.intercept_ = np.zeros(n_outputs)
        self.hlop_ = HLOPLayer(n_features, self.hlop or HLOPConfig(), seed=self._rng)
        self.hlop_.add_subspace(self.n_subspace)
        self.task_ = 0

    def begin_task(self, n_subspace: int | None = None):
        """Freeze the current task's subspace neurons and add ``n_subspace`` new ones; returns ``self``."""
        if not hasattr(self, "coef_"):
            raise ValueError("HLOPDeltaReadout: call partial_fit on the first task before begin_task")
        self.hlop_.consolidate()
        self.hlop_.add_subspace(self.n_subspace if n_subspace is None else n_subspace)
        self.task_ += 1
        return self

    def _learn(self, X, Y, **kwargs) -> None:
        n = X.shape[0]
        first = self.hlop_.n_fixed_ == 0
        for _ in range(self.epochs):
            idx = self._rng.permutation(n)
            for i in range(0, n, self.batch_size):
                b = idx[i : i + self.batch_size]
                Xb = np.ascontiguousarray(X[b])
                Xp = self.hlop_.project(Xb) if self.protect else Xb
                self.coef_, self.intercept_ = delta_rule_update(
                    self.coef_, self.intercept_, Xb, np.ascontiguousarray(Xp),
                    np.ascontiguousarray(Y[b]), float(self.eta), bool(first),
                )
                self.hlop_.update(Xb)
        if not np.all(np.isfinite(self.coef_)):
            raise FloatingPointError(f"delta-rule weights diverged with eta={self.eta}; lower eta or scale X")
