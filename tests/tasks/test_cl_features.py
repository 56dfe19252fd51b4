"""Streams mapped to states: the cache returns what it stored, keys separate models, no peeking."""

import json

import numpy as np
import pytest

from tasks.cl_features import FeatureCache, array_key, rms_scale, transform_stream
from tasks.continual import permuted_digits, split_digits


def _counting(calls):
    def compute(X, seed):
        calls.append(seed)
        return np.tanh(X[:, :10] * 3 + 0.1 * np.random.default_rng(seed).random((len(X), 10)))

    return compute


def test_cache_on_disk_returns_the_computed_states(tmp_path):
    stream = permuted_digits(2, image_size=8, seed=0)
    calls = []
    cache = FeatureCache(tmp_path)
    a = transform_stream(stream, _counting(calls), {"model": 1}, cache=cache, scale=False)
    assert a.meta["feature_cache_misses"] == 4
    assert len(calls) == cache.chunks_computed == 2 * (3 + 1)  # 1437 + 360 images a task, 500 a chunk
    again = []
    b = transform_stream(stream, _counting(again), {"model": 1}, cache=FeatureCache(tmp_path), scale=False)
    assert again == [] and b.meta["feature_cache_hits"] == 4  # a new cache object reads the files
    for ea, eb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ea.X_train, eb.X_train)
        np.testing.assert_array_equal(ea.y_test, eb.y_test)
    # a cache miss recomputes exactly what a hit returns (the seed comes from the key)
    fresh = transform_stream(stream, _counting([]), {"model": 1}, cache=FeatureCache(), scale=False)
    np.testing.assert_array_equal(fresh[1].X_test, a[1].X_test)
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left behind


def test_keys_separate_models_and_share_identical_images():
    X = np.arange(12.0).reshape(3, 4)
    assert array_key({"m": 1}, X) == array_key({"m": 1}, X.copy())
    assert array_key({"m": 1}, X) != array_key({"m": 2}, X)
    assert array_key({"m": 1}, X) != array_key({"m": 1}, X.reshape(4, 3))
    # class- and task-incremental splits of the same digits share every state
    cache = FeatureCache()
    calls = {"class": [], "task": []}
    for scenario in calls:
        transform_stream(split_digits(2, scenario=scenario, image_size=8, seed=0), _counting(calls[scenario]),
                         {"m": 1}, cache=cache)
    assert cache.misses == 4 and calls["class"] and calls["task"] == [] and cache.hits == 4


def raw_map(X, seed):
    return np.tanh(X[:, :10] * 3 + 0.1 * np.random.default_rng(seed).random((len(X), 10)))


def test_scaling_and_standardising_use_the_first_task_only():
    from dataclasses import replace

    from tasks.continual import TaskStream

    stream = permuted_digits(3, image_size=8, seed=1)
    out = transform_stream(stream, raw_map, {"m": 3}, standardise=True)
    raw = transform_stream(stream, raw_map, {"m": 3}, scale=False)
    X0 = out[0].X_train
    np.testing.assert_allclose(X0.mean(axis=0), 0, atol=1e-10)
    assert rms_scale(X0) == pytest.approx(1.0)
    mu, sd = raw[0].X_train.mean(0), raw[0].X_train.std(0)
    expected = (raw[1].X_train - mu) / sd
    np.testing.assert_allclose(out[1].X_train * out.meta["feature_scale"], expected, atol=1e-10)
    # changing a later task's images does not change the earlier tasks' states (no peeking)
    later = replace(stream[2], X_train=stream[2].X_train * 0.5, X_test=stream[2].X_test * 0.5)
    changed = TaskStream((stream[0], stream[1], later), stream.scenario, stream.n_classes)
    out2 = transform_stream(changed, raw_map, {"m": 3}, standardise=True)
    np.testing.assert_array_equal(out2[1].X_test, out[1].X_test)
    assert not np.allclose(out2[2].X_test, out[2].X_test)
    assert out.scenario == stream.scenario and out[2].classes == stream[2].classes


def test_bad_input():
    with pytest.raises(ValueError, match="TaskStream"):
        transform_stream([1, 2], raw_map, {})
    stream = permuted_digits(1, image_size=8, seed=0)
    with pytest.raises(ValueError, match="returned 1 rows"):
        transform_stream(stream, lambda X, s: X[:1], {})


def _counts(calls, fail_at=None):
    """Integer 'spike counts' of each row (so they fit a uint16 store); raises on call ``fail_at``."""

    def compute(X, seed):
        calls.append(seed)
        if fail_at is not None and len(calls) == fail_at:
            raise KeyboardInterrupt  # the run is killed while this chunk computes
        return np.floor(X[:, :6] * 10) + np.random.default_rng(seed).integers(0, 3, (len(X), 6))

    return compute


def test_states_live_in_the_durable_feature_store_and_a_killed_run_resumes(tmp_path):
    from tasks.feature_store import load_features

    X = np.random.default_rng(0).random((23, 8))
    model = {"liquid": "test", "seed": 3}
    reference = FeatureCache(chunk_size=5).lookup(model, X, _counts([]))  # memory only, 5 chunks
    assert reference.shape == (23, 6)
    calls = []
    with pytest.raises(KeyboardInterrupt):
        FeatureCache(tmp_path, chunk_size=5, dtype="uint16").lookup(model, X, _counts(calls, fail_at=4))
    (store_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    manifest = json.loads((store_dir / "manifest.json").read_text())
    assert sorted(manifest["chunks"]) == ["0", "1", "2"] and manifest["key"]["model"] == model
    resumed = []
    cache = FeatureCache(tmp_path, chunk_size=5, dtype="uint16")
    out = cache.lookup(model, X, _counts(resumed))
    assert resumed[:1] == calls[3:] and len(resumed) == cache.chunks_computed == 2  # chunks 3 and 4 only
    assert cache.misses == 1
    np.testing.assert_array_equal(out, reference)  # resumed on disk == computed in one go in memory
    np.testing.assert_array_equal(load_features(store_dir).features, reference)  # any reader of the store
    again = FeatureCache(tmp_path, chunk_size=5, dtype="uint16")
    np.testing.assert_array_equal(again.lookup(model, X, _counts(none := [])), reference)
    assert none == [] and again.hits == 1
    # another chunk size draws other chunk seeds: another store, never a mix
    FeatureCache(tmp_path, chunk_size=7, dtype="uint16").lookup(model, X, _counts([]))
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 2


def test_a_uint16_store_refuses_states_that_are_not_counts(tmp_path):
    X = np.random.default_rng(0).random((4, 12))
    with pytest.raises(ValueError, match="integers"):
        FeatureCache(tmp_path, dtype="uint16").lookup({"m": 1}, X, raw_map)
    with pytest.raises(ValueError, match="chunk_size"):
        FeatureCache(tmp_path, chunk_size=0)
