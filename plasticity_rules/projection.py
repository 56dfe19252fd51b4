"""Exact orthogonal projection from SVD bases (GPM style): the reference HLOP approximates.

After a task, the representation matrix of a layer's presynaptic traces
:math:`A \\in \\mathbb{R}^{n_s \\times n}` (one row per sample) is made orthogonal
to the basis :math:`U` (``(n, k)``, orthonormal columns) of earlier tasks and
decomposed,

.. math::

    \\hat A = A - A U U^\\top = \\hat U \\hat\\Sigma \\hat V^\\top,

and the leading right singular vectors are appended to the basis. Either a
fixed number of new directions is taken (the same counts as the HLOP neurons,
for a like-for-like comparison) or, as in GPM, the smallest number ``r`` with

.. math::

    \\|A U\\|_F^2 + \\sum_{i<r} \\hat\\sigma_i^2 \\;\\ge\\; \\epsilon_{th}\\, \\|A\\|_F^2 .

Later updates use the projected traces :math:`\\tilde X = X - X U U^\\top`.

References
----------
G. Saha, I. Garg, K. Roy. "Gradient Projection Memory for Continual Learning", ICLR 2021.
"""

from __future__ import annotations

import numpy as np

from .validation import check_array, check_int, check_probability

__all__ = ["ExactSubspaceProjector", "svd_basis_update", "project_out"]


def project_out(X, U) -> np.ndarray:
    """``X - (X U) U^T`` for traces ``X`` ``(n_batch, n)`` and an orthonormal basis ``U`` ``(n, k)``."""
    X = np.asarray(X, dtype=np.float64)
    if U.shape[1] == 0:
        return X.copy()
    return X - (X @ U) @ U.T


def svd_basis_update(U, A, *, n_components: int | None = None, threshold: float | None = None):
    """Grow an orthonormal basis with the principal directions of ``A`` outside it.

    Parameters
    ----------
    U : ndarray, shape (n, k)
        Current orthonormal basis (``k`` may be 0).
    A : ndarray, shape (n_samples, n)
        Presynaptic traces of the new task, one row per sample.
    n_components : int, optional
        Number of directions to add.
    threshold : float, optional
        GPM energy threshold in (0, 1] (used when ``n_components`` is None).

    Returns
    -------
    ndarray, shape (n, k + r)
    """
    A = check_array("representation matrix", A, ndim=2)
    n = A.shape[1]
    if U.shape[0] != n:
        raise ValueError(f"representation matrix must have {U.shape[0]} columns, got shape {A.shape}")
    if (n_components is None) == (threshold is None):
        raise ValueError("give exactly one of n_components and threshold")
    residual = project_out(A, U)
    try:
        _, s, Vt = np.linalg.svd(residual, full_matrices=False)
    except np.linalg.LinAlgError:
        # LAPACK's divide-and-conquer gesdd can fail to converge on finite matrices (seen on the
        # traces of a LIF network in split Fashion-MNIST); the QR-iteration driver gesvd does not
        from scipy.linalg import svd

        _, s, Vt = svd(residual, full_matrices=False, lapack_driver="gesvd")
    if n_components is not None:
        r = check_int("n_components (subspace size)", n_components, minimum=1, maximum=n - U.shape[1])
        r = min(r, int(np.sum(s > 1e-10 * max(s[0], 1e-300))) if s.size else 0)
    else:
        check_probability("threshold", threshold)
        total = float(np.sum(A**2))
        kept = float(np.sum((A @ U) ** 2)) if U.shape[1] else 0.0
        if total == 0.0 or kept >= threshold * total:
            r = 0
        else:
            cum = kept + np.cumsum(s**2)
            r = int(np.searchsorted(cum, threshold * total) + 1)
            r = min(r, n - U.shape[1], s.size)
    if r == 0:
        return U.copy()
    new = np.hstack([U, Vt[:r].T])
    Q, _ = np.linalg.qr(new)  # re-orthonormalise against round-off
    return Q


class ExactSubspaceProjector:
    """Exact SVD projection of one layer's traces (the baseline HLOP approximates).

    Parameters
    ----------
    n_inputs : int
        Dimension of the presynaptic traces.

    Attributes
    ----------
    basis_ : ndarray, shape (n_inputs, k)
        Orthonormal basis of the protected subspace.
    sizes_ : list of int
        Directions added per task.
    """

    def __init__(self, n_inputs: int):
        self.n_inputs = n_inputs

    def _ensure(self):
        if not hasattr(self, "basis_"):
            self.n_inputs = check_int("n_inputs", self.n_inputs, minimum=1)
            self.basis_ = np.zeros((self.n_inputs, 0))
            self.sizes_ = []

    @property
    def n_subspace(self) -> int:
        self._ensure()
        return self.basis_.shape[1]

    def add_task(self, A, *, n_components: int | None = None, threshold: float | None = None):
        """Add the principal subspace of traces ``A`` ``(n_samples, n_inputs)`` (:func:`svd_basis_update`)."""
        self._ensure()
        if n_components is not None and self.n_subspace + n_components > self.n_inputs:
            raise ValueError(
                f"subspace size {n_components} would bring the total to {self.n_subspace + n_components}, "
                f"more than the input dimension {self.n_inputs}"
            )
        k0 = self.n_subspace
        self.basis_ = svd_basis_update(self.basis_, A, n_components=n_components, threshold=threshold)
        self.sizes_.append(self.n_subspace - k0)
        return self

    def project(self, X) -> np.ndarray:
        """Traces with the protected subspace removed."""
        self._ensure()
        X = check_array("traces", X, ndim=2)
        if X.shape[1] != self.n_inputs:
            raise ValueError(f"traces must have {self.n_inputs} columns (n_inputs), got shape {X.shape}")
        return project_out(X, self.basis_)
