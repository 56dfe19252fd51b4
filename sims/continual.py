"""Continual learning of a spiking network with HLOP and baselines (``neuroplast run continual``).

A two-hidden-layer LIF network (:mod:`spiking.feedforward`, DSR surrogate
gradients on presynaptic spike traces) learns a task stream
(:mod:`tasks.continual`) through one training loop (:func:`tasks.cl_training.train_stream`)
with one of five strategies (:mod:`plasticity_rules.cl_strategies`, one class each):

``finetune``
    plain SGD on each task in turn (no protection).
``hlop``
    Hebbian learning based orthogonal projection (Xiao et al. 2024): every layer
    has lateral subspace neurons (:class:`plasticity_rules.hlop.HLOPLayer`);
    ``subspace_first`` neurons per layer for the first task and
    ``subspace_per_task`` for every later task learn, by the Oja subspace rule,
    the principal subspace of the layer's presynaptic traces while the task is
    trained; from the second task on, every weight update uses traces with the
    frozen neurons' subspace removed.
``exact``
    the same projection with exact SVD bases of the traces (GPM style,
    :mod:`plasticity_rules.projection`), as many directions per task as HLOP neurons.
``ewc``
    elastic weight consolidation (:mod:`plasticity_rules.ewc`), the penalty applied
    as an implicit (proximal) step after each gradient step.
``multitask``
    the upper bound: at each task, ``epochs`` passes over the union of all tasks
    seen so far (joint training, continuing from the previous weights).

Every ``eval_every`` iterations all tasks seen so far are evaluated on up to
``eval_samples`` test samples (continual evaluation); after each task the full
test sets fill the accuracy matrix. Outputs: ``summary.json`` (acc, bwt, fwt,
forgetting, min_acc, wc_acc and the matrix as fractions in [0, 1], ``accuracy_unit``
says so, as in every summary of this project), ``accuracy_matrix.csv``,
``accuracy_curves.csv`` (fractions), ``accuracy_matrix.png`` and
``accuracy_curves.png`` (plotted in percent).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plasticity_rules import cl_strategies
from plasticity_rules.cl_readouts import READOUTS, make_state_readout
from plasticity_rules.cl_strategies import STRATEGIES, Strategy
from plasticity_rules.hlop import HLOPConfig
from plasticity_rules.validation import check_choice, check_int, check_nonnegative, check_positive, make_rng
from spiking.feedforward import FeedforwardConfig, FeedforwardSNN
from tasks import cl_metrics, cl_training
from tasks.continual import STREAMS, TaskStream, make_stream

from ._cl_states import FEATURES, state_stream
from .parsing import parse_grid
from .registry import param, register

__all__ = ["ContinualConfig", "METHODS", "make_strategy", "train_stream", "run_continual"]

#: The registered strategies (adding a method: one Strategy subclass in plasticity_rules.cl_strategies).
METHODS = tuple(STRATEGIES)
#: What learns: the LIF network or a readout of :mod:`plasticity_rules.cl_readouts` (auto: by features).
LEARNERS = ("auto", "network", *READOUTS)


def learner(config) -> str:
    """``network``, ``softmax`` or ``three-factor`` (``auto``: the network on pixels, softmax on states)."""
    if config.readout != "auto":
        return config.readout
    return "network" if config.features == "pixels" else "softmax"


@dataclass(frozen=True)
class ContinualConfig:
    stream: str = param("permuted-digits", "task stream", choices=STREAMS)
    n_tasks: int = param(5, "number of tasks (experiences)")
    method: str = param("hlop", "protection method", choices=METHODS)
    n_hidden: int = param(256, "LIF neurons in each of the two hidden layers")
    n_steps: int = param(10, "time steps per presentation")
    image_size: int = param(28, "digits are upsampled to image_size x image_size inputs")
    epochs: int = param(3, "training epochs per task")
    batch_size: int = param(32, "samples per training batch")
    lr: float = param(0.02, "SGD learning rate of the network weights")
    subspace_first: int = param(40, "HLOP / exact subspace neurons per layer for the first task")
    subspace_per_task: int = param(20, "HLOP / exact subspace neurons per layer added for each later task")
    hlop_lr: float = param(0.01, "Hebbian learning rate of the hidden-layer subspace neurons")
    hlop_lr_input: float = param(0.001, "Hebbian learning rate of the input-layer subspace neurons")
    hlop_lr_states: float = param(
        0.1, "Hebbian learning rate of the subspace neurons of a readout of liquid / reservoir states or "
        "pixels (--readout softmax / three-factor); the states are scaled to unit mean squared norm, so "
        "the hidden-layer rate 0.01 leaves their subspace unlearned, and rates >= 0.3 lose orthonormality")
    hlop_iterations: int = param(5, "Oja subspace updates per training batch")
    hlop_decay: float = param(1.0, "final / initial Hebbian rate of the subspace neurons within each task "
                              "(geometric decay over the task's Hebbian updates, sweeps included; 1: "
                              "constant)")
    hlop_sweeps: int = param(0, "Hebbian passes of the subspace neurons over each task's training traces "
                             "after its training, before they are frozen")
    hlop_momentum: float = param(0.9, "momentum of the Hebbian updates (0: none)")
    hlop_spiking: bool = param(False, "spiking (quantised) lateral subspace neurons")
    ewc_lambda: float = param(300.0, "EWC penalty strength")
    eval_every: int = param(5, "training iterations between continual evaluations")
    eval_samples: int = param(100, "test samples per task at each continual evaluation")
    max_train: int = param(2000, "training samples per task for MNIST-sized streams")
    max_test: int = param(500, "test samples per task for MNIST-sized streams")
    data_path: str = param(
        "",
        "MNIST/Fashion-MNIST streams: directory of the IDX files (default: $NEUROPLAST_MNIST / "
        "$NEUROPLAST_FASHION_MNIST, $NEUROPLAST_DATA/<name>, ~/.cache/neuroplast/datasets, ~/datasets, "
        "/usr/share/datasets); permuted-idx and split-idx streams: a directory of IDX files or a "
        ".npz file (required)",
        scan=False,
    )
    features: str = param("pixels", "what the learner sees: the pixels, or the states of a liquid "
                          "(lsm: fixed weights; nalsm: astrocyte-modulated STDP initialised on the first "
                          "task) or of an Izhikevich reservoir", choices=FEATURES)
    readout: str = param("auto", "learner: the LIF network, or a plastic linear readout of the features "
                         "(softmax delta rule or gated three-factor rule); auto = network on pixels, softmax "
                         "on states", choices=LEARNERS)
    readout_lr: float = param(0.5, "learning rate of the softmax / three-factor readout")
    liquid_grid: str = param("10x10x10", "liquid grid shape (lsm, nalsm)")
    liquid_duration: float = param(0.25, "how long each image drives the liquid (lsm, nalsm; whole ms)",
                                   unit="s", aliases={"liquid_ms": "ms"})
    n_init: int = param(500, "first-task training images of the NALSM initialisation phase")
    liquid_eta: float = param(0.15, "NALSM STDP rate eta_+")
    liquid_w_astro: float = param(0.01, "NALSM astrocyte weight w_astro")
    reservoir_neurons: int = param(1000, "Izhikevich reservoir size (reservoir features)")
    reservoir_input: str = param("current", "images enter the reservoir as currents or Poisson spikes",
                                 choices=("current", "spikes"))
    reservoir_duration: float = param(0.1, "how long each image drives the reservoir (whole ms, >= 20 ms)",
                                      unit="s", aliases={"reservoir_ms": "ms"})
    reservoir_gain: float = param(10.0, "input current gain (mV/ms) of reservoir_input=current")
    standardise: bool = param(True, "z-score liquid / reservoir states with the first task's training "
                              "statistics (pixels are only scaled)")
    feature_cache: str = param("~/.cache/neuroplast/cl-states", "directory caching the liquid / reservoir "
                               "states ('none': memory only)", scan=False)
    gap_window: int = param(0, "iterations after a task switch searched for the stability gap "
                            "(0: one epoch of the task)")

    def __post_init__(self):
        check_int("n_tasks", self.n_tasks, minimum=1)
        check_int("n_hidden", self.n_hidden, minimum=1)
        check_int("n_steps", self.n_steps, minimum=1)
        check_int("image_size", self.image_size, minimum=1)
        check_int("epochs", self.epochs, minimum=1)
        check_int("batch_size", self.batch_size, minimum=1)
        check_positive("lr", self.lr)
        check_int("subspace_first", self.subspace_first, minimum=1)
        check_int("subspace_per_task", self.subspace_per_task, minimum=1)
        check_positive("hlop_lr", self.hlop_lr)
        check_positive("hlop_lr_input", self.hlop_lr_input)
        check_positive("hlop_lr_states", self.hlop_lr_states)
        check_int("hlop_iterations", self.hlop_iterations, minimum=1)
        check_positive("hlop_decay", self.hlop_decay)
        if self.hlop_decay > 1:
            raise ValueError(f"hlop_decay must be in (0, 1] (final / initial Hebbian rate), "
                             f"got {self.hlop_decay!r}")
        check_int("hlop_sweeps", self.hlop_sweeps, minimum=0)
        check_nonnegative("ewc_lambda", self.ewc_lambda)
        check_int("eval_every", self.eval_every, minimum=1)
        check_int("eval_samples", self.eval_samples, minimum=1)
        check_int("max_train", self.max_train, minimum=1)
        check_int("max_test", self.max_test, minimum=1)
        check_choice("features", self.features, FEATURES)
        check_choice("readout", self.readout, LEARNERS)
        check_positive("readout_lr", self.readout_lr)
        parse_grid(self.liquid_grid)
        for name in ("liquid_duration", "reservoir_duration"):
            check_positive(name, getattr(self, name))
            ms = getattr(self, name) * 1e3
            if abs(ms - round(ms)) > 1e-6 or round(ms) < (20 if name == "reservoir_duration" else 1):
                raise ValueError(f"{name} must be a whole number of ms (dt = 1 ms; the reservoir at least "
                                 f"20 ms), got {ms:g} ms")
        check_int("n_init", self.n_init, minimum=1)
        check_nonnegative("liquid_eta", self.liquid_eta)
        check_nonnegative("liquid_w_astro", self.liquid_w_astro)
        check_int("reservoir_neurons", self.reservoir_neurons, minimum=2)
        check_choice("reservoir_input", self.reservoir_input, ("current", "spikes"))
        check_positive("reservoir_gain", self.reservoir_gain)
        check_int("gap_window", self.gap_window, minimum=0)
        # raises the same ValueError as the layer would, before any training
        HLOPConfig(lr=self.hlop_lr, iterations=self.hlop_iterations, momentum=self.hlop_momentum)


def make_strategy(config: ContinualConfig, *, input_is_states: bool = False) -> Strategy:
    """The :class:`~plasticity_rules.cl_strategies.Strategy` of ``config.method`` with its parameters."""
    params = {
        "hlop": dict(
            subspace_first=config.subspace_first,
            subspace_per_task=config.subspace_per_task,
            lr=config.hlop_lr_states if input_is_states else config.hlop_lr,
            lr_input=config.hlop_lr_states if input_is_states else config.hlop_lr_input,
            iterations=config.hlop_iterations,
            momentum=config.hlop_momentum,
            spiking=config.hlop_spiking,
            decay=config.hlop_decay,
            sweeps=config.hlop_sweeps,
        ),
        "exact": dict(subspace_first=config.subspace_first, subspace_per_task=config.subspace_per_task),
        "ewc": dict(lam=config.ewc_lambda),
    }
    return cl_strategies.make_strategy(config.method, **params.get(config.method, {}))


def train_stream(
    stream: TaskStream,
    config: ContinualConfig,
    *,
    seed=None,
    progress: bool = False,
    net_config: FeedforwardConfig | None = None,
) -> dict:
    """Build the network and the strategy of ``config`` and train them on ``stream``.

    Wiring of :func:`tasks.cl_training.train_stream` (which documents the result):
    one generator from ``seed`` builds the network, then drives the training.
    """
    if not isinstance(stream, TaskStream):
        raise ValueError(f"stream must be a TaskStream, got {type(stream).__name__}")
    rng = make_rng(seed)
    kind = learner(config)
    if kind == "network":
        net_config = net_config or FeedforwardConfig(
            n_hidden=(config.n_hidden, config.n_hidden), n_steps=config.n_steps
        )
        net = FeedforwardSNN(stream.n_inputs, stream.n_classes, net_config, seed=rng)
        strategy, lr = make_strategy(config), config.lr
    else:
        net = make_state_readout(kind, stream.n_inputs, stream.n_classes, seed=rng)
        # the states (scaled to unit mean squared norm) are the readout's only input layer: the Oja rule
        # converges on a component of eigenvalue lam after ~1 / (lr * lam) updates, and lam ~ 1e-3 here
        strategy, lr = make_strategy(config, input_is_states=True), config.readout_lr
    return cl_training.train_stream(
        stream,
        net,
        strategy,
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=lr,
        eval_every=config.eval_every,
        eval_samples=config.eval_samples,
        seed=rng,
        progress=progress,
    )


def _plots(res, out: Path, title: str, gap: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    R = res["R"] * 100
    T = R.shape[0]
    fig, ax = plt.subplots(figsize=(1.2 + 0.55 * T, 1.0 + 0.5 * T))
    im = ax.imshow(R, vmin=0, vmax=100, cmap="viridis")
    for i in range(T):
        for j in range(T):
            ax.text(j, i, f"{R[i, j]:.0f}", ha="center", va="center", fontsize=7,
                    color="w" if R[i, j] < 60 else "k")
    ax.set_xticks(range(T))
    ax.set_yticks(range(T))
    ax.set_xlabel("evaluated task j")
    ax.set_ylabel("after training task i")
    ax.set_title(f"accuracy matrix (%)\n{title}", fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(out / "accuracy_matrix.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 3.5))
    it = res["iteration"]
    for j in range(T):
        ax.plot(it, res["curve"][:, j] * 100, lw=1, label=f"task {j}")
    ends = [it[np.flatnonzero(res["phase"] == t)[-1]] for t in range(T)]
    for t, e in enumerate(ends[:-1]):
        ax.axvline(e, color="0.5", lw=0.7, ls="--")
        ax.text(e, 101, f"task {t + 1}\ngap {100 * gap['stability_gap_depth_per_switch'][t]:.0f}",
                fontsize=6, ha="left", va="bottom")
    ax.set_xlabel("training iteration")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"continual evaluation: {title}", fontsize=9, pad=18)
    ax.legend(fontsize=6, ncol=min(T, 5), loc="lower left")
    fig.tight_layout()
    fig.savefig(out / "accuracy_curves.png", dpi=120)
    plt.close(fig)


_GAP_KEYS = ("stability_gap_depth", "stability_gap_max_depth", "stability_gap_iterations",
             "stability_gap_recovered", "stability_gap_depth_per_switch",
             "stability_gap_iterations_per_switch", "stability_gap_window")


def output_names(config: ContinualConfig) -> tuple[str, ...]:
    """Summary keys of a run with ``config`` (the state keys only when states are computed)."""
    names = (
        "stream", "data", "method", "features", "readout", "n_tasks", "n_inputs", "acc", "bwt", "fwt",
        "forgetting", "min_acc", "wc_acc", *_GAP_KEYS, "units", "accuracy_unit", "accuracy_matrix",
        "baseline_accuracy", "net_s_per_batch", "protect_s_per_batch", "train_s",
        "subspace_total_per_layer", "hlop_orthonormality_error", "subspace_energy_captured",
        "subspace_energy_optimum",
    )
    if learner(config) != "network" or config.features != "pixels":
        names += ("n_features", "feature_s", "feature_cache_hits", "feature_cache_misses",
                  "feature_chunks_computed")
    if config.features in ("lsm", "nalsm"):
        names += ("n_liquid", "n_liquid_synapses")
    if config.features == "reservoir":
        names += ("n_reservoir",)
    return names


def estimate_memory(config: ContinualConfig) -> dict:
    """Memory of a run by part, ``{part: (bytes, option that lowers it)}`` (see :mod:`sims.limits`).

    Permuted streams hold one permuted copy of the data per task; split streams
    share one copy. The continual-evaluation curve has one row of ``n_tasks``
    accuracies per ``eval_every`` training iterations.
    """
    from . import limits

    T = config.n_tasks
    mnist = "mnist" in config.stream or "fashion" in config.stream
    n_in = 784 if mnist else config.image_size**2
    per_task = config.max_train + config.max_test if mnist else 1797
    n_train = config.max_train if mnist else (1437 if config.stream.startswith("permuted") else 1437 / T)
    if config.stream.startswith("permuted"):
        data = T * per_task * n_in * 8.0
    else:
        data = min(70000 if mnist else 1797, per_task * (T if mnist else 1)) * n_in * 8.0
    if mnist:
        data += 70000 * 784 * 8.0  # the loaded dataset
    iters = T * config.epochs * np.ceil(max(n_train, 1) / config.batch_size)
    if config.method == "multitask":
        iters *= (T + 1) / 2  # epochs over the union of the tasks seen so far
    curve = 3 * 8.0 * (iters / config.eval_every + T) * T
    h = config.n_hidden
    weights = 8.0 * (n_in * h + h * h + h * 10) * 6  # weights, gradients, projections, EWC copies
    traces = 8.0 * config.batch_size * config.n_steps * (n_in + 2 * h) * 4
    states = 0.0
    if config.features != "pixels":
        n_feat = {"reservoir": config.reservoir_neurons}.get(config.features)
        if n_feat is None:
            n_feat = int(np.prod(parse_grid(config.liquid_grid)))
        states = 3 * 8.0 * (data / (8.0 * n_in)) * n_feat  # raw, standardised and scaled copies
    return {
        "task data": (data, "--n-tasks" + (" or --max-train/--max-test" if mnist else " or --image-size")),
        "liquid / reservoir states": (states, "--max-train/--max-test or --liquid-grid/--reservoir-neurons"),
        "accuracy curves": (curve, "--n-tasks or raise --eval-every"),
        "network": (weights + traces, "--n-hidden or --image-size"),
        "interpreter and libraries": (limits.BASELINE_BYTES, "--n-tasks"),
    }


@register(
    "continual",
    ContinualConfig,
    memory=estimate_memory,
    uses_brian2=False,
    outputs=lambda config: output_names(config),
    help="Continual learning of a LIF network (DSR surrogate gradients) on a task stream with HLOP "
    "(Hebbian orthogonal projection) or a baseline (finetune, ewc, exact SVD projection, multitask); "
    "writes the accuracy matrix, continual-evaluation curves and ACC/BWT/FWT/forgetting/min-ACC/WC-ACC.",
)
def run_continual(config: ContinualConfig, *, seed, out, progress=False) -> dict:
    import time

    rng = make_rng(seed)
    stream = make_stream(config.stream, config.n_tasks, seed=rng, image_size=config.image_size,
                         max_train=config.max_train, max_test=config.max_test,
                         data_path=config.data_path or None)
    kind = learner(config)
    info = {}
    if kind != "network" or config.features != "pixels":
        stream, info = state_stream(stream, config, rng, progress=progress)
    t0 = time.perf_counter()
    res = train_stream(stream, config, seed=rng, progress=progress)
    train_s = time.perf_counter() - t0
    m = res["metrics"]
    n_iter_task = config.epochs * int(np.ceil(len(stream[0].y_train) / config.batch_size))
    window = config.gap_window or max(n_iter_task // config.epochs, 1)
    gap = cl_metrics.stability_gap_summary(res["curve"], res["phase"], res["iteration"], window)
    summary = {
        "stream": config.stream,
        "data": stream.meta.get("provenance", "embedded 8x8 digits"),
        "method": config.method,
        "features": config.features,
        "readout": kind,
        "n_tasks": config.n_tasks,
        "n_inputs": stream.n_inputs,
        "acc": m["acc"],
        "bwt": m["bwt"],
        "fwt": m["fwt"],
        "forgetting": m["forgetting"],
        "min_acc": m["min_acc"],
        "wc_acc": m["wc_acc"],
        **gap,
        "stability_gap_window": int(window),
        "units": "fraction",
        "accuracy_unit": "fraction",
        "accuracy_matrix": res["R"].round(5).tolist(),
        "baseline_accuracy": res["baseline"].round(5).tolist(),
        "net_s_per_batch": res["timing"]["net_s_per_batch"],
        "protect_s_per_batch": res["timing"]["protect_s_per_batch"],
        "train_s": train_s,
        **info,
    }
    if res["subspace_sizes"] is not None:
        summary["subspace_total_per_layer"] = int(sum(res["subspace_sizes"]))
    if res["hlop_orthonormality_error"] is not None:
        summary["hlop_orthonormality_error"] = res["hlop_orthonormality_error"]
    if res.get("subspace_energy_captured") is not None:
        # per task, of the first protected layer (the states, or the network's input): the share of the
        # task's trace energy inside the protected subspace and the best share that many directions allow
        summary["subspace_energy_captured"] = [round(c[0], 5) for c in res["subspace_energy_captured"]]
        summary["subspace_energy_optimum"] = [round(c[0], 5) for c in res["subspace_energy_optimum"]]
    summary = {k: (float(v) if isinstance(v, (np.floating, float)) else v) for k, v in summary.items()}
    if out is not None:
        out = Path(out)
        np.savetxt(out / "accuracy_matrix.csv", res["R"], delimiter=",", fmt="%.5f",
                   header="row i: after training task i; column j: test accuracy (fraction) on task j")
        cols = ["iteration", "phase"] + [f"task{j}" for j in range(config.n_tasks)]
        np.savetxt(out / "accuracy_curves.csv",
                   np.column_stack([res["iteration"], res["phase"], res["curve"]]),
                   delimiter=",", fmt="%.5g", header=",".join(cols), comments="")
        _plots(res, out, f"{config.stream}, {config.features}/{kind}, {config.method}, seed {seed}", gap)
    return summary
