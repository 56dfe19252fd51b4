"""Readouts: kernels against NumPy references, interface contract, behaviour, bad input."""

import numpy as np
import pytest

from plasticity_rules.force import ForceReadout, force_rls_train, force_rls_train_reference
from plasticity_rules.gates import attention_gate
from plasticity_rules.readouts import RidgeReadout
from plasticity_rules.three_factor import (
    ThreeFactorReadout,
    center_rates,
    center_rates_reference,
    three_factor_train,
    three_factor_train_reference,
)


def _linear_data(rng, n=400, d=12, k=3, noise=0.0):
    X = rng.random((n, d))
    W = rng.normal(size=(k, d))
    b = rng.normal(size=k)
    return X, X @ W.T + b + noise * rng.normal(size=(n, k)), W, b


# ----------------------------------------------------------------------------- three-factor kernel
@pytest.mark.parametrize("decay", [0.0, 0.6, 0.95])
@pytest.mark.parametrize("learn_bias", [True, False])
def test_three_factor_kernel_matches_reference(decay, learn_bias):
    rng = np.random.default_rng(1)
    n, d, k = 300, 15, 4
    X, Y = rng.random((n, d)), rng.normal(size=(n, k))
    args = (
        rng.normal(size=(k, d)),
        rng.normal(size=k),
        X,
        Y,
        rng.random((n, k)),
        rng.uniform(0.001, 0.05, k),
        decay,
        np.array([True, False, True, False]),
        rng.random(n) < 0.05,
        rng.random(d),
        rng.normal(size=(k, d)),
        rng.normal(size=k),
        learn_bias,
    )
    got = three_factor_train(*args)
    ref = three_factor_train_reference(*args)
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)
    # the normalised rule: kernel and reference agree, and differ from the plain rule
    got_n = three_factor_train(*args, True, 0.01)
    ref_n = three_factor_train_reference(*args, True, 0.01)
    for g, r in zip(got_n, ref_n, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)
    assert not np.allclose(got_n[0], got[0])
    # surprise gate and separate depression rate: kernel and reference agree, and each changes the result
    for extra in ((0.5, 1.0), (0.0, 0.3), (0.7, 2.0)):
        got_s = three_factor_train(*args, True, 0.01, *extra)
        ref_s = three_factor_train_reference(*args, True, 0.01, *extra)
        for g, r in zip(got_s, ref_s, strict=True):
            np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)
        assert not np.allclose(got_s[0], got_n[0])


def test_surprise_gate_and_depression_single_step():
    """One online step from zero weights: the update is eta * s(e) * rho^[e<0] * e * x."""
    x = np.array([[1.0, 2.0]])

    def step(target, surprise, depression):
        W, *_ = three_factor_train(
            np.zeros((1, 2)),
            np.zeros(1),
            x,
            np.array([[target]]),
            np.ones((1, 1)),
            np.array([0.1]),
            0.0,
            np.array([True]),
            np.zeros(1, dtype=np.bool_),
            np.zeros(2),
            np.zeros((1, 2)),
            np.zeros(1),
            False,
            False,
            1e-3,
            surprise,
            depression,
        )
        return W[0]

    np.testing.assert_allclose(step(0.5, 0.0, 1.0), 0.1 * 0.5 * x[0])  # plain delta rule
    np.testing.assert_allclose(step(0.5, 2.0, 1.0), 0.1 * 0.25 * 0.5 * x[0])  # s = |e|/theta = 0.25
    np.testing.assert_allclose(step(3.0, 2.0, 1.0), 0.1 * 3.0 * x[0])  # saturated gate: s = 1
    np.testing.assert_allclose(step(-0.5, 0.0, 0.2), 0.2 * 0.1 * -0.5 * x[0])  # depression at rho*eta
    np.testing.assert_allclose(step(0.5, 0.0, 0.2), 0.1 * 0.5 * x[0])  # potentiation unchanged


def test_normalised_rule_single_step_and_scale_invariance():
    x = np.array([[1.0, 2.0]])
    args = (
        np.zeros((1, 2)),
        np.zeros(1),
        x,
        np.array([[3.0]]),
        np.array([[0.5]]),
        np.array([0.1]),
        0.0,
        np.ones(1, bool),
        np.zeros(1, bool),
        np.zeros(2),
        np.zeros((1, 2)),
        np.zeros(1),
    )
    W, b, *_ = three_factor_train(*args, True, True, 0.5)
    # dw = eta g e x / (eps + 1 + |x|^2) = 0.15 x / 6.5
    np.testing.assert_allclose(W, [[0.15 / 6.5, 0.3 / 6.5]])
    np.testing.assert_allclose(b, [0.15 / 6.5])
    # eta = g = 1, no bias, eps -> 0: one step solves the sample exactly (NLMS projection)
    W, _, *_ = three_factor_train(*args[:4], np.ones((1, 1)), np.ones(1), *args[6:], False, True, 1e-12)
    np.testing.assert_allclose(W @ x[0], 3.0, rtol=1e-9)
    # learning with states scaled x100 gives the same outputs when the weights scale back
    rng = np.random.default_rng(3)
    X, Y, _, _ = _linear_data(rng, n=500, d=8, k=1)
    a = ThreeFactorReadout(eta=0.5, normalise=True, fit_intercept=False, eps=1e-9).fit(X, Y)
    c = ThreeFactorReadout(eta=0.5, normalise=True, fit_intercept=False, eps=1e-9).fit(100 * X, Y)
    np.testing.assert_allclose(a.train_predictions_, c.train_predictions_, rtol=1e-6, atol=1e-9)
    # the plain rule with the same eta diverges at x100 (LMS stability needs eta |x|^2 < 2)
    with np.errstate(all="ignore"):
        d = ThreeFactorReadout(eta=0.5, fit_intercept=False).fit(100 * X, Y)
    assert not np.all(np.abs(d.train_predictions_[-50:] - Y[-50:]) < 1.0)


def test_three_factor_kernel_edge_cases():
    rng = np.random.default_rng(2)
    W0, b0 = rng.normal(size=(2, 5)), np.zeros(2)
    X, Y = rng.random((50, 5)), rng.normal(size=(50, 2))
    z = (np.zeros(5), np.zeros((2, 5)), np.zeros(2), True)
    # closed gate: no learning at all, outputs are W0 x
    W, b, Yhat, *_ = three_factor_train(
        W0, b0, X, Y, np.zeros((50, 2)), np.ones(2), 0.0, np.ones(2, bool), np.zeros(50, bool), *z
    )
    np.testing.assert_array_equal(W, W0)
    np.testing.assert_allclose(Yhat, X @ W0.T)
    # offline outputs without a segment end: weights unchanged, update pending
    W, b, Yhat, tr, aw, ab = three_factor_train(
        W0, b0, X, Y, np.ones((50, 2)), np.full(2, 0.01), 0.0, np.zeros(2, bool), np.zeros(50, bool), *z
    )
    np.testing.assert_array_equal(W, W0)
    np.testing.assert_allclose(Yhat, X @ W0.T)  # frozen during the segment
    assert np.abs(aw).sum() > 0
    # the pending update equals the sum of per-step gradients with frozen weights
    np.testing.assert_allclose(aw, 0.01 * (Y - X @ W0.T).T @ X)
    # zero steps
    out = three_factor_train(
        W0, b0, X[:0], Y[:0], np.ones((0, 2)), np.ones(2), 0.0, np.ones(2, bool), np.zeros(0, bool), *z
    )
    np.testing.assert_array_equal(out[0], W0)
    assert out[2].shape == (0, 2)


def test_three_factor_online_single_step_is_delta_rule():
    x = np.array([[1.0, 2.0]])
    W, b, Yhat, *_ = three_factor_train(
        np.zeros((1, 2)),
        np.zeros(1),
        x,
        np.array([[3.0]]),
        np.array([[0.5]]),
        np.array([0.1]),
        0.0,
        np.ones(1, bool),
        np.zeros(1, bool),
        np.zeros(2),
        np.zeros((1, 2)),
        np.zeros(1),
        True,
    )
    # dw = eta * g * e * x = 0.1 * 0.5 * 3 * x
    np.testing.assert_allclose(W, [[0.15, 0.3]])
    np.testing.assert_allclose(b, [0.15])


def test_eligibility_trace_filters_presynaptic_activity():
    # with decay 0.5 the trace after inputs 1, 0 is 0.5*(1-0.5)=0.25 at step 2
    X = np.array([[1.0], [0.0]])
    _, _, _, tr, _, _ = three_factor_train(
        np.zeros((1, 1)),
        np.zeros(1),
        X,
        np.zeros((2, 1)),
        np.zeros((2, 1)),
        np.ones(1),
        0.5,
        np.ones(1, bool),
        np.zeros(2, bool),
        np.zeros(1),
        np.zeros((1, 1)),
        np.zeros(1),
        False,
    )
    np.testing.assert_allclose(tr, [0.25])


# ----------------------------------------------------------------------------- FORCE kernel
@pytest.mark.parametrize("every,step0", [(1, 0), (3, 1), (4, 7)])
def test_force_kernel_matches_reference(every, step0):
    rng = np.random.default_rng(3)
    n, d, k = 250, 10, 3
    X, Y = rng.normal(size=(n, d)), rng.normal(size=(n, k))
    P0 = np.eye(d) * 2.0
    reset = rng.random(n) < 0.02
    learn = rng.random(n) < 0.8
    W0 = rng.normal(size=(k, d))
    got = force_rls_train(W0, P0, X, Y, 0.5, every, step0, reset, learn)
    ref = force_rls_train_reference(W0, P0, X, Y, 0.5, every, step0, reset, learn)
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-11)


def test_force_equals_recursive_ridge():
    """RLS from P(0)=I/alpha, W(0)=0 gives exactly ridge regression with penalty alpha."""
    rng = np.random.default_rng(4)
    X, Y, _, _ = _linear_data(rng, n=200, d=8, k=2, noise=0.3)
    alpha = 0.7
    f = ForceReadout(alpha=alpha, fit_intercept=False).fit(X, Y)
    w_ridge = np.linalg.solve(X.T @ X + alpha * np.eye(8), X.T @ Y).T
    np.testing.assert_allclose(f.coef_, w_ridge, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(f.P_, np.linalg.inv(X.T @ X + alpha * np.eye(8)), rtol=1e-7, atol=1e-10)


def test_force_update_every_and_reset():
    rng = np.random.default_rng(5)
    X, Y, _, _ = _linear_data(rng, n=100, d=6, k=1)
    f = ForceReadout(alpha=1.0, update_every=4).fit(X, Y)
    # only 25 updates: P equals the RLS inverse over the updated rows
    Xa = np.hstack([X, np.ones((100, 1))])[::4]
    np.testing.assert_allclose(f.P_, np.linalg.inv(Xa.T @ Xa + np.eye(7)), rtol=1e-7, atol=1e-10)
    g = ForceReadout(alpha=1.0).fit(X, Y)
    assert np.trace(g.P_) < 7
    g.reset_P()
    np.testing.assert_allclose(g.P_, np.eye(7))
    assert g.n_resets_ == 1
    h = ForceReadout(alpha=2.0).fit(X, Y, reset_at=[99])
    assert h.n_resets_ == 1
    # reset before the last step, then one update: P = inv(I*2 + x x^T)
    xa = np.append(X[99], 1.0)
    np.testing.assert_allclose(h.P_, np.linalg.inv(2 * np.eye(7) + np.outer(xa, xa)), rtol=1e-9)


def test_force_learn_mask_skips_updates():
    rng = np.random.default_rng(13)
    X, Y, _, _ = _linear_data(rng, n=60, d=4, k=1)
    learn = np.zeros(60, bool)
    learn[:30] = True
    a = ForceReadout().fit(X, Y, learn=learn)
    b = ForceReadout().fit(X[:30], Y[:30])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)
    with pytest.raises(ValueError, match="learn must be a boolean mask"):
        ForceReadout().fit(X, Y, learn=np.ones(59, bool))


def test_force_partial_fit_keeps_cadence():
    rng = np.random.default_rng(6)
    X, Y, _, _ = _linear_data(rng, n=90, d=5, k=2)
    a = ForceReadout(update_every=3).fit(X, Y)
    b = ForceReadout(update_every=3).partial_fit(X[:40], Y[:40]).partial_fit(X[40:], Y[40:])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)
    np.testing.assert_allclose(a.P_, b.P_, rtol=1e-12)


# ----------------------------------------------------------------------------- behaviour
def test_ridge_recovers_linear_map_and_partial_fit_equals_fit():
    rng = np.random.default_rng(7)
    X, Y, W, b = _linear_data(rng)
    r = RidgeReadout(alpha=1e-8).fit(X, Y)
    np.testing.assert_allclose(r.coef_, W, atol=1e-5)
    np.testing.assert_allclose(r.intercept_, b, atol=1e-5)
    r2 = RidgeReadout(alpha=0.3).partial_fit(X[:150], Y[:150]).partial_fit(X[150:], Y[150:])
    r3 = RidgeReadout(alpha=0.3).fit(X, Y)
    np.testing.assert_allclose(r2.coef_, r3.coef_, rtol=1e-10)
    np.testing.assert_allclose(r3.predict(X), X @ r3.coef_.T + r3.intercept_)


def test_three_factor_online_learns_linear_map():
    rng = np.random.default_rng(8)
    X, Y, W, b = _linear_data(rng, n=300, d=8, k=2)
    m = ThreeFactorReadout(eta=0.05, dt=1e-3).fit(np.tile(X, (60, 1)), np.tile(Y, (60, 1)))
    np.testing.assert_allclose(m.predict(X), Y, atol=0.05)
    err0 = np.abs(m.train_predictions_[:300] - Y).mean()
    err1 = np.abs(m.train_predictions_[-300:] - Y).mean()
    assert err1 < 0.05 * err0


def test_three_factor_offline_converges_to_expectation():
    """Offline consolidation of a stochastic one-hot target converges to its probability."""
    rng = np.random.default_rng(9)
    n_trials, T = 400, 20
    X = np.ones((n_trials * T, 1))
    y = np.repeat((rng.random(n_trials) < 0.3).astype(float), T)
    ends = np.zeros(n_trials * T, bool)
    ends[T - 1 :: T] = True
    m = ThreeFactorReadout(eta=0.002, online=False, fit_intercept=False).fit(X, y, segment_ends=ends)
    assert abs(m.predict(np.ones((1, 1)))[0] - 0.3) < 0.06
    # weights are frozen within a trial (offline mode)
    tp = m.train_predictions_.reshape(n_trials, T)
    np.testing.assert_allclose(tp, tp[:, :1] * np.ones((1, T)))


def test_three_factor_gate_blocks_learning_outside_window():
    rng = np.random.default_rng(10)
    X, Y, _, _ = _linear_data(rng, n=200, d=4, k=1)
    gate = np.zeros(200)
    gate[:100] = 1.0
    a = ThreeFactorReadout(eta=0.05).fit(X, Y, gate=gate)
    b = ThreeFactorReadout(eta=0.05).fit(X[:100], Y[:100])
    np.testing.assert_allclose(a.coef_, b.coef_)


def test_three_factor_partial_fit_equals_fit():
    rng = np.random.default_rng(11)
    X, Y, _, _ = _linear_data(rng, n=200, d=5, k=2)
    ends = np.zeros(200, bool)
    ends[49::50] = True
    kw = dict(eta=0.02, trace_tau=0.01, dt=1e-3, online=np.array([True, False]))
    a = ThreeFactorReadout(**kw).fit(X, Y, segment_ends=ends)
    b = ThreeFactorReadout(**kw).partial_fit(X[:120], Y[:120], segment_ends=ends[:120] | False)
    # the first chunk ends mid-segment (step 119): pending updates carry over
    b.partial_fit(X[120:], Y[120:], segment_ends=ends[120:])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)


@pytest.mark.parametrize("cls", [RidgeReadout, ForceReadout, ThreeFactorReadout])
def test_interface_contract(cls):
    rng = np.random.default_rng(12)
    X, Y, _, _ = _linear_data(rng, n=50, d=4, k=1)
    m = cls()
    assert not any(k.endswith("_") for k in vars(m))  # nothing learned in __init__
    assert m.fit(X, Y[:, 0]) is m
    assert m.partial_fit(X, Y[:, 0]) is m
    assert m.predict(X).shape == (50,)
    assert m.fit(X, Y).predict(X).shape == (50, 1)
    assert m.coef_.shape == (1, 4) and m.intercept_.shape == (1,)
    assert set(m.get_params()) == set(type(m)().get_params())
    with pytest.raises(ValueError, match="not fitted"):
        cls().predict(X)


@pytest.mark.parametrize("cls", [RidgeReadout, ForceReadout, ThreeFactorReadout])
def test_bad_input(cls):
    X = np.ones((10, 3))
    with pytest.raises(ValueError, match="Y \\(targets\\) must have one row per row of X"):
        cls().fit(X, np.ones(9))
    y = np.ones(10)
    y[3] = np.nan
    with pytest.raises(ValueError, match="Y \\(targets\\) contains 1 NaN"):
        cls().fit(X, y)
    with pytest.raises(ValueError, match="X \\(reservoir states\\) must have 2 dimension"):
        cls().fit(np.ones(10), np.ones(10))
    m = cls().fit(X, np.ones(10))
    with pytest.raises(ValueError, match="3 features"):
        m.predict(np.ones((4, 2)))


def test_bad_parameters_and_gates():
    X, y = np.ones((10, 3)), np.ones(10)
    with pytest.raises(ValueError, match="eta must be > 0"):
        ThreeFactorReadout(eta=-1).fit(X, y)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        ForceReadout(alpha=0).fit(X, y)
    with pytest.raises(ValueError, match="update_every must be >= 1"):
        ForceReadout(update_every=0).fit(X, y)
    with pytest.raises(ValueError, match="gate values must lie in \\[0, 1\\]"):
        ThreeFactorReadout().fit(X, y, gate=np.full(10, 1.5))
    with pytest.raises(ValueError, match="gate must have shape"):
        ThreeFactorReadout().fit(X, y, gate=np.ones(7))
    with pytest.raises(ValueError, match="online must be a bool or 2 bools"):
        ThreeFactorReadout(online=[True]).fit(X, np.ones((10, 2)))
    with pytest.raises(ValueError, match="gate floor"):
        attention_gate(10, 0.1, [0.0], [0.5], floor=2.0)
    with pytest.raises(ValueError, match="unknown gate shape"):
        attention_gate(10, 0.1, [0.0], [0.5], shape="square")


def test_attention_gate_shapes():
    g = attention_gate(10, 0.1, [0.2], [0.5], shape="boxcar", floor=0.1)
    np.testing.assert_allclose(g, [0.1, 0.1, 1, 1, 1, 0.1, 0.1, 0.1, 0.1, 0.1])
    r = attention_gate(10, 0.1, [0.2], [0.6], shape="ramp", rise=0.2)
    np.testing.assert_allclose(r[:6], [0, 0, 0, 0.5, 1, 1])
    gs = attention_gate(10, 0.1, [0.3], [0.4], shape="gaussian", rise=0.1)
    assert gs[3] == 1 and gs[4] == 1 and 0 < gs[1] < gs[2] < 1
    assert np.all(attention_gate(5, 0.1, [0.0], [0.1], shape="constant") == 1)


# ----------------------------------------------------------------------------- presynaptic centring
@pytest.mark.parametrize("decay", [0.0, 0.5, 0.99])
def test_center_rates_kernel_matches_reference(decay):
    rng = np.random.default_rng(4)
    X, m0 = rng.random((200, 7)), rng.random(7)
    got = center_rates(X, decay, m0)
    ref = center_rates_reference(X, decay, m0)
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)


def test_center_rates_subtracts_the_mean_before_each_step():
    X = np.array([[2.0], [2.0], [4.0]])
    Xc, m = center_rates(X, 0.5, np.zeros(1))
    # means before each step: 0, 1, 1.5; after the last: 2.75
    np.testing.assert_allclose(Xc[:, 0], [2.0, 1.0, 2.5])
    np.testing.assert_allclose(m, [2.75])
    # a constant input is centred to zero once the mean has converged
    Xc, _ = center_rates(np.full((400, 3), 5.0), 0.9, np.zeros(3))
    assert np.abs(Xc[-1]).max() < 1e-12 and Xc[0, 0] == 5.0


def test_centred_readout_chunks_like_one_run_and_predicts_on_centred_inputs():
    rng = np.random.default_rng(5)
    X, Y, _, _ = _linear_data(rng, n=300, d=6, k=2)
    X = X + 3.0  # a large common mode
    kw = dict(eta=0.2, normalise=True, fit_intercept=False, center_tau=0.05, dt=0.01)
    whole = ThreeFactorReadout(**kw).fit(X, Y)
    parts = ThreeFactorReadout(**kw).partial_fit(X[:120], Y[:120]).partial_fit(X[120:], Y[120:])
    np.testing.assert_allclose(parts.coef_, whole.coef_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(parts.center_mean_, whole.center_mean_, rtol=1e-12)
    Xc, _ = center_rates(np.ascontiguousarray(X), np.exp(-0.01 / 0.05), np.zeros(6))
    plain = ThreeFactorReadout(eta=0.2, normalise=True, fit_intercept=False, dt=0.01).fit(Xc, Y)
    np.testing.assert_allclose(whole.coef_, plain.coef_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(whole.predict(X[:5]), (X[:5] - whole.center_mean_) @ whole.coef_.T)
    with pytest.raises(ValueError, match="center_tau"):
        ThreeFactorReadout(center_tau=-1.0).fit(X, Y)
