"""``neuroplast run nalsm``: liquid state machine with astrocyte-modulated STDP (NALSM).

Protocol (Ivanov & Michmizos, NeurIPS 2021; reference code combra-lab/NALSM):

1. **Liquid initialisation**: ``n_init`` random training samples, ``init_duration``
   each, plasticity on without decay (``stdp``, ``nalsm``; skipped for ``lsm``).
2. **Feature generation**: every train/validation/test sample is presented for
   ``sample_duration`` starting from the initialised weights, with :math:`\\eta_+`,
   ``A``, :math:`w_\\mathrm{astro}`, :math:`b_A` decaying by ``lr_decay`` per step;
   liquid spike counts are the features.
3. **Readout**: a linear softmax layer on spike counts normalised as in the
   reference (each sample by its L1 norm, then all by the largest training
   value), trained by mini-batch Adam; the test accuracy is taken at the epoch
   with the best validation accuracy.

Models share one code path: ``lsm`` is :math:`\\eta_+ = 0` with initial weights
``w_scale * w_max``; ``stdp`` is :math:`w_\\mathrm{astro} = 0` (A stays
:math:`\\eta_+`); ``nalsm`` uses the astrocyte with ``w_astro``. With
``--sweep true`` the same liquid (same seed) is run for every LSM weight scale
of ``lsm_scales``, for STDP, and for every NALSM ``w_astro`` of
``astro_values``; the summary lists all of them and ``accuracy_vs_bf.png``
plots accuracy against branching factor.

Scale (:mod:`sims.nalsm_scale`): ``--dataset mnist`` and ``fashion-mnist`` use the
full 50k/10k/10k split unless ``--n-train``/``--n-val``/``--n-test`` are given. Every
sample's input spikes come from its own seed (run seed and sample index), so the
features are computed in chunks of ``--store-chunk`` samples by ``--workers``
processes (default one per core) or a Dask cluster (``--scheduler ADDR``) with the
same result, bit for bit, and stored under ``OUT/features/<variant>/``
(:mod:`tasks.feature_store`); re-running the same command with the same ``--out``
resumes (no finished chunk recomputed, the initialised weights reloaded), another
configuration there is refused unless ``--force``, and :func:`sims.load_features`
reads the features back for readouts without simulating. The summary adds
``n_workers``, ``init_s``, ``features_s``, ``readout_s`` and ``samples_per_s``.

``--engine numba`` runs the same liquid on its hand-written Numba twin
(:mod:`spiking.liquid.numba`, bit-identical spike trains for deterministic
inputs in the tests), for sweeps too long for Brian2 on a small machine.

Measurements: branching factor (:func:`tasks.liquid_metrics.branching_factor`)
on the first ``n_record`` validation samples and its chance level for the same
spikes with the timing between neurons destroyed
(:func:`tasks.liquid_metrics.branching_factor_chance`), kernel quality and
generalisation rank (ranks of spike-count matrices on clean and noisy test
inputs), accuracy and confusion matrix.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plasticity_rules.validation import (
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
    check_probability,
    make_rng,
)

from . import feedback, limits
from .limits import check_steps
from .parsing import parse_floats, parse_grid
from .registry import param, register

__all__ = ["NALSMConfig", "run_nalsm"]

MODELS = ("lsm", "stdp", "nalsm")


@dataclass(frozen=True)
class NALSMConfig:
    dataset: str = param(
        "digits",
        "image dataset: digits (embedded), mnist, fashion-mnist, idx:DIR (any directory of four IDX files) "
        "or npz:FILE (arrays x_train, y_train, x_test, y_test)",
        metavar="{digits,mnist,fashion-mnist,idx:DIR,npz:FILE}",
    )
    data_path: str = param(
        "",
        "directory of the mnist/fashion-mnist IDX files, any size (default: $NEUROPLAST_MNIST / "
        "$NEUROPLAST_FASHION_MNIST, $NEUROPLAST_DATA/<name>, ~/.cache/neuroplast/datasets/<name>, "
        "~/datasets/<name>, /usr/share/datasets/<name>)",
        scan=False,
    )
    split: str = param(
        "auto",
        "train/validation split: auto (reference 50k/10k/10k for the official release, else seeded), "
        "reference or seeded",
        choices=("auto", "reference", "seeded"),
    )
    split_seed: int = param(0, "seed of the digits split and of the seeded split of your own data")
    model: str = param("nalsm", "liquid model", choices=MODELS)
    grid: str = param("10x10x10", "liquid grid shape, e.g. 10x10x10")
    n_train: int = param(0, "training samples used (0 = all)")
    n_val: int = param(0, "validation samples used (0 = all)")
    n_test: int = param(0, "test samples used (0 = all)")
    n_init: int = param(1000, "samples of the liquid-initialisation phase")
    init_duration: float = param(
        0.02, "duration of one initialisation sample (whole ms)", unit="s", aliases={"init_ms": "ms"}
    )
    sample_duration: float = param(
        0.25, "duration of one feature-generation sample (whole ms)", unit="s", aliases={"sample_ms": "ms"}
    )
    eta: float = param(0.15, "STDP potentiation rate eta_+ (stdp, nalsm)")
    w_astro: float = param(0.01, "astrocyte weight w_astro (nalsm), scaled by layer sizes")
    w_scale: float = param(1.0, "initial weight magnitude abs(w) / w_max of the fixed-weight LSM")
    lr_decay: float = param(0.99, "per-step decay of plasticity during feature generation")
    sweep: bool = param(False, "run the LSM weight-scale sweep, STDP and the NALSM w_astro sweep")
    lsm_scales: str = param("0.4,0.6,0.8,1.0", "weight scales of the LSM sweep", scan=False)
    astro_values: str = param("0.005,0.01,0.02,0.04", "w_astro values of the NALSM sweep", scan=False)
    n_record: int = param(20, "validation samples recorded for branching factor and raster")
    noise: float = param(0.1, "std of Gaussian pixel noise for the generalisation rank")
    epochs: int = param(150, "readout training epochs")
    engine: str = param(
        "brian2", "simulator: the Brian2 model or its hand-written Numba twin", choices=("brian2", "numba")
    )
    backend: str = param("cython", "Brian2 code-generation target", choices=("cython", "numpy"))
    workers: int = param(0, "feature-generation worker processes (0 = one per core)", scan=False)
    scheduler: str = param("", "Dask scheduler address for feature generation (tcp://host:8786)", scan=False)
    local_dask: bool = param(
        False, "feature generation on a local Dask cluster of --workers instead of a process pool", scan=False
    )
    store_chunk: int = param(250, "samples per stored feature chunk (unit of resume)", scan=False)
    force: bool = param(False, "delete stored features of a different configuration in --out", scan=False)

    def __post_init__(self):
        from tasks.datasets import SPLITS, check_dataset_spec

        check_dataset_spec(self.dataset)
        check_choice("split", self.split, SPLITS)
        check_int("split_seed", self.split_seed, minimum=0)
        check_choice("model", self.model, MODELS)
        parse_grid(self.grid)
        for name in ("n_train", "n_val", "n_test"):
            check_int(name, getattr(self, name), minimum=0)
        check_int("n_init", self.n_init, minimum=1)
        for name in ("init_duration", "sample_duration"):
            check_positive(name, getattr(self, name))
            ms = getattr(self, name) * 1e3
            if abs(ms - round(ms)) > 1e-6 or round(ms) < 1:
                raise ValueError(f"{name} must be a whole number of ms (dt = 1 ms), got {ms:g} ms")
            check_steps(name, getattr(self, name), 1e-3)
        check_steps("liquid initialisation (n_init x init_duration)", self.n_init * self.init_duration, 1e-3,
                    option="--n-init or --init-duration")
        if self.sample_steps <= 2 * 25 + 2 * 4:
            raise ValueError(
                f"sample_duration must be > 58 ms (25 ms buffers and 4 ms windows of the branching "
                f"factor), got {self.sample_steps} ms"
            )
        check_nonnegative("eta", self.eta)
        check_nonnegative("w_astro", self.w_astro)
        check_probability("w_scale", self.w_scale)
        check_probability("lr_decay", self.lr_decay)
        parse_floats("lsm_scales", self.lsm_scales)
        for v in parse_floats("astro_values", self.astro_values):
            check_nonnegative("astro_values", v)
        for v in parse_floats("lsm_scales", self.lsm_scales):
            check_probability("lsm_scales", v)
        check_int("n_record", self.n_record, minimum=1)
        check_nonnegative("noise", self.noise)
        check_int("epochs", self.epochs, minimum=1)
        check_choice("backend", self.backend, ("cython", "numpy"))
        check_choice("engine", self.engine, ("brian2", "numba"))
        check_int("workers", self.workers, minimum=0)
        check_int("store_chunk", self.store_chunk, minimum=1)
        if not isinstance(self.scheduler, str) or not (
            self.scheduler == "" or re.fullmatch(r"([a-z]+://)?[\w.\-\[\]:]+:\d+", self.scheduler)
        ):
            raise ValueError(
                f"scheduler must be a Dask scheduler address such as tcp://host:8786, got {self.scheduler!r}"
            )
        if self.local_dask and self.scheduler:
            raise ValueError("local_dask excludes scheduler (--local-dask starts its own cluster)")

    @property
    def init_steps(self) -> int:
        """Initialisation sample length in 1 ms steps."""
        return round(self.init_duration * 1e3)

    @property
    def sample_steps(self) -> int:
        """Feature-generation sample length in 1 ms steps."""
        return round(self.sample_duration * 1e3)


def _variants(config):
    """(model, eta, w_astro, w_scale, label) of every run."""
    if not config.sweep:
        eta = 0.0 if config.model == "lsm" else config.eta
        wa = config.w_astro if config.model == "nalsm" else 0.0
        ws = config.w_scale if config.model == "lsm" else 1.0
        return [(config.model, eta, wa, ws)]
    out = [("lsm", 0.0, 0.0, s) for s in parse_floats("lsm_scales", config.lsm_scales)]
    out.append(("stdp", config.eta, 0.0, 1.0))
    out += [("nalsm", config.eta, a, 1.0) for a in parse_floats("astro_values", config.astro_values)]
    return out


def _variant_label(model, eta, w_astro, w_scale) -> str:
    return f"{model}_eta{eta:g}_wastro{w_astro:g}_wscale{w_scale:g}"


def _evaluate_variant(liq, spec, data, pool, variant, config, rng, store_root, progress):
    from plasticity_rules.readouts import SoftmaxReadout
    from spiking.liquid import sample_seeds
    from tasks.datasets import normalise_rows
    from tasks.liquid_metrics import (
        branching_factor,
        branching_factor_chance,
        confusion_matrix,
        kernel_quality,
    )

    from .nalsm_scale import variant_features

    model, eta, w_astro, w_scale = variant
    probs, labels, splits, data_sha = pool
    c = liq.config
    # every draw is made whether or not a stored result is reused, so a resumed run draws the same
    init_seed = int(rng.integers(2**31 - 1))
    init_idx = rng.integers(0, data.x_train.shape[0], config.n_init)
    base_seed = int(rng.integers(2**63 - 1))
    readout_seed = int(rng.integers(2**31 - 1))
    counts, val, info = variant_features(
        liq,
        spec,
        probs,
        labels,
        splits,
        label=_variant_label(model, eta, w_astro, w_scale),
        params={"model": model, "eta": float(eta), "w_astro": float(w_astro), "w_scale": float(w_scale)},
        init_probs=None if model == "lsm" else data.x_train[init_idx],
        init_seed=init_seed,
        base_seed=base_seed,
        data_sha256=data_sha,
        store_root=store_root,
        workers=config.workers,
        scheduler="local" if config.local_dask else config.scheduler,
        store_chunk=config.store_chunk,
        force=config.force,
        n_record=config.n_record,
        progress=progress,
    )
    train, val_counts, test = (counts[a:b] for a, b in (splits[k] for k in ("train", "val", "test")))
    nls = liq.conn.n_liquid_syn
    bf_args = (*val.recorded_spikes(), *liq.liquid_synapses())
    bf = branching_factor(*bf_args)
    bf_chance = branching_factor_chance(*bf_args, seed=rng)
    t0 = time.perf_counter()
    Xtr, scale = normalise_rows(train)
    Xva, _ = normalise_rows(val_counts, scale)
    Xte, _ = normalise_rows(test, scale)
    ro = SoftmaxReadout(n_classes=data.n_classes, epochs=config.epochs, seed=readout_seed).fit(
        Xtr, data.y_train, Xva, data.y_val
    )
    pred = ro.predict(Xte)
    readout_s = time.perf_counter() - t0
    # kernel quality on clean test inputs, generalisation rank on the same inputs with pixel noise
    # classes absent from a small test split are left out, not counted as empty
    n_pc = max(1, min(20, np.unique(data.y_test, return_counts=True)[1].min()))
    kq = kernel_quality(test, data.y_test, n_per_class=n_pc, n_draws=10, seed=rng)
    sub = np.concatenate([np.flatnonzero(data.y_test == k)[:n_pc] for k in np.unique(data.y_test)])
    noisy = np.clip(data.x_test[sub] + config.noise * rng.standard_normal(data.x_test[sub].shape), 0, 1)
    noisy_seeds = sample_seeds(base_seed, probs.shape[0] + np.arange(sub.size))  # beyond the data's indices
    noisy_counts = liq.features(noisy, eta=eta, w_astro=w_astro, sample_seeds=noisy_seeds)["counts"]
    gr = kernel_quality(noisy_counts, data.y_test[sub], n_per_class=n_pc, n_draws=10, seed=rng)
    w_now = liq.w_init_
    res = {
        "model": model,
        "eta": float(eta),
        "w_astro": float(w_astro),
        "w_scale": float(w_scale),
        "validation_accuracy": float(ro.val_accuracy_),
        "test_accuracy": float(np.mean(pred == data.y_test)),
        "best_epoch": int(ro.best_epoch_),
        "branching_factor": float(bf),
        "branching_factor_chance": float(bf_chance),
        "kernel_quality": float(kq),
        "generalisation_rank": float(gr),
        "mean_rate_hz": float(val_counts.mean() / (c.sample_steps * 1e-3)),
        "mean_abs_weight_liquid": float(np.mean(np.abs(w_now[:nls]))),
        "confusion_matrix": confusion_matrix(data.y_test, pred, data.n_classes).tolist(),
        "n_workers": info["n_workers"],
        "init_s": info["init_s"],
        "features_s": info["features_s"],
        "readout_s": readout_s,
        "samples_per_s": info["n_computed"] / info["features_s"] if info["n_computed"] else None,
        "n_samples_computed": info["n_computed"],
        "n_samples_resumed": info["n_resumed"],
        "feature_store": f"features/{info['label']}",
    }
    return res, val


def _plots(out: Path, results, chosen, val, liq, config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = liq.config
    fig, ax = plt.subplots(figsize=(5, 4))
    colours = {"lsm": "tab:blue", "stdp": "tab:red", "nalsm": "tab:green"}
    for model in MODELS:
        rs = [r for r in results if r["model"] == model]
        if rs:
            ax.scatter(
                [r["branching_factor"] for r in rs],
                [r["test_accuracy"] for r in rs],
                c=colours[model],
                label=model.upper(),
            )
            ax.scatter(
                [r["branching_factor_chance"] for r in rs],
                [r["test_accuracy"] for r in rs],
                facecolors="none",
                edgecolors=colours[model],
                label=f"{model.upper()} chance level",
            )
    ax.axvline(1.0, color="k", lw=0.5, ls="--")
    ax.set_xlabel("branching factor")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{config.dataset}, {c.n_liquid} neurons")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(out / "accuracy_vs_bf.png", dpi=100)
    plt.close(fig)

    n_show = min(3, config.n_record)
    T = c.sample_steps
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    m = val.spike_samples < n_show
    a1.plot(val.spike_samples[m] * T + val.spike_steps[m], val.spike_neurons[m], ",k")
    mi = val.input_samples < n_show
    a1.plot(
        val.input_samples[mi] * T + val.input_steps[mi],
        c.n_liquid + val.input_neurons[mi],
        ",",
        color="tab:orange",
    )
    a1.set_ylabel("neuron (input on top)")
    a1.set_title(f"{chosen['model'].upper()} raster, {n_show} validation samples")
    astro = val.astro[:n_show].ravel()
    a2.plot(np.arange(astro.size), astro, color="tab:green")
    a2.set_ylabel("A")
    a2.set_xlabel("time (ms)")
    fig.tight_layout()
    fig.savefig(out / "raster.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(val.astro[:n_show].ravel(), color="tab:green")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("depression rate A")
    ax.set_title(f"astrocyte trace ({chosen['model'].upper()}, w_astro={chosen['w_astro']})")
    fig.tight_layout()
    fig.savefig(out / "astrocyte.png", dpi=100)
    plt.close(fig)


#: Samples of the whole datasets (``n_train = 0`` etc. mean "all").
_DATASET_SIZES = {"digits": (1797, 64), "mnist": (70000, 784), "fashion-mnist": (70000, 784)}


def estimate_memory(config: NALSMConfig) -> dict:
    """Memory of a run by part, ``{part: (bytes, option that lowers it)}`` (see :mod:`sims.limits`).

    Liquid synapses: the distance rule :math:`C e^{-(d/\\lambda)^2}` gives an expected
    in-degree of :math:`C \\pi^{3/2} \\lambda^3 \\approx 30` at the reference's
    :math:`\\lambda = 3` and mean :math:`C \\approx 0.2` (40 counted); every input pixel
    reaches a liquid neuron with probability 0.15.
    """
    from tasks.datasets import dataset_extent

    # own data (idx:DIR, npz:FILE) is sized from its headers; unreadable files fail later, in the loader
    n_all, n_pixels = _DATASET_SIZES.get(config.dataset) or dataset_extent(config.dataset) or (70000, 784)
    n_liquid = int(np.prod(parse_grid(config.grid)))
    given = config.n_train + config.n_val + config.n_test
    n_samples = given if config.n_train and config.n_val and config.n_test else max(given, n_all)
    n_syn = n_liquid * 40 + n_pixels * n_liquid * 0.15
    return {
        "liquid synapses": (n_syn * limits.BYTES_PER_SYNAPSE, "--grid"),
        # spike counts of every sample, their normalised copy and the readout's inputs
        "features": (3 * 8.0 * n_samples * n_liquid, "--grid or --n-train/--n-val/--n-test"),
        "recorded spikes": (
            limits.spikes_bytes(n_liquid, config.n_record * config.sample_duration, 100.0),
            "--n-record or --grid",
        ),
        "dataset": (2 * 8.0 * n_all * n_pixels, "--dataset"),
        # the drawn initialisation samples (indices and their pixel rows)
        "initialisation samples": (8.0 * config.n_init * (1 + n_pixels), "--n-init"),
        "interpreter and libraries": (limits.BASELINE_BYTES, "--grid"),
    }


@register(
    "nalsm",
    NALSMConfig,
    help="NALSM liquid state machine (LSM / LSM+STDP / astrocyte-modulated STDP)",
    memory=estimate_memory,
    outputs=(
        "dataset", "data", "n_classes", "n_liquid", "n_input", "n_train", "n_val", "n_test",
        "n_synapses_liquid", "engine",
        "backend", "model", "eta", "w_astro", "w_scale", "validation_accuracy", "test_accuracy",
        "best_epoch", "branching_factor", "branching_factor_chance", "kernel_quality",
        "generalisation_rank", "mean_rate_hz", "mean_abs_weight_liquid", "best_lsm_test_accuracy",
        "best_lsm_w_scale", "accuracy_unit", "build_time_s", "run_time_s", "compile_time_s",
        "confusion_matrix", "sweep",
        "n_workers", "init_s", "features_s", "readout_s", "samples_per_s", "n_samples_computed",
        "n_samples_resumed", "feature_store",
    ),
)
def run_nalsm(config: NALSMConfig, *, seed: int, out=None, progress: bool = False) -> dict:
    from spiking.liquid import LiquidConfig
    from tasks.datasets import load_dataset
    from tasks.feature_store import array_digest

    from .nalsm_scale import LiquidSpec, feature_root

    rng = make_rng(seed)
    data = load_dataset(
        config.dataset,
        path=config.data_path or None,
        split=config.split,
        split_seed=config.split_seed,
        n_train=config.n_train or None,
        n_val=config.n_val or None,
        n_test=config.n_test or None,
    )
    lcfg = LiquidConfig(
        grid_shape=parse_grid(config.grid),
        n_input=data.n_pixels,
        init_steps=config.init_steps,
        sample_steps=config.sample_steps,
        lr_decay=config.lr_decay,
    )
    t0 = time.perf_counter()
    c0 = feedback.compile_seconds()
    # workers rebuild the same liquid from this seed
    spec = LiquidSpec(lcfg, int(rng.integers(2**63 - 1)), config.engine, config.backend)
    liq = spec.build()
    t_build = time.perf_counter() - t0
    c_built = feedback.compile_seconds()
    # all samples in one array (train, validation, test): row i is sample i of the feature store
    parts = ((data.x_train, data.y_train), (data.x_val, data.y_val), (data.x_test, data.y_test))
    probs = np.concatenate([x for x, _ in parts])
    labels = np.concatenate([y for _, y in parts])
    bounds = np.cumsum([0] + [x.shape[0] for x, _ in parts])
    splits = {k: (int(bounds[i]), int(bounds[i + 1])) for i, k in enumerate(("train", "val", "test"))}
    pool = (probs, labels, splits, array_digest(probs, labels, bounds))
    results = []
    chosen = chosen_val = None
    with feature_root(out) as store_root:
        for model, eta, wa, ws in _variants(config):
            res, val = _evaluate_variant(
                liq, spec, data, pool, (model, eta, wa, ws), config, rng, store_root, progress
            )
            results.append(res)
            if progress:
                print(
                    f"{model:5s} eta={eta} w_astro={wa} w_scale={ws}: val {res['validation_accuracy']:.3f} "
                    f"test {res['test_accuracy']:.3f} bf {res['branching_factor']:.3f}",
                    flush=True,
                )
            is_chosen = (
                model == config.model
                and (model != "nalsm" or wa == config.w_astro)
                and (model != "lsm" or ws == config.w_scale)
            )
            if chosen is None or is_chosen:
                chosen, chosen_val = res, val
    summary = {
        "dataset": config.dataset,
        "data": data.provenance,
        "n_classes": data.n_classes,
        "n_liquid": lcfg.n_liquid,
        "n_input": lcfg.n_input,
        "n_train": int(data.x_train.shape[0]),
        "n_val": int(data.x_val.shape[0]),
        "n_test": int(data.x_test.shape[0]),
        "n_synapses_liquid": int(liq.conn.n_liquid_syn),
        "engine": config.engine,
        "backend": liq.backend,
        "accuracy_unit": "fraction",
    }
    # build: constructing the liquid plus compiling its code, which Brian2 does partly in the first
    # runs (measured by the runner's compile watch); run: the rest (simulation, readouts, metrics)
    t_total = time.perf_counter() - t0
    summary["build_time_s"] = t_build + (feedback.compile_seconds() - c_built)
    summary["run_time_s"] = t_total - summary["build_time_s"]
    summary["compile_time_s"] = feedback.compile_seconds() - c0
    summary.update(chosen)
    if config.sweep:
        summary["sweep"] = results
        lsm_best = max((r for r in results if r["model"] == "lsm"), key=lambda r: r["validation_accuracy"])
        summary["best_lsm_test_accuracy"] = lsm_best["test_accuracy"]
        summary["best_lsm_w_scale"] = lsm_best["w_scale"]
    if out is not None:
        _plots(Path(out), results, chosen, chosen_val, liq, config)
    return summary
