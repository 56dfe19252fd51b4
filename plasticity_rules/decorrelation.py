"""Online anti-Hebbian decorrelation (and whitening) of presynaptic rates.

A linear, local stage :math:`z(t) = R(t)\\,x(t)` between a population's rates
:math:`x \\in \\mathbb{R}^n` and a readout: each output :math:`z_i` is inhibited by the
outputs it is correlated with, so that the readout learns on decorrelated inputs. The
update is the decorrelation rule described by N. Ahmad (2024, "Correlations are ruining your
gradient descent", arXiv:2407.10780), in the form used here (our reading; the
normalisation by :math:`\\sigma^2` and the target :math:`\\sigma^2` are our choices),

.. math::

    \\Delta R = -\\frac{\\eta}{\\sigma^2}\\,\\Big[(1-\\kappa)\\,\\operatorname{offdiag}(z z^\\top)
               + \\kappa\\,\\big(\\operatorname{diag}(z z^\\top) - \\sigma^2 I\\big)\\Big]\\,R,

applied after every step (:math:`z` computed with :math:`R` before the update), from
:math:`R(0) = I`:

* :math:`\\operatorname{offdiag}(z z^\\top)` is anti-Hebbian: a fixed point needs
  :math:`\\langle z_i z_j \\rangle = 0` for :math:`i \\ne j` (Földiák 1990; the lateral
  decorrelating network of Atick & Redlich 1993);
* with :math:`\\kappa > 0` the diagonal term also drives every output's second moment to
  :math:`\\sigma^2` (whitening, :math:`\\langle z z^\\top \\rangle = \\sigma^2 I`; the
  variance-normalised variant in Ahmad 2024); :math:`\\kappa = 0` only decorrelates.
  :math:`\\sigma^2` defaults to :math:`1/n`, so whitened states keep the unit mean squared
  norm of the input states (:mod:`spiking.reservoir_traces`) and :math:`\\eta` is
  dimensionless.

Why a readout needs it: a first-order (LMS / three-factor) rule descends the squared
error along each eigen-direction of the input covariance :math:`C` at a rate
:math:`\\propto \\lambda_i`, so on strongly correlated states it is fast along the common
mode and slow along weak directions (recursive least squares, FORCE, whitens with
:math:`P \\approx C^{-1}`, Haykin 2002). After decorrelation the rule's steps are taken
in coordinates where :math:`C` is (close to) diagonal, and, with :math:`\\kappa = 1`, close
to :math:`\\sigma^2 I`. Every quantity the update needs at synapse :math:`R_{ij}` is
:math:`z_i` and :math:`(z^\\top R)_j = \\sum_k z_k R_{kj}`, the total lateral signal
arriving at input :math:`j`'s outputs, so the rule stays local to a lateral network.

Stability: one step scales :math:`R` by about :math:`1 - \\eta\\lVert z\\rVert^2/\\sigma^2`, and
:math:`\\lVert z\\rVert^2 \\approx n\\sigma^2` once whitened, so the rule needs
:math:`\\eta \\lesssim 1/n` (``eta`` 1e-3 on 500 neurons).

Kernel: :func:`decorrelate_train` (Numba, :math:`O(n^2)` per step); NumPy twin:
:func:`decorrelate_train_reference`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .validation import check_array, check_int, check_nonnegative, check_positive, check_probability, make_rng

__all__ = ["decorrelate_train", "decorrelate_train_reference", "Decorrelator"]


@njit(cache=True)
def decorrelate_train(R, X, eta, kappa, target, every, Xi):
    """Decorrelate ``X`` online with the anti-Hebbian rule (see the module docstring).

    Parameters
    ----------
    R : ndarray, shape (n_features, n_features)
        Decorrelating matrix before the first step (not modified).
    X : ndarray, shape (n_steps, n_features)
        Input rates :math:`x(t)`.
    eta : float
        Learning rate :math:`\\eta` (dimensionless, in units of :math:`\\sigma^2`).
    kappa : float
        Weight :math:`\\kappa \\in [0, 1]` of the variance-normalising (whitening) term.
    target : float
        Target second moment :math:`\\sigma^2 > 0` of every output.
    every : int
        Update ``R`` after every ``every``-th step only (1: every step).
    Xi : ndarray, shape (n_steps, n_features) or (0, n_features)
        Learning noise :math:`\\xi(t)`: the update uses :math:`z_\\xi = R\\,(x + \\xi)` in place of
        :math:`z` (regularised whitening, see :class:`Decorrelator`); no rows: no noise.

    Returns
    -------
    Z : ndarray, shape (n_steps, n_features)
        :math:`z(t) = R(t) x(t)`, with :math:`R(t)` the matrix before step :math:`t`'s update.
    R : ndarray
        The matrix after the last step.
    """
    n_steps, n = X.shape
    R = R.copy()
    Z = np.empty((n_steps, n))
    z = np.empty(n)
    u = np.empty(n)
    rate = eta / target
    for t in range(n_steps):
        for i in range(n):
            s = 0.0
            for j in range(n):
                s += R[i, j] * X[t, j]
            z[i] = s
            Z[t, i] = s
        if (t + 1) % every != 0:
            continue
        if Xi.shape[0] > 0:
            for i in range(n):
                s = 0.0
                for j in range(n):
                    s += R[i, j] * Xi[t, j]
                z[i] += s
        for j in range(n):
            u[j] = 0.0
        for k in range(n):
            zk = z[k]
            for j in range(n):
                u[j] += zk * R[k, j]
        for i in range(n):
            zi = z[i]
            # row i of [(1-k) offdiag(z z^T) + k (diag(z z^T) - s2 I)] R
            a = (1.0 - kappa) * zi
            d = kappa * (zi * zi - target) - (1.0 - kappa) * zi * zi
            for j in range(n):
                R[i, j] -= rate * (a * u[j] + d * R[i, j])
    return Z, R


def decorrelate_train_reference(R, X, eta, kappa, target, every, Xi):
    """NumPy reference of :func:`decorrelate_train` (same arguments and returns), matrix form."""
    R = np.array(R, dtype=float)
    X = np.asarray(X, dtype=float)
    n = R.shape[0]
    Z = np.empty_like(X)
    for t in range(X.shape[0]):
        z = R @ X[t]
        Z[t] = z
        if (t + 1) % every:
            continue
        if Xi.shape[0]:
            z = R @ (X[t] + Xi[t])
        zz = np.outer(z, z)
        off = zz - np.diag(np.diag(zz))
        M = (1.0 - kappa) * off + kappa * (np.diag(np.diag(zz)) - target * np.eye(n))
        R = R - eta / target * (M @ R)
    return Z, R


class Decorrelator:
    """Online decorrelating / whitening stage ``z = R x`` (see the module docstring).

    Full whitening amplifies every direction of the input to the same power, also the many
    weak directions that carry only noise (on reservoir traces, 99 % of the variance lies in
    ~half the dimensions). With ``noise`` :math:`\\nu > 0` the rule learns on
    :math:`z_\\xi = R\\,(x + \\xi)`, :math:`\\xi \\sim \\mathcal N(0, \\nu\\sigma^2 I)` fresh at every update
    (independent noise in each presynaptic neuron), so its fixed point whitens
    :math:`C + \\nu\\sigma^2 I` instead of :math:`C`: directions of variance
    :math:`\\lambda \\gg \\nu\\sigma^2` are whitened, weaker ones are not amplified (the ridge
    regularisation of whitening; cf. the :math:`\\alpha I` prior of RLS/FORCE). The output
    :math:`z = R x` itself is noise-free.

    Parameters
    ----------
    eta : float
        Learning rate :math:`\\eta` (> 0, dimensionless; ~1/steps of the adaptation time).
    kappa : float
        Whitening weight :math:`\\kappa` in [0, 1]: 0 only decorrelates, 1 only normalises the
        second moments; in between both terms act (whitening).
    target : float or None
        Target second moment :math:`\\sigma^2` of every output (> 0); None: ``1 / n_features``.
    every : int
        Update the matrix every ``every`` steps (>= 1).
    noise : float
        Learning-noise variance :math:`\\nu` relative to :math:`\\sigma^2` (>= 0; 0: none).
    seed : int, Generator or None
        Randomness of the learning noise.

    Attributes
    ----------
    R_ : ndarray, shape (n_features, n_features)
        The decorrelating matrix, carried across :meth:`transform_learn` calls.
    """

    def __init__(self, eta: float = 1e-3, kappa: float = 0.5, target: float | None = None, every: int = 1,
                 noise: float = 0.0, seed=None):
        check_positive("eta", eta)
        check_probability("kappa", kappa)
        check_nonnegative("noise", noise)
        if target is not None:
            check_positive("target", target)
        self.eta, self.kappa, self.target = float(eta), float(kappa), target
        self.every = check_int("every", every, minimum=1)
        self.noise, self.seed = float(noise), seed

    def transform_learn(self, X) -> np.ndarray:
        """Decorrelate ``X`` (``(n_steps, n_features)``) step by step while learning; returns ``Z``."""
        X = np.ascontiguousarray(check_array("X", X, ndim=2), dtype=np.float64)
        n = X.shape[1]
        if not hasattr(self, "R_"):
            self.R_ = np.eye(n)
            self.rng_ = make_rng(self.seed)
        elif self.R_.shape[0] != n:
            raise ValueError(f"X has {n} features, the decorrelator was built for {self.R_.shape[0]}")
        target = 1.0 / n if self.target is None else float(self.target)
        if self.noise > 0:
            Xi = self.rng_.normal(0.0, np.sqrt(self.noise * target), X.shape)
        else:
            Xi = np.zeros((0, n))
        Z, self.R_ = decorrelate_train(self.R_, X, self.eta, self.kappa, target, self.every, Xi)
        return Z

    def transform(self, X) -> np.ndarray:
        """``X R^T`` with the current matrix (identity before any learning)."""
        X = check_array("X", X, ndim=2)
        return X if not hasattr(self, "R_") else X @ self.R_.T
