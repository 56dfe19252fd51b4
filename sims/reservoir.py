"""``neuroplast run reservoir``: simulate a heterogeneous Izhikevich reservoir.

Writes ``summary.json`` (rates, wall time, versions) and ``raster.png``
(raster with population rate) to ``--out``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from plasticity_rules.validation import check_int, check_nonnegative, check_positive, make_rng
from spiking.encoders import poisson_encode
from spiking.engine import BACKENDS
from spiking.reservoir import PRESETS, IzhikevichReservoir, preset

from . import limits
from .limits import check_steps
from .registry import param, register

__all__ = ["ReservoirSimConfig", "run_reservoir"]


@dataclass(frozen=True)
class ReservoirSimConfig:
    """Parameters of ``neuroplast run reservoir``."""

    preset: str = param("izhikevich2003", "network preset", choices=tuple(PRESETS))
    n_neurons: int = param(1000, "number of neurons (80 % excitatory)")
    duration: float = param(1.0, "biological time to simulate", unit="s")
    backend: str = param("cython", "Brian2 code generation backend", choices=BACKENDS)
    weight_scale: float = param(1.0, "multiplies excitatory and inhibitory recurrent weights")
    noise_scale: float = param(1.0, "multiplies the thalamic noise amplitudes")
    n_inputs: int = param(0, "size of a Poisson input population (0: none)")
    input_rate: float = param(20.0, "rate of each input neuron in Hz")

    def __post_init__(self):
        check_int("n_neurons", self.n_neurons, minimum=2)
        check_positive("duration", self.duration)
        check_nonnegative("weight_scale", self.weight_scale)
        check_nonnegative("noise_scale", self.noise_scale)
        check_int("n_inputs", self.n_inputs, minimum=0)
        check_nonnegative("input_rate", self.input_rate)
        check_steps("duration", self.duration, 1e-3, option="--duration")

    def reservoir_config(self):
        base = preset(self.preset, n_neurons=self.n_neurons)
        return base.replace(
            w_exc=base.w_exc * self.weight_scale,
            w_inh=base.w_inh * self.weight_scale,
            noise_exc=base.noise_exc * self.noise_scale,
            noise_inh=base.noise_inh * self.noise_scale,
            n_inputs=self.n_inputs,
        )


def estimate_memory(config: ReservoirSimConfig) -> dict:
    """Memory of a run by part, ``{part: (bytes, option that lowers it)}`` (see :mod:`sims.limits`)."""
    c = config.reservoir_config()
    n_in_syn = config.n_inputs * c.n_neurons * c.p_input
    return {
        "synapses": ((limits.reservoir_synapses(c) + n_in_syn) * limits.BYTES_PER_SYNAPSE, "--n-neurons"),
        "recorded spikes": (limits.spikes_bytes(c.n_neurons, config.duration), "--duration or --n-neurons"),
        "input spikes": (
            limits.spikes_bytes(config.n_inputs, config.duration, config.input_rate),
            "--n-inputs, --input-rate or --duration",
        ),
        "interpreter and libraries": (limits.BASELINE_BYTES, "--n-neurons"),
    }


@register(
    "reservoir",
    ReservoirSimConfig,
    help="Simulate a heterogeneous Izhikevich (2003) spiking reservoir.",
    memory=estimate_memory,
    outputs=(
        "n_neurons", "n_exc", "n_inh", "duration_s", "mean_rate_exc_hz", "mean_rate_inh_hz", "n_spikes",
        "build_time_s", "run_time_s", "backend",
    ),
)
def run_reservoir(config: ReservoirSimConfig, *, seed: int, out=None, progress: bool = False) -> dict:
    """Build the reservoir, run it for ``config.duration`` and summarise its activity."""
    rng = make_rng(seed)
    t0 = time.perf_counter()
    res = IzhikevichReservoir(config.reservoir_config(), seed=rng, backend=config.backend)
    inputs = None
    if config.n_inputs:
        inputs = poisson_encode(
            np.full(config.n_inputs, config.input_rate), config.duration, dt=res.config.dt, seed=rng
        )
    t_build = time.perf_counter() - t0
    run = res.run(config.duration, input_spikes=inputs, progress=progress)
    # code generation and compilation (Cython modules, or the standalone binary) happen inside
    # the first run: they count as build time, the simulation loop as run time, for every backend
    t_build += res.last_timing_["build_s"]
    t_run = res.last_timing_["run_s"]
    res.close()
    summary = {
        "n_neurons": res.config.n_neurons,
        "n_exc": res.config.n_exc,
        "n_inh": res.config.n_inh,
        "duration_s": config.duration,
        "mean_rate_exc_hz": run.mean_rate("exc"),
        "mean_rate_inh_hz": run.mean_rate("inh"),
        "n_spikes": run.spikes.n_spikes,
        "build_time_s": t_build,
        "run_time_s": t_run,
        "backend": res.backend,
    }
    if out is not None:
        from .plots import raster, save

        fig = raster(
            run.spikes.indices,
            run.spikes.times,
            res.config.n_exc,
            res.config.n_neurons,
            config.duration,
            title=f"{config.preset}, {res.config.n_neurons} neurons, seed {seed}",
        )
        save(fig, out / "raster.png")
    return summary
