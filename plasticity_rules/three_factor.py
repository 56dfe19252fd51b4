"""Error-modulated, attention-gated three-factor Hebbian readout.

Reading of Yamada & Chao (2025), "Joint encoding of 'what' and 'when'
predictions through error-modulated plasticity in reservoir spiking
networks", arXiv:2510.14382 (only the abstract and summaries were available
while this was written; the equations below are our reconstruction and the
choices we made where the text is silent are listed):

* A heterogeneous Izhikevich reservoir is read out by linear units
  :math:`y_o(t) = \\sum_j w_{oj} r_j(t) + b_o`, where :math:`r_j` is the
  filtered spike train of reservoir neuron ``j``.
* Each weight changes by the product of three factors: a presynaptic
  eligibility trace :math:`\\bar e_j(t)` (the Hebbian, local term), the
  output's prediction error :math:`e_o(t) = y^*_o(t) - y_o(t)` (target minus
  readout; the neuromodulatory "error" factor) and an attention gate
  :math:`g_o(t) \\in [0, 1]` that opens plasticity only in task-relevant
  periods:

  .. math::

      \\Delta w_{oj}(t) = \\eta \\, g_o(t) \\, e_o(t) \\, \\bar e_j(t), \\qquad
      \\bar e_j(t) = \\lambda \\bar e_j(t - \\Delta t) + (1 - \\lambda) r_j(t), \\quad
      \\lambda = e^{-\\Delta t / \\tau_e}

  (with :math:`\\tau_e = 0` the trace is the rate itself, :math:`\\bar e = r`,
  and the rule is the gated delta/LMS rule). The bias learns with
  :math:`\\bar e = 1`.
* Optionally the rule is **normalised** by the instantaneous presynaptic power
  (normalised LMS, Nagumo & Noda 1967; Widrow & Lehr 1990),

  .. math::

      \\Delta w_{oj}(t) = \\frac{\\eta \\, g_o(t) \\, e_o(t) \\, \\bar e_j(t)}
                               {\\epsilon + \\lVert \\bar e(t) \\rVert^2 \\; (+1 \\text{ with a bias})},

  so the step size no longer depends on how many reservoir neurons are active
  (the cue transient is several times stronger than the delay activity, which
  otherwise dominates learning) and :math:`0 < \\eta < 2` is stable whatever the
  state scale. The normaliser is a single scalar per step, a quantity a neuron
  can obtain from the summed presynaptic drive (a divisive, homeostatic factor),
  so the rule stays local in the synapse indices.
* "When" is learned **online**: the update is applied at every time step.
* "What" is **consolidated offline**: during a trial (or block) the weights
  are frozen, the updates are only accumulated,
  :math:`A_{oj} \\mathrel{+}= \\eta g_o e_o \\bar e_j`, and at the trial (block)
  end :math:`w_{oj} \\mathrel{+}= A_{oj}` and :math:`A = 0`. Since the
  "what" target of stimulus ``k`` is present in a fraction :math:`p_k` of
  trials, the consolidated update averages the stochastic identity targets
  and the anticipatory readout converges to amplitude :math:`\\approx p_k`.

* Optional **surprise gate** (issue 15): the update is further multiplied by
  :math:`s_o(t) = \\min(1, |e_o(t)| / \\theta)`, a neuromodulatory signal that grows with
  the magnitude of the prediction error (surprise) and saturates at 1; with
  :math:`\\theta = 0` it is off (:math:`s = 1`). Small, noise-driven errors then barely
  change the weights (the update is quadratic in :math:`e` below :math:`\\theta`) while a
  large error, e.g. a false peak left at an old onset after a switch, is unlearned at
  the full rate (cf. surprise-modulated plasticity, Gerstner et al. 2018, Front. Neural
  Circuits 12:53).
* Optional **separate potentiation and depression rates**: with :math:`\\rho`
  (``depression``), updates that lower the output (:math:`e_o < 0`) use
  :math:`\\rho\\,\\eta` and updates that raise it use :math:`\\eta`:

  .. math::

      \\Delta w_{oj}(t) = \\frac{\\eta_o^{\\pm}\\, g_o(t)\\, s_o(t)\\, e_o(t)\\, \\bar e_j(t)}
                               {\\epsilon + \\lVert \\bar e(t) \\rVert^2}, \\qquad
      \\eta_o^{\\pm} = \\eta_o \\ \\text{if } e_o > 0 \\text{ else } \\rho\\,\\eta_o .

* Optional **presynaptic centring** (covariance rule, Sejnowski 1977; issue 15): the
  presynaptic factor and the readout's input are the deviation of each rate from its own
  running mean, :math:`\\tilde r_j(t) = r_j(t) - m_j(t)`,

  .. math::

      m_j(t + \\Delta t) = \\kappa\\, m_j(t) + (1 - \\kappa)\\, r_j(t), \\qquad
      \\kappa = e^{-\\Delta t / \\tau_m},

  with :math:`m_j(t)` the mean *before* step :math:`t` (:func:`center_rates`). The
  common mode that all neurons share (the mean rate) otherwise dominates
  :math:`\\lVert\\bar e\\rVert^2` and the state correlations, and a first-order rule then
  moves slowly along the weaker directions that carry fine timing; a neuron can hold
  :math:`m_j` as a slow presynaptic trace, so the rule stays local.

Both modes run in one Numba kernel, per output, so the "what" and "when"
readouts that share a reservoir are trained in the same pass
(:func:`three_factor_train`; NumPy twin :func:`three_factor_train_reference`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .gates import attention_gate  # noqa: F401  (re-exported: the gate the rule is used with)
from .readouts import Readout
from .validation import check_array, check_nonnegative, check_positive, make_rng

__all__ = [
    "three_factor_train",
    "three_factor_train_reference",
    "center_rates",
    "center_rates_reference",
    "attention_gate",
    "ThreeFactorReadout",
]


@njit(cache=True)
def three_factor_train(
    W,
    b,
    X,
    Y,
    G,
    eta,
    decay,
    online,
    seg_end,
    trace0,
    acc_w0,
    acc_b0,
    learn_bias,
    normalise=False,
    eps=1e-3,
    surprise=0.0,
    depression=1.0,
):
    """Train linear readouts with the gated three-factor rule over a recorded run.

    Parameters
    ----------
    W : ndarray, shape (n_outputs, n_features)
        Initial weights (not modified).
    b : ndarray, shape (n_outputs,)
        Initial biases (not modified).
    X : ndarray, shape (n_steps, n_features)
        Presynaptic rates :math:`r(t)` (reservoir states).
    Y : ndarray, shape (n_steps, n_outputs)
        Targets :math:`y^*(t)`.
    G : ndarray, shape (n_steps, n_outputs)
        Attention gates :math:`g(t)`, in [0, 1].
    eta : ndarray, shape (n_outputs,)
        Learning rates.
    decay : float
        Eligibility-trace decay per step :math:`\\lambda = e^{-\\Delta t/\\tau_e}` in [0, 1).
    online : ndarray of bool, shape (n_outputs,)
        True: update every step ("when"); False: accumulate and apply at segment ends ("what").
    seg_end : ndarray of bool, shape (n_steps,)
        Consolidate the accumulated offline updates after this step.
    trace0 : ndarray, shape (n_features,)
        Eligibility trace before the first step.
    acc_w0, acc_b0 : ndarray, shapes (n_outputs, n_features), (n_outputs,)
        Offline updates accumulated but not yet applied.
    learn_bias : bool
        Learn ``b`` too.
    normalise : bool
        Normalised rule (NLMS): divide each step's update by
        :math:`\\epsilon + \\lVert \\bar e(t) \\rVert^2` (+1 with a learned bias).
    eps : float
        :math:`\\epsilon > 0` of the normalisation.
    surprise : float
        :math:`\\theta \\ge 0` of the surprise gate :math:`\\min(1, |e|/\\theta)` (0: off).
    depression : float
        :math:`\\rho \\ge 0`: rate of output-lowering updates relative to ``eta``.

    Returns
    -------
    W, b : ndarray
        Weights and biases after the run.
    Yhat : ndarray, shape (n_steps, n_outputs)
        Output at each step, computed with the weights held at that step (before its update).
    trace, acc_w, acc_b : ndarray
        Eligibility trace and pending offline updates after the run.
    """
    n_steps, n_in = X.shape
    n_out = W.shape[0]
    W = W.copy()
    b = b.copy()
    trace = trace0.copy()
    acc_w = acc_w0.copy()
    acc_b = acc_b0.copy()
    Yhat = np.empty((n_steps, n_out))
    for t in range(n_steps):
        power = eps + (1.0 if learn_bias else 0.0)
        for j in range(n_in):
            trace[j] = decay * trace[j] + (1.0 - decay) * X[t, j]
            power += trace[j] * trace[j]
        scale = 1.0 / power if normalise else 1.0
        for o in range(n_out):
            y = b[o]
            for j in range(n_in):
                y += W[o, j] * X[t, j]
            Yhat[t, o] = y
            err = Y[t, o] - y
            f = scale * eta[o] * G[t, o] * err
            if err < 0.0:
                f *= depression
            if surprise > 0.0:
                f *= min(1.0, abs(err) / surprise)
            if f == 0.0:
                continue
            if online[o]:
                for j in range(n_in):
                    W[o, j] += f * trace[j]
                if learn_bias:
                    b[o] += f
            else:
                for j in range(n_in):
                    acc_w[o, j] += f * trace[j]
                if learn_bias:
                    acc_b[o] += f
        if seg_end[t]:
            for o in range(n_out):
                if not online[o]:
                    for j in range(n_in):
                        W[o, j] += acc_w[o, j]
                        acc_w[o, j] = 0.0
                    b[o] += acc_b[o]
                    acc_b[o] = 0.0
    return W, b, Yhat, trace, acc_w, acc_b


def three_factor_train_reference(
    W,
    b,
    X,
    Y,
    G,
    eta,
    decay,
    online,
    seg_end,
    trace0,
    acc_w0,
    acc_b0,
    learn_bias,
    normalise=False,
    eps=1e-3,
    surprise=0.0,
    depression=1.0,
):
    """NumPy reference of :func:`three_factor_train` (same arguments and returns), vectorised over units."""
    W = np.array(W, dtype=float)
    b = np.array(b, dtype=float)
    trace = np.array(trace0, dtype=float)
    acc_w = np.array(acc_w0, dtype=float)
    acc_b = np.array(acc_b0, dtype=float)
    online = np.asarray(online, dtype=bool)
    off = ~online
    Yhat = np.empty((X.shape[0], W.shape[0]))
    for t in range(X.shape[0]):
        trace = decay * trace + (1.0 - decay) * X[t]
        y = W @ X[t] + b
        Yhat[t] = y
        err = Y[t] - y
        f = eta * G[t] * err * np.where(err < 0, depression, 1.0)
        if surprise > 0:
            f = f * np.minimum(1.0, np.abs(err) / surprise)
        if normalise:
            f = f / (eps + float(learn_bias) + trace @ trace)
        dW = np.outer(f, trace)
        W[online] += dW[online]
        acc_w[off] += dW[off]
        if learn_bias:
            b[online] += f[online]
            acc_b[off] += f[off]
        if seg_end[t]:
            W[off] += acc_w[off]
            b[off] += acc_b[off]
            acc_w[off] = 0.0
            acc_b[off] = 0.0
    return W, b, Yhat, trace, acc_w, acc_b


@njit(cache=True)
def center_rates(X, decay, mean0):
    """Rates minus their running means (presynaptic centring of the covariance rule).

    Parameters
    ----------
    X : ndarray, shape (n_steps, n_features)
        Presynaptic rates :math:`r(t)`.
    decay : float
        :math:`\\kappa = e^{-\\Delta t/\\tau_m}` in [0, 1).
    mean0 : ndarray, shape (n_features,)
        Running mean before the first step.

    Returns
    -------
    Xc : ndarray, shape (n_steps, n_features)
        :math:`r(t) - m(t)`, with :math:`m(t)` the mean before step :math:`t`.
    mean : ndarray, shape (n_features,)
        Running mean after the last step.
    """
    n_steps, n_in = X.shape
    Xc = np.empty((n_steps, n_in))
    m = mean0.copy()
    for t in range(n_steps):
        for j in range(n_in):
            Xc[t, j] = X[t, j] - m[j]
            m[j] = decay * m[j] + (1.0 - decay) * X[t, j]
    return Xc, m


def center_rates_reference(X, decay, mean0):
    """NumPy reference of :func:`center_rates` (same arguments and returns)."""
    X = np.asarray(X, dtype=float)
    m = np.array(mean0, dtype=float)
    Xc = np.empty_like(X)
    for t in range(X.shape[0]):
        Xc[t] = X[t] - m
        m = decay * m + (1.0 - decay) * X[t]
    return Xc, m


def check_gate(G, n_steps: int, n_outputs: int) -> np.ndarray:
    """Validate a gate array and broadcast it to ``(n_steps, n_outputs)``."""
    G = check_array("gate", G, ndim=(1, 2))
    if G.ndim == 1:
        G = G[:, None]
    if G.shape[0] != n_steps or G.shape[1] not in (1, n_outputs):
        raise ValueError(
            f"gate must have shape ({n_steps},) or ({n_steps}, {n_outputs}) to match X and Y, got {G.shape}"
        )
    if np.any(G < 0.0) or np.any(G > 1.0):
        bad = G[(G < 0) | (G > 1)].ravel()[0]
        raise ValueError(f"gate values must lie in [0, 1], got {bad!r}")
    return np.ascontiguousarray(np.broadcast_to(G, (n_steps, n_outputs)), dtype=np.float64)


def _segment_mask(segment_ends, n_steps: int) -> np.ndarray:
    if segment_ends is None:
        m = np.zeros(n_steps, dtype=bool)
        m[-1] = True
        return m
    arr = np.asarray(segment_ends)
    if arr.dtype == bool:
        if arr.shape != (n_steps,):
            raise ValueError(f"segment_ends as a mask must have shape ({n_steps},), got {arr.shape}")
        return arr.copy()
    idx = check_array("segment_ends", arr, ndim=1, dtype=None, allow_empty=True)
    if idx.size and (idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= n_steps):
        raise ValueError(f"segment_ends must be step indices in [0, {n_steps - 1}] or a boolean mask")
    m = np.zeros(n_steps, dtype=bool)
    m[idx.astype(np.int64)] = True
    return m


class ThreeFactorReadout(Readout):
    """Linear readouts trained by the gated three-factor Hebbian rule (see module docstring).

    Parameters
    ----------
    eta : float or sequence of float
        Learning rate :math:`\\eta` (> 0), per step; one per output or one for all.
    trace_tau : float
        Eligibility-trace time constant :math:`\\tau_e` (s, >= 0; 0: trace = rate).
    dt : float
        Time step of the rows of ``X`` (s).
    online : bool or sequence of bool
        Per output: True learns online every step ("when"), False consolidates offline at
        segment ends ("what"); one bool applies to all outputs.
    fit_intercept : bool
        Learn a bias per output.
    w_init : float
        Standard deviation of the initial weights times ``sqrt(n_features)``
        (0: start from zero weights).
    normalise : bool
        Normalised rule: divide every update by :math:`\\epsilon + \\lVert\\bar e(t)\\rVert^2`
        (see the module docstring); ``eta`` is then dimensionless (stable for ``0 < eta < 2``).
    eps : float
        :math:`\\epsilon` of the normalisation (> 0).
    surprise : float
        Threshold :math:`\\theta` of the surprise gate :math:`\\min(1, |e|/\\theta)` (>= 0; 0: off).
    depression : float
        Depression-to-potentiation rate ratio :math:`\\rho` (>= 0; 1: one rate).
    center_tau : float
        Time constant :math:`\\tau_m` (s) of the presynaptic running means that every input is
        centred on (:func:`center_rates`; 0: no centring). The means are carried across
        ``partial_fit`` calls (``center_mean_``) and :meth:`predict` subtracts the last ones.
    seed : int or None
        Seed of the initial weights.

    Attributes
    ----------
    coef_, intercept_ : ndarray
        Weights ``(n_outputs, n_features)`` and biases ``(n_outputs,)``.
    trace_ : ndarray, shape (n_features,)
        Eligibility trace at the end of the last chunk (carried into the next ``partial_fit``).
    pending_coef_, pending_intercept_ : ndarray
        Offline updates accumulated since the last consolidation.
    train_predictions_ : ndarray
        Outputs produced while learning the last chunk.
    """

    def __init__(
        self,
        eta: float = 1e-3,
        trace_tau: float = 0.0,
        dt: float = 1e-3,
        online=True,
        fit_intercept: bool = True,
        w_init: float = 0.0,
        normalise: bool = False,
        eps: float = 1e-3,
        surprise: float = 0.0,
        depression: float = 1.0,
        center_tau: float = 0.0,
        seed=None,
    ):
        self.eta = eta
        self.trace_tau = trace_tau
        self.dt = dt
        self.online = online
        self.fit_intercept = fit_intercept
        self.w_init = w_init
        self.normalise = normalise
        self.eps = eps
        self.surprise = surprise
        self.depression = depression
        self.center_tau = center_tau
        self.seed = seed

    def _validate_params(self) -> None:
        for k, e in enumerate(np.atleast_1d(np.asarray(self.eta, dtype=object))):
            check_positive("eta" if np.ndim(self.eta) == 0 else f"eta[{k}]", e)
        check_nonnegative("trace_tau", self.trace_tau)
        check_positive("dt", self.dt)
        check_nonnegative("w_init", self.w_init)
        check_positive("eps", self.eps)
        check_nonnegative("surprise", self.surprise)
        check_nonnegative("depression", self.depression)
        check_nonnegative("center_tau", self.center_tau)

    @property
    def decay_(self) -> float:
        """Per-step decay of the eligibility trace."""
        return 0.0 if self.trace_tau == 0 else math.exp(-self.dt / self.trace_tau)

    def _online_mask(self, n_outputs: int) -> np.ndarray:
        if isinstance(self.online, (bool, np.bool_)):
            return np.full(n_outputs, bool(self.online))
        mask = np.asarray(self.online)
        if mask.shape != (n_outputs,) or mask.dtype != bool:
            raise ValueError(
                f"online must be a bool or {n_outputs} bools (one per output), got {self.online!r}"
            )
        return mask.copy()

    def _init_state(self, n_features: int, n_outputs: int) -> None:
        rng = make_rng(self.seed)
        self.online_ = self._online_mask(n_outputs)
        scale = self.w_init / math.sqrt(n_features)
        self.coef_ = (
            rng.normal(0.0, scale, (n_outputs, n_features))
            if scale > 0
            else np.zeros((n_outputs, n_features))
        )
        self.intercept_ = np.zeros(n_outputs)
        self.trace_ = np.zeros(n_features)
        self.pending_coef_ = np.zeros((n_outputs, n_features))
        self.pending_intercept_ = np.zeros(n_outputs)
        self.center_mean_ = np.zeros(n_features)
        self.n_steps_seen_ = 0

    def _learn(self, X, Y, gate=None, segment_ends=None) -> None:
        n_steps, n_out = Y.shape
        G = np.ones((n_steps, n_out)) if gate is None else check_gate(gate, n_steps, n_out)
        seg = _segment_mask(segment_ends, n_steps)
        eta = (
            np.broadcast_to(np.asarray(self.eta, dtype=float), (n_out,)).copy()
            if np.size(self.eta) in (1, n_out)
            else None
        )
        if eta is None:
            raise ValueError(f"eta must be one number or {n_out} numbers (one per output), got {self.eta!r}")
        X = np.ascontiguousarray(X, dtype=np.float64)
        if self.center_tau > 0:
            X, self.center_mean_ = center_rates(X, math.exp(-self.dt / self.center_tau), self.center_mean_)
        W, b, Yhat, tr, aw, ab = three_factor_train(
            self.coef_,
            self.intercept_,
            X,
            np.ascontiguousarray(Y),
            G,
            eta,
            self.decay_,
            self.online_,
            seg,
            self.trace_,
            self.pending_coef_,
            self.pending_intercept_,
            bool(self.fit_intercept),
            bool(self.normalise),
            float(self.eps),
            float(self.surprise),
            float(self.depression),
        )
        self.coef_, self.intercept_, self.trace_ = W, b, tr
        self.pending_coef_, self.pending_intercept_ = aw, ab
        self.train_predictions_ = self._shape_out(Yhat)
        self.n_steps_seen_ += n_steps

    def predict(self, X) -> np.ndarray:
        """Outputs ``W (x - m) + b`` with the last running means ``m`` (``W x + b`` without centring)."""
        if self.center_tau > 0 and hasattr(self, "coef_"):
            return super().predict(np.asarray(X, dtype=float) - self.center_mean_)
        return super().predict(X)

    def consolidate(self):
        """Apply the pending offline updates now (e.g. at a block end); returns ``self``."""
        if hasattr(self, "coef_"):
            self.coef_ = self.coef_ + self.pending_coef_
            self.intercept_ = self.intercept_ + self.pending_intercept_
            self.pending_coef_ = np.zeros_like(self.pending_coef_)
            self.pending_intercept_ = np.zeros_like(self.pending_intercept_)
        return self
