"""State readouts for continual learning: their rules against the reference kernels and by hand."""

import numpy as np
import pytest

from plasticity_rules import cl_strategies as cs
from plasticity_rules.cl_readouts import (
    SoftmaxStateReadout,
    ThreeFactorStateReadout,
    make_state_readout,
)
from plasticity_rules.three_factor import three_factor_train_reference


def test_three_factor_readout_is_the_three_factor_rule_one_sample_at_a_time():
    rng = np.random.default_rng(0)
    n, d, k, eta = 12, 7, 4, 0.3
    X = rng.random((n, d))
    y = rng.integers(0, k, n)
    mask = np.array([True, True, False, True])
    net = ThreeFactorStateReadout(d, k)
    for i in range(n):  # batches of one sample, no projection
        fp = net.forward(X[i : i + 1])
        deltas, _ = net.backward(fp, y[i : i + 1], mask)
        net.apply_update(deltas, fp.traces, eta)
    Y = np.eye(k)[y]
    G = np.tile(mask.astype(float), (n, 1))
    W, b, *_ = three_factor_train_reference(
        np.zeros((k, d)), np.zeros(k), X, Y, G, np.full(k, eta), 0.0, np.ones(k, bool), np.zeros(n, bool),
        np.zeros(d), np.zeros((k, d)), np.zeros(k), True, normalise=True, eps=1e-3,
    )
    np.testing.assert_allclose(net.weights[0][:, :-1], W, atol=1e-12)
    np.testing.assert_allclose(net.weights[0][:, -1], b, atol=1e-12)
    assert np.all(net.weights[0][2] == 0)  # the gate closed the masked output's plasticity


def test_softmax_readout_gradient_is_the_cross_entropy_gradient():
    rng = np.random.default_rng(1)
    X = rng.random((5, 6))
    y = rng.integers(0, 3, 5)
    net = SoftmaxStateReadout(6, 3)
    net.weights[0] = rng.normal(size=(3, 7))
    fp = net.forward(X)
    deltas, loss = net.backward(fp, y)
    grad = deltas[0].T @ fp.traces[0] / 5

    def ce(W):
        z = np.hstack([X, np.ones((5, 1))]) @ W.T
        z -= z.max(axis=1, keepdims=True)
        return -np.mean(z[np.arange(5), y] - np.log(np.exp(z).sum(axis=1)))

    assert loss == pytest.approx(ce(net.weights[0]))
    num = np.zeros_like(grad)
    for idx in np.ndindex(*grad.shape):
        Wp, Wm = net.weights[0].copy(), net.weights[0].copy()
        Wp[idx] += 1e-6
        Wm[idx] -= 1e-6
        num[idx] = (ce(Wp) - ce(Wm)) / 2e-6
    np.testing.assert_allclose(grad, num, atol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "three-factor"])
def test_exact_projection_keeps_the_outputs_of_a_protected_task(name):
    # task 0 states span 4 directions (+ the constant unit); projecting them out of task 1's
    # updates leaves every task-0 output unchanged, while fine-tuning changes them
    rng = np.random.default_rng(2)
    basis = rng.normal(size=(4, 30))
    X0 = rng.random((200, 4)) @ basis
    X1 = rng.normal(size=(200, 30))
    y0, y1 = rng.integers(0, 5, 200), rng.integers(0, 5, 200)
    outs = {}
    for method in ("finetune", "exact"):
        net = make_state_readout(name, 30, 5)
        strat = cs.make_strategy(method, **({"subspace_first": 5, "subspace_per_task": 5} if method == "exact"
                                            else {}))
        strat.before_training(net.layer_sizes, 2, rng)
        for t, (X, y) in enumerate(((X0, y0), (X1, y1))):
            strat.before_experience(t)
            for _ in range(20):
                fp = net.forward(X)
                deltas, _ = net.backward(fp, y)
                net.apply_update(deltas, strat.project(t, fp.traces, 3), 0.05)
                strat.after_update(t, net, fp, 0.05)
            if t == 0:
                before = net.forward(X0).logits
            strat.after_experience(t, type("E", (), {"X_train": X0, "y_train": y0})(), net, None, rng)
        outs[method] = np.abs(net.forward(X0).logits - before).max()
    assert outs["exact"] < 1e-8 < 0.01 < outs["finetune"]


def test_ewc_fisher_draws_and_bad_input():
    net = ThreeFactorStateReadout(3, 2)
    fp = net.forward(np.ones((4, 3)))
    d, _ = net.backward(fp, [0, 1, 0, 1], np.array([True, False]), labels_from_model=np.random.default_rng(0))
    assert d[0].shape == (4, 2) and np.all(d[0][:, 1] == 0) and np.all(d[0][:, 0] != 0)
    with pytest.raises(ValueError, match="3 columns"):
        net.forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="unknown state readout 'ridge'; allowed: softmax, three-factor"):
        make_state_readout("ridge", 3, 2)
    with pytest.raises(ValueError, match="n_outputs"):
        SoftmaxStateReadout(3, 1)
