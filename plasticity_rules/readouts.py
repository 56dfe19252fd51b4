"""Linear readouts of reservoir states with one scikit-learn-style interface.

Every readout maps reservoir states ``X`` of shape ``(n_steps, n_features)``
to outputs of shape ``(n_steps, n_outputs)`` through

.. math::

    \\hat y(t) = W x(t) + b ,

with ``W = coef_`` of shape ``(n_outputs, n_features)`` and ``b = intercept_``.
They differ only in how ``W`` is learned: the three-factor Hebbian rule
(:mod:`plasticity_rules.three_factor`), FORCE / recursive least squares
(:mod:`plasticity_rules.force`) and the closed-form ridge regression here.
All share

- ``fit(X, Y, **kw)``: forget what was learned and learn from ``(X, Y)``; returns ``self``;
- ``partial_fit(X, Y, **kw)``: continue learning from the next chunk; returns ``self``;
- ``predict(X)``: outputs with the current weights.

Online readouts (three-factor, FORCE) also record, in ``train_predictions_``,
the outputs they produced *while* learning the last chunk (each step with the
weights held at that step), which is what learning curves are made of.

Following scikit-learn, ``__init__`` only stores its arguments, learned
attributes end in ``_`` and parameters are validated when learning starts.
"""

from __future__ import annotations

import numpy as np

from .validation import check_array, check_int, check_nonnegative, check_positive, make_rng

__all__ = ["Readout", "RidgeReadout", "SoftmaxReadout", "check_states_targets"]


def check_states_targets(X, Y=None, *, n_features: int | None = None, n_outputs: int | None = None):
    """Validate reservoir states and targets and return them as float64 2-D arrays.

    Parameters
    ----------
    X : array_like, shape (n_steps, n_features)
        Reservoir states (e.g. filtered spike traces).
    Y : array_like, shape (n_steps,) or (n_steps, n_outputs), optional
        Targets; a 1-D target is treated as one output.
    n_features, n_outputs : int, optional
        Expected widths (from an earlier ``fit``).

    Returns
    -------
    X : ndarray, shape (n_steps, n_features)
    Y : ndarray, shape (n_steps, n_outputs) or None
    """
    X = check_array("X (reservoir states)", X, ndim=2)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"X (reservoir states) must have {n_features} features as in the earlier fit, got shape {X.shape}"
        )
    if Y is None:
        return X, None
    Y = check_array("Y (targets)", Y, ndim=(1, 2))
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape[0] != X.shape[0]:
        raise ValueError(
            f"Y (targets) must have one row per row of X: X has shape {X.shape}, Y has shape {Y.shape}"
        )
    if n_outputs is not None and Y.shape[1] != n_outputs:
        raise ValueError(
            f"Y (targets) must have {n_outputs} outputs as in the earlier fit, got shape {Y.shape}"
        )
    return X, Y


class _Estimator:
    """``get_params`` / ``set_params`` / ``repr`` from the constructor's signature, as in scikit-learn."""

    def get_params(self, deep: bool = True) -> dict:
        """Constructor arguments, as in scikit-learn."""
        import inspect

        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def set_params(self, **params):
        """Set constructor arguments; returns ``self``."""
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"unknown parameter {key!r} for {type(self).__name__}; allowed: {', '.join(valid)}"
                )
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class Readout(_Estimator):
    """Base class of the linear readouts (see the module docstring).

    Subclasses implement ``_init_state(n_features, n_outputs)`` and
    ``_learn(X, Y, **kw)``; the base class handles validation, the 1-D/2-D
    target convention and ``predict``.
    """

    # -- public API -------------------------------------------------------
    def fit(self, X, Y, **kwargs):
        """Forget learned weights and learn from ``(X, Y)``; returns ``self``."""
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, attr)
        return self.partial_fit(X, Y, **kwargs)

    def partial_fit(self, X, Y, **kwargs):
        """Continue learning from the chunk ``(X, Y)``; returns ``self``."""
        fitted = hasattr(self, "coef_")
        X, Y1 = check_states_targets(
            X,
            Y,
            n_features=self.n_features_in_ if fitted else None,
            n_outputs=self.n_outputs_ if fitted else None,
        )
        if not fitted:
            self._validate_params()
            self.n_features_in_ = X.shape[1]
            self.n_outputs_ = Y1.shape[1]
            self._target_1d_ = np.ndim(Y) == 1
            self._init_state(X.shape[1], Y1.shape[1])
        self._learn(X, Y1, **kwargs)
        return self

    def predict(self, X) -> np.ndarray:
        """Outputs ``W x + b`` for every row of ``X``; shape follows the training targets."""
        if not hasattr(self, "coef_"):
            raise ValueError(f"{type(self).__name__} is not fitted yet; call fit or partial_fit first")
        X, _ = check_states_targets(X, n_features=self.n_features_in_)
        out = X @ self.coef_.T + self.intercept_
        return out[:, 0] if self._target_1d_ else out

    # -- to implement -----------------------------------------------------
    def _validate_params(self) -> None:  # pragma: no cover - overridden
        pass

    def _init_state(self, n_features: int, n_outputs: int) -> None:  # pragma: no cover
        raise NotImplementedError

    def _learn(self, X: np.ndarray, Y: np.ndarray, **kwargs) -> None:  # pragma: no cover
        raise NotImplementedError

    def _shape_out(self, out: np.ndarray) -> np.ndarray:
        return out[:, 0] if self._target_1d_ else out


class RidgeReadout(Readout):
    """Closed-form ridge regression: the offline least-squares baseline.

    .. math::

        W^\\top = (\\tilde X^\\top \\tilde X + \\alpha I')^{-1} \\tilde X^\\top Y ,

    where :math:`\\tilde X` is ``X`` with a column of ones appended when
    ``fit_intercept`` and :math:`I'` is the identity without penalty on that
    column (Hoerl & Kennard 1970; Lukoševičius 2012, "A practical guide to
    applying echo state networks", eq. 9). ``partial_fit`` accumulates the
    sufficient statistics :math:`\\tilde X^\\top \\tilde X` and
    :math:`\\tilde X^\\top Y` and re-solves, so training chunk by chunk gives
    exactly the weights of one ``fit`` on all chunks.

    Parameters
    ----------
    alpha : float
        Ridge penalty (>= 0).
    fit_intercept : bool
        Learn the bias ``intercept_`` (unpenalised).

    Attributes
    ----------
    coef_ : ndarray, shape (n_outputs, n_features)
    intercept_ : ndarray, shape (n_outputs,)
    n_samples_seen_ : int
    """

    def __init__(self, alpha: float = 1e-3, fit_intercept: bool = True):
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    def _validate_params(self) -> None:
        check_nonnegative("alpha", self.alpha)

    def _init_state(self, n_features: int, n_outputs: int) -> None:
        m = n_features + int(bool(self.fit_intercept))
        self.xtx_ = np.zeros((m, m))
        self.xty_ = np.zeros((m, n_outputs))
        self.n_samples_seen_ = 0
        self.coef_ = np.zeros((n_outputs, n_features))
        self.intercept_ = np.zeros(n_outputs)

    def _learn(self, X: np.ndarray, Y: np.ndarray, **kwargs) -> None:
        if kwargs:
            raise ValueError(f"RidgeReadout.fit takes no options, got {', '.join(kwargs)}")
        Xa = np.hstack([X, np.ones((X.shape[0], 1))]) if self.fit_intercept else X
        self.xtx_ += Xa.T @ Xa
        self.xty_ += Xa.T @ Y
        self.n_samples_seen_ += X.shape[0]
        reg = np.full(Xa.shape[1], float(self.alpha))
        if self.fit_intercept:
            reg[-1] = 0.0
        A = self.xtx_ + np.diag(reg)
        try:
            sol = np.linalg.solve(A, self.xty_)
        except np.linalg.LinAlgError:
            sol = np.linalg.lstsq(A, self.xty_, rcond=None)[0]
        if self.fit_intercept:
            self.coef_ = sol[:-1].T.copy()
            self.intercept_ = sol[-1].copy()
        else:
            self.coef_ = sol.T.copy()
            self.intercept_ = np.zeros(Y.shape[1])


class SoftmaxReadout(_Estimator):
    """Linear softmax classifier trained by mini-batch Adam: the NALSM readout of liquid spike counts.

    .. math::

        p(k \\mid x) = \\frac{e^{z_k}}{\\sum_l e^{z_l}},\\quad z = W x + b ,

    trained on the cross-entropy plus :math:`\\tfrac{l_2}{2}\\lVert W\\rVert^2` by Adam
    (Kingma & Ba 2015; :math:`\\beta_1 = 0.9`, :math:`\\beta_2 = 0.999`, :math:`\\epsilon = 10^{-8}`)
    on shuffled mini-batches, as the NALSM reference trains its readout (Ivanov &
    Michmizos 2021). With validation data, ``fit`` keeps the weights of the epoch with
    the best validation accuracy (early stopping by selection).

    Parameters
    ----------
    n_classes : int
    epochs : int
    lr : float
        Adam step size.
    batch_size : int
    l2 : float
        Weight decay of ``W`` (not of the bias).
    seed : int, Generator or None
        Shuffling of the mini-batches.

    Attributes
    ----------
    coef_ : ndarray, shape (n_classes, n_features)
    intercept_ : ndarray, shape (n_classes,)
    n_features_in_ : int
    val_curve_ : list of float
        Validation accuracy after every epoch (empty without validation data).
    val_accuracy_, best_epoch_ : float, int
        Best validation accuracy and its epoch (only with validation data).
    """

    def __init__(self, n_classes=10, epochs=150, lr=0.01, batch_size=32, l2=1e-5, seed=None):
        self.n_classes = n_classes
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.l2 = l2
        self.seed = seed

    def _check_xy(self, name, X, y, n_features=None):
        X = check_array(f"{name} (features)", X, ndim=2)
        if n_features is not None and X.shape[1] != n_features:
            raise ValueError(f"{name} must have {n_features} features, got shape {X.shape}")
        if y is None:
            return X, None
        y = check_array(f"labels of {name}", y, ndim=1, dtype=None)
        if y.dtype.kind not in "iu" or y.shape[0] != X.shape[0]:
            raise ValueError(
                f"labels of {name} must be {X.shape[0]} integers (one per row), got {y.dtype} shape {y.shape}"
            )
        if y.size and (y.min() < 0 or y.max() >= self.n_classes):
            raise ValueError(
                f"labels of {name} must lie in [0, {self.n_classes}), got [{y.min()}, {y.max()}]"
            )
        return X, y.astype(np.int64)

    def fit(self, X, y, X_val=None, y_val=None, *, on_epoch=None):
        """Train from zero weights; returns ``self``.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
        y : array_like of int, shape (n_samples,)
        X_val, y_val : optional
            Validation data for choosing the epoch (both or neither).
        on_epoch : callable, optional
            Called with the epoch index after every epoch (progress reporting; no effect on the fit).
        """
        check_int("n_classes", self.n_classes, minimum=2)
        check_int("epochs", self.epochs, minimum=1)
        check_positive("lr", self.lr)
        check_int("batch_size", self.batch_size, minimum=1)
        check_nonnegative("l2", self.l2)
        X, y = self._check_xy("X", X, y)
        if (X_val is None) != (y_val is None):
            raise ValueError("give both X_val and y_val, or neither")
        if X_val is not None:
            X_val, y_val = self._check_xy("X_val", X_val, y_val, n_features=X.shape[1])
        rng = make_rng(self.seed)
        n, d = X.shape
        k = self.n_classes
        W = np.zeros((d, k))
        b = np.zeros(k)
        mW, vW, mb, vb = np.zeros_like(W), np.zeros_like(W), np.zeros_like(b), np.zeros_like(b)
        Y = np.eye(k)[y]
        t = 0
        best = (-1.0, 0, W.copy(), b.copy())
        self.val_curve_ = []
        for epoch in range(self.epochs):
            for idx in np.array_split(rng.permutation(n), max(1, n // self.batch_size)):
                z = X[idx] @ W + b
                z -= z.max(axis=1, keepdims=True)
                p = np.exp(z)
                p /= p.sum(axis=1, keepdims=True)
                g = (p - Y[idx]) / len(idx)
                gW = X[idx].T @ g + self.l2 * W
                gb = g.sum(axis=0)
                t += 1
                for P, G, M, V in ((W, gW, mW, vW), (b, gb, mb, vb)):
                    M *= 0.9
                    M += 0.1 * G
                    V *= 0.999
                    V += 0.001 * G * G
                    P -= self.lr * (M / (1 - 0.9**t)) / (np.sqrt(V / (1 - 0.999**t)) + 1e-8)
            if X_val is not None:
                acc = float(np.mean(np.argmax(X_val @ W + b, axis=1) == y_val))
                self.val_curve_.append(acc)
                if acc > best[0]:
                    best = (acc, epoch, W.copy(), b.copy())
            if on_epoch is not None:
                on_epoch(epoch)
        if X_val is not None:
            self.val_accuracy_, self.best_epoch_, W, b = best
        # stored as (n_classes, n_features) like every readout here; predict multiplies by the same buffer
        self.coef_, self.intercept_ = W.T, b
        self.n_features_in_ = d
        return self

    def decision_function(self, X) -> np.ndarray:
        """Logits ``X W^T + b``, shape (n_samples, n_classes)."""
        if not hasattr(self, "coef_"):
            raise ValueError("SoftmaxReadout is not fitted yet; call fit first")
        X, _ = self._check_xy("X", X, None, n_features=self.n_features_in_)
        return X @ self.coef_.T + self.intercept_

    def predict(self, X) -> np.ndarray:
        """Most probable class of every row."""
        return np.argmax(self.decision_function(X), axis=1)
