"""Simulation scripts, the ``neuroplast`` CLI and parameter scans (the only layer that wires everything)."""

from .registry import get, names, register
from .runner import execute

__all__ = ["execute", "get", "load_features", "load_scan", "names", "register"]

# Imported on first use (PEP 562): ``neuroplast run reservoir`` should not pay for the
# feature store of ``run nalsm`` or the scan's SQLite store and their libraries.
_LAZY = {"load_features": "sims.nalsm_scale", "load_scan": "sims.scan.store"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
