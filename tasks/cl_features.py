"""Task streams in another feature space, with every state computed once and cached.

A liquid or reservoir turns every image of a stream into a state vector; the
continual-learning readouts learn on those states. :func:`transform_stream` maps
every train and test array of a :class:`~tasks.continual.TaskStream` through a
state function, looking each array up first in a :class:`FeatureCache`.

Keys: the SHA-256 of the state model's description (``model_key``: its
configuration, seed and whatever it was initialised on) and of the array's bytes.
Two streams holding the same images (the class-incremental and task-incremental
splits of one dataset, or one permuted stream trained by five methods) therefore
share their states, while a different liquid never reads another's. The state
function receives a seed derived from the same key, so a cache miss recomputes
exactly what a hit returns.

This is a minimal cache (one ``.npy`` per array, written atomically); the
chunked NALSM feature store of issue 14 (``tasks.feature_store``) can replace it
behind the same two calls, ``get(key)`` and ``put(key, array)``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from plasticity_rules.validation import check_array

from .continual import Experience, TaskStream

__all__ = ["FeatureCache", "array_key", "transform_stream", "rms_scale"]


def array_key(model_key: dict, X: np.ndarray) -> str:
    """Hex SHA-256 of the model description (JSON, sorted keys) and the array's dtype, shape and bytes."""
    h = hashlib.sha256(json.dumps(model_key, sort_keys=True, default=str).encode())
    X = np.ascontiguousarray(X)
    h.update(f"{X.dtype.str}{X.shape}".encode())
    h.update(X.tobytes())
    return h.hexdigest()


class FeatureCache:
    """Arrays stored as ``<directory>/<key>.npy`` (``directory=None``: kept in memory only).

    Attributes
    ----------
    hits, misses : int
        Look-ups answered from the cache / computed.
    """

    def __init__(self, directory=None):
        self.directory = None if directory in (None, "") else Path(directory).expanduser()
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self._memory: dict[str, np.ndarray] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: str):
        """The stored array of ``key`` or None."""
        if key in self._memory:
            return self._memory[key]
        if self.directory is not None:
            path = self.directory / f"{key}.npy"
            if path.exists():
                arr = np.load(path)
                self._memory[key] = arr
                return arr
        return None

    def put(self, key: str, array: np.ndarray) -> None:
        """Store ``array`` under ``key`` (atomically on disk: a crash leaves no partial file)."""
        array = np.asarray(array)
        self._memory[key] = array
        if self.directory is not None:
            tmp = self.directory / f".{key}.{os.getpid()}.tmp.npy"
            np.save(tmp, array)
            os.replace(tmp, self.directory / f"{key}.npy")

    def lookup(self, model_key: dict, X, compute) -> np.ndarray:
        """States of ``X``: cached, or ``compute(X, seed)`` with a seed derived from the key, then stored."""
        key = array_key(model_key, X)
        out = self.get(key)
        if out is not None:
            self.hits += 1
            return out
        self.misses += 1
        out = check_array("computed states", compute(X, int(key[:8], 16)), ndim=2)
        if out.shape[0] != len(X):
            raise ValueError(f"the state function returned {out.shape[0]} rows for {len(X)} inputs")
        self.put(key, out)
        return out


def rms_scale(X) -> float:
    """:math:`s = \\sqrt{\\langle \\lVert x \\rVert^2 \\rangle}` over the rows of ``X`` (1 if all zero)."""
    X = check_array("states", X, ndim=2)
    s = float(np.sqrt(np.mean(np.einsum("ij,ij->i", X, X))))
    return s if s > 0 else 1.0


def transform_stream(stream: TaskStream, compute, model_key: dict, *, cache: FeatureCache | None = None,
                     scale: bool = True, standardise: bool = False, progress: bool = False) -> TaskStream:
    """The same stream with every array replaced by its states.

    Parameters
    ----------
    stream : TaskStream
    compute : callable ``(X (n, n_inputs), seed: int) -> states (n, n_features)``
    model_key : dict
        JSON-able description of the state model (see the module docstring).
    cache : FeatureCache, optional
        Default: an in-memory cache for this call.
    scale : bool
        Divide all states by :func:`rms_scale` of the first task's training states
        (no peeking at later tasks), so that readout learning rates do not depend on
        the size or firing rate of the liquid.
    standardise : bool
        First subtract the first task's training mean of every feature and divide by
        its standard deviation (features constant on the first task keep scale 1).
        Spike counts are all positive and share a large common mode, which makes
        gradient learning of a linear readout slow; the map is fixed after the first
        task, so it is part of the feature extractor, not of the learner.
    progress : bool
        Print one line per array.

    Returns
    -------
    TaskStream
        Same scenario, classes and names; ``meta`` gains ``feature_scale``,
        ``feature_cache_hits`` and ``feature_cache_misses``.
    """
    if not isinstance(stream, TaskStream):
        raise ValueError(f"stream must be a TaskStream, got {type(stream).__name__}")
    cache = FeatureCache() if cache is None else cache
    h0, m0 = cache.hits, cache.misses
    arrays = []
    for e in stream:
        pair = []
        for nm, X in (("train", e.X_train), ("test", e.X_test)):
            pair.append(cache.lookup(model_key, X, compute))
            if progress:
                print(f"states of task {e.task_id} {nm}: {X.shape[0]} samples "
                      f"({cache.hits - h0} cached, {cache.misses - m0} computed)", flush=True)
        arrays.append(pair)
    mu, sd = np.zeros(arrays[0][0].shape[1]), np.ones(arrays[0][0].shape[1])
    if standardise:
        mu = arrays[0][0].mean(axis=0)
        sd = arrays[0][0].std(axis=0)
        sd[sd == 0] = 1.0
    arrays = [[(X - mu) / sd for X in pair] for pair in arrays]
    s = rms_scale(arrays[0][0]) if scale else 1.0
    exps = tuple(Experience(e.task_id, tr / s, e.y_train, te / s, e.y_test, e.classes, e.name)
                 for e, (tr, te) in zip(stream, arrays, strict=True))
    meta = {**stream.meta, "feature_scale": s, "feature_cache_hits": cache.hits - h0,
            "feature_cache_misses": cache.misses - m0}
    return TaskStream(exps, stream.scenario, stream.n_classes, stream.name, meta)
