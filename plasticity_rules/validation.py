"""Argument checks shared by every layer of neuroplast.

They live in the lowest layer (``plasticity_rules`` imports neither Brian2 nor
any other neuroplast package) so that ``spiking``, ``tasks`` and ``sims`` can
all use them without breaking the layering. Every check raises ``ValueError``
whose message names the parameter, the offending value and what is allowed,
so the CLI can print it as a one-line error.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "check_positive",
    "check_nonnegative",
    "check_probability",
    "check_choice",
    "check_int",
    "check_array",
    "check_finite",
    "check_seed",
    "make_rng",
]


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_positive(name: str, value, *, allow_zero: bool = False):
    """Return ``value`` if it is a finite number > 0 (>= 0 with ``allow_zero``)."""
    if not _is_number(value) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return value


def check_nonnegative(name: str, value):
    """Return ``value`` if it is a finite number >= 0."""
    return check_positive(name, value, allow_zero=True)


def check_int(name: str, value, *, minimum: int | None = 1, maximum: int | None = None) -> int:
    """Return ``value`` as ``int`` if it is an integer within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return int(value)


def check_probability(name: str, value):
    """Return ``value`` if it is a number in [0, 1]."""
    if not _is_number(value) or not (0.0 <= float(value) <= 1.0):
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return value


def check_choice(name: str, value, allowed: Iterable[str]):
    """Return ``value`` if it is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(map(str, allowed))}")
    return value


def check_finite(name: str, array: np.ndarray) -> np.ndarray:
    """Raise if ``array`` holds NaN or infinite values."""
    array = np.asarray(array)
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        n_bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} contains {n_bad} NaN or infinite value(s); expected finite numbers")
    return array


def check_array(
    name: str,
    array,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: Sequence[int | None] | None = None,
    dtype=np.float64,
    finite: bool = True,
    allow_empty: bool = False,
) -> np.ndarray:
    """Convert ``array`` to a NumPy array and check its rank, shape and values.

    Parameters
    ----------
    name : str
        Parameter name used in error messages.
    array : array_like
        The input.
    ndim : int or sequence of int, optional
        Allowed number of dimensions.
    shape : sequence of int or None, optional
        Expected shape; ``None`` entries match any size.
    dtype : numpy dtype or None
        Dtype to convert to (``None`` keeps the input's dtype). Conversion of
        non-numeric input fails with a clear message.
    finite : bool
        Reject NaN and infinite values.
    allow_empty : bool
        Accept arrays with zero elements.
    """
    try:
        arr = np.asarray(array) if dtype is None else np.asarray(array, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array, got {type(array).__name__} ({exc})") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(
                f"{name} must have {' or '.join(map(str, allowed))} dimension(s), got shape {arr.shape}"
            )
    if shape is not None:
        mismatch = arr.ndim != len(shape) or any(
            s is not None and s != a for s, a in zip(shape, arr.shape, strict=True)
        )
        if mismatch:
            expected = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {expected}, got {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if finite:
        check_finite(name, arr)
    return arr


def check_seed(seed) -> int | None:
    """Return ``seed`` if it is ``None`` or a non-negative integer."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


def make_rng(seed) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from a seed, or pass a Generator through.

    This is the single source of randomness of a simulation: Brian2's seed is
    drawn from it (see :func:`spiking.engine.seed_brian2`).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_seed(seed))
