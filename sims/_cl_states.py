"""Wiring of ``run continual --features``: a stream of images -> the same stream of liquid / reservoir states.

``lsm`` / ``nalsm``: one NALSM liquid (:mod:`spiking.liquid`, Numba engine) built
from the run's generator; ``nalsm`` is initialised (astrocyte-modulated STDP,
no decay) on ``n_init`` images drawn from the **first task's training set only**
(no peeking at later tasks); ``lsm`` keeps its initial weights. ``reservoir``: an
Izhikevich reservoir (:mod:`spiking.reservoir`) driven by the images as currents
or spikes. States are computed once per array, 500 images per chunk, and kept in
the durable feature store of the NALSM scale runs (:mod:`tasks.cl_features`,
:mod:`tasks.feature_store`), keyed by the model's description and the images, so a
killed run resumes at its first missing chunk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time

import numpy as np

from .parsing import parse_grid

__all__ = ["FEATURES", "state_stream"]

FEATURES = ("pixels", "lsm", "nalsm", "reservoir")


def _liquid_model(stream, config, rng):
    from spiking.liquid import LiquidConfig, NumbaLiquid
    from tasks.datasets import normalise_rows

    X0 = stream[0].X_train
    _, prob_scale = normalise_rows(X0)
    lcfg = LiquidConfig(grid_shape=parse_grid(config.liquid_grid), n_input=stream.n_inputs,
                        sample_steps=round(config.liquid_duration * 1e3), init_steps=20)
    liquid_seed = int(rng.integers(2**31 - 1))
    liq = NumbaLiquid(lcfg, seed=liquid_seed)
    key = {"kind": config.features, "liquid": dataclasses.asdict(lcfg), "seed": liquid_seed,
           "prob_scale": prob_scale}
    if config.features == "nalsm":
        eta, w_astro = config.liquid_eta, config.liquid_w_astro
        init = rng.choice(len(X0), size=min(config.n_init, len(X0)), replace=False)
        P0 = np.clip(normalise_rows(X0[init], prob_scale)[0], 0.0, 1.0)  # rounding can exceed 1
        liq.initialise(P0, eta=eta, w_astro=w_astro)
        key.update(eta=eta, w_astro=w_astro, init_images=hashlib.sha256(P0.tobytes()).hexdigest())
    else:
        eta = w_astro = 0.0
        liq.use_initial_weights(1.0)

    def compute(X, seed):
        from spiking.image_states import liquid_counts

        P, _ = normalise_rows(X, prob_scale)
        return liquid_counts(liq, np.clip(P, 0.0, 1.0), eta=eta, w_astro=w_astro, seed=seed)

    return compute, key, {"n_liquid": lcfg.n_liquid, "n_liquid_synapses": int(liq.conn.n_liquid_syn)}


def _reservoir_model(stream, config, rng):
    from spiking.encoders import current_encode
    from spiking.reservoir import IzhikevichReservoir, preset

    spikes = config.reservoir_input == "spikes"
    cfg = preset("izhikevich2003", n_neurons=config.reservoir_neurons,
                 n_inputs=stream.n_inputs if spikes else 0)
    res_seed = int(rng.integers(2**31 - 1))
    res = IzhikevichReservoir(cfg, seed=res_seed, backend="cython")
    _, w_in = current_encode(np.zeros((1, stream.n_inputs)), cfg.n_neurons, p_connect=0.1, seed=rng)
    key = {"kind": "reservoir", "reservoir": repr(cfg), "seed": res_seed, "input": config.reservoir_input,
           "sample_ms": round(config.reservoir_duration * 1e3), "gain": config.reservoir_gain,
           "w_in": hashlib.sha256(w_in.tobytes()).hexdigest()}

    sample_s = round(config.reservoir_duration * 1e3) * 1e-3

    def compute(X, seed):
        from spiking.image_states import reservoir_counts

        out = []
        for i in range(0, len(X), 500):  # one Brian2 run per 500 images (run() overhead vs memory)
            out.append(reservoir_counts(res, np.clip(X[i : i + 500], 0.0, 1.0),
                                        sample_s=sample_s, mode=config.reservoir_input,
                                        w_in=w_in, gain=config.reservoir_gain, seed=seed + i))
        return np.concatenate(out)

    return compute, key, {"n_reservoir": cfg.n_neurons}


def state_stream(stream, config, rng, *, progress=False):
    """``(stream of states, info)`` for ``config.features`` (pixels: the stream itself, scaled)."""
    from tasks.cl_features import FeatureCache, transform_stream

    t0 = time.perf_counter()
    if config.features == "pixels":
        compute, key, info = (lambda X, seed: X), {"kind": "pixels"}, {}
    elif config.features in ("lsm", "nalsm"):
        compute, key, info = _liquid_model(stream, config, rng)
    else:
        compute, key, info = _reservoir_model(stream, config, rng)
    cache_dir = None if config.feature_cache in ("", "none") else config.feature_cache
    # spike counts are stored as uint16 (the store refuses anything else); pixels stay in memory
    cache = FeatureCache(cache_dir if config.features != "pixels" else None,
                         dtype="float64" if config.features == "pixels" else "uint16")
    # pixels are not z-scored: a permuted task moves pixels whose first-task variance is ~0 (the
    # border) to the centre, where dividing by that variance would blow them up
    out = transform_stream(stream, compute, key, cache=cache,
                           standardise=config.standardise and config.features != "pixels", progress=progress)
    info.update(n_features=out.n_inputs, feature_s=time.perf_counter() - t0,
                feature_cache_hits=out.meta["feature_cache_hits"],
                feature_cache_misses=out.meta["feature_cache_misses"],
                feature_chunks_computed=cache.chunks_computed)
    return out, info
