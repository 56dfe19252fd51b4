"""Hebbian learning based orthogonal projection (HLOP) for continual learning.

For every layer of a network, a group of lateral *subspace neurons* with
weights :math:`H \\in \\mathbb{R}^{m \\times n}` reads the layer's presynaptic
activity traces :math:`x \\in \\mathbb{R}^n` (``y = H x``) and learns, with the
Hebbian / anti-Hebbian Oja subspace rule, the principal subspace of those
traces. Neurons are added for every new task; the neurons of earlier tasks are
frozen. While later tasks are learned, every weight update of the layer uses
the projected trace

.. math::

    \\tilde x = x - H_{\\text{old}}^\\top (H_{\\text{old}} x)

instead of :math:`x`, so the update :math:`\\Delta W = -\\eta\\, \\delta\\, \\tilde x^\\top`
is (approximately) orthogonal to the input subspace of the old tasks and does
not change the layer's response to them. Any learning rule whose weight update
is an outer product of a postsynaptic factor and a presynaptic trace can be
protected this way (surrogate-gradient training, delta rule, three-factor
rules).

The Hebbian update of the subspace neurons (Oja 1989, subspace rule) is

.. math::

    y = H x, \\qquad \\hat x = H^\\top y, \\qquad
    \\Delta H = \\operatorname{clip}\\!\\left(\\tfrac{1}{B}\\, Y^\\top (X - \\hat X), \\pm c\\right)

applied to a batch :math:`X` (``(n_batch, n)``) ``iterations`` times, with
momentum :math:`M \\leftarrow \\mu M + (1-\\mu)\\,\\Delta H`,
:math:`H \\leftarrow H + \\eta_H M` on the rows of the current task only; rows of
earlier tasks (the first ``n_fixed`` rows) keep :math:`H` and :math:`M`. With
spiking lateral neurons the response is quantised as spike counts of
``spiking_timesteps`` steps over the range ``[-spiking_scale, spiking_scale]``:

.. math::

    y_q = \\frac{s}{T_s}\\, \\operatorname{round}\\!\\left(
          \\frac{T_s}{s} \\operatorname{clip}(y, -s, s)\\right).

These are the update, clipping (``c = 10``), momentum (``mu = 0.9``) and
quantisation of the reference implementation (pkuxmq/HLOP-SNN,
``modules/hlop_module.py``).

References
----------
M. Xiao, Q. Meng, Z. Zhang, D. He, Z. Lin. "Hebbian Learning based Orthogonal
Projection for Continual Learning of Spiking Neural Networks", ICLR 2024.
E. Oja. "Neural networks, principal components, and subspaces", Int. J. Neural
Syst. 1 (1989) 61-68.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numba import njit

from .validation import check_array, check_int, check_nonnegative, check_positive, make_rng

__all__ = [
    "HLOPConfig",
    "HLOPLayer",
    "SubspaceSaturationWarning",
    "quantise_lateral",
    "quantise_lateral_reference",
    "oja_subspace_update",
    "oja_subspace_update_reference",
    "hlop_project",
    "hlop_project_reference",
]


_MAX_ROW_NORM = 1e3


class SubspaceSaturationWarning(UserWarning):
    """The subspace of a layer fills its whole input space: projected updates vanish."""


# ----------------------------------------------------------------------------- kernels


@njit(cache=True)
def quantise_lateral(y, scale, timesteps):
    """Spike-count quantisation of lateral responses (see module docstring).

    Parameters
    ----------
    y : ndarray, shape (n_batch, m)
    scale, timesteps : float
        Range ``[-scale, scale]`` and number of time steps of the spiking lateral neurons.

    Returns
    -------
    ndarray, shape (n_batch, m)
    """
    out = np.empty_like(y)
    a, b = y.shape
    for i in range(a):
        for j in range(b):
            v = y[i, j]
            if v > scale:
                v = scale
            elif v < -scale:
                v = -scale
            out[i, j] = np.round(v / scale * timesteps) / timesteps * scale
    return out


def quantise_lateral_reference(y, scale, timesteps):
    """NumPy reference of :func:`quantise_lateral`."""
    return np.round(np.clip(y, -scale, scale) / scale * timesteps) / timesteps * scale


@njit(cache=True)
def _lateral(X, H, spiking, scale, timesteps):
    Y = np.dot(X, np.ascontiguousarray(H.T))
    if spiking:
        Y = quantise_lateral(Y, scale, timesteps)
    return Y


@njit(cache=True)
def hlop_project(X, H, spiking, scale, timesteps):
    """Remove the subspace spanned by the rows of ``H`` from traces ``X``.

    .. math:: \\tilde X = X - q(X H^\\top)\\, H

    Parameters
    ----------
    X : ndarray, shape (n_batch, n)
        Presynaptic traces.
    H : ndarray, shape (m, n)
        Subspace neuron weights (``m`` may be 0: nothing is removed).
    spiking : bool
        Quantise the lateral response ``q`` as spike counts.
    scale, timesteps : float
        Quantisation range and resolution (ignored unless ``spiking``).

    Returns
    -------
    ndarray, shape (n_batch, n)
    """
    if H.shape[0] == 0:
        return X.copy()
    Y = _lateral(X, H, spiking, scale, timesteps)
    return X - np.dot(Y, H)


def hlop_project_reference(X, H, spiking, scale, timesteps):
    """NumPy reference of :func:`hlop_project`."""
    X = np.asarray(X, dtype=np.float64)
    if H.shape[0] == 0:
        return X.copy()
    Y = X @ H.T
    if spiking:
        Y = quantise_lateral_reference(Y, scale, timesteps)
    return X - Y @ H


@njit(cache=True)
def oja_subspace_update(H, M, X, n_fixed, lr, momentum, clip, iterations, spiking, scale, timesteps):
    """Hebbian/anti-Hebbian Oja subspace learning of the lateral HLOP neurons.

    Each of the ``iterations`` steps computes

    .. math::

        Y = q(X H^\\top),\\quad D = \\operatorname{clip}(Y^\\top (X - Y H) / B, \\pm c),\\quad
        M_f \\leftarrow \\mu M_f + (1-\\mu) D_f,\\quad H_f \\leftarrow H_f + \\eta M_f

    where ``f`` are the free rows ``n_fixed:``; rows ``:n_fixed`` (earlier
    tasks) take part in ``Y`` and the reconstruction but are not changed.

    Parameters
    ----------
    H, M : ndarray, shape (m, n)
        Weights and momentum buffer (not modified; copies are returned).
    X : ndarray, shape (n_batch, n)
        Presynaptic traces.
    n_fixed : int
        Number of frozen leading rows.
    lr, momentum, clip : float
        Learning rate, momentum coefficient in [0, 1) (0: plain update), clipping bound.
    iterations : int
        Number of update steps on this batch.
    spiking : bool
        Quantise the lateral responses.
    scale, timesteps : float
        Quantisation range and resolution.

    Returns
    -------
    H_new, M_new : ndarray, shape (m, n)
    """
    H = H.copy()
    M = M.copy()
    m, n = H.shape
    B = X.shape[0]
    if m == 0 or B == 0:
        return H, M
    for _ in range(iterations):
        Y = _lateral(X, H, spiking, scale, timesteps)
        R = X - np.dot(Y, H)
        # only the free rows change: D is computed for them alone
        D = np.dot(np.ascontiguousarray(Y[:, n_fixed:].T), R) / B
        for i in range(n_fixed, m):
            for j in range(n):
                d = D[i - n_fixed, j]
                if d > clip:
                    d = clip
                elif d < -clip:
                    d = -clip
                M[i, j] = momentum * M[i, j] + (1.0 - momentum) * d
                H[i, j] += lr * M[i, j]
    return H, M


def oja_subspace_update_reference(H, M, X, n_fixed, lr, momentum, clip, iterations, spiking, scale,
                                  timesteps):
    """NumPy reference of :func:`oja_subspace_update`."""
    H = np.array(H, dtype=np.float64)
    M = np.array(M, dtype=np.float64)
    if H.shape[0] == 0 or X.shape[0] == 0:
        return H, M
    for _ in range(iterations):
        Y = X @ H.T
        if spiking:
            Y = quantise_lateral_reference(Y, scale, timesteps)
        D = np.clip(Y.T @ (X - Y @ H) / X.shape[0], -clip, clip)
        M[n_fixed:] = momentum * M[n_fixed:] + (1.0 - momentum) * D[n_fixed:]
        H[n_fixed:] += lr * M[n_fixed:]
    return H, M


# ----------------------------------------------------------------------------- wrapper


@dataclass(frozen=True)
class HLOPConfig:
    """Parameters of the HLOP subspace neurons of one layer.

    Parameters
    ----------
    lr : float
        Hebbian learning rate (reference: 0.001 on pixel inputs, 0.01 on hidden layers).
    iterations : int
        Oja update steps per training batch (reference: 5).
    momentum : float
        Momentum coefficient in [0, 1); 0 disables momentum (reference: 0.9).
    clip : float
        Bound on each element of the Hebbian update (reference: 10).
    spiking : bool
        Spiking lateral neurons: quantised responses.
    spiking_scale : float
        Response range of the spiking lateral neurons (reference: 20).
    spiking_timesteps : int
        Time steps of the spiking lateral neurons (reference: 1000).
    """

    lr: float = 0.01
    iterations: int = 5
    momentum: float = 0.9
    clip: float = 10.0
    spiking: bool = False
    spiking_scale: float = 20.0
    spiking_timesteps: int = 1000

    def __post_init__(self):
        check_positive("lr", self.lr)
        check_int("iterations", self.iterations, minimum=1)
        check_nonnegative("momentum", self.momentum)
        if not self.momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        check_positive("clip", self.clip)
        if not isinstance(self.spiking, (bool, np.bool_)):
            raise ValueError(f"spiking must be a bool, got {self.spiking!r}")
        check_positive("spiking_scale", self.spiking_scale)
        check_int("spiking_timesteps", self.spiking_timesteps, minimum=1)


class HLOPLayer:
    """Subspace neurons protecting the presynaptic input space of one layer.

    Typical use per task ``t``::

        hlop.add_subspace(k_t)           # new lateral neurons for task t
        for X in batches:                # X: presynaptic traces (n_batch, n_inputs)
            X_proj = hlop.project(X)     # old tasks' subspace removed (identity for t = 0)
            W -= lr * delta.T @ X_proj   # any trace-based rule
            hlop.update(X)               # Hebbian learning of the new neurons
        hlop.consolidate()               # freeze task t's neurons

    Parameters
    ----------
    n_inputs : int
        Dimension of the presynaptic traces.
    config : HLOPConfig, optional
    seed : int or numpy.random.Generator, optional
        Seeds the orthogonal initialisation of new neurons.

    Attributes
    ----------
    components_ : ndarray, shape (n_subspace, n_inputs)
        Lateral weights ``H`` (all neurons, frozen ones first).
    n_fixed_ : int
        Number of frozen neurons (earlier tasks).
    sizes_ : list of int
        Neurons added per task.
    """

    def __init__(self, n_inputs: int, config: HLOPConfig | None = None, seed=None):
        self.n_inputs = n_inputs
        self.config = config
        self.seed = seed

    # -- state
    def _ensure(self):
        if not hasattr(self, "components_"):
            self.n_inputs = check_int("n_inputs", self.n_inputs, minimum=1)
            if self.config is None:
                self.config = HLOPConfig()
            if not isinstance(self.config, HLOPConfig):
                raise ValueError(f"config must be an HLOPConfig, got {type(self.config).__name__}")
            self._rng = make_rng(self.seed)
            self.components_ = np.zeros((0, self.n_inputs))
            self._momentum = np.zeros((0, self.n_inputs))
            self.n_fixed_ = 0
            self.sizes_ = []

    @property
    def n_subspace(self) -> int:
        """Total number of subspace neurons."""
        self._ensure()
        return self.components_.shape[0]

    def add_subspace(self, n_new: int) -> "HLOPLayer":
        """Add ``n_new`` lateral neurons for a new task (orthonormal initial weights).

        New rows are drawn orthonormal and orthogonal to the existing rows.
        Raises ``ValueError`` if the total would exceed ``n_inputs`` and warns
        (:class:`SubspaceSaturationWarning`) when it reaches ``n_inputs``:
        the projection then removes every direction and later updates vanish.
        """
        self._ensure()
        n_new = check_int("n_new (subspace size)", n_new, minimum=1)
        total = self.n_subspace + n_new
        if total > self.n_inputs:
            raise ValueError(
                f"subspace size {n_new} would bring the total to {total} neurons, more than the input "
                f"dimension {self.n_inputs}; allowed: at most {self.n_inputs - self.n_subspace} new neurons"
            )
        if total == self.n_inputs:
            warnings.warn(
                f"HLOP subspace fills the whole input space ({total} of {self.n_inputs} dimensions): "
                "projected updates of later tasks will be zero",
                SubspaceSaturationWarning,
                stacklevel=2,
            )
        G = self._rng.standard_normal((self.n_inputs, n_new))
        old = self.components_
        if old.shape[0]:
            Q_old, _ = np.linalg.qr(old.T)
            G -= Q_old @ (Q_old.T @ G)
        Q, _ = np.linalg.qr(G)
        self.components_ = np.vstack([old, Q.T])
        self._momentum = np.vstack([self._momentum, np.zeros((n_new, self.n_inputs))])
        self.sizes_.append(n_new)
        return self

    def consolidate(self) -> "HLOPLayer":
        """Freeze all current neurons (end of a task: merge into the old-task subspace)."""
        self._ensure()
        self.n_fixed_ = self.n_subspace
        return self

    def _check_traces(self, X):
        X = check_array("traces", X, ndim=2)
        if X.shape[1] != self.n_inputs:
            raise ValueError(f"traces must have {self.n_inputs} columns (n_inputs), got shape {X.shape}")
        return np.ascontiguousarray(X)

    def update(self, X, lr: float | None = None) -> "HLOPLayer":
        """Hebbian update of the free (current-task) neurons on traces ``X`` ``(n_batch, n_inputs)``.

        ``lr`` overrides ``config.lr`` for this update (a decaying schedule, see
        :class:`plasticity_rules.cl_strategies.HLOP`).
        """
        self._ensure()
        X = self._check_traces(X)
        if self.n_subspace == self.n_fixed_:
            return self
        c = self.config
        rate = float(c.lr) if lr is None else check_positive("lr", lr)
        H, M = oja_subspace_update(
            self.components_, self._momentum, X, self.n_fixed_, rate, float(c.momentum),
            float(c.clip), int(c.iterations), bool(c.spiking), float(c.spiking_scale),
            float(c.spiking_timesteps),
        )
        # Oja's rule keeps the rows near unit norm; far larger norms mean the update diverged
        norms = np.sqrt(np.sum(H * H, axis=1)) if np.all(np.isfinite(H)) else np.array([np.inf])
        if norms.size and norms.max() > _MAX_ROW_NORM:
            raise FloatingPointError(
                f"HLOP subspace weights diverged (row norm {norms.max():.3g}, expected about 1) with "
                f"lr={rate}; lower the Hebbian learning rate or scale the traces"
            )
        self.components_, self._momentum = H, M
        return self

    def project(self, X, *, include_current: bool = False) -> np.ndarray:
        """Traces with the old tasks' subspace removed, ``X - q(X H^T) H``.

        Parameters
        ----------
        X : array_like, shape (n_batch, n_inputs)
        include_current : bool
            Also remove the subspace of the current (unfrozen) neurons.
        """
        self._ensure()
        X = self._check_traces(X)
        rows = self.n_subspace if include_current else self.n_fixed_
        H = np.ascontiguousarray(self.components_[:rows])
        c = self.config
        return hlop_project(X, H, bool(c.spiking), float(c.spiking_scale), float(c.spiking_timesteps))

    def orthonormality_error(self) -> float:
        """``max |H H^T - I|`` over all neurons: 0 for an exactly orthonormal subspace."""
        self._ensure()
        H = self.components_
        return float(np.max(np.abs(H @ H.T - np.eye(H.shape[0])))) if H.shape[0] else 0.0
