"""Simulation scripts, the ``neuroplast`` CLI and parameter scans (the only layer that wires everything)."""

from .registry import get, names, register
from .runner import execute

__all__ = ["execute", "get", "names", "register"]
