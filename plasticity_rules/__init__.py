"""Plasticity rules and readouts: pure Numba kernels with NumPy references, thin stateful wrappers.

This layer imports neither Brian2 nor any other neuroplast package.
"""
