"""FORCE learning: recursive least squares (RLS) readouts (Sussillo & Abbott 2009).

Sussillo, D. & Abbott, L. F. (2009). Generating coherent patterns of activity
from chaotic neural networks. *Neuron* 63, 544-557, eqs. (4)-(5):

.. math::

    e_-(t) &= W(t - \\Delta t)\\, r(t) - f(t) \\\\
    P(t) &= P(t - \\Delta t) - \\frac{P(t - \\Delta t)\\, r(t)\\, r(t)^\\top P(t - \\Delta t)}
            {1 + r(t)^\\top P(t - \\Delta t)\\, r(t)} \\\\
    W(t) &= W(t - \\Delta t) - e_-(t)\\, \\big(P(t)\\, r(t)\\big)^\\top ,
    \\qquad P(0) = I / \\alpha .

``P`` is a running estimate of the inverse correlation matrix of the rates
plus :math:`\\alpha I`; it shrinks as data accumulate, so the effective
learning rate decays like :math:`1/t`. After a change of the task statistics
FORCE therefore adapts slowly unless ``P`` is reset to :math:`I/\\alpha`
(``reset`` below), which is the comparison made by Yamada & Chao (2025,
arXiv:2510.14382). Updates may be applied every ``k`` steps only
(Sussillo & Abbott update every 2 ms with 0.1 ms steps).

The bias is learned as the weight of a constant input of 1, inside ``P``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .readouts import Readout
from .validation import check_int, check_positive

__all__ = ["force_rls_train", "force_rls_train_reference", "ForceReadout"]


@njit(cache=True)
def force_rls_train(W, P, X, Y, alpha, update_every, step0, reset, learn):
    """Run FORCE/RLS over recorded rates.

    Parameters
    ----------
    W : ndarray, shape (n_outputs, n_features)
        Initial weights (not modified).
    P : ndarray, shape (n_features, n_features)
        Initial inverse correlation estimate (not modified).
    X : ndarray, shape (n_steps, n_features)
        Rates :math:`r(t)`.
    Y : ndarray, shape (n_steps, n_outputs)
        Targets :math:`f(t)`.
    alpha : float
        Regulariser; a reset sets :math:`P = I/\\alpha`.
    update_every : int
        Update on steps whose global index ``step0 + t`` is a multiple of it.
    step0 : int
        Global index of the first row (keeps the cadence across chunks).
    reset : ndarray of bool, shape (n_steps,)
        Reset ``P`` to :math:`I/\\alpha` before this step.
    learn : ndarray of bool, shape (n_steps,)
        Steps on which an update (due by the cadence) is applied; False skips it
        (e.g. unreinforced probe trials).

    Returns
    -------
    W, P : ndarray
        After the run.
    Yhat : ndarray, shape (n_steps, n_outputs)
        Output at each step with the weights held before that step's update.
    """
    n_steps, n = X.shape
    n_out = W.shape[0]
    W = W.copy()
    P = P.copy()
    Yhat = np.empty((n_steps, n_out))
    Px = np.empty(n)
    err = np.empty(n_out)
    for t in range(n_steps):
        if reset[t]:
            for i in range(n):
                for j in range(n):
                    P[i, j] = 0.0
                P[i, i] = 1.0 / alpha
        for o in range(n_out):
            y = 0.0
            for j in range(n):
                y += W[o, j] * X[t, j]
            Yhat[t, o] = y
            err[o] = y - Y[t, o]
        if (step0 + t) % update_every != 0 or not learn[t]:
            continue
        rPr = 0.0
        for i in range(n):
            s = 0.0
            for j in range(n):
                s += P[i, j] * X[t, j]
            Px[i] = s
            rPr += X[t, i] * s
        c = 1.0 / (1.0 + rPr)
        for i in range(n):
            ci = c * Px[i]
            for j in range(n):
                P[i, j] -= ci * Px[j]
        for o in range(n_out):
            eo = c * err[o]
            for j in range(n):
                W[o, j] -= eo * Px[j]
    return W, P, Yhat


def force_rls_train_reference(W, P, X, Y, alpha, update_every, step0, reset, learn):
    """NumPy reference of :func:`force_rls_train` (same arguments and returns)."""
    W = np.array(W, dtype=float)
    P = np.array(P, dtype=float)
    n = X.shape[1]
    Yhat = np.empty((X.shape[0], W.shape[0]))
    for t in range(X.shape[0]):
        if reset[t]:
            P = np.eye(n) / alpha
        r = X[t]
        y = W @ r
        Yhat[t] = y
        if (step0 + t) % update_every or not learn[t]:
            continue
        Pr = P @ r
        P = P - np.outer(Pr, Pr) / (1.0 + r @ Pr)
        W = W - np.outer(y - Y[t], P @ r)
    return W, P, Yhat


class ForceReadout(Readout):
    """Linear readouts trained online by FORCE / RLS (see module docstring).

    Parameters
    ----------
    alpha : float
        :math:`P(0) = I/\\alpha` (> 0); larger is more regularised and slower.
    update_every : int
        Apply the RLS update every ``k`` steps (>= 1).
    fit_intercept : bool
        Learn a bias (as the weight of a constant input inside ``P``).

    Attributes
    ----------
    coef_, intercept_ : ndarray
    P_ : ndarray, shape (n_features [+1], n_features [+1])
        Inverse correlation estimate.
    n_steps_seen_ : int
    n_resets_ : int
    train_predictions_ : ndarray
        Outputs produced while learning the last chunk.
    """

    def __init__(self, alpha: float = 1.0, update_every: int = 1, fit_intercept: bool = True):
        self.alpha = alpha
        self.update_every = update_every
        self.fit_intercept = fit_intercept

    def _validate_params(self) -> None:
        check_positive("alpha", self.alpha)
        check_int("update_every", self.update_every, minimum=1)

    def _init_state(self, n_features: int, n_outputs: int) -> None:
        m = n_features + int(bool(self.fit_intercept))
        self._W_ = np.zeros((n_outputs, m))
        self.P_ = np.eye(m) / float(self.alpha)
        self.coef_ = np.zeros((n_outputs, n_features))
        self.intercept_ = np.zeros(n_outputs)
        self.n_steps_seen_ = 0
        self.n_resets_ = 0

    def reset_P(self):
        """Reset the inverse correlation estimate to :math:`I/\\alpha`; returns ``self``."""
        if hasattr(self, "P_"):
            self.P_ = np.eye(self.P_.shape[0]) / float(self.alpha)
            self.n_resets_ += 1
        return self

    def _learn(self, X, Y, reset_at=None, learn=None) -> None:
        """``reset_at``: step indices or mask where P is reset; ``learn``: mask of steps that may update."""
        n_steps = X.shape[0]
        if learn is None:
            learn = np.ones(n_steps, dtype=bool)
        else:
            learn = np.asarray(learn)
            if learn.dtype != bool or learn.shape != (n_steps,):
                raise ValueError(
                    f"learn must be a boolean mask of shape ({n_steps},), got {learn.dtype} {learn.shape}"
                )
        reset = np.zeros(n_steps, dtype=bool)
        if reset_at is not None:
            idx = np.asarray(reset_at)
            if idx.dtype == bool:
                if idx.shape != (n_steps,):
                    raise ValueError(f"reset_at as a mask must have shape ({n_steps},), got {idx.shape}")
                reset = idx.copy()
            else:
                idx = np.atleast_1d(idx)
                if idx.size and (idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= n_steps):
                    raise ValueError(f"reset_at must be step indices in [0, {n_steps - 1}] or a boolean mask")
                reset[idx.astype(np.int64)] = True
        Xa = np.hstack([X, np.ones((n_steps, 1))]) if self.fit_intercept else np.ascontiguousarray(X)
        W, P, Yhat = force_rls_train(
            self._W_,
            self.P_,
            Xa,
            np.ascontiguousarray(Y),
            float(self.alpha),
            int(self.update_every),
            int(self.n_steps_seen_),
            reset,
            learn,
        )
        self._W_, self.P_ = W, P
        if self.fit_intercept:
            self.coef_, self.intercept_ = W[:, :-1].copy(), W[:, -1].copy()
        else:
            self.coef_, self.intercept_ = W.copy(), np.zeros(W.shape[0])
        self.n_steps_seen_ += n_steps
        self.n_resets_ += int(reset.sum())
        self.train_predictions_ = self._shape_out(Yhat)
