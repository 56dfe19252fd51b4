"""Parsers of the string parameters of ``neuroplast run`` (lists, grids, time constants)."""

from __future__ import annotations

import numpy as np

from plasticity_rules.validation import check_positive

__all__ = ["parse_grid", "parse_floats", "parse_taus"]


def parse_grid(text: str) -> tuple[int, int, int]:
    """``'10x10x10'`` -> ``(10, 10, 10)``; sizes must be integers >= 1."""
    parts = str(text).lower().replace(",", "x").split("x")
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"grid must look like '10x10x10', got {text!r}") from None
    if len(shape) != 3 or any(s < 1 for s in shape):
        raise ValueError(f"grid must be three sizes >= 1 such as '10x10x10', got {text!r}")
    return shape


def parse_floats(name: str, text: str) -> list[float]:
    """``'0.2,0.5,1'`` -> ``[0.2, 0.5, 1.0]`` (non-empty, finite)."""
    try:
        vals = [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{name} must be comma-separated numbers, got {text!r}") from None
    if not vals or not all(np.isfinite(vals)):
        raise ValueError(f"{name} must be comma-separated finite numbers, got {text!r}")
    return vals


def parse_taus(spec) -> tuple[float, ...]:
    """Parse ``"0.02,0.05,0.1"`` (seconds) into a tuple of positive floats."""
    try:
        taus = tuple(float(x) for x in str(spec).split(",") if x.strip())
    except ValueError:
        raise ValueError(
            f"trace_taus must be comma-separated seconds such as '0.02,0.1', got {spec!r}"
        ) from None
    if not taus:
        raise ValueError(f"trace_taus must list at least one time constant, got {spec!r}")
    for t in taus:
        check_positive("trace_taus", t)
    return taus
