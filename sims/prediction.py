"""``neuroplast run prediction``: standard reservoir benchmarks on the spiking reservoir and an ESN.

Tasks (:mod:`tasks.prediction`): Mackey-Glass (tau = 17) one-step prediction and
multi-step prediction, NARMA10, linear memory capacity (Jaeger 2001). Both
reservoirs have ``n_neurons`` units and are read out by the same readout class
(``ridge``, ``three_factor`` or ``force``), trained on the first ``n_train``
samples after a washout and scored on the next ``n_test``.

* Spiking reservoir: the input series is injected as a current
  (:func:`spiking.encoders.current_encode`), each sample held for ``step`` seconds,
  all samples in one Brian2 ``run()``; states are filtered spike trains with
  heterogeneous time constants sampled at the end of each sample
  (:func:`spiking.states.multi_tau_traces`).
* ESN: :class:`spiking.esn.EchoStateNetwork`, one update per sample.
* ReservoirPy (optional extra ``peers``: ``pip install neuroplast[peers]``): the same
  leaky-tanh ESN built by :class:`reservoirpy.nodes.Reservoir` with matched settings
  (units, spectral radius, leak, input scale, uniform weights, density 0.1, bias 0.2),
  run on the same series and read out by the same readout: the external reference
  that the in-house ESN must agree with. The in-house ESN stays because the
  free-running Mackey-Glass prediction needs a closed-loop step.

Multi-step Mackey-Glass: for the ESN the readout is run **free** (its one-step
output fed back as the next input) for ``horizon`` steps from the end of the
training data; the spiking reservoir cannot be run closed-loop sample by sample
at reasonable cost, so for it the ``horizon``-step prediction is **direct** (a
readout trained on :math:`x(t + h)`); the ESN's direct ``h``-step NRMSE is
reported too, for a like-for-like comparison.

NRMSE is normalised by the standard deviation of the test target (see
:func:`tasks.prediction.nrmse`). With ``ridge_select`` (default) the ridge
penalty is chosen per reservoir and target on a validation tail of the training
split (the spiking states are noisy and need far more regularisation than the ESN's).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from plasticity_rules.force import ForceReadout
from plasticity_rules.readouts import RidgeReadout
from plasticity_rules.three_factor import ThreeFactorReadout
from plasticity_rules.validation import (
    check_int,
    check_nonnegative,
    check_positive,
    check_probability,
    make_rng,
)
from tasks import prediction as tp

from . import limits
from .limits import check_steps
from .parsing import parse_taus
from .registry import param, register

__all__ = ["PredictionConfig", "run_prediction", "TASKS", "PRED_READOUTS"]

TASKS = ("mackey-glass", "narma10", "memory-capacity")
PRED_READOUTS = ("ridge", "three_factor", "force")
RESERVOIRS = ("all", "both", "spiking", "esn", "reservoirpy")
RESERVOIRPY_HINT = "ReservoirPy is not installed; pip install 'neuroplast[peers]' (reservoirpy>=0.4.2)"


@dataclass(frozen=True)
class PredictionConfig:
    task: str = param("mackey-glass", "benchmark", choices=TASKS)
    readout: str = param("ridge", "readout (the same for both reservoirs)", choices=PRED_READOUTS)
    reservoir: str = param(
        "all",
        "which reservoir(s) to run ('both': spiking and esn; 'all': also reservoirpy when installed)",
        choices=RESERVOIRS,
    )
    n_neurons: int = param(500, "units of the spiking reservoir and of the ESN")
    n_train: int = param(2000, "training samples")
    n_test: int = param(1000, "test samples")
    washout: int = param(100, "initial samples discarded")
    horizon: int = param(84, "Mackey-Glass multi-step horizon (samples; 84 as in Jaeger & Haas 2004)")
    max_delay: int = param(40, "memory capacity: largest delay k")
    step: float = param(0.01, "spiking reservoir: seconds per input sample", unit="s")
    input_gain: float = param(
        -1.0,
        "spiking reservoir: input current gain (mV/ms per unit input; negative: the preset's run "
        "default, PRESET_RUN_DEFAULTS, else 40)",
    )
    p_input: float = param(1.0, "spiking reservoir: probability that the input drives a neuron")
    noise: float = param(
        -1.0,
        "spiking reservoir: thalamic noise of excitatory neurons, mV (negative: the preset's run "
        "default, PRESET_RUN_DEFAULTS, else 2)",
    )
    reservoir_preset: str = param(
        "prediction", "spiking reservoir preset", choices=("sparse", "izhikevich2003", "timing", "prediction")
    )
    input_delay: float = param(
        -1.0,
        "spiking reservoir: largest per-neuron delay of the input current (negative: the preset's)",
        unit="s",
    )
    input_taps: int = param(
        0, "spiking reservoir: delayed copies of the input current per neuron (0: the preset's)"
    )
    recurrent_scale: float = param(
        -1.0,
        "spiking reservoir: scale of the preset's recurrent weights (negative: the preset's run "
        "default, PRESET_RUN_DEFAULTS, else 1)",
    )
    trace_taus: str = param(
        "preset",
        "readout synaptic time constants, s (round-robin); 'preset': 0.01,0.02,0.05 for the "
        "prediction preset (its delay lines hold the memory), 0.02,0.05,0.1,0.2,0.4 otherwise",
    )
    state_features: str = param(
        "preset",
        "spiking reservoir: readout features, '+'-joined from traces (filtered spikes), v (membrane "
        "potential), u (recovery variable), I_exp (synaptic current), each sampled at the end of a "
        "sample; 'preset': the preset's run default (PRESET_RUN_DEFAULTS, else traces alone)",
    )
    inh_input_scale: float = param(
        -1.0,
        "spiking reservoir: input current of inhibitory neurons relative to excitatory ones "
        "(feedforward inhibition; negative: the preset's run default, PRESET_RUN_DEFAULTS, else 1)",
    )
    esn_spectral_radius: float = param(0.9, "ESN spectral radius")
    esn_input_scale: float = param(0.5, "ESN input scale")
    esn_leak: float = param(1.0, "ESN leak rate")
    ridge_alpha: float = param(1e-4, "ridge penalty (states are scaled to unit mean squared norm)")
    ridge_select: bool = param(
        True, "choose the ridge penalty from 1e-8..1e2 on the last 20 % of the training split, then refit"
    )
    eta: float = param(0.05, "three-factor learning rate (per sample)")
    force_alpha: float = param(1.0, "FORCE: P(0) = I/alpha")
    backend: str = param("cython", "Brian2 code generation", choices=("cython", "numpy"))

    def __post_init__(self):
        for name in ("n_neurons", "n_train", "n_test", "horizon", "max_delay"):
            check_int(name, getattr(self, name))
        check_int("washout", self.washout, minimum=0)
        check_int("input_taps", self.input_taps, minimum=0)
        for name in ("step", "esn_spectral_radius", "eta", "force_alpha"):
            check_positive(name, getattr(self, name))
        for name in ("esn_input_scale", "ridge_alpha"):
            check_nonnegative(name, getattr(self, name))
        check_probability("p_input", self.p_input)
        check_probability("esn_leak", self.esn_leak)
        self.taus()
        self.features()
        if self.reservoir != "esn":
            n = self.washout + self.n_train + self.n_test
            check_steps(
                "spiking run (samples x step)", n * self.step, 1e-3, option="--step or the sample counts"
            )
        if self.task == "memory-capacity" and self.max_delay >= self.n_train:
            raise ValueError(f"max_delay ({self.max_delay}) must be smaller than n_train ({self.n_train})")
        if self.task == "mackey-glass" and self.horizon >= self.n_test:
            raise ValueError(f"horizon ({self.horizon}) must be smaller than n_test ({self.n_test})")

    def taus(self) -> tuple[float, ...]:
        """The readout trace time constants (s): ``trace_taus``, or the preset's for ``'preset'``."""
        spec = self.trace_taus
        if spec == "preset":
            spec = self._preset_default("trace_taus")
        return parse_taus(spec)

    def _preset_default(self, name: str):
        return PRESET_RUN_DEFAULTS.get(self.reservoir_preset, {}).get(name, RUN_DEFAULTS[name])

    def _run_value(self, name: str) -> float:
        """``name``'s value, or the preset's run default where it is negative."""
        value = getattr(self, name)
        return float(value if value >= 0 else self._preset_default(name))

    def inh_scale(self) -> float:
        """Input current onto inhibitory neurons relative to excitatory ones (``inh_input_scale``)."""
        return self._run_value("inh_input_scale")

    def gain(self) -> float:
        """Input current gain (mV/ms per unit input): ``input_gain``, or the preset's run default."""
        return self._run_value("input_gain")

    def recurrence(self) -> float:
        """Scale of the preset's recurrent weights: ``recurrent_scale``, or the preset's run default."""
        return self._run_value("recurrent_scale")

    def noise_mv(self) -> float:
        """Thalamic noise of the excitatory neurons (mV): ``noise``, or the preset's run default."""
        return self._run_value("noise")

    def features(self) -> tuple[str, ...]:
        """The readout features: ``state_features``, or the preset's for ``'preset'``."""
        spec = self.state_features
        if spec == "preset":
            spec = self._preset_default("state_features")
        names = tuple(p.strip() for p in spec.split("+"))
        for name in names:
            if name not in STATE_FEATURES:
                raise ValueError(
                    f"state_features: unknown feature {name!r} in {spec!r}; "
                    f"allowed: {', '.join(STATE_FEATURES)}"
                )
        if len(set(names)) != len(names):
            raise ValueError(f"state_features: {spec!r} names a feature twice")
        return names


#: Readout features (``state_features``): spike traces and the sampled neuron variables
#: (:data:`spiking.reservoir.RECORDABLE_STATE`, standardised by :func:`spiking.states.neuron_state_features`).
STATE_FEATURES = ("traces", "v", "u", "I_exp")
#: Run settings that ``'preset'`` / negative values stand for, for any preset ...
RUN_DEFAULTS = {"trace_taus": "0.02,0.05,0.1,0.2,0.4", "state_features": "traces", "inh_input_scale": 1.0,
                "noise": 2.0, "input_gain": 40.0, "recurrent_scale": 1.0}
#: ... and by preset. ``prediction`` (sims/specs/prediction_reservoir.toml, prediction_taps.toml,
#: prediction_readout.toml, prediction_inhibition.toml, prediction_deterministic.toml;
#: docs/results.rst, "Prediction reservoir"): the input delay lines hold the memory; the
#: precision of each sample's code sits in the graded membrane state (v, u) of weakly driven
#: neurons, which thermal noise (even 0.1 mV) or full-strength recurrence (chaotic amplification)
#: swamps, so the run is noise-free with the recurrent weights at 0.1x.
PRESET_RUN_DEFAULTS: dict[str, dict] = {
    "prediction": {
        "trace_taus": "0.01,0.02,0.05",
        "state_features": "v+u",
        "inh_input_scale": 1.0,
        "input_gain": 40.0,
        "noise": 0.0,
        "recurrent_scale": 0.1,
    },
}


# ----------------------------------------------------------------------------- data
def make_task(config: PredictionConfig, rng):
    """Return (input u fed to the reservoirs, targets dict name -> (n, k) array, raw series)."""
    n = config.washout + config.n_train + config.n_test
    if config.task == "mackey-glass":
        x = tp.mackey_glass(n + config.horizon + 1, seed=rng)
        mu, sd = x[: config.washout + config.n_train].mean(), x[: config.washout + config.n_train].std()
        u = (x[:n] - mu) / sd * 0.5
        targets = {
            "one_step": x[1 : n + 1, None],
            f"direct_{config.horizon}_step": x[config.horizon : n + config.horizon, None],
        }
        return u, targets, {"x": x, "mu": mu, "sd": sd}
    if config.task == "narma10":
        uu, y = tp.narma10(n, seed=rng)
        return (uu - 0.25) * 4.0, {"narma10": y[:, None]}, {}
    u = tp.memory_capacity_input(n, seed=rng)
    return u, {"delays": tp.delayed_targets(u, config.max_delay)}, {}


def reservoir_config(config: PredictionConfig):
    """The spiking reservoir of ``config``: its preset with the run's noise, delay and weight scale."""
    from spiking.reservoir import preset

    base = preset(config.reservoir_preset, n_neurons=config.n_neurons)
    return base.replace(
        noise_exc=config.noise_mv(),
        noise_inh=0.4 * config.noise_mv(),
        w_exc=base.w_exc * config.recurrence(),
        w_inh=base.w_inh * config.recurrence(),
        input_delay=base.input_delay if config.input_delay < 0 else config.input_delay,
        input_taps=config.input_taps or base.input_taps,
    )


def spiking_states(config: PredictionConfig, u, rng, progress=False):
    from spiking.encoders import current_encode
    from spiking.reservoir import IzhikevichReservoir
    from spiking.states import multi_tau_traces, neuron_state_features

    cfg = reservoir_config(config)
    current, _ = current_encode(u, cfg.n_neurons, gain=config.gain(), p_connect=config.p_input, seed=rng)
    current[:, cfg.n_exc :] *= config.inh_scale()
    features = config.features()
    variables = tuple(f for f in features if f != "traces")
    res = IzhikevichReservoir(cfg, seed=rng, backend=config.backend, record_state=variables)
    duration = u.size * config.step
    if variables:
        # one more row, so the state at the end of the last sample is recorded too (row k + 1 is
        # the end of sample k); the spikes before `duration` do not depend on it
        current = np.vstack([current, current[-1:]])
    run = res.run(duration + config.step * bool(variables), input_current=current, current_dt=config.step,
                  progress=progress)
    build_s = res.last_timing_["build_s"]  # code generation inside the run
    sample_t = (np.arange(u.size) + 1) * config.step * (1 - 1e-9)
    blocks = {}
    if "traces" in features:
        blocks["traces"] = multi_tau_traces(
            run.spikes.indices, run.spikes.times, cfg.n_neurons, sample_t, config.taus()
        )
    if variables:
        blocks.update({k: run.state_samples[k][1 : u.size + 1] for k in variables})
        if not all(np.all(np.isfinite(b)) for b in blocks.values()):
            raise ValueError(
                f"the membrane potential diverged: a drive of input_gain {config.gain():g} x "
                f"inh_input_scale {config.inh_scale():g} is too strong for the 1 ms step of the "
                "Izhikevich scheme (measured: about 250 mV/ms and above); lower either"
            )
        X = neuron_state_features(
            {f: blocks[f] for f in features}, slice(0, config.washout + config.n_train)
        )
    else:
        X = blocks["traces"]
    return X, {"mean_rate_exc_hz": run.mean_rate("exc"), "mean_rate_inh_hz": run.mean_rate("inh"),
               "simulated_s": duration, "build_s": build_s}


def esn_states(config: PredictionConfig, u, rng):
    from spiking.esn import EchoStateNetwork, ESNConfig

    esn = EchoStateNetwork(
        ESNConfig(
            n_units=config.n_neurons,
            spectral_radius=config.esn_spectral_radius,
            input_scale=config.esn_input_scale,
            leak=config.esn_leak,
        ),
        n_inputs=1,
        seed=rng,
    )
    return esn.run(u), esn


def reservoirpy_available() -> bool:
    try:
        import reservoirpy  # noqa: F401
    except ImportError:
        return False
    return True


def reservoirpy_states(config: PredictionConfig, u, rng) -> np.ndarray:
    """States of a ReservoirPy ``Reservoir`` matched to :func:`esn_states`' settings.

    Raises ``ValueError`` (with the install hint) when ReservoirPy is missing.
    """
    try:
        from reservoirpy import mat_gen
        from reservoirpy.nodes import Reservoir
    except ImportError:
        raise ValueError(RESERVOIRPY_HINT) from None
    bias = 0.2  # ESNConfig.bias_scale
    res = Reservoir(
        units=config.n_neurons,
        sr=config.esn_spectral_radius,
        lr=config.esn_leak,
        input_scaling=config.esn_input_scale,
        input_connectivity=1.0,
        rc_connectivity=0.1,
        W=mat_gen.uniform(low=-1.0, high=1.0),
        Win=mat_gen.uniform(low=-1.0, high=1.0),
        bias=mat_gen.uniform(low=-bias, high=bias, connectivity=1.0),
        seed=int(rng.integers(2**31 - 1)),
    )
    return np.asarray(res.run(np.asarray(u, dtype=float).reshape(-1, 1)))


def make_readout(config: PredictionConfig, n_outputs: int):
    if config.readout == "ridge":
        return RidgeReadout(alpha=config.ridge_alpha)
    if config.readout == "three_factor":
        return ThreeFactorReadout(eta=config.eta, dt=1.0, online=True)
    return ForceReadout(alpha=config.force_alpha, update_every=1)


def select_ridge_alpha(X, Y, grid=tuple(10.0**k for k in range(-8, 3))) -> float:
    """Penalty with the lowest validation MSE: fit on the first 80 % of ``X``, score on the last 20 %."""
    n_fit = int(0.8 * X.shape[0])
    best, best_err = grid[0], np.inf
    for a in grid:
        m = RidgeReadout(alpha=a).fit(X[:n_fit], Y[:n_fit])
        err = float(np.mean((m.predict(X[n_fit:]).reshape(Y[n_fit:].shape) - Y[n_fit:]) ** 2))
        if err < best_err:
            best, best_err = a, err
    return best


def _fit_predict(config, X, Y, tr, te):
    if config.readout == "ridge" and config.ridge_select:
        m = RidgeReadout(alpha=select_ridge_alpha(X[tr], Y[tr])).fit(X[tr], Y[tr])
    else:
        m = make_readout(config, Y.shape[1]).fit(X[tr], Y[tr])
    return m, m.predict(X[te]).reshape(-1, Y.shape[1])


def evaluate(config: PredictionConfig, X, targets: dict, extra: dict, esn=None) -> tuple[dict, dict]:
    """Train on the train split, score on the test split; returns (metrics, curves for plots)."""
    w, ntr = config.washout, config.n_train
    tr, te = slice(w, w + ntr), slice(w + ntr, w + ntr + config.n_test)
    scale = float(np.sqrt(np.mean(np.sum(X[tr] ** 2, axis=1))))
    X = X / (scale if scale > 0 else 1.0)
    res, curves = {}, {}
    for name, Y in targets.items():
        m, P = _fit_predict(config, X, Y, tr, te)
        if isinstance(m, RidgeReadout):
            res[f"ridge_alpha_{name}"] = float(m.alpha)
        if config.task == "memory-capacity":
            mc, mck = tp.memory_capacity(Y[te], P)
            res["memory_capacity"] = mc
            res["memory_capacity_per_delay"] = mck.tolist()
            curves["mc_k"] = mck
            curves["pred"], curves["target"] = P[:, 0], Y[te][:, 0]
        else:
            res[f"nrmse_{name}"] = tp.nrmse(Y[te][:, 0], P[:, 0])
            curves[name] = (Y[te][:, 0], P[:, 0])
            if name == "one_step" and esn is not None:
                # free-running: feed the (normalised) one-step prediction back as input
                mu, sd = extra["mu"], extra["sd"]

                class _Fed:
                    def __init__(self, model, scale, mu, sd):
                        self.model, self.scale, self.mu, self.sd = model, scale, mu, sd

                    def predict(self, x):
                        return (self.model.predict(x / self.scale).reshape(-1) - self.mu) / self.sd * 0.5

                x_last = X[te.start - 1] * scale
                u0 = (m.predict(X[te.start - 1 : te.start]).reshape(-1) - mu) / sd * 0.5
                gen = esn.run_closed_loop(_Fed(m, scale, mu, sd), x_last, u0, config.horizon)
                gen_x = gen[:, 0] / 0.5 * sd + mu
                truth = Y[te.start - 1 : te.start - 1 + config.horizon, 0]
                res[f"nrmse_freerun_{config.horizon}_step"] = float(
                    np.sqrt(np.mean((gen_x - truth) ** 2) / np.var(Y[te][:, 0]))
                )
                curves["freerun"] = (truth, gen_x)
    res["state_scale"] = scale
    return res, curves


def _plot(out, config, curves_by_res: dict) -> list[str]:
    from .plots import figure, save

    files = []
    n_show = min(300, config.n_test)
    rows = [(r, k) for r, cv in curves_by_res.items() for k in cv if k not in ("mc_k", "pred", "target")]
    if config.task == "memory-capacity":
        fig, axes = figure(1, 2, figsize=(10, 3.5), squeeze=False)
        for r, cv in curves_by_res.items():
            axes[0, 0].plot(
                np.arange(1, cv["mc_k"].size + 1), cv["mc_k"], label=f"{r} (MC={cv['mc_k'].sum():.2f})"
            )
            axes[0, 1].plot(cv["target"][:100], "k", lw=0.8) if r == list(curves_by_res)[0] else None
            axes[0, 1].plot(cv["pred"][:100], label=r)
        axes[0, 0].set_xlabel("delay k")
        axes[0, 0].set_ylabel("MC_k (squared correlation)")
        axes[0, 0].legend(fontsize=8)
        axes[0, 1].set_title("delay 1: target (black) and readouts", fontsize=9)
        axes[0, 1].legend(fontsize=8)
        files.append(str(save(fig, out / "prediction.png")))
        return files
    fig, axes = figure(len(rows), 1, figsize=(9, 2.3 * len(rows)), squeeze=False)
    for ax, (r, k) in zip(axes[:, 0], rows, strict=True):
        y, p = curves_by_res[r][k]
        n = min(n_show, y.size)
        ax.plot(y[:n], "k", lw=1, label="target")
        ax.plot(p[:n], "tab:red", lw=1, label="prediction")
        ax.set_title(f"{r}: {k} (test)", fontsize=9)
    axes[0, 0].legend(fontsize=8)
    axes[-1, 0].set_xlabel("test sample")
    fig.subplots_adjust(hspace=0.5)
    files.append(str(save(fig, out / "prediction.png")))
    return files


def estimate_memory(config: PredictionConfig) -> dict:
    """Memory of a run by part, ``{part: (bytes, option that lowers it)}`` (see :mod:`sims.limits`)."""
    from spiking.reservoir import preset

    n = config.washout + config.n_train + config.n_test
    N = config.n_neurons
    parts = {"interpreter and libraries": (limits.BASELINE_BYTES, "--n-neurons")}
    samples = "--n-train, --n-test or --washout"
    if config.reservoir in ("all", "both", "spiking"):
        duration = n * config.step
        n_syn = limits.reservoir_synapses(preset(config.reservoir_preset, n_neurons=N))
        parts["spiking synapses"] = (n_syn * limits.BYTES_PER_SYNAPSE, "--n-neurons")
        # injected current (n, N) and Brian2's TimedArray copy; spikes; traces and their scaled copy
        parts["spiking inputs and states"] = (
            2 * 8.0 * n * N + limits.spikes_bytes(N, duration, 50.0) + 3 * 8.0 * n * N,
            f"{samples} or --n-neurons",
        )
    if config.reservoir in ("all", "both", "esn"):
        parts["echo state network"] = (8.0 * N * N + 3 * 8.0 * n * N, f"--n-neurons or {samples}")
    if config.reservoir in ("all", "reservoirpy"):
        parts["ReservoirPy ESN"] = (8.0 * N * N + 3 * 8.0 * n * N, f"--n-neurons or {samples}")
    k = config.max_delay if config.task == "memory-capacity" else 2
    parts["targets and readouts"] = (8.0 * (n * k + N * N * 2), samples)
    return parts


def output_names(config: PredictionConfig) -> tuple[str, ...]:
    """The summary keys of a run with ``config``."""
    names = ["task", "readout", "results", "skipped"]
    res = {
        "all": ("spiking", "esn", "reservoirpy"),
        "both": ("spiking", "esn"),
        "spiking": ("spiking",),
        "esn": ("esn",),
        "reservoirpy": ("reservoirpy",),
    }[config.reservoir]
    for r in res:
        names += [f"{r}_reservoir_s", f"{r}_readout_s"]
    if "spiking" in res:
        names += ["spiking_build_s", "spiking_mean_rate_exc_hz", "spiking_mean_rate_inh_hz"]
    if config.task == "memory-capacity":
        names += ["memory_capacity", "memory_capacity_by_reservoir"]
        names += ["esn_memory_capacity"] if "esn" in res else []
    else:
        names += ["nrmse", "nrmse_normalisation", "nrmse_by_reservoir"]
        targets = {"mackey-glass": ("one_step", f"direct_{config.horizon}_step"), "narma10": ("narma10",)}
        for r in res:
            names += [f"{r}_nrmse_{t}" for t in targets[config.task]]
        if config.task == "mackey-glass" and "esn" in res:
            names.append(f"esn_nrmse_freerun_{config.horizon}_step")
    return tuple(names) + (("plots",))


@register(
    "prediction",
    PredictionConfig,
    memory=estimate_memory,
    outputs=output_names,
    help="Reservoir prediction benchmarks (Mackey-Glass tau=17, NARMA10, linear memory capacity) on the "
    "spiking "
    "Izhikevich reservoir and a same-size echo state network, with the same readout.",
)
def run_prediction(config: PredictionConfig, *, seed: int, out=None, progress: bool = False) -> dict:
    rng = make_rng(seed)
    u, targets, extra = make_task(config, rng)
    results, curves, timings = {}, {}, {}
    if config.reservoir in ("all", "both", "spiking"):
        t0 = time.perf_counter()
        X, info = spiking_states(config, u, rng, progress)
        t1 = time.perf_counter()
        results["spiking"], curves["spiking"] = evaluate(config, X, targets, extra)
        build_s = info.pop("build_s")
        results["spiking"].update(info)
        timings["spiking_build_s"] = build_s
        timings["spiking_mean_rate_exc_hz"] = info["mean_rate_exc_hz"]
        timings["spiking_mean_rate_inh_hz"] = info["mean_rate_inh_hz"]
        timings["spiking_reservoir_s"] = t1 - t0 - build_s
        timings["spiking_readout_s"] = time.perf_counter() - t1
    if config.reservoir in ("all", "both", "esn"):
        t0 = time.perf_counter()
        X, esn = esn_states(config, u, rng)
        t1 = time.perf_counter()
        results["esn"], curves["esn"] = evaluate(config, X, targets, extra, esn=esn)
        timings["esn_reservoir_s"], timings["esn_readout_s"] = t1 - t0, time.perf_counter() - t1
    skipped = {}
    if config.reservoir == "reservoirpy" or (config.reservoir == "all" and reservoirpy_available()):
        # its own Generator, so adding it does not change the other reservoirs' draws
        rpy_rng = np.random.default_rng([seed, 1])
        t0 = time.perf_counter()
        X = reservoirpy_states(config, u, rpy_rng)
        t1 = time.perf_counter()
        results["reservoirpy"], curves["reservoirpy"] = evaluate(config, X, targets, extra)
        timings["reservoirpy_reservoir_s"] = t1 - t0
        timings["reservoirpy_readout_s"] = time.perf_counter() - t1
    elif config.reservoir == "all":
        skipped["reservoirpy"] = RESERVOIRPY_HINT
    primary = results.get("spiking", results.get("esn", results.get("reservoirpy")))
    summary = {"task": config.task, "readout": config.readout, "results": results, **timings}
    if skipped:
        summary["skipped"] = skipped
    if config.task == "memory-capacity":
        summary["memory_capacity"] = primary["memory_capacity"]
        summary["memory_capacity_by_reservoir"] = {r: v["memory_capacity"] for r, v in results.items()}
        if "esn" in results:
            summary["esn_memory_capacity"] = results["esn"]["memory_capacity"]
    else:
        key = next(k for k in primary if k.startswith("nrmse_"))
        summary["nrmse"] = primary[key]
        summary["nrmse_by_reservoir"] = {r: v[key] for r, v in results.items()}
        summary["nrmse_normalisation"] = "sqrt(mean((y_pred - y)^2) / var(y)) on the test set"
        for r, v in results.items():
            for k, val in v.items():
                if k.startswith("nrmse_"):
                    summary[f"{r}_{k}"] = val
    if out is not None:
        summary["plots"] = _plot(out, config, curves)
    return summary
