"""Task streams in another feature space, with every state computed once and stored durably.

A liquid or reservoir turns every image of a stream into a state vector; the
continual-learning readouts learn on those states. :func:`transform_stream` maps
every train and test array of a :class:`~tasks.continual.TaskStream` through a
state function, looking each array up first in a :class:`FeatureCache`.

Storage: each array's states are one :class:`tasks.feature_store.FeatureStore`
(the chunked, crash-safe store of the NALSM scale runs) in
``<directory>/<key>/``: fixed-size row chunks, each written atomically and
listed with its checksum in a manifest, so a run killed while a liquid computes
the states of 5000 images resumes at the first missing chunk and never mixes
states of two models (the store refuses a manifest of another key).

Keys: the SHA-256 of the state model's description (``model_key``: its
configuration, seed and whatever it was initialised on) and of the array's bytes.
Two streams holding the same images (the class-incremental and task-incremental
splits of one dataset, or one permuted stream trained by five methods) therefore
share their states, while a different liquid never reads another's. Chunk ``i``
of an array is computed as ``compute(X[rows of i], seed_i)`` with ``seed_i``
derived from the key (which includes the chunk size) and ``i``, so a cache miss
(in memory or on disk, whole or resumed) recomputes exactly what a hit returns.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from plasticity_rules.validation import check_array, check_int

from .continual import Experience, TaskStream
from .feature_store import FeatureStore, array_digest, stored_manifest

__all__ = ["FeatureCache", "array_key", "chunk_seed", "transform_stream", "rms_scale"]


def _canonical(model_key: dict) -> dict:
    return json.loads(json.dumps(model_key, sort_keys=True, default=str))


def array_key(model_key: dict, X: np.ndarray) -> str:
    """Hex SHA-256 of the model description (JSON, sorted keys) and the array's dtype, shape and bytes."""
    h = hashlib.sha256(json.dumps(model_key, sort_keys=True, default=str).encode())
    X = np.ascontiguousarray(X)
    h.update(f"{X.dtype.str}{X.shape}".encode())
    h.update(X.tobytes())
    return h.hexdigest()


def chunk_seed(key: str, index: int) -> int:
    """Seed of chunk ``index`` of the array with :func:`array_key` ``key`` (31 bits)."""
    return int(hashlib.sha256(f"{key}:{index}".encode()).hexdigest()[:8], 16) & 0x7FFFFFFF


class FeatureCache:
    """States of arrays, each a chunked :class:`~tasks.feature_store.FeatureStore` in ``directory``.

    Parameters
    ----------
    directory : path-like or None
        ``None`` (or ``''``): kept in memory only, computed chunk by chunk all the same.
    chunk_size : int
        Rows per chunk: the unit of work that a killed run loses at most.
    dtype : str
        Storage dtype of the stores (``'uint16'`` for spike counts; the store refuses
        values that do not fit). States are returned as float64.

    Attributes
    ----------
    hits, misses : int
        Look-ups answered from the cache / that computed at least one chunk.
    chunks_computed : int
        Chunks computed by this object (a resumed array computes only its missing chunks).
    """

    def __init__(self, directory=None, *, chunk_size: int = 500, dtype: str = "float64"):
        self.directory = None if directory in (None, "") else Path(directory).expanduser()
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self.chunk_size = check_int("chunk_size", chunk_size, minimum=1)
        self.dtype = np.dtype(dtype).str
        self._memory: dict[str, np.ndarray] = {}
        self.hits = 0
        self.misses = 0
        self.chunks_computed = 0

    def _compute_chunk(self, compute, X, key, index):
        a, b = index * self.chunk_size, min((index + 1) * self.chunk_size, len(X))
        out = check_array("computed states", compute(X[a:b], chunk_seed(key, index)), ndim=2)
        if out.shape[0] != b - a:
            raise ValueError(f"the state function returned {out.shape[0]} rows for {b - a} inputs")
        self.chunks_computed += 1
        return out

    def lookup(self, model_key: dict, X, compute) -> np.ndarray:
        """States of ``X``: from memory or the store, else computed chunk by chunk and stored."""
        X = np.ascontiguousarray(X)
        # the chunk size fixes the chunks' seeds, so it is part of the key
        key = array_key({"model": model_key, "chunk_size": self.chunk_size}, X)
        if key in self._memory:
            self.hits += 1
            return self._memory[key]
        n_chunks = -(-len(X) // self.chunk_size)
        if self.directory is None:
            self.misses += 1
            out = np.concatenate([self._compute_chunk(compute, X, key, i) for i in range(n_chunks)])
            self._memory[key] = out
            return out
        d = self.directory / key
        store_key = {"model": _canonical(model_key), "inputs": array_digest(X), "seeds": "chunk_seed(key, i)"}
        first, manifest = None, stored_manifest(d)
        if manifest is None or manifest.get("key") is None:  # a new store: the first chunk's width
            first = self._compute_chunk(compute, X, key, 0)
            n_features = first.shape[1]
        else:
            n_features = manifest["n_features"]
        store = FeatureStore(d, key=store_key, n_samples=len(X), n_features=n_features,
                             chunk_size=self.chunk_size, dtype=self.dtype)
        missing = store.missing()
        if missing:
            self.misses += 1
            for i in missing:
                store.write_chunk(i, first if (i == 0 and first is not None)
                                  else self._compute_chunk(compute, X, key, i))
        else:
            self.hits += 1
        out = store.read()
        self._memory[key] = out
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
