"""The NALSM liquid: one model (:mod:`~spiking.liquid.model`) and two engines behind one interface.

* :mod:`spiking.liquid.model` — :class:`LiquidConfig`, grid connectivity
  (:func:`build_connectivity`), the per-step constants (:func:`step_constants`),
  the :class:`LiquidFeatures` result and the :class:`Liquid` protocol.
* :mod:`spiking.liquid.brian2` — :class:`Brian2Liquid`, the model on Brian2.
* :mod:`spiking.liquid.numba` — :class:`NumbaLiquid` and :func:`simulate_liquid_numba`,
  the hand-written Numba ground truth and speed reference.

Engine classes are named for their engine; ``NALSMLiquid`` is kept as a deprecated
alias of :class:`Brian2Liquid`.
"""

from .brian2 import Brian2Liquid
from .model import (
    Connectivity,
    Liquid,
    LiquidConfig,
    LiquidFeatures,
    build_connectivity,
    input_drive,
    sample_seeds,
    step_constants,
)
from .numba import NumbaLiquid, simulate_liquid_numba

#: Deprecated alias of :class:`Brian2Liquid` (the class was named for the model, not the engine).
NALSMLiquid = Brian2Liquid

__all__ = [
    "LiquidConfig",
    "Connectivity",
    "build_connectivity",
    "step_constants",
    "sample_seeds",
    "input_drive",
    "LiquidFeatures",
    "Liquid",
    "Brian2Liquid",
    "NumbaLiquid",
    "simulate_liquid_numba",
    "NALSMLiquid",
]
