"""``neuroplast warmup``: compile, once after installing, the code that the simulations run.

Brian2 generates and compiles a Cython extension per code object the first time
it meets it (30-60 s for a new user's first ``neuroplast run reservoir`` on 2
cores), then loads it from its disk cache in milliseconds. Sizes, weights and
seeds are passed to the compiled code at run time, so building each kind of
network once, at any size, compiles what every later run of that kind needs.
This command does exactly that, with one progress line per network kind, so
that the first real run starts as fast as any later one.
"""

from __future__ import annotations

import sys
import time

__all__ = ["warmup", "add_parser", "TARGETS", "nalsm_liquid_config"]


def _reservoir(**overrides):
    def build():
        import numpy as np

        from spiking.reservoir import IzhikevichReservoir, preset

        name = overrides.pop("preset", "izhikevich2003")
        drive = overrides.pop("drive", False)
        cfg = preset(name, n_neurons=50, **overrides)
        res = IzhikevichReservoir(cfg, seed=0)
        kwargs = {}
        if cfg.n_inputs:
            from spiking.encoders import poisson_encode

            kwargs["input_spikes"] = poisson_encode(np.full(cfg.n_inputs, 50.0), 0.005, dt=cfg.dt, seed=0)
        if drive:
            kwargs["input_current"] = np.zeros((5, cfg.n_neurons))
        res.run(0.005, **kwargs)

    return build


def nalsm_liquid_config(n_input: int):
    """The liquid configuration ``run nalsm`` builds by default for images of ``n_input`` pixels.

    Its defaults are :class:`spiking.liquid.LiquidConfig`'s (1000 neurons, 20 ms
    initialisation and 250 ms feature samples, decay 0.99); ``tests/sims/test_warmup.py``
    checks that they match the simulation's.
    """
    from spiking.liquid import LiquidConfig

    return LiquidConfig(n_input=n_input)


def _nalsm_liquid(n_input: int):
    """Build the default liquid of ``run nalsm`` for images of ``n_input`` pixels.

    Built as ``run nalsm`` builds it (same sizes: the input code reads arrays whose shape
    is part of the compiled code), then one initialisation sample and one recorded
    feature sample compile every code object of both phases. Plasticity values are
    group variables, not part of the code.
    """

    def build():
        import numpy as np

        from spiking.liquid import Brian2Liquid, sample_seeds

        liq = Brian2Liquid(nalsm_liquid_config(n_input), seed=0)
        probs = np.full((1, n_input), 0.2)
        liq.initialise(probs, eta=0.15, w_astro=0.01, seed=0)
        liq.features(probs, eta=0.15, w_astro=0.01, n_record=1, sample_seeds=sample_seeds(0, [0]))

    return build


#: (label, builder) of each kind of network the CLI's simulations build by default.
TARGETS = (
    ("reservoir, all-to-all (run reservoir)", _reservoir()),
    ("reservoir, fixed in-degree (preset sparse)", _reservoir(preset="sparse")),
    ("reservoir with spike inputs (run reservoir --n-inputs)", _reservoir(n_inputs=5)),
    ("reservoir with inputs and synaptic current (run whatwhen)", _reservoir(n_inputs=5, tau_syn=0.03)),
    ("reservoir driven by a current (run prediction)", _reservoir(drive=True)),
    ("NALSM liquid, 8x8 digits (run nalsm)", _nalsm_liquid(64)),
    ("NALSM liquid, 28x28 images (run nalsm --dataset mnist / fashion-mnist)", _nalsm_liquid(784)),
)


def warmup(log=None) -> float:
    """Build every network kind of :data:`TARGETS` once; return the seconds spent."""
    if log is None:

        def log(msg):
            print(msg, file=sys.stderr, flush=True)

    t_all = time.perf_counter()
    log("neuroplast warmup: compiling the simulation code once (later runs load it from the cache)")
    for k, (label, build) in enumerate(TARGETS, 1):
        log(f"[{k}/{len(TARGETS)}] {label} ...")
        t0 = time.perf_counter()
        build()
        log(f"[{k}/{len(TARGETS)}] {label}: {time.perf_counter() - t0:.1f} s")
    total = time.perf_counter() - t_all
    log(f"neuroplast warmup: done in {total:.1f} s")
    return total


def _cmd_warmup(args) -> int:  # noqa: ARG001 - no options
    warmup()
    return 0


def add_parser(subparsers) -> None:
    """Register ``warmup`` on the ``neuroplast`` command line."""
    p = subparsers.add_parser(
        "warmup",
        help="compile the simulation code once after installing (first runs then start fast)",
        description=__doc__.split("\n\n")[1],
    )
    p.set_defaults(func=_cmd_warmup)
