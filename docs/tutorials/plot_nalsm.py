"""
Liquid state machines with astrocyte-modulated plasticity (NALSM)
=================================================================

This tutorial walks through the three liquids of Ivanov & Michmizos (NeurIPS
2021) on scikit-learn's 8x8 digits, at small size: a liquid state machine with
fixed weights (LSM), the same liquid with plain STDP, and NALSM, where one
astrocyte integrates liquid minus input spikes and sets the STDP depression
rate. For each we measure the branching factor (the average number of
descendant spikes per spike, 1 = critical) and the accuracy of a linear
softmax readout on spike counts.

The Brian2 model (:class:`spiking.liquid.Brian2Liquid`) and its hand-written
Numba twin (:class:`spiking.liquid.NumbaLiquid`) integrate the same
discrete-time map; the tests check that they produce identical spike trains.
To stay within a docs-build budget, the classification below uses the Numba
twin and the Brian2 model is run on a few samples for the raster and the
astrocyte trace.
"""

# %%
# Data and liquid
# ---------------
# Pixels become per-step Bernoulli spike probabilities (the reference's
# normalisation). The liquid is a 5x5x4 grid of LIF neurons, 80 % excitatory,
# with distance-dependent connections; weights start at their bound of 3.
import time

import matplotlib.pyplot as plt
import numpy as np

from plasticity_rules.readouts import SoftmaxReadout
from spiking.liquid import Brian2Liquid, LiquidConfig, NumbaLiquid
from tasks.datasets import load_digits_dataset, normalise_rows
from tasks.liquid_metrics import branching_factor, branching_factor_chance

data = load_digits_dataset().subset(n_train=300, n_val=100, n_test=100)
config = LiquidConfig(grid_shape=(5, 5, 4), n_input=data.n_pixels, sample_steps=150)
print(f"{config.n_liquid} liquid neurons, {config.n_input} inputs, {config.sample_steps} ms per sample")

# %%
# Three models, one code path
# ---------------------------
# LSM: no plasticity (eta = 0). STDP: eta = 0.15 with a fixed depression rate
# A = eta. NALSM: the astrocyte drives A from the liquid/input spike balance.
# Plastic liquids first go through an initialisation phase (20 ms per sample,
# plasticity on), then every sample is presented for 150 ms from the
# initialised weights with plasticity decaying by 0.99 per step.
models = {"LSM": (0.0, 0.0), "STDP": (0.15, 0.0), "NALSM": (0.15, 0.01)}
results = {}
for name, (eta, w_astro) in models.items():
    t0 = time.perf_counter()
    liq = NumbaLiquid(config, seed=0)  # same seed: same connectivity for every model
    if eta > 0:
        liq.initialise(data.x_train, eta=eta, w_astro=w_astro)
    feats = {part: liq.features(getattr(data, f"x_{part}"), eta=eta, w_astro=w_astro, n_record=20)
             for part in ("train", "val", "test")}
    val = feats["val"]
    bf_args = (*val.recorded_spikes(), *liq.liquid_synapses())
    bf = branching_factor(*bf_args)
    # the same spikes with every neuron's train shifted at random: what the measure gives
    # without any propagation (inhibitory neurons have ~3x more targets than sources)
    chance = branching_factor_chance(*bf_args, seed=0)
    Xtr, scale = normalise_rows(feats["train"]["counts"])
    Xva, _ = normalise_rows(val["counts"], scale)
    Xte, _ = normalise_rows(feats["test"]["counts"], scale)
    ro = SoftmaxReadout(epochs=60, seed=0).fit(Xtr, data.y_train, Xva, data.y_val)
    acc = float(np.mean(ro.predict(Xte) == data.y_test))
    rate = val["counts"].mean() / (config.sample_steps * 1e-3)
    results[name] = (bf, acc, rate)
    print(f"{name:6s} branching factor {bf:5.2f} (chance {chance:4.2f})  rate {rate:5.1f} Hz  "
          f"test accuracy {acc:.2f} ({time.perf_counter() - t0:.1f} s)")

fig, ax = plt.subplots(figsize=(4.5, 3.5), layout="constrained")
for name, (bf, acc, _) in results.items():
    ax.scatter(bf, acc, s=60, label=name)
ax.axvline(1.0, color="k", lw=0.5, ls="--")
ax.set(xlabel="branching factor", ylabel="test accuracy", title="digits, 100 neurons")
ax.legend()
plt.show()

# %%
# The Brian2 liquid: raster and astrocyte trace
# ---------------------------------------------
# The astrocyte is a one-neuron Brian2 group updated inside the compiled
# simulation; spike counts reach it as summed variables and A and eta reach
# every neuron through linked variables. Many samples share one ``run()`` and
# are separated by resets scheduled with ``run_regularly``, and the network
# holds several copies of the liquid side by side (``batch``), so one compiled
# step advances several samples. (The NumPy code-generation target keeps this tutorial free
# of compilation; simulations use Cython.)
b2liq = Brian2Liquid(config, seed=0, backend="numpy")
b2liq.initialise(data.x_train[:30], eta=0.15, w_astro=0.01)
out = b2liq.features(data.x_val[:2], eta=0.15, w_astro=0.01, n_record=2)

T = config.sample_steps
fig, (a1, a2) = plt.subplots(
    2, 1, figsize=(7, 4.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}, layout="constrained"
)
a1.plot(out["spike_samples"] * T + out["spike_steps"], out["spike_neurons"], ".k", ms=1)
a1.plot(out["input_samples"] * T + out["input_steps"], config.n_liquid + out["input_neurons"], ".",
        color="tab:orange", ms=1)
a1.set(ylabel="neuron (inputs on top)", title="NALSM on Brian2: two validation digits")
a2.plot(out["astro"].ravel(), color="tab:green")
a2.set(xlabel="time (ms)", ylabel="A")
plt.show()
