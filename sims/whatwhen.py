"""``neuroplast run whatwhen``: "what"/"when" prediction readouts on an Izhikevich reservoir.

Pipeline (Yamada & Chao 2025, arXiv:2510.14382, as reconstructed in
:mod:`plasticity_rules.three_factor` and :mod:`tasks.whatwhen`):

1. generate a session of blocks of cue -> latency -> stimulus trials (:func:`tasks.whatwhen.generate`);
2. encode cue and stimulus channels as Poisson spike trains (:func:`spiking.encoders.poisson_encode`);
3. run the Brian2 Izhikevich reservoir **once** over the whole session, all trials
   back to back in one ``run()`` (the reservoir does not depend on the readout);
4. sample exponentially filtered spike traces every ``dt``. The readout synapses have
   heterogeneous time constants (``trace_taus``, assigned to neurons round-robin); steps 2-4
   are :func:`spiking.reservoir_traces.reservoir_traces`;
5. train the requested readout (and, with ``compare``, all four on the *same* traces) with
   the Numba kernels, online through the session, and score the outputs produced while learning
   (:mod:`tasks.whatwhen_training`, :func:`tasks.whatwhen_metrics.score_readout`);
6. measure how well the states carry elapsed time since the cue (:func:`tasks.whatwhen_metrics.time_decoding`,
   held-out ridge fit of time bumps on stimulus-free activity; ``summary['time_decoding_r2']``).

Reservoir regime. With the paper's instantaneous synapses (``tau_syn=0``) and the
previous defaults (recurrent scale 0.5, input 10 mV, noise 2 mV) the cue response
fades within ~100 ms: held-out bumps 100/150/200/250 ms after the cue are decoded
with R^2 0.67/0.47/0.34/0.29 (seed 0), and no readout could time the 250 ms latency.
Exponential synaptic currents (``tau_syn`` = 30 ms, PSP area kept) lengthen each
PSP; with recurrent weights x4, input 30 mV and noise 3 mV (mean excitatory rate
~35-50 Hz; x8 runs away) the same R^2 become 0.89-0.97/0.72-0.86/0.44-0.65/0.32-0.40
over seeds 0-2, so time is carried to ~200 ms and fades by 250 ms.

Three-factor defaults: no bias (``three_factor_bias=False``: the readout is a pure
sum of plastic synapses; with a learned bias the consolidated "what" updates go
mostly into the bias, a tonic offset ~ p_k with little cue-locked modulation —
``amplitude_probability_corr_above_baseline`` 0.37-0.50 instead of 0.56-0.78 over
seeds 0-2), the normalised rule (``normalise``: update divided by
:math:`\\epsilon + \\lVert\\bar e\\rVert^2`, so the cue transient does not dominate the
step size) and a "what" gate that opens around the stimulus onset (``what_gate='onset'``,
attention to the moment the identity is revealed) while "when" learns over the whole
cue-to-stimulus window.

Issue 15, part 2: the teaching trials of a block hold the stimuli in exactly the proportions
p (``stimulus_order='balanced'``); the consolidated "what" rate starts at 10x ``eta_what`` and
decays as 1/n over consolidated trials to ``eta_what`` = 0.002 (about 5 % of the error per
trial; ``what_anneal``); the "when" readout reads rates centred on running means
(``center_when``, covariance rule) through an online anti-Hebbian decorrelating stage
(``decorrelate``, after Ahmad 2024) at ``eta_when`` 0.3; the "what" outputs are learned in a
rotated basis, their common mode (the sum over stimuli, "a stimulus is coming": a timing
signal with the same target on every trial) consolidated at ``what_common`` 0.015 per trial,
their differential (identity) modes at the annealed ``eta_what`` (``what_common``).
Amplitude-probability r .93-.97 on seeds 0-4, every "when" peak within 5 ms, final error
1.10-1.40x FORCE-with-reset's, what/when cosine .17-.28 (docs/results.rst).

Readouts: ``three_factor`` ("when" online, "what" consolidated at each trial end),
``force`` (RLS, no reset), ``force_reset`` (P reset to I/alpha at every block switch) and
``ridge`` (closed-form least squares refit on all trials so far at each trial end; trial
``n`` is predicted with the weights of trials ``< n``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from plasticity_rules.gates import GATE_SHAPES
from plasticity_rules.validation import (
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
    check_probability,
    make_rng,
)
from tasks import whatwhen as ww
from tasks import whatwhen_metrics as wwm
from tasks import whatwhen_oracles as wwo
from tasks import whatwhen_training as wwt
from tasks.whatwhen_training import READOUTS

from . import feedback, limits
from .limits import check_steps
from .parsing import parse_taus
from .registry import param, register

__all__ = ["WhatWhenConfig", "run_whatwhen", "readout_settings", "simulate_reservoir"]


@dataclass(frozen=True)
class WhatWhenConfig:
    readout: str = param("three_factor", "readout whose metrics are reported", choices=READOUTS)
    compare: bool = param(
        True, "also train the other readouts on the same reservoir traces (summary['comparison'])"
    )
    blocks: str = param(
        "40:0.15:0.6,0.3,0.1; 40:0.25:0.6,0.3,0.1; 40:0.25:0.1,0.3,0.6",
        "blocks 'n_trials:latency_s:p1,p2,...' separated by ';' (a new block is a switch)",
    )
    trial_duration: float = param(0.6, "trial length", unit="s")
    cue_time: float = param(0.1, "cue onset within the trial", unit="s")
    cue_duration: float = param(0.05, "cue length", unit="s")
    stimulus_duration: float = param(0.05, "stimulus length", unit="s")
    target_width: float = param(0.03, "sigma of the target bump", unit="s")
    dt: float = param(0.005, "readout time step (trace sampling and updates)", unit="s")
    probe_fraction: float = param(
        0.25, "fraction of probe trials (stimulus omitted, no learning; timing/amplitude read there)"
    )
    n_neurons: int = param(500, "reservoir neurons (80 % excitatory)")
    reservoir_preset: str = param(
        "timing",
        "reservoir preset ('prediction': the benchmarks' network, whose input-spike delay lines carry "
        "a noise-free trial clock; run it with --noise 0 --recurrent-scale 0.1 --w-input 90)",
        choices=("timing", "prediction", "sparse", "izhikevich2003"),
    )
    tau_syn: float = param(
        0.03, "reservoir synaptic time constant (0: the paper's instantaneous synapses)", unit="s"
    )
    noise: float = param(6.0, "thalamic noise of excitatory neurons, mV (inhibitory: 0.4x)")
    frozen_noise: bool = param(
        True, "replay the same thalamic-noise realisation in every trial (cue-locked frozen noise)"
    )
    recurrent_scale: float = param(1.0, "scale of the preset's recurrent weights (1: the preset)")
    input_rate: float = param(100.0, "firing rate of active input neurons, Hz")
    input_per_channel: int = param(20, "input neurons per channel (cue, each stimulus)")
    p_input: float = param(0.2, "input -> reservoir connection probability")
    w_input: float = param(30.0, "input weight scale, mV")
    trace_taus: str = param(
        "0.02,0.05,0.1,0.2,0.4", "readout synaptic time constants, s (round-robin over neurons)"
    )
    eta_when: float = param(0.3, "three-factor learning rate of the online 'when' readout (per step)")
    eta_what: float = param(
        0.002, "three-factor learning rate of the offline 'what' readouts (per step, applied at trial end)"
    )
    normalise: bool = param(
        True, "three-factor: normalised rule, update / (eps + squared trace norm); etas dimensionless"
    )
    surprise: float = param(
        0.0, "three-factor: surprise gate threshold theta, update x min(1, abs(error)/theta) (0: off)"
    )
    depression: float = param(
        1.0, "three-factor: rate of output-lowering (depressing) updates relative to eta"
    )
    center_when: float = param(
        0.6,
        "three-factor: 'when' inputs centred on running presynaptic means of this time constant "
        "(covariance rule; 0: off)",
        unit="s",
    )
    decorrelate: float = param(
        0.001,
        "three-factor: learning rate of an online anti-Hebbian decorrelating stage in front of the "
        "centred 'when' readout (after Ahmad 2024; 0: off)",
    )
    decorrelate_kappa: float = param(
        0.5, "three-factor: whitening weight of that stage (0: decorrelate only)"
    )
    decorrelate_noise: float = param(
        3.0, "three-factor: learning-noise variance of that stage relative to its target power (regularises)"
    )
    decorrelate_what: bool = param(
        False, "three-factor: a decorrelating stage in front of the 'what' readouts too"
    )
    what_anneal: float = param(
        10.0,
        "three-factor: initial 'what' consolidation rate as a multiple of eta_what, decaying as "
        "A / (1 + n / what_anneal_trials) over consolidated trials n down to eta_what (1: constant)",
    )
    what_anneal_trials: float = param(3.0, "three-factor: n0 of the annealed 'what' rate, in trials")
    what_common: float = param(
        0.015,
        "three-factor: rate of the common mode of the 'what' readouts (sum over stimuli: a timing "
        "signal), learned apart from the identity (differential) modes at eta_what (0: off)",
    )
    what_common_online: bool = param(
        False, "three-factor: learn that common mode online every step (default: consolidated per trial)"
    )
    three_factor_bias: bool = param(
        False, "three-factor: learn a bias per readout (off: the output is a pure synaptic sum)"
    )
    eligibility_tau: float = param(
        0.0, "presynaptic eligibility-trace time constant (0: the rate itself)", unit="s"
    )
    gate_shape: str = param("boxcar", "attention gate shape", choices=GATE_SHAPES)
    gate_floor: float = param(0.1, "attention gate outside the attended window, in [0, 1]")
    what_target: str = param(
        "plateau",
        "shape of the 'what' targets: identity held from cue to stimulus offset, or the 'when' bump",
        choices=("plateau", "bump"),
    )
    stimulus_order: str = param(
        "balanced",
        "stimuli of a block: drawn independently, or exact proportions p over its teaching trials",
        choices=ww.STIMULUS_ORDERS,
    )
    what_gate: str = param(
        "window",
        "gate of the 'what' readouts: the 'when' window, or a Gaussian around the stimulus onset",
        choices=("window", "onset"),
    )
    force_alpha: float = param(1.0, "FORCE: P(0) = I/alpha")
    force_every: int = param(2, "FORCE: update every k steps")
    ridge_alpha: float = param(1.0, "ridge penalty")
    decode_alpha: float = param(0.1, "time decoding: ridge penalty (states at unit mean squared norm)")
    decode_horizon: float = param(
        0.4, "time decoding: score bump centres up to this long after the cue", unit="s"
    )
    eval_trials: int = param(5, "probe trials at the end of each block used for timing and amplitude metrics")
    recovery_factor: float = param(
        1.2, "recovered when the 3-trial mean error is <= factor x pre-switch median"
    )
    timing_tolerance: float = param(
        0.015, "timing recovery: peak-time error abs(peak time - onset) at most this", unit="s"
    )
    control: bool = param(
        True,
        "anchor recovery to no-switch control sessions (one reservoir run per distinct post-switch block)",
    )
    oracles: bool = param(
        False,
        "also score the oracle learners of tasks.whatwhen_oracles (know the switch times) against "
        "their own no-switch controls: summary key oracle_recovery_trials",
    )
    backend: str = param("cython", "Brian2 code generation", choices=("cython", "numpy"))

    def __post_init__(self):
        check_choice("readout", self.readout, READOUTS)
        check_int("n_neurons", self.n_neurons, minimum=2)
        for name in (
            "noise",
            "input_rate",
            "w_input",
            "eligibility_tau",
            "recurrent_scale",
            "tau_syn",
            "decode_horizon",
            "surprise",
            "depression",
            "center_when",
            "decorrelate",
            "decorrelate_noise",
            "what_common",
        ):
            check_nonnegative(name, getattr(self, name))
        for name in ("eta_when", "eta_what", "force_alpha", "recovery_factor", "timing_tolerance"):
            check_positive(name, getattr(self, name))
        check_nonnegative("ridge_alpha", self.ridge_alpha)
        check_positive("decode_alpha", self.decode_alpha)
        check_int("input_per_channel", self.input_per_channel)
        check_int("force_every", self.force_every)
        check_int("eval_trials", self.eval_trials)
        check_probability("p_input", self.p_input)
        check_probability("decorrelate_kappa", self.decorrelate_kappa)
        wwt.check_centred_when(self, name=lambda n: "--" + n.replace("_", "-"), sep=" ")
        parse_taus(self.trace_taus)
        par = self.paradigm()  # validates blocks and timing
        check_steps("session duration (trials x trial_duration)", par.n_trials * self.trial_duration, 1e-3,
                    option="--trial-duration or the trials of --blocks")

    def paradigm(self) -> ww.WhatWhenParadigm:
        return ww.WhatWhenParadigm(
            blocks=ww.parse_blocks(self.blocks),
            trial_duration=self.trial_duration,
            cue_time=self.cue_time,
            cue_duration=self.cue_duration,
            stimulus_duration=self.stimulus_duration,
            target_width=self.target_width,
            dt=self.dt,
            gate_shape=self.gate_shape,
            gate_floor=self.gate_floor,
            probe_fraction=self.probe_fraction,
            what_gate=self.what_gate,
            what_target=self.what_target,
            stimulus_order=self.stimulus_order,
        )


# ----------------------------------------------------------------------------- config -> library calls
def readout_settings(config: WhatWhenConfig, seed: int = 0) -> wwt.ReadoutSettings:
    """The readout hyper-parameters of ``config`` (``seed``: of the decorrelating stage's noise)."""
    return wwt.ReadoutSettings(
        decorrelate=config.decorrelate,
        decorrelate_kappa=config.decorrelate_kappa,
        decorrelate_noise=config.decorrelate_noise,
        decorrelate_what=config.decorrelate_what,
        decorrelate_seed=seed,
        eta_when=config.eta_when,
        eta_what=config.eta_what,
        eligibility_tau=config.eligibility_tau,
        normalise=config.normalise,
        fit_intercept=config.three_factor_bias,
        surprise=config.surprise,
        depression=config.depression,
        center_when=config.center_when,
        what_anneal=config.what_anneal,
        what_anneal_trials=config.what_anneal_trials,
        what_common=config.what_common,
        what_common_online=config.what_common_online,
        force_alpha=config.force_alpha,
        force_every=config.force_every,
        ridge_alpha=config.ridge_alpha,
    )


def simulate_reservoir(
    config: WhatWhenConfig,
    session: ww.WhatWhenSession,
    rng,
    progress=False,
    *,
    reservoir=None,
    trial_seed=None,
    state_scale=None,
):
    """Run :func:`spiking.reservoir_traces.reservoir_traces` on the session's inputs.

    Returns ``(states, run, timings, reservoir)``; ``reservoir``, ``trial_seed`` (``run.brian_seed``)
    and ``state_scale`` (``timings['state_scale_hz']``) run another session, e.g. a no-switch
    control, on the same network with the same frozen noise and state normalisation.
    """
    from spiking.reservoir import preset
    from spiking.reservoir_traces import reservoir_traces

    rates = np.repeat(session.input_rates(1e-3, rate=config.input_rate), config.input_per_channel, axis=1)
    base = preset(config.reservoir_preset, n_neurons=config.n_neurons)
    cfg = base.replace(
        n_inputs=rates.shape[1],
        p_input=config.p_input,
        w_input=config.w_input,
        noise_exc=config.noise,
        noise_inh=0.4 * config.noise,
        w_exc=base.w_exc * config.recurrent_scale,
        w_inh=base.w_inh * config.recurrent_scale,
        tau_syn=config.tau_syn,
        noise_repeat=session.paradigm.trial_duration if config.frozen_noise else 0.0,
    )
    # sample at the end of each step (the state that has seen the step's input)
    return reservoir_traces(
        cfg,
        rates,
        session.duration,
        session.times + session.paradigm.dt * (1 - 1e-9),
        parse_taus(config.trace_taus),
        seed=rng,
        backend=config.backend,
        reservoir=reservoir,
        trial_seed=trial_seed,
        state_scale=state_scale,
        progress=progress,
    )


# ----------------------------------------------------------------------------- plots
def _plots(out, config, session, preds: dict, scores: dict, primary: str) -> list[str]:
    from .plots import figure, save

    files = []
    par = session.paradigm
    rel = np.arange(par.steps_per_trial) * par.dt * 1e3
    P = ww.trial_view(session, preds[primary])
    E = ww.trial_view(session, session.expected_targets)
    sw = list(session.switch_trials)
    windows = []
    for s in sw:
        windows.append((f"before switch at trial {s}", np.arange(max(0, s - 5), s)))
        windows.append((f"after switch (trials {s}-{s + 4})", np.arange(s, min(session.n_trials, s + 5))))
    if not windows:
        windows = [("last 5 trials", np.arange(max(0, session.n_trials - 5), session.n_trials))]
    fig, axes = figure(len(windows), 1, figsize=(8, 2.2 * len(windows)), sharex=True, squeeze=False)
    names = ["when"] + [f"what {k}" for k in range(par.n_stimuli)]
    colors = ["k", "tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    for ax, (title, trials) in zip(axes[:, 0], windows, strict=True):
        for o in range(P.shape[2]):
            c = colors[o % len(colors)]
            ax.plot(rel, P[trials, :, o].mean(0), color=c, label=names[o])
            ax.plot(rel, E[trials[-1], :, o], color=c, ls="--", lw=0.8)
        ax.set_title(f"{primary}: {title} (mean output, dashed: expected target)", fontsize=9)
        ax.set_ylabel("output")
    axes[0, 0].legend(fontsize=7, ncol=4)
    axes[-1, 0].set_xlabel("time in trial (ms)")
    fig.subplots_adjust(hspace=0.4)
    files.append(str(save(fig, out / "readout_traces.png")))

    fig, ax = figure(figsize=(8, 3.5))
    for name, sc in scores.items():
        e = np.asarray(sc["trial_errors"])
        k = 3
        sm = np.convolve(e, np.ones(k) / k, mode="valid")
        ax.plot(np.arange(sm.size) + (k - 1) / 2, sm, label=name, lw=2 if name == primary else 1)
    for s in sw:
        ax.axvline(s, color="gray", ls=":")
    ax.set_yscale("log")
    ax.set_xlabel("trial")
    ax.set_ylabel("anticipatory error (3-trial mean)")
    ax.set_title("learning curves (dotted: block switches)")
    ax.legend(fontsize=8)
    files.append(str(save(fig, out / "learning_curves.png")))

    fig, ax = figure(figsize=(4, 4))
    for name, sc in scores.items():
        pairs = sc["amplitude_pairs"]
        ax.plot(
            pairs["probability"],
            pairs["amplitude"],
            "o",
            label=f"{name} (r={sc['amplitude_probability_corr']:.2f})",
        )
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set_xlabel("stimulus probability")
    ax.set_ylabel("anticipatory peak amplitude")
    ax.legend(fontsize=7)
    files.append(str(save(fig, out / "amplitude_vs_probability.png")))
    return files


# ----------------------------------------------------------------------------- entry point
def estimate_memory(config: WhatWhenConfig) -> dict:
    """Memory of a run by part, ``{part: (bytes, option that lowers it)}`` (see :mod:`sims.limits`)."""
    from spiking.reservoir import preset

    par = config.paradigm()
    duration = par.n_trials * config.trial_duration
    n_in = (1 + max(len(b.probabilities) for b in par.blocks)) * config.input_per_channel
    n_syn = limits.reservoir_synapses(preset(config.reservoir_preset, n_neurons=config.n_neurons))
    n_syn += n_in * config.n_neurons * config.p_input
    n_samples = duration / config.dt
    return {
        "synapses": (n_syn * limits.BYTES_PER_SYNAPSE, "--n-neurons"),
        "recorded spikes": (limits.spikes_bytes(config.n_neurons, duration, 50.0), "--n-neurons or --blocks"),
        # input rates per ms and channel neuron, then their Poisson spikes
        "inputs": (8.0 * duration * 1e3 * n_in + limits.spikes_bytes(n_in, duration, config.input_rate),
                   "--input-per-channel or --blocks"),
        # filtered traces, their scaled copy and the readouts' work arrays
        "reservoir states": (3 * 8.0 * n_samples * config.n_neurons, "--n-neurons, --blocks or raise --dt"),
        "interpreter and libraries": (limits.BASELINE_BYTES, "--n-neurons"),
    }


_SCORE_KEYS = (
    "timing_error_ms", "teaching_trial_timing_error_ms", "single_trial_timing_error_ms", "timing_bias_ms",
    "what_timing_error_ms", "what_timing_bias_ms", "amplitude_probability_corr",
    "amplitude_probability_slope", "amplitude_probability_corr_single_trial_peaks",
    "amplitude_probability_slope_single_trial_peaks", "amplitude_probability_corr_above_baseline",
    "amplitude_probability_slope_above_baseline", "recovery_trials", "recovered", "recovery_threshold",
    "worst_error_after_switch", "mean_error_10_trials_before_switch", "mean_error_10_trials_after_switch",
    "timing_recovery_trials", "final_error", "what_when_cosine", "what_when_mean_row_cosine",
    "what_when_angles_deg", "mean_response_peak_after_cue_ms", "single_trial_peak_after_cue_ms",
    "peak_vs_latency", "amplitude_pairs", "evaluated_on", "timing_bias_ms_per_block", "recovery_anchor",
    "control_error_at_switch", "recovery_trials_own", "recovered_own", "pre_switch_error",
)


@register(
    "whatwhen",
    WhatWhenConfig,
    memory=estimate_memory,
    outputs=_SCORE_KEYS + (
        "readout", "n_trials", "switch_trials", "n_neurons", "mean_rate_exc_hz", "mean_rate_inh_hz",
        "time_decoding_centres_ms", "time_decoding_r2", "simulated_s", "build_s", "reservoir_s", "states_s",
        "state_scale_hz", "readout_train_s", "learning_curve", "comparison", "plots",
        "time_decoding_r2_min", "control_s",
    ),
    help="What/when prediction (Yamada & Chao 2025): three-factor, FORCE and ridge readouts of one "
    "Izhikevich reservoir run; timing error, amplitude-probability correlation, recovery after switches, "
    "what/when cosine.",
)
def run_whatwhen(config: WhatWhenConfig, *, seed: int, out=None, progress: bool = False) -> dict:
    rng = make_rng(seed)
    session = ww.generate(config.paradigm(), seed=rng)
    X, res_run, timings, reservoir = simulate_reservoir(config, session, rng, progress=progress)
    names = READOUTS if config.compare else (config.readout,)
    settings = readout_settings(config, seed)
    controls = None
    if config.control and len(session.switch_trials):
        t0 = time.perf_counter()

        def control_states(csess, crng):
            return simulate_reservoir(
                config, csess, crng, reservoir=reservoir, trial_seed=res_run.brian_seed,
                state_scale=timings["state_scale_hz"],
            )[0]

        controls = wwt.control_errors(session, names, control_states, seed=seed, settings=settings)
        timings["control_s"] = time.perf_counter() - t0
    preds, scores, readout_s = {}, {}, {}
    with feedback.bar(len(names), "readouts", "readout", progress) as bar:
        for name in names:
            t0 = time.perf_counter()
            pred, model = wwt.train_readout(name, session, X, settings)
            readout_s[name] = time.perf_counter() - t0
            preds[name] = pred
            scores[name] = wwm.score_readout(
                session,
                pred,
                model.coef_,
                eval_trials=config.eval_trials,
                recovery_factor=config.recovery_factor,
                timing_tolerance=config.timing_tolerance,
                control_errors=None if controls is None else controls[name],
            )
            bar.update(1)
    main = scores[config.readout]
    decoding = wwm.time_decoding(session, X, alpha=config.decode_alpha, horizon=config.decode_horizon)
    summary = {
        "readout": config.readout,
        **{k: v for k, v in main.items() if k != "trial_errors"},
        "n_trials": session.n_trials,
        "switch_trials": session.switch_trials.tolist(),
        "n_neurons": config.n_neurons,
        "mean_rate_exc_hz": res_run.mean_rate("exc"),
        "mean_rate_inh_hz": res_run.mean_rate("inh"),
        "time_decoding_centres_ms": decoding["centres_ms"],
        "time_decoding_r2": decoding["r2"],
        "time_decoding_r2_min": float(np.min(decoding["r2"])),
        "simulated_s": session.duration,
        **timings,
        "readout_train_s": readout_s,
        "learning_curve": main["trial_errors"],
    }
    if config.oracles and len(session.switch_trials):
        csess, cstates = [], []
        for b, par in enumerate(wwt.control_paradigms(session.paradigm), start=1):
            crng = np.random.default_rng([seed, 1, b])  # as wwt.control_errors draws them
            csess.append(ww.generate(par, seed=crng))
            cstates.append(simulate_reservoir(
                config, csess[-1], crng, reservoir=reservoir, trial_seed=res_run.brian_seed,
                state_scale=timings["state_scale_hz"],
            )[0])
        orc = wwo.oracle_summary(session, X, csess, cstates, alpha=config.ridge_alpha,
                                 factor=config.recovery_factor)
        summary["oracle_recovery_trials"] = {
            n: [r["recovery_trials"] for r in v] for n, v in orc["all"].items()
        }
        summary["oracle_recovery"] = orc
    if config.compare:
        keys = (
            "timing_error_ms",
            "teaching_trial_timing_error_ms",
            "single_trial_timing_error_ms",
            "timing_bias_ms",
            "timing_bias_ms_per_block",
            "what_timing_error_ms",
            "what_timing_bias_ms",
            "amplitude_probability_corr",
            "amplitude_probability_slope",
            "amplitude_probability_corr_single_trial_peaks",
            "amplitude_probability_corr_above_baseline",
            "amplitude_probability_slope_above_baseline",
            "recovery_trials",
            "recovered",
            "recovery_trials_own",
            "control_error_at_switch",
            "pre_switch_error",
            "worst_error_after_switch",
            "mean_error_10_trials_before_switch",
            "mean_error_10_trials_after_switch",
            "timing_recovery_trials",
            "final_error",
            "what_when_cosine",
            "what_when_mean_row_cosine",
        )
        summary["comparison"] = {n: {k: sc[k] for k in keys} for n, sc in scores.items()}
    if out is not None:
        summary["plots"] = _plots(out, config, session, preds, scores, config.readout)
    return summary
