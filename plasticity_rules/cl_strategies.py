"""Continual-learning strategies: how a network is protected while it learns a stream of tasks.

Each method is one :class:`Strategy` subclass with the same small interface, called
by the training loop (:func:`tasks.cl_training.train_stream`) at fixed points, in the
manner of Avalanche's strategy plugins (Lomonaco et al., "Avalanche: an end-to-end
library for continual learning", CVPR-W 2021):

=========================  ============================================================
hook                       called
=========================  ============================================================
``before_training``        once, with the layer sizes, the number of tasks and the generator
``before_experience``      at the start of task ``t``
``plan_experience``        once task ``t``'s samples, training iterations and batch size are known
``training_data``          to choose the samples task ``t`` trains on
``project``                on every batch, on the presynaptic traces before the weight update
``after_update``           on every batch, after the weight update
``after_experience``       at the end of task ``t``
``summary``                at the end: what the method reports
=========================  ============================================================

Adding a method means writing one subclass with a ``name``; it registers itself in
:data:`STRATEGIES` and becomes a choice of ``neuroplast run continual --method``.
The strategies only call the network's ``forward``/``backward``/``weights`` and the
stream's experiences, so they work with any network of that interface.

Methods: ``finetune`` (no protection), ``hlop`` (Hebbian orthogonal projection, Xiao
et al., ICLR 2024; :mod:`plasticity_rules.hlop`), ``exact`` (the same projection with
exact SVD bases, GPM style; :mod:`plasticity_rules.projection`), ``ewc`` (elastic
weight consolidation, Kirkpatrick et al. 2017; :mod:`plasticity_rules.ewc`) and
``multitask`` (joint training on every task seen so far: the upper bound).
"""

from __future__ import annotations

import numpy as np

from .ewc import EWCPenalty, outer_fisher_diagonal
from .hlop import HLOPConfig, HLOPLayer
from .projection import ExactSubspaceProjector
from .validation import check_int, check_nonnegative, check_positive

__all__ = [
    "STRATEGIES",
    "Strategy",
    "Finetune",
    "HLOP",
    "ExactProjection",
    "EWC",
    "Multitask",
    "make_strategy",
]

#: Registered strategies by name (filled by subclassing :class:`Strategy`).
STRATEGIES: dict[str, type[Strategy]] = {}


class Strategy:
    """Base class: plain training without protection (every hook does nothing).

    Parameters are stored by ``__init__`` and checked there (they are the method's
    configuration, not learned state); state created while training ends in ``_``.
    """

    #: Registry key (a subclass without one is abstract).
    name = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name:
            if cls.name in STRATEGIES:
                raise ValueError(f"continual-learning strategy {cls.name!r} is defined twice")
            STRATEGIES[cls.name] = cls

    def before_training(self, layer_sizes, n_tasks: int, rng) -> None:
        """Once, before the first task: ``layer_sizes`` = (inputs, hidden..., outputs)."""

    def before_experience(self, t: int) -> None:
        """At the start of task ``t``."""

    def plan_experience(self, t: int, n_samples: int, n_iterations: int, batch_size: int) -> None:
        """After ``training_data``: task ``t`` will train ``n_iterations`` batches of ``batch_size``
        drawn from its ``n_samples`` training samples."""

    def training_data(self, t: int, stream):
        """``(X, y, owner)`` that task ``t`` trains on (``owner``: the task of every sample)."""
        exp = stream[t]
        return exp.X_train, exp.y_train, np.full(len(exp.y_train), t)

    def project(self, t: int, traces: list, n_protected: int) -> list:
        """Presynaptic traces used for the weight update of the first ``n_protected`` layers."""
        return traces

    def after_update(self, t: int, net, forward_pass, lr: float) -> None:
        """After every weight update (``forward_pass`` holds the batch's traces, ``lr`` the step size)."""

    def after_experience(self, t: int, experience, net, class_mask, rng) -> None:
        """At the end of task ``t`` (``class_mask``: the task's output classes)."""

    def summary(self) -> dict:
        """``subspace_sizes`` (neurons per task, or None), ``hlop_orthonormality_error`` (or None) and,
        for projection methods, ``subspace_energy_captured`` / ``subspace_energy_optimum`` (per task,
        per layer: see ``_Subspace._record_energy``; None otherwise)."""
        return {"subspace_sizes": None, "hlop_orthonormality_error": None,
                "subspace_energy_captured": None, "subspace_energy_optimum": None}


class Finetune(Strategy):
    """Plain SGD on each task in turn: no protection (the lower bound)."""

    name = "finetune"


class Multitask(Strategy):
    """Joint training: at task ``t``, the epochs run over the union of tasks ``0..t`` (the upper bound)."""

    name = "multitask"

    def training_data(self, t, stream):
        seen = list(range(t + 1))
        X = np.concatenate([stream[j].X_train for j in seen])
        y = np.concatenate([stream[j].y_train for j in seen])
        owner = np.concatenate([np.full(len(stream[j].y_train), j) for j in seen])
        return X, y, owner


class _Subspace(Strategy):
    """Projection methods: ``subspace_first`` directions per layer for task 0, ``subspace_per_task`` later."""

    def __init__(self, subspace_first: int = 40, subspace_per_task: int = 20):
        self.subspace_first = check_int("subspace_first", subspace_first, minimum=1)
        self.subspace_per_task = check_int("subspace_per_task", subspace_per_task, minimum=1)

    def before_training(self, layer_sizes, n_tasks, rng):
        sizes = [self.subspace_first] + [self.subspace_per_task] * (n_tasks - 1)
        total = sum(sizes)
        for li, n_in in enumerate(layer_sizes[:-1]):
            if total > n_in:
                raise ValueError(
                    f"subspace budget {self.subspace_first} + {n_tasks - 1} x {self.subspace_per_task} = "
                    f"{total} exceeds the input dimension {n_in} of layer {li + 1}; allowed: at most {n_in} "
                    "(lower subspace_first / subspace_per_task or raise n_hidden / image_size)"
                )
        self.sizes_ = sizes
        self.projectors_ = self._projectors(list(layer_sizes[:-1]), rng)
        self.energy_captured_, self.energy_optimum_ = [], []

    def _projectors(self, layer_inputs, rng) -> list:  # pragma: no cover - overridden
        raise NotImplementedError

    def project(self, t, traces, n_protected):
        if t == 0:  # nothing to protect yet
            return traces
        k = n_protected
        return [p.project(x) for p, x in zip(self.projectors_[:k], traces[:k], strict=True)] + traces[k:]

    def _basis(self, projector) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def _record_energy(self, experience, net) -> None:
        r"""Share of task ``t``'s trace energy inside the protected subspace, and the best possible share.

        On the traces :math:`X` of (up to) the first 500 training samples of the task,
        with :math:`Q` an orthonormal basis of the protected subspace (all tasks so far,
        :math:`k` directions) and :math:`\sigma_i` the singular values of :math:`X`:

        .. math::

            c = \frac{\lVert X Q \rVert_F^2}{\lVert X \rVert_F^2}, \qquad
            c^* = \frac{\sum_{i \le k} \sigma_i^2}{\sum_i \sigma_i^2} \ge c .

        :math:`c \ll c^*` means the subspace was not learned (Hebbian neurons not
        converged); :math:`c^* \ll 1` means :math:`k` directions cannot hold the task's
        states, whatever learns them. No random draw: the runs are unchanged.
        """
        fp = net.forward(experience.X_train[:500])
        cap, opt = [], []
        for p, x in zip(self.projectors_, fp.traces, strict=True):
            Q = self._basis(p)
            total = float(np.sum(x * x)) or 1.0
            cap.append(float(np.sum((x @ Q) ** 2)) / total)
            sv = np.linalg.svd(x, compute_uv=False) ** 2
            opt.append(float(np.sum(sv[: Q.shape[1]])) / total)
        self.energy_captured_.append(cap)
        self.energy_optimum_.append(opt)

    def summary(self):
        return {"subspace_sizes": self.sizes_, "hlop_orthonormality_error": None,
                "subspace_energy_captured": self.energy_captured_,
                "subspace_energy_optimum": self.energy_optimum_}


class HLOP(_Subspace):
    r"""Hebbian learning based orthogonal projection (Xiao et al., ICLR 2024).

    Every layer has lateral subspace neurons (:class:`plasticity_rules.hlop.HLOPLayer`)
    that learn, by the Oja subspace rule on every batch, the principal subspace of the
    layer's presynaptic traces; from the second task on, weight updates use traces with
    the consolidated neurons' subspace removed, :math:`x \leftarrow x - H^\top H x`.

    **Convergence.** The Oja rule learns a principal direction of eigenvalue
    :math:`\lambda` in about :math:`1/(\eta\lambda)` updates, while its stationary
    fluctuation around the subspace grows with :math:`\eta`: a constant rate trades the
    directions of small eigenvalue against noise in the large ones. As in stochastic
    approximation (Robbins & Monro 1951; Oja & Karhunen 1985), the rate may decay over each
    task, geometrically from ``lr`` to ``lr * decay`` over the task's Hebbian updates
    :math:`s = 0 \ldots S-1`,

    .. math:: \eta_s = \eta_0\, r^{s/(S-1)}, \qquad r = \text{decay},

    and ``sweeps`` further passes over the task's training traces (in batches of the
    training batch size, shuffled) follow the training, before the task's neurons are
    frozen: the Hebbian iterations the subspace neurons keep running on a task's data
    once its weights are learned. :math:`S` counts the training batches and the sweeps'
    batches (known from :meth:`plan_experience`; a loop that does not call it gets the
    constant rate ``lr``).

    Parameters
    ----------
    subspace_first, subspace_per_task : int
        Neurons per layer for task 0 and for every later task.
    lr, lr_input : float
        Initial Hebbian rate of the hidden layers' / the input layer's neurons.
    iterations, momentum, spiking
        Of :class:`~plasticity_rules.hlop.HLOPConfig`.
    decay : float
        Ratio in (0, 1] of the final to the initial rate within each task (1: constant).
    sweeps : int
        Hebbian passes over the task's training traces after its training (0: none).
    """

    name = "hlop"

    def __init__(
        self,
        subspace_first: int = 40,
        subspace_per_task: int = 20,
        lr: float = 0.01,
        lr_input: float = 0.001,
        iterations: int = 5,
        momentum: float = 0.9,
        spiking: bool = False,
        decay: float = 1.0,
        sweeps: int = 0,
    ):
        super().__init__(subspace_first, subspace_per_task)
        self.lr = check_positive("hlop_lr", lr)
        self.lr_input = check_positive("hlop_lr_input", lr_input)
        self.iterations = iterations
        self.momentum = momentum
        self.spiking = spiking
        self.decay = check_positive("hlop_decay", decay)
        if self.decay > 1:
            raise ValueError(f"hlop_decay must be in (0, 1] (final / initial Hebbian rate), got {decay!r}")
        self.sweeps = check_int("hlop_sweeps", sweeps, minimum=0)
        HLOPConfig(lr=lr, iterations=iterations, momentum=momentum)  # the layer's own checks, now

    def _projectors(self, layer_inputs, rng):
        return [
            HLOPLayer(
                n,
                HLOPConfig(
                    lr=self.lr_input if li == 0 else self.lr,
                    iterations=self.iterations,
                    momentum=self.momentum,
                    spiking=self.spiking,
                ),
                seed=rng,
            )
            for li, n in enumerate(layer_inputs)
        ]

    def before_experience(self, t):
        for h in self.projectors_:
            h.add_subspace(self.sizes_[t])
        self._step, self._n_steps, self._batch_size = 0, None, 32

    def plan_experience(self, t, n_samples, n_iterations, batch_size):
        self._batch_size = check_int("batch_size", batch_size, minimum=1)
        n_sweep = self.sweeps * -(-check_int("n_samples", n_samples, minimum=0) // self._batch_size)
        self._n_steps = check_int("n_iterations", n_iterations, minimum=1) + n_sweep

    def _hebbian(self, traces):
        """One Oja update of every layer's free neurons at the scheduled rate :math:`\\eta_s`."""
        f = 1.0
        if self._n_steps is not None and self.decay != 1.0:
            f = self.decay ** (min(self._step, self._n_steps - 1) / max(self._n_steps - 1, 1))
        for h, x in zip(self.projectors_, traces, strict=True):
            h.update(x, lr=h.config.lr * f)
        self._step += 1

    def after_update(self, t, net, forward_pass, lr):
        self._hebbian(forward_pass.traces)

    def _basis(self, h):
        return np.linalg.qr(h.components_.T)[0] if h.n_subspace else np.zeros((h.n_inputs, 0))

    def after_experience(self, t, experience, net, class_mask, rng):
        if self.sweeps:
            traces = net.forward(experience.X_train).traces
            n, bs = len(experience.y_train), self._batch_size
            for _ in range(self.sweeps):
                order = rng.permutation(n)
                for i in range(0, n, bs):
                    self._hebbian([np.ascontiguousarray(x[order[i:i + bs]]) for x in traces])
        self._record_energy(experience, net)
        for h in self.projectors_:
            h.consolidate()

    def summary(self):
        err = max(h.orthonormality_error() for h in self.projectors_) if self.projectors_ else None
        return {**super().summary(), "hlop_orthonormality_error": err}


class ExactProjection(_Subspace):
    """The same projection with exact SVD bases of each task's traces (GPM style, Saha et al. 2021).

    After task ``t``, the traces of up to 500 of its training samples add the top
    ``subspace_*`` singular directions per layer to the protected basis.
    """

    name = "exact"

    def _projectors(self, layer_inputs, rng):
        return [ExactSubspaceProjector(n) for n in layer_inputs]

    def _basis(self, p):
        return p.basis_

    def after_experience(self, t, experience, net, class_mask, rng):
        sub = rng.permutation(len(experience.y_train))[:500]
        fp = net.forward(experience.X_train[sub])
        for p, x in zip(self.projectors_, fp.traces, strict=True):
            p.add_task(x, n_components=self.sizes_[t])
        self._record_energy(experience, net)


class EWC(Strategy):
    """Elastic weight consolidation (Kirkpatrick et al. 2017) as an implicit (proximal) step.

    After each gradient step from the second task on, the weights move to the minimiser
    of the quadratic penalty :math:`\\tfrac{\\lambda}{2}\\sum_i F_i(\\theta_i - \\theta_i^*)^2`
    plus the distance to the step's result (stable for any :math:`\\lambda\\,\\eta\\,F`);
    the diagonal Fisher :math:`F` comes from 500 samples of each finished task with labels
    drawn from the model.
    """

    name = "ewc"

    def __init__(self, lam: float = 300.0):
        self.lam = check_nonnegative("ewc_lambda", lam)

    def before_training(self, layer_sizes, n_tasks, rng):
        self.penalty_ = EWCPenalty(self.lam)

    def after_update(self, t, net, forward_pass, lr):
        if t > 0:
            net.weights = self.penalty_.proximal(net.weights, lr)

    def after_experience(self, t, experience, net, class_mask, rng):
        sub = rng.permutation(len(experience.y_train))[:500]
        fp = net.forward(experience.X_train[sub])
        deltas, _ = net.backward(fp, experience.y_train[sub], class_mask, labels_from_model=rng)
        fishers = [
            outer_fisher_diagonal(np.ascontiguousarray(d), np.ascontiguousarray(x))
            for d, x in zip(deltas, fp.traces, strict=True)
        ]
        self.penalty_.consolidate([w.copy() for w in net.weights], fishers)


def make_strategy(name: str, **params) -> Strategy:
    """The strategy registered as ``name``, built with ``params``; ``ValueError`` names the allowed ones."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown continual-learning method {name!r}; allowed: {', '.join(STRATEGIES)}")
    return STRATEGIES[name](**params)
