"""Branching factor, kernel quality and classification metrics."""

import numpy as np
import pytest

from tasks.liquid_metrics import (
    accuracy,
    branching_factor,
    branching_factor_chance,
    branching_factor_reference,
    confusion_matrix,
    kernel_quality,
    matrix_rank,
    matrix_rank_reference,
)


def _random_spikes(rng, n_samples, n_neurons, n_steps, rate):
    s, t, i = np.nonzero(rng.random((n_samples, n_steps, n_neurons)) < rate)
    return s, t, i


@pytest.mark.parametrize("seed", [0, 1])
def test_branching_factor_kernel_matches_reference(seed):
    rng = np.random.default_rng(seed)
    n, steps = 12, 90
    pre, post = np.nonzero((rng.random((n, n)) < 0.3) & ~np.eye(n, dtype=bool))
    s, t, i = _random_spikes(rng, 3, n, steps, 0.08)
    a, ps_a, pn_a = branching_factor(s, t, i, 3, n, steps, pre, post, return_details=True)
    b, ps_b, pn_b = branching_factor_reference(s, t, i, 3, n, steps, pre, post, return_details=True)
    assert a == pytest.approx(b, rel=1e-12)
    np.testing.assert_allclose(ps_a, ps_b)
    np.testing.assert_allclose(pn_a, pn_b, equal_nan=True)


def test_branching_factor_hand_example():
    # 0 -> 1; neuron 0 fires at 40, neuron 1 at 42 (inside [29, 221) of a 250-step sample)
    pre, post = np.array([0]), np.array([1])
    bf, per_sample, per_neuron = branching_factor([0, 0], [40, 42], [0, 1], 1, 2, 250, pre, post,
                                                  return_details=True)
    assert per_neuron[0, 0] == 1.0  # one descendant / max(0 ancestors, 1)
    assert per_neuron[0, 1] == 0.0  # no targets
    assert bf == 0.5
    # spikes in the 25-step buffers are discarded, neurons without spikes are NaN and skipped
    bf2, _, pn2 = branching_factor([0, 0], [40, 240], [0, 1], 1, 2, 250, pre, post, return_details=True)
    assert pn2[0, 0] == 0.0 and np.isnan(pn2[0, 1]) and bf2 == 0.0
    assert np.isnan(branching_factor([], [], [], 1, 2, 250, pre, post))


def test_branching_factor_grows_with_propagation():
    # a chain where every spike is followed by a spike of the target: branching 1; two targets: 2
    n = 30
    pre = np.arange(n - 1)
    post = np.arange(1, n)
    steps = 30 + np.arange(n)
    bf1 = branching_factor(np.zeros(n, int), steps, np.arange(n), 1, n, 250, pre, post)
    pre2 = np.concatenate([pre, pre[:-1]])
    post2 = np.concatenate([post, post[1:]])
    bf2 = branching_factor(np.zeros(n, int), steps, np.arange(n), 1, n, 250, pre2, post2)
    assert bf2 > bf1


def test_branching_factor_chance_level():
    # independent spike trains: shifting them changes nothing systematic
    rng = np.random.default_rng(7)
    n, steps = 60, 250
    pre, post = np.nonzero(rng.random((n, n)) < 0.2)
    s, t, i = _random_spikes(rng, 4, n, steps, 0.05)
    real = branching_factor(s, t, i, 4, n, steps, pre, post)
    chance = branching_factor_chance(s, t, i, 4, n, steps, pre, post, seed=0)
    assert chance == pytest.approx(real, rel=0.1)
    # a synfire chain: every spike is followed by its targets' spikes, which shifting destroys
    layers = [np.arange(k * 10, (k + 1) * 10) for k in range(6)]
    pre = np.concatenate([np.repeat(a, 10) for a in layers[:-1]])
    post = np.concatenate([np.tile(b, 10) for b in layers[1:]])
    t = np.concatenate([np.full(10, 60 + 2 * k) for k in range(6)])
    i = np.concatenate(layers)
    s = np.zeros(i.size, int)
    real = branching_factor(s, t, i, 1, 60, steps, pre, post)
    chance = branching_factor_chance(s, t, i, 1, 60, steps, pre, post, seed=0)
    assert real == pytest.approx((10 + 4 * 1 + 0) / 6)  # first layer: no ancestors (clipped to 1); last: none
    assert chance < real / 3
    with pytest.raises(ValueError, match="n_shuffles"):
        branching_factor_chance(s, t, i, 1, 60, steps, pre, post, n_shuffles=0)


def test_branching_factor_bad_input():
    with pytest.raises(ValueError, match="neurons"):
        branching_factor([0], [40], [5], 1, 2, 250, [0], [1])
    with pytest.raises(ValueError, match="same length"):
        branching_factor([0, 0], [40], [1], 1, 2, 250, [0], [1])
    with pytest.raises(ValueError, match="n_steps"):
        branching_factor([0], [40], [1], 1, 2, 0, [0], [1])


def test_matrix_rank_matches_numpy():
    rng = np.random.default_rng(3)
    for shape, r in (((20, 10), 10), ((10, 30), 10), ((15, 15), 4)):
        M = rng.standard_normal((shape[0], r)) @ rng.standard_normal((r, shape[1]))
        assert matrix_rank(M) == matrix_rank_reference(M) == min(r, *shape)
    assert matrix_rank(np.zeros((5, 5))) == matrix_rank_reference(np.zeros((5, 5))) == 0


def test_kernel_quality():
    rng = np.random.default_rng(4)
    labels = np.repeat(np.arange(3), 10)
    full = rng.random((30, 50))
    low = np.repeat(rng.random((3, 50)), 10, axis=0)  # identical states within a class: rank 3
    assert kernel_quality(full, labels, n_per_class=5, n_draws=3, seed=0) == 15.0
    assert kernel_quality(low, labels, n_per_class=5, n_draws=3, seed=0) == 3.0
    with pytest.raises(ValueError, match="labels"):
        kernel_quality(full, labels[:5])


def test_accuracy_and_confusion():
    y = np.array([0, 1, 2, 2])
    p = np.array([0, 2, 2, 2])
    assert accuracy(y, p) == 0.75
    C = confusion_matrix(y, p, 3)
    assert C.tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 2]]
    with pytest.raises(ValueError, match="y_pred"):
        confusion_matrix(y, np.array([0, 1, 2, 3]), 3)


def test_matrix_rank_of_non_finite_states_is_a_clear_error():
    M = np.ones((4, 3))
    M[1, 2] = np.nan
    for f in (matrix_rank, matrix_rank_reference):
        with pytest.raises(ValueError, match="matrix contains 1 NaN or infinite value"):
            f(M)
    with pytest.raises(ValueError, match="states contains 1 NaN or infinite value"):
        kernel_quality(M, np.array([0, 0, 1, 1]), n_per_class=2, n_draws=1, seed=0)
