"""
Build a heterogeneous Izhikevich reservoir
==========================================

This tutorial builds the spiking network of Izhikevich (2003) — 800 excitatory and
200 inhibitory neurons with heterogeneous parameters, all-to-all random weights and
thalamic noise — runs it on Brian2, plots its raster, and turns its spikes into a
state matrix for a readout.
"""

# %%
# Configure and build
# -------------------
# Presets are frozen dataclasses; ``preset`` resizes them (weights scale as 1000/N so the
# dynamical regime is kept). Building compiles the network once; every later trial only
# ``restore()`` s the initial state.
import matplotlib.pyplot as plt
import numpy as np

from spiking.reservoir import IzhikevichReservoir, preset

config = preset("izhikevich2003", n_neurons=500)
print(config)
reservoir = IzhikevichReservoir(config, seed=0)

# %%
# Run one trial
# -------------
run = reservoir.run(1.0)
print(f"excitatory {run.mean_rate('exc'):.1f} Hz, inhibitory {run.mean_rate('inh'):.1f} Hz")

# %%
# Raster and population rate
# --------------------------
# The paper's network shows synchronous population bursts (alpha/gamma rhythms).
from sims.plots import raster

fig = raster(run.spikes.indices, run.spikes.times, config.n_exc, config.n_neurons, run.duration,
             title="Izhikevich (2003) network, 500 neurons")
plt.show()

# %%
# From spikes to a state matrix
# -----------------------------
# Readouts see states of shape ``(n_samples, n_units)``: spike counts per window, or
# exponentially filtered traces sampled at given times (Numba kernels).
sample_times = np.arange(0.05, 1.0, 0.01)
states = run.traces(sample_times, tau=0.02)
print(states.shape)

fig, ax = plt.subplots(figsize=(8, 3), layout="constrained")
im = ax.imshow(states.T, aspect="auto", origin="lower", cmap="magma",
               extent=(sample_times[0] * 1e3, sample_times[-1] * 1e3, 0, config.n_neurons))
ax.set(xlabel="time (ms)", ylabel="neuron", title="filtered traces (tau = 20 ms)")
fig.colorbar(im, ax=ax, label="trace")
plt.show()

# %%
# Driving the reservoir
# ---------------------
# Inputs come as spike trains (``spiking.encoders.poisson_encode`` / ``latency_encode``) into an
# input population, or as injected currents (``current_encode``). Here: a sine current.
from spiking.encoders import current_encode

quiet = preset("izhikevich2003", n_neurons=500, noise_exc=1.0, noise_inh=0.5)
res2 = IzhikevichReservoir(quiet, seed=1)
t = np.arange(0, 1.0, 1e-3)
current, _ = current_encode(np.sin(2 * np.pi * 3 * t), quiet.n_neurons, gain=8.0, seed=1)
driven = res2.run(1.0, input_current=current, current_dt=1e-3)
fig = raster(driven.spikes.indices, driven.spikes.times, quiet.n_exc, quiet.n_neurons, 1.0,
             title="driven by a 3 Hz sine current")
plt.show()
