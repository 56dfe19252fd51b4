"""
"What" and "when" predictions with a three-factor Hebbian readout
=================================================================

A heterogeneous Izhikevich reservoir hears a cue; after a latency one of three
stimuli arrives, each with its own probability. Readouts should anticipate the
stimulus: the "when" readout peaks at the expected onset, and each "what"
readout peaks there with an amplitude proportional to its stimulus's
probability (Yamada & Chao 2025, arXiv:2510.14382).

The reservoir is simulated **once** for the whole session; the four readouts
(three-factor, FORCE with and without reset of ``P``, and ridge) are trained
afterwards on the same recorded spike traces. Settings are sized to run in
well under a minute; ``neuroplast run whatwhen`` uses larger ones.
"""

# %%
# The paradigm: blocks of trials; each new block switches latency or probabilities.
import matplotlib.pyplot as plt
import numpy as np

from plasticity_rules.validation import make_rng
from sims import whatwhen as sw
from tasks import whatwhen as ww
from tasks import whatwhen_metrics as wwm

config = sw.WhatWhenConfig(
    blocks="16:0.15:0.6,0.3,0.1; 16:0.25:0.6,0.3,0.1; 16:0.25:0.1,0.3,0.6",
    n_neurons=200,
    eval_trials=3,
)
rng = make_rng(0)
session = ww.generate(config.paradigm(), seed=rng)
spt = session.paradigm.steps_per_trial
t_ms = np.arange(spt) * session.paradigm.dt * 1e3

fig, ax = plt.subplots(figsize=(7, 2.5), layout="constrained")
for o, name in enumerate(["when", "what 0", "what 1", "what 2"]):
    ax.plot(t_ms, ww.trial_view(session, session.expected_targets)[0, :, o], label=name)
ax.set_xlabel("time in trial (ms)")
ax.set_ylabel("expected target")
ax.set_title("block 1: anticipated onset 150 ms after the cue, p = (0.6, 0.3, 0.1)")
ax.legend()

# %%
# One reservoir run for the whole session, then filtered traces every 5 ms.
X, run, timings = sw.simulate_reservoir(config, session, rng)
print(
    f"{session.duration:.0f} s simulated in {timings['reservoir_s']:.1f} s; "
    f"excitatory rate {run.mean_rate('exc'):.1f} Hz; states {X.shape}"
)

# %%
# Does the reservoir remember *when* the cue came? A held-out ridge fit of time bumps
# on stimulus-free activity (cue to stimulus onset, probe trials to the trial end).
# Synaptic currents of ``tau_syn`` = 30 ms keep the cue alive for ~200 ms; with the
# paper's instantaneous synapses (``tau_syn=0``) it fades within ~100 ms.
dec = wwm.time_decoding(session, X)
r2 = {c: round(float(r), 2) for c, r in zip(dec["centres_ms"], dec["r2"], strict=True)}
print("elapsed-time decoding R^2 by bump centre (ms after the cue):", r2)

# %%
# Train every readout on the same states and score the outputs produced *while learning*.
scores, preds = {}, {}
for name in sw.READOUTS:
    preds[name], model = sw.train_readout(name, config, session, X)
    scores[name] = wwm.score_readout(
        session, preds[name], model.coef_, eval_trials=config.eval_trials,
        recovery_factor=config.recovery_factor, timing_tolerance=config.timing_tolerance,
    )
    sc = scores[name]
    print(
        f"{name:12s} timing error {sc['timing_error_ms']:6.1f} ms | amplitude~probability r = "
        f"{sc['amplitude_probability_corr']:.2f} | recovery trials {sc['recovery_trials']} | "
        f"what/when cosine {sc['what_when_cosine']:.2f}"
    )

# %%
# Learning curves: anticipatory error per trial (dotted lines: switches).
fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
for name, sc in scores.items():
    e = np.convolve(sc["trial_errors"], np.ones(3) / 3, mode="valid")
    ax.plot(np.arange(e.size) + 1, e, label=name)
for s in session.switch_trials:
    ax.axvline(s, color="gray", ls=":")
ax.set_yscale("log")
ax.set_xlabel("trial")
ax.set_ylabel("error vs expected target")
ax.legend()

# %%
# Probe trials (stimulus omitted, nothing learned) show what the readouts anticipate.
fig, axes = plt.subplots(1, 3, figsize=(10, 2.8), sharey=True, layout="constrained")
P = ww.trial_view(session, preds["three_factor"])
for b, (ax, trials) in enumerate(zip(axes, wwm.evaluation_trials(session, 3, probes=True), strict=True)):
    for o in range(4):
        ax.plot(t_ms, P[trials, :, o].mean(0))
    ax.axvline((session.paradigm.cue_time + session.latency[trials[0]]) * 1e3, color="k", ls=":")
    ax.set_title(f"block {b + 1}: p = {session.probabilities[trials[0]]}", fontsize=8)
    ax.set_xlabel("time in trial (ms)")
axes[0].set_ylabel("three-factor output")
plt.show()
