"""A cheap, pure-NumPy simulation registered as ``_toy`` for testing scans.

It is not part of ``sims.registry._SIM_MODULES`` (so ``neuroplast run`` does
not list it); a scan spec loads it with ``module = "sims._testing"``, and scan
workers import the module that defines a simulation's run function before they
look it up, so Dask worker processes find it too.

The model is a noisy quadratic bowl,

.. math::

    \\text{score} = -(x - 0.3)^2 - 0.1\\,(k - 2)^2 + \\sigma\\,\\xi, \\qquad \\xi \\sim \\mathcal{N}(0, 1),

with :math:`\\xi` drawn from ``numpy.random.default_rng(seed)``, so one seed
gives one result. With an output directory it writes ``toy.txt`` first.
``fail=True`` raises, ``x < crash_below`` kills the worker
process (``os._exit``), ``sleep`` holds the point for a while (to interrupt scans).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plasticity_rules.validation import check_int, check_nonnegative

from .registry import param, register

__all__ = ["ToyConfig", "run_toy"]


@dataclass(frozen=True)
class ToyConfig:
    x: float = param(0.0, "position on the bowl")
    k: int = param(1, "integer knob (>= 1)")
    noise: float = param(0.1, "standard deviation of the additive noise")
    sleep: float = param(0.0, "seconds to wait before returning", unit="s")
    fail: bool = param(False, "raise an error on purpose")
    crash_below: float = param(float("-inf"), "kill the worker process on purpose when x < crash_below")
    log_dir: str = param("", "if set, append one line per run to <log_dir>/runs.log")
    kind: str = param("a", "a categorical parameter", choices=("a", "b"))

    def __post_init__(self):
        check_int("k", self.k, minimum=1)
        check_nonnegative("noise", self.noise)
        check_nonnegative("sleep", self.sleep)


@register(
    "_toy",
    ToyConfig,
    help="Pure-NumPy toy simulation used to test parameter scans.",
    uses_brian2=False,
    outputs=("score", "loss", "xi", "label"),
)
def run_toy(config: ToyConfig, *, seed, out, progress=False) -> dict:
    if out is not None:  # a file written before the run can fail (tests of atomic output)
        (Path(out) / "toy.txt").write_text(f"x = {config.x!r}\n")
    if config.log_dir:
        with open(Path(config.log_dir) / "runs.log", "a") as fh:
            fh.write(f"{config.x!r} {config.k} {config.kind} {seed} {os.getpid()}\n")
    if config.sleep:
        time.sleep(config.sleep)
    if config.x < config.crash_below:
        os._exit(3)
    if config.fail:
        raise RuntimeError(f"toy failure on purpose at x={config.x}")
    rng = np.random.default_rng(seed)
    xi = float(rng.standard_normal())
    score = -((config.x - 0.3) ** 2) - 0.1 * (config.k - 2) ** 2 + config.noise * xi
    offset = 0.5 if config.kind == "b" else 0.0
    return {"score": float(score + offset), "loss": float(-score), "xi": xi, "label": config.kind}
