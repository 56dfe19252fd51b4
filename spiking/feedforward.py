"""A small feedforward LIF spiking network trained on presynaptic spike traces.

Architecture ``n_inputs -> n_hidden[0] -> n_hidden[1] -> n_outputs`` (the
paper's PMNIST MLP, 784-800-800-10, sized down for a 2-core laptop). Inputs
are constant currents (pixel intensities) for ``n_steps`` time steps; the two
hidden layers are leaky integrate-and-fire neurons with reset by subtraction,

.. math::

    u_{t+1} = \\lambda u_t + I_t,\\qquad s_t = [u_t \\ge \\vartheta],\\qquad
    u_t \\leftarrow u_t - \\vartheta s_t ,

and the output layer integrates its input current without spiking. Every
layer reads the *weighted firing rate* (exponentially filtered spike trace,
sampled at the end of the presentation) of its presynaptic layer,

.. math::

    a = \\frac{\\sum_{t} \\lambda^{T-1-t} s_t}{\\sum_t \\lambda^{T-1-t}} ,

and the network is trained by differentiation on spike representation
(DSR; Meng et al. 2022), the surrogate gradient of the HLOP reference code:
the weighted firing rate of a LIF neuron is approximately
:math:`a \\approx \\operatorname{clip}(\\hat I/\\vartheta, 0, 1)` of its
weighted input current :math:`\\hat I = W a_{pre}`, so the backward pass uses
:math:`\\partial a/\\partial \\hat I = \\vartheta^{-1}[0 < \\hat I < \\vartheta]`.
Each weight gradient is the outer product of a postsynaptic error and the
presynaptic trace,

.. math:: \\nabla W_l = \\frac{1}{B}\\, \\delta_l^\\top a_{l-1},

which is what HLOP (or an exact projection) modifies: the trace
:math:`a_{l-1}` is exposed by :meth:`FeedforwardSNN.forward` and the update
:meth:`FeedforwardSNN.apply_update` takes (possibly projected) traces.

This network is a NumPy/Numba simulation (no Brian2): training needs
thousands of presentations and a per-batch projection, which a runtime-mode
Brian2 ``run()`` per batch (~90 ms overhead each) would dominate.

References
----------
Q. Meng, M. Xiao, S. Yan, Y. Wang, Z. Lin, Z.-Q. Luo. "Training High-Performance
Low-Latency Spiking Neural Networks by Differentiation on Spike Representation",
CVPR 2022. M. Xiao et al., "Hebbian Learning based Orthogonal Projection for
Continual Learning of Spiking Neural Networks", ICLR 2024.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from plasticity_rules.validation import check_array, check_int, check_positive, make_rng

__all__ = [
    "FeedforwardConfig",
    "FeedforwardSNN",
    "ForwardPass",
    "lif_weighted_rate",
    "lif_weighted_rate_reference",
    "lif_weighted_rate_seq",
    "lif_weighted_rate_seq_reference",
]


@njit(cache=True)
def lif_weighted_rate(I, n_steps, decay, v_th):
    """LIF layer driven by a constant current: weighted firing rates and spike trains.

    Parameters
    ----------
    I : ndarray, shape (n_batch, n_units)
        Input current, the same at every step.
    n_steps : int
    decay : float
        Membrane decay factor :math:`\\lambda` per step, in (0, 1].
    v_th : float
        Threshold :math:`\\vartheta`.

    Returns
    -------
    rate : ndarray, shape (n_batch, n_units)
        Weighted firing rate (module docstring).
    spikes : ndarray, shape (n_steps, n_batch, n_units)
    """
    # The constant-current case of lif_weighted_rate_seq: one loop body serves both.
    B, N = I.shape
    seq = np.empty((n_steps, B, N))
    for t in range(n_steps):
        seq[t] = I
    return lif_weighted_rate_seq(seq, decay, v_th)


def lif_weighted_rate_reference(I, n_steps, decay, v_th):
    """NumPy reference of :func:`lif_weighted_rate` (vectorised over units)."""
    return lif_weighted_rate_seq_reference(np.repeat(I[None], n_steps, axis=0), decay, v_th)


@njit(cache=True)
def lif_weighted_rate_seq(I, decay, v_th):
    """LIF layer driven by a time-varying current ``I`` ``(n_steps, n_batch, n_units)``.

    Returns ``rate`` ``(n_batch, n_units)`` and ``spikes`` ``(n_steps, n_batch, n_units)``
    as :func:`lif_weighted_rate`.
    """
    T, B, N = I.shape
    spikes = np.zeros((T, B, N))
    rate = np.zeros((B, N))
    norm = 0.0
    for t in range(T):
        norm += decay ** (T - 1 - t)
    for b in range(B):
        for j in range(N):
            u = 0.0
            acc = 0.0
            for t in range(T):
                u = decay * u + I[t, b, j]
                if u >= v_th:
                    u -= v_th
                    spikes[t, b, j] = 1.0
                    acc += decay ** (T - 1 - t)
            rate[b, j] = acc / norm
    return rate, spikes


def lif_weighted_rate_seq_reference(I, decay, v_th):
    """NumPy reference of :func:`lif_weighted_rate_seq`."""
    I = np.asarray(I, dtype=np.float64)
    T = I.shape[0]
    u = np.zeros(I.shape[1:])
    spikes = np.zeros(I.shape)
    w = decay ** (T - 1 - np.arange(T, dtype=np.float64))
    for t in range(T):
        u = decay * u + I[t]
        s = u >= v_th
        u = u - v_th * s
        spikes[t] = s
    rate = np.tensordot(w, spikes, axes=(0, 0)) / w.sum()
    return rate, spikes


@dataclass(frozen=True)
class FeedforwardConfig:
    """Parameters of :class:`FeedforwardSNN`.

    Parameters
    ----------
    n_hidden : tuple of int
        Sizes of the two LIF hidden layers.
    n_steps : int
        Time steps per presentation (reference: 20).
    decay : float
        Membrane decay per step :math:`\\lambda = 1 - \\Delta t/\\tau` (reference: 1 - 0.05/1).
    v_th : float
        Firing threshold (reference: 0.3).
    weight_scale : float
        Initial weights uniform in :math:`\\pm` ``weight_scale / sqrt(n_in)``.
    """

    n_hidden: tuple = field(default=(256, 256))
    n_steps: int = 20
    decay: float = 0.95
    v_th: float = 0.3
    weight_scale: float = 1.0

    def __post_init__(self):
        try:
            hidden = tuple(self.n_hidden)
        except TypeError:
            raise ValueError(f"n_hidden must be two positive integers, got {self.n_hidden!r}") from None
        if len(hidden) != 2:
            raise ValueError(f"n_hidden must be two positive integers, got {self.n_hidden!r}")
        for i, h in enumerate(hidden):
            check_int(f"n_hidden[{i}]", h, minimum=1)
        object.__setattr__(self, "n_hidden", tuple(int(h) for h in hidden))
        check_int("n_steps", self.n_steps, minimum=1)
        check_positive("decay", self.decay)
        if self.decay > 1:
            raise ValueError(f"decay must be in (0, 1], got {self.decay!r}")
        check_positive("v_th", self.v_th)
        check_positive("weight_scale", self.weight_scale)


@dataclass
class ForwardPass:
    """Result of :meth:`FeedforwardSNN.forward`.

    Attributes
    ----------
    traces : list of ndarray
        Presynaptic traces of the three weight layers: the input ``(B, n_inputs)`` and
        the weighted firing rates of hidden layers 1 and 2.
    currents : list of ndarray
        Weighted input currents of hidden layers 1 and 2 (for the surrogate derivative).
    logits : ndarray, shape (B, n_outputs)
    spike_counts : list of ndarray
        Spike counts of the hidden layers ``(B, n_hidden[i])``.
    """

    traces: list
    currents: list
    logits: np.ndarray
    spike_counts: list


def _masked(logits, class_mask):
    """Logits with masked-out classes at -inf; ``class_mask`` is (n_outputs,) or (B, n_outputs)."""
    if class_mask is None:
        return logits
    m = np.asarray(class_mask, dtype=bool)
    if m.ndim == 1:
        m = m[None, :]
    return np.where(m, logits, -np.inf)


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class FeedforwardSNN:
    """Two-hidden-layer LIF network trained by DSR surrogate gradients on spike traces.

    Parameters
    ----------
    n_inputs, n_outputs : int
    config : FeedforwardConfig, optional
    seed : int or numpy.random.Generator, optional

    Attributes
    ----------
    weights : list of ndarray
        ``[W1 (h1, n_inputs), W2 (h2, h1), W3 (n_outputs, h2)]`` (no biases, as in the reference).
    """

    def __init__(self, n_inputs: int, n_outputs: int, config: FeedforwardConfig | None = None, seed=None):
        self.n_inputs = check_int("n_inputs", n_inputs, minimum=1)
        self.n_outputs = check_int("n_outputs", n_outputs, minimum=2)
        self.config = FeedforwardConfig() if config is None else config
        rng = make_rng(seed)
        sizes = [self.n_inputs, *self.config.n_hidden, self.n_outputs]
        self.weights = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = self.config.weight_scale / np.sqrt(n_in)
            self.weights.append(rng.uniform(-bound, bound, size=(n_out, n_in)))

    @property
    def layer_sizes(self) -> list[int]:
        return [self.n_inputs, *self.config.n_hidden, self.n_outputs]

    def forward(self, X) -> ForwardPass:
        """Simulate the network on inputs ``X`` ``(B, n_inputs)`` (values are input currents)."""
        X = check_array("X", X, ndim=2)
        if X.shape[1] != self.n_inputs:
            raise ValueError(f"X must have {self.n_inputs} columns (n_inputs), got shape {X.shape}")
        c = self.config
        W1, W2, W3 = self.weights
        I1 = X @ W1.T
        r1, s1 = lif_weighted_rate(np.ascontiguousarray(I1), c.n_steps, c.decay, c.v_th)
        T, B, h1 = s1.shape
        I2seq = (s1.reshape(T * B, h1) @ W2.T).reshape(T, B, -1)
        r2, s2 = lif_weighted_rate_seq(I2seq, c.decay, c.v_th)
        # weighted currents: I1 is constant; the weighted current of layer 2 is W2 r1
        I2 = r1 @ W2.T
        logits = r2 @ W3.T
        return ForwardPass([X, r1, r2], [I1, I2], logits, [s1.sum(0), s2.sum(0)])

    def predict(self, X, class_mask=None) -> np.ndarray:
        """Predicted class labels; ``class_mask`` (bool, ``(n_outputs,)``) restricts the candidates."""
        logits = self.forward(X).logits
        return np.argmax(_masked(logits, class_mask), axis=1)

    def backward(self, fp: ForwardPass, y, class_mask=None, *, labels_from_model=None):
        """Postsynaptic errors of the three layers for cross-entropy loss.

        Parameters
        ----------
        fp : ForwardPass
        y : array_like of int, shape (B,)
        class_mask : array_like of bool, shape (n_outputs,) or (B, n_outputs), optional
            Softmax over these outputs only (task-incremental heads).
        labels_from_model : numpy.random.Generator, optional
            Sample the labels from the model's predictive distribution instead of ``y``
            (for the true Fisher of EWC).

        Returns
        -------
        deltas : list of ndarray
            ``[delta1 (B, h1), delta2 (B, h2), delta3 (B, n_outputs)]``, per-sample errors
            (not divided by B); weight gradients are ``delta_l.T @ traces[l] / B``.
        loss : float
            Mean cross-entropy.
        """
        c = self.config
        y = np.asarray(y)
        logits = fp.logits
        p = _softmax(_masked(logits, class_mask))
        B = p.shape[0]
        if labels_from_model is not None:
            cum = np.cumsum(p, axis=1)
            u = labels_from_model.random(B)[:, None]
            y = np.minimum((u > cum).sum(axis=1), self.n_outputs - 1)
        loss = float(-np.mean(np.log(p[np.arange(B), y] + 1e-12)))
        d3 = p.copy()
        d3[np.arange(B), y] -= 1.0
        W1, W2, W3 = self.weights
        I1, I2 = fp.currents
        g2 = ((I2 > 0) & (I2 < c.v_th)) / c.v_th
        d2 = (d3 @ W3) * g2
        g1 = ((I1 > 0) & (I1 < c.v_th)) / c.v_th
        d1 = (d2 @ W2) * g1
        return [d1, d2, d3], loss

    @staticmethod
    def weight_gradients(deltas, traces):
        """``[delta_l.T @ traces_l / B]``: the trace-based weight gradients."""
        return [d.T @ x / d.shape[0] for d, x in zip(deltas, traces, strict=True)]

    def apply_update(self, deltas, traces, lr: float, extra_grads=None):
        """Gradient step ``W_l -= lr (delta_l^T x_l / B + extra_l)`` with (possibly projected) traces."""
        grads = self.weight_gradients(deltas, traces)
        for i, g in enumerate(grads):
            if extra_grads is not None:
                g = g + extra_grads[i]
            self.weights[i] -= lr * g
        if not all(np.all(np.isfinite(w)) for w in self.weights):
            raise FloatingPointError(
                f"network weights diverged (non-finite) with lr={lr}; lower the learning rate"
            )
        return grads

    def accuracy(self, X, y, class_mask=None, batch_size: int = 512) -> float:
        """Fraction of correctly classified samples."""
        y = np.asarray(y)
        correct = 0
        for i in range(0, len(y), batch_size):
            correct += int(np.sum(self.predict(X[i : i + batch_size], class_mask) == y[i : i + batch_size]))
        return correct / max(len(y), 1)
