"""Simulation scripts, the ``neuroplast`` CLI and parameter scans (the only layer that wires everything)."""

from .nalsm_scale import load_features
from .registry import get, names, register
from .runner import execute
from .scan.store import load_scan

__all__ = ["execute", "get", "load_features", "load_scan", "names", "register"]
