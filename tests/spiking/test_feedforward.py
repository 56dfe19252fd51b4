"""Feedforward LIF network: kernels vs references, DSR gradients, projected updates, bad input."""

import numpy as np
import pytest

from plasticity_rules.projection import ExactSubspaceProjector
from spiking.feedforward import (
    FeedforwardConfig,
    FeedforwardSNN,
    lif_weighted_rate,
    lif_weighted_rate_reference,
    lif_weighted_rate_seq,
    lif_weighted_rate_seq_reference,
)


def test_lif_kernels_match_references():
    rng = np.random.default_rng(0)
    I = rng.uniform(-0.2, 0.8, (6, 9))
    I[0, :3] = [0.0, 0.3, 10.0]  # silent, threshold, saturating
    r1, s1 = lif_weighted_rate(I, 7, 0.9, 0.3)
    r2, s2 = lif_weighted_rate_reference(I, 7, 0.9, 0.3)
    np.testing.assert_allclose(r1, r2, atol=1e-12)
    np.testing.assert_array_equal(s1, s2)
    Iseq = rng.uniform(-0.2, 0.8, (5, 4, 3))
    r3, s3 = lif_weighted_rate_seq(Iseq, 0.95, 0.3)
    r4, s4 = lif_weighted_rate_seq_reference(Iseq, 0.95, 0.3)
    np.testing.assert_allclose(r3, r4, atol=1e-12)
    np.testing.assert_array_equal(s3, s4)
    assert r1[0, 0] == 0.0 and r1[0, 2] == 1.0  # no input: silent; strong input: a spike every step


def test_weighted_rate_tracks_dsr_approximation():
    """The weighted firing rate is close to clip(I / v_th, 0, 1), the map whose derivative DSR uses."""
    I = np.linspace(-0.1, 0.5, 200)[None, :]
    r, _ = lif_weighted_rate(I, 200, 0.95, 0.3)
    approx = np.clip(I / 0.3, 0, 1)
    assert np.mean(np.abs(r - approx)) < 0.05


def test_training_reduces_loss_and_gradient_is_outer_product():
    rng = np.random.default_rng(1)
    net = FeedforwardSNN(20, 3, FeedforwardConfig(n_hidden=(16, 16), n_steps=8), seed=0)
    centers = rng.random((3, 20))
    y = rng.integers(0, 3, 90)
    X = np.clip(centers[y] + 0.05 * rng.standard_normal((90, 20)), 0, 1)
    fp = net.forward(X)
    deltas, loss0 = net.backward(fp, y)
    grads = net.weight_gradients(deltas, fp.traces)
    np.testing.assert_allclose(grads[1], deltas[1].T @ fp.traces[1] / 90)
    for _ in range(100):
        fp = net.forward(X)
        deltas, loss = net.backward(fp, y)
        net.apply_update(deltas, fp.traces, 0.1)
    assert loss < 0.5 * loss0
    assert net.accuracy(X, y) > 0.9


def test_projected_update_leaves_old_subspace_responses_unchanged():
    rng = np.random.default_rng(2)
    net = FeedforwardSNN(30, 4, FeedforwardConfig(n_hidden=(20, 20), n_steps=5), seed=0)
    old = rng.random((5, 30))  # "old task" inputs span a 5-d subspace of the input layer
    proj = ExactSubspaceProjector(30).add_task(old, n_components=5)
    W1 = net.weights[0].copy()
    X = rng.random((16, 30))
    fp = net.forward(X)
    deltas, _ = net.backward(fp, rng.integers(0, 4, 16))
    net.apply_update(deltas, [proj.project(fp.traces[0])] + fp.traces[1:], 0.5)
    assert not np.allclose(net.weights[0], W1)
    np.testing.assert_allclose(old @ net.weights[0].T, old @ W1.T, atol=1e-10)


def test_class_mask_restricts_predictions_and_errors():
    net = FeedforwardSNN(10, 4, FeedforwardConfig(n_hidden=(8, 8), n_steps=4), seed=0)
    X = np.random.default_rng(3).random((6, 10))
    mask = np.array([False, True, True, False])
    assert set(net.predict(X, mask)) <= {1, 2}
    fp = net.forward(X)
    deltas, _ = net.backward(fp, np.ones(6, int), mask)
    np.testing.assert_array_equal(deltas[2][:, [0, 3]], 0.0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_bad_input():
    with pytest.raises(ValueError, match="n_hidden"):
        FeedforwardConfig(n_hidden=(10,))
    with pytest.raises(ValueError, match="decay"):
        FeedforwardConfig(decay=1.5)
    with pytest.raises(ValueError, match="v_th"):
        FeedforwardConfig(v_th=0)
    net = FeedforwardSNN(5, 2, FeedforwardConfig(n_hidden=(4, 4)), seed=0)
    with pytest.raises(ValueError, match="5 columns"):
        net.forward(np.ones((2, 6)))
    with pytest.raises(ValueError, match="NaN"):
        net.forward(np.full((2, 5), np.nan))
    fp = net.forward(np.ones((2, 5)))
    d, _ = net.backward(fp, [0, 1])
    with pytest.raises(FloatingPointError, match="diverged"):
        net.apply_update(d, [np.full_like(x, 1e308) for x in fp.traces], 1e10)
