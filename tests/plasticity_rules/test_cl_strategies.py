"""Continual-learning strategies: one registry, one interface, the hooks called in the documented order."""

import numpy as np
import pytest

from plasticity_rules import cl_strategies as cs


def test_every_method_is_one_registered_strategy():
    assert set(cs.STRATEGIES) == {"finetune", "hlop", "exact", "ewc", "multitask"}
    for name, cls in cs.STRATEGIES.items():
        assert issubclass(cls, cs.Strategy) and cls.name == name
        assert isinstance(cs.make_strategy(name), cls)
    with pytest.raises(ValueError, match="unknown continual-learning method 'si'; allowed: finetune"):
        cs.make_strategy("si")
    with pytest.raises(ValueError, match="defined twice"):
        type("Again", (cs.Strategy,), {"name": "ewc"})


def test_subspace_budget_is_checked_against_every_layer():
    s = cs.HLOP(subspace_first=30, subspace_per_task=20)
    with pytest.raises(ValueError, match=r"30 \+ 2 x 20 = 70 exceeds the input dimension 64 of layer 2"):
        s.before_training((100, 64, 64, 10), 3, np.random.default_rng(0))
    e = cs.ExactProjection(subspace_first=10, subspace_per_task=5)
    e.before_training((100, 64, 64, 10), 3, np.random.default_rng(0))
    x = np.random.default_rng(1).random((8, 100))
    assert e.project(0, [x], 1)[0] is x  # nothing is protected during the first task
    assert e.summary() == {"subspace_sizes": [10, 5, 5], "hlop_orthonormality_error": None,
                           "subspace_energy_captured": [], "subspace_energy_optimum": []}


def test_training_loop_calls_the_hooks_in_order():
    from spiking.feedforward import FeedforwardConfig, FeedforwardSNN
    from tasks.cl_training import train_stream
    from tasks.continual import permuted_digits

    calls = []

    class Recorder(cs.Strategy):  # no name: not registered
        def before_training(self, layer_sizes, n_tasks, rng):
            calls.append(("before_training", tuple(layer_sizes), n_tasks))

        def before_experience(self, t):
            calls.append(("before_experience", t))

        def project(self, t, traces, n_protected):
            calls.append(("project", t, n_protected))
            return [np.zeros_like(x) for x in traces]  # no update can change the weights

        def after_update(self, t, net, forward_pass, lr):
            calls.append(("after_update", t, lr))

        def after_experience(self, t, experience, net, class_mask, rng):
            calls.append(("after_experience", t, class_mask))

    stream = permuted_digits(2, image_size=8, seed=0)
    rng = np.random.default_rng(0)
    net = FeedforwardSNN(
        stream.n_inputs, stream.n_classes, FeedforwardConfig(n_hidden=(16, 16), n_steps=4), seed=rng
    )
    w0 = [w.copy() for w in net.weights]
    res = train_stream(stream, net, Recorder(), epochs=1, batch_size=512, lr=0.1, eval_every=100, seed=rng)
    assert "Recorder" not in cs.STRATEGIES
    n_batches = int(np.ceil(len(stream[0].y_train) / 512))
    per_task = [("project", 0, 3), ("after_update", 0, 0.1)] * n_batches
    assert calls[0] == ("before_training", (64, 16, 16, 10), 2)
    assert calls[1 : 2 + 2 * n_batches] == [("before_experience", 0), *per_task]
    assert calls[2 + 2 * n_batches] == ("after_experience", 0, None)  # domain scenario: all classes
    assert calls[-1] == ("after_experience", 1, None)
    for a, b in zip(w0, net.weights, strict=True):
        np.testing.assert_array_equal(a, b)  # the projected (zeroed) traces are what the update used
    assert res["subspace_sizes"] is None and res["R"].shape == (2, 2)


@pytest.mark.parametrize("method", ["exact", "hlop"])
def test_subspace_energy_separates_an_unlearned_subspace_from_a_too_small_one(method):
    """States in a 6-dimensional subspace: 6 exact directions hold all of it; Hebbian neurons
    hold it only when they converge (a rate 100x too small leaves most of it outside)."""
    from plasticity_rules.cl_readouts import SoftmaxStateReadout
    from tasks.cl_training import train_stream

    stream = _subspace_stream()
    results = {}
    for lr in (1.0, 0.01):
        kw = {"lr": lr, "lr_input": lr} if method == "hlop" else {}
        strat = cs.make_strategy(method, subspace_first=7, subspace_per_task=2, **kw)
        res = train_stream(stream, SoftmaxStateReadout(30, 2), strat, epochs=5, lr=0.5, seed=0)
        cap, opt = np.array(res["subspace_energy_captured"]), np.array(res["subspace_energy_optimum"])
        assert cap.shape == opt.shape == (2, 1) and np.all(cap <= opt + 1e-9)
        results[lr] = cap[0, 0], opt[0, 0]
    # 7 directions can hold the 6-dim states and the bias unit: the optimum is 1
    assert results[1.0][1] == pytest.approx(1.0)
    assert results[1.0][0] > 0.99
    if method == "hlop":
        assert results[0.01][0] < 0.8  # not converged: the subspace is not learned


def _subspace_stream(seed=0):
    from tasks.continual import Experience, TaskStream

    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((30, 6)))[0]
    exps = []
    for t in range(2):
        X = rng.standard_normal((400, 6)) * np.linspace(2, 1, 6) @ basis.T / 3
        y = (X @ rng.standard_normal(30) > 0).astype(int)
        exps.append(Experience(t, X[:300], y[:300], X[300:], y[300:], (0, 1)))
    return TaskStream(tuple(exps), "domain", 2)


def test_hlop_rate_decays_geometrically_over_training_and_sweeps(monkeypatch):
    from plasticity_rules.cl_readouts import SoftmaxStateReadout
    from plasticity_rules.hlop import HLOPLayer
    from tasks.cl_training import train_stream

    rates = []
    update = HLOPLayer.update

    def record(self, X, lr=None):
        rates.append(lr)
        return update(self, X, lr=lr)

    monkeypatch.setattr(HLOPLayer, "update", record)
    strat = cs.make_strategy("hlop", subspace_first=7, subspace_per_task=2, lr=0.5, lr_input=0.5,
                             decay=0.1, sweeps=3)
    net = SoftmaxStateReadout(30, 2)
    train_stream(_subspace_stream(), net, strat, epochs=2, batch_size=64, lr=0.5, seed=0)
    per_task = 2 * 5 + 3 * 5  # 2 epochs of ceil(300 / 64) = 5 batches, then 3 sweeps of 5 batches
    assert len(rates) == 2 * per_task
    for task in (rates[:per_task], rates[per_task:]):
        expected = 0.5 * 0.1 ** (np.arange(per_task) / (per_task - 1))
        np.testing.assert_allclose(task, expected)  # from lr to lr * decay, sweeps included
    with pytest.raises(ValueError, match="hlop_decay must be in"):
        cs.make_strategy("hlop", decay=1.5)
    with pytest.raises(ValueError, match="hlop_sweeps"):
        cs.make_strategy("hlop", sweeps=-1)


def test_hlop_sweeps_let_a_slow_hebbian_rate_converge():
    """At a rate too small to learn the subspace within the training, further Hebbian passes over
    the task's traces bring the neurons to it; the network's weights are not touched by them."""
    from plasticity_rules.cl_readouts import SoftmaxStateReadout
    from tasks.cl_training import train_stream

    caps, accs = {}, {}
    for sweeps in (0, 40):
        strat = cs.make_strategy("hlop", subspace_first=7, subspace_per_task=2, lr=0.02, lr_input=0.02,
                                 sweeps=sweeps)
        res = train_stream(_subspace_stream(), SoftmaxStateReadout(30, 2), strat, epochs=5, lr=0.5, seed=0)
        caps[sweeps] = res["subspace_energy_captured"][0][0]
        accs[sweeps] = res["R"][0, 0]
    assert caps[0] < 0.9 < 0.99 < caps[40]
    assert accs[0] == accs[40]  # task 0 trains before any sweep: the same readout
