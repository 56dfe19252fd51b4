"""Streams mapped to states: the cache returns what it stored, keys separate models, no peeking."""

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
    a = transform_stream(stream, _counting(calls), {"model": 1}, cache=FeatureCache(tmp_path), scale=False)
    assert len(calls) == 4 and a.meta["feature_cache_misses"] == 4
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
    assert len(calls["class"]) == 4 and calls["task"] == [] and cache.hits == 4


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
