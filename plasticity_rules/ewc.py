"""Elastic weight consolidation (EWC): diagonal Fisher and quadratic penalty.

After task :math:`t` the parameters :math:`\\theta^*_t` and the diagonal of the
Fisher information :math:`F_t` are stored; later tasks minimise

.. math::

    L(\\theta) + \\frac{\\lambda}{2} \\sum_t \\sum_i F_{t,i} (\\theta_i - \\theta^*_{t,i})^2 .

The sums are kept as :math:`A = \\sum_t F_t`, :math:`b = \\sum_t F_t \\theta^*_t`,
:math:`c = \\sum_t F_t {\\theta^*_t}^2`, so that the penalty is
:math:`\\tfrac{\\lambda}{2}(\\sum A\\theta^2 - 2 b\\theta + c)` and its gradient
:math:`\\lambda (A\\theta - b)`, at a cost independent of the number of tasks.

For a layer whose per-sample weight gradient is the outer product
:math:`\\delta_s x_s^\\top` (postsynaptic error times presynaptic trace), the
diagonal Fisher is exact without materialising per-sample gradients:

.. math::

    F = \\frac{1}{n_s} \\sum_s (\\delta_s x_s^\\top)^{\\circ 2}
      = \\frac{1}{n_s} (\\delta^{\\circ 2})^\\top (x^{\\circ 2}).

References
----------
J. Kirkpatrick et al. "Overcoming catastrophic forgetting in neural networks",
PNAS 114 (2017) 3521-3526.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .validation import check_array, check_nonnegative, check_positive

__all__ = [
    "outer_fisher_diagonal",
    "outer_fisher_diagonal_reference",
    "ewc_penalty_grad",
    "ewc_penalty_grad_reference",
    "EWCPenalty",
]


@njit(cache=True)
def outer_fisher_diagonal(delta, x):
    """Diagonal Fisher of an outer-product layer: ``(delta**2).T @ (x**2) / n_samples``.

    Parameters
    ----------
    delta : ndarray, shape (n_samples, n_out)
        Per-sample gradient of the log-likelihood w.r.t. the layer's pre-activations.
    x : ndarray, shape (n_samples, n_in)
        Per-sample presynaptic traces.

    Returns
    -------
    ndarray, shape (n_out, n_in)
    """
    d2 = delta * delta
    x2 = x * x
    return np.dot(np.ascontiguousarray(d2.T), x2) / max(delta.shape[0], 1)


def outer_fisher_diagonal_reference(delta, x):
    """NumPy reference of :func:`outer_fisher_diagonal` (explicit per-sample outer products)."""
    F = np.zeros((delta.shape[1], x.shape[1]))
    for d, xi in zip(delta, x, strict=True):
        F += np.outer(d, xi) ** 2
    return F / max(delta.shape[0], 1)


@njit(cache=True)
def ewc_penalty_grad(theta, A, b, c, lam):
    """EWC penalty and its gradient from the accumulated sums ``A, b, c`` (module docstring).

    Returns
    -------
    penalty : float
    grad : ndarray, same shape as ``theta``
    """
    t = theta.ravel()
    a = A.ravel()
    bb = b.ravel()
    cc = c.ravel()
    g = np.empty_like(t)
    p = 0.0
    for i in range(t.size):
        p += a[i] * t[i] * t[i] - 2.0 * bb[i] * t[i] + cc[i]
        g[i] = lam * (a[i] * t[i] - bb[i])
    return 0.5 * lam * p, g.reshape(theta.shape)


def ewc_penalty_grad_reference(theta, anchors, fishers, lam):
    """NumPy reference: explicit sum over tasks of ``lam/2 * F_t (theta - theta*_t)**2``."""
    p = 0.0
    g = np.zeros_like(theta)
    for th, F in zip(anchors, fishers, strict=True):
        p += 0.5 * lam * float(np.sum(F * (theta - th) ** 2))
        g += lam * F * (theta - th)
    return p, g


class EWCPenalty:
    """EWC for a list of weight matrices (one per layer).

    Parameters
    ----------
    lam : float
        Penalty strength :math:`\\lambda`.

    Attributes
    ----------
    A_, b_, c_ : list of ndarray
        Accumulated Fisher sums per layer (see module docstring).
    n_tasks_ : int
    """

    def __init__(self, lam: float = 100.0):
        self.lam = lam

    def consolidate(self, weights, fishers) -> "EWCPenalty":
        """Store the anchors ``weights`` and Fisher diagonals ``fishers`` of a finished task."""
        check_nonnegative("lam", self.lam)
        if len(weights) != len(fishers):
            raise ValueError(f"got {len(weights)} weight matrices but {len(fishers)} Fisher matrices")
        if not hasattr(self, "A_"):
            self.A_ = [np.zeros_like(w, dtype=np.float64) for w in weights]
            self.b_ = [np.zeros_like(w, dtype=np.float64) for w in weights]
            self.c_ = [np.zeros_like(w, dtype=np.float64) for w in weights]
            self.n_tasks_ = 0
        for i, (w, F) in enumerate(zip(weights, fishers, strict=True)):
            F = check_array(f"fishers[{i}]", F, shape=self.A_[i].shape)
            if np.any(F < 0):
                raise ValueError(f"fishers[{i}] must be non-negative")
            self.A_[i] += F
            self.b_[i] += F * w
            self.c_[i] += F * w * w
        self.n_tasks_ += 1
        return self

    def proximal(self, weights, lr: float):
        """Implicit (proximal) step of the penalty after a loss-gradient step.

        .. math::

            \\theta \\leftarrow \\arg\\min_{\\theta'} \\frac{\\|\\theta' - \\theta\\|^2}{2\\eta}
            + \\frac{\\lambda}{2}\\sum_t F_t(\\theta' - \\theta^*_t)^2
            = \\frac{\\theta + \\eta\\lambda b}{1 + \\eta\\lambda A}

        Unlike the explicit gradient step, it is stable for any
        :math:`\\eta\\lambda F` (an explicit step diverges once
        :math:`\\eta\\lambda \\max F > 2`). Returns new arrays (weights before any task: unchanged).
        """
        check_positive("lr", lr)
        if not hasattr(self, "A_"):
            return [np.array(w, dtype=np.float64) for w in weights]
        k = lr * float(self.lam)
        return [(w + k * b) / (1.0 + k * A) for w, A, b in zip(weights, self.A_, self.b_, strict=True)]

    def penalty_and_grads(self, weights):
        """Penalty (float) and list of gradients for the current ``weights`` (zeros before any task)."""
        if not hasattr(self, "A_"):
            return 0.0, [np.zeros_like(w, dtype=np.float64) for w in weights]
        total = 0.0
        grads = []
        for w, A, b, c in zip(weights, self.A_, self.b_, self.c_, strict=True):
            p, g = ewc_penalty_grad(np.ascontiguousarray(w, dtype=np.float64), A, b, c, float(self.lam))
            total += p
            grads.append(g)
        return total, grads
