"""Oracle learners of the what/when task (tasks.whatwhen_oracles)."""

import numpy as np
import pytest

from plasticity_rules.readouts import RidgeReadout
from tasks import whatwhen as ww
from tasks import whatwhen_oracles as wo
from tasks import whatwhen_training as wwt


def _states(sess, seed=1):
    spt = sess.paradigm.steps_per_trial
    rng = np.random.default_rng(seed)
    return np.hstack([np.tile(np.eye(spt), (sess.n_trials, 1)), 0.05 * rng.random((sess.times.size, 5))])


def test_cumulative_ridge_matches_the_project_ridge_readout(ww_session):
    sess = ww_session()
    X = _states(sess)
    ours = wo.linear_oracle("ridge", sess, X, alpha=1.0)
    theirs, _ = wwt.train_readout("ridge", sess, X, wwt.ReadoutSettings(ridge_alpha=1.0))
    np.testing.assert_allclose(ours, theirs, atol=1e-8)


def test_ridge_since_switch_is_a_direct_fit_on_the_block_so_far(ww_session):
    sess = ww_session()
    X = _states(sess)
    out = wo.linear_oracle("ridge_since_switch", sess, X, alpha=0.5)
    spt = sess.paradigm.steps_per_trial
    s = int(sess.switch_trials[1])
    n = s + 4
    teach = [i for i in range(s, n) if not sess.probe[i]]
    assert teach
    rows = np.concatenate([np.arange(i * spt, (i + 1) * spt) for i in teach])
    m = RidgeReadout(alpha=0.5).fit(X[rows], sess.targets[rows])
    np.testing.assert_allclose(out[n * spt : (n + 1) * spt], m.predict(X[n * spt : (n + 1) * spt]), atol=1e-8)


def test_prior_ridge_is_the_map_estimate_around_the_pre_switch_weights(ww_session):
    sess = ww_session()
    X = _states(sess)
    spt = sess.paradigm.steps_per_trial
    s = int(sess.switch_trials[0])
    Xa = np.hstack([X, np.ones((X.shape[0], 1))])
    # W_pre: the cumulative ridge fit on the teaching trials of block 0 (intercept unpenalised)
    pre = [i for i in range(s) if not sess.probe[i]]
    rows = np.concatenate([np.arange(i * spt, (i + 1) * spt) for i in pre])
    m = RidgeReadout(alpha=1.0).fit(X[rows], sess.targets[rows])
    W_pre = np.vstack([m.coef_.T, m.intercept_[None, :]])
    n = s + 4
    post = [i for i in range(s, n) if not sess.probe[i]]
    rows = np.concatenate([np.arange(i * spt, (i + 1) * spt) for i in post])
    lam = 2.0
    W = np.linalg.solve(Xa[rows].T @ Xa[rows] + lam * np.eye(Xa.shape[1]),
                        Xa[rows].T @ sess.targets[rows] + lam * W_pre)
    out = wo.linear_oracle("prior_ridge", sess, X, alpha=1.0, prior=lam)
    np.testing.assert_allclose(out[n * spt : (n + 1) * spt], Xa[n * spt : (n + 1) * spt] @ W, atol=1e-8)
    # an infinitely stiff prior keeps predicting with W_pre after the switch
    stiff = wo.linear_oracle("prior_ridge", sess, X, alpha=1.0, prior=1e12)
    np.testing.assert_allclose(stiff[n * spt : (n + 1) * spt], Xa[n * spt : (n + 1) * spt] @ W_pre, atol=1e-5)


def test_posterior_mean_formula():
    p = wo.posterior_probabilities([3, 1, 0], [1 / 3, 1 / 3, 1 / 3], 3.0)
    np.testing.assert_allclose(p, [4 / 7, 2 / 7, 1 / 7])
    np.testing.assert_allclose(wo.posterior_probabilities([0, 0], [0.2, 0.8], 0.0), [0.2, 0.8])
    np.testing.assert_allclose(wo.posterior_probabilities([2, 6], [0.5, 0.5], 0.0), [0.25, 0.75])
    with pytest.raises(ValueError):
        wo.posterior_probabilities([1, 1], [0.5, 0.5], -1.0)


def test_latency_oracle_recovers_at_once_and_observer_error_is_the_p_error(ww_session):
    sess = ww_session()
    controls = [ww.generate(par, seed=b) for b, par in enumerate(wwt.control_paradigms(sess.paradigm))]
    exact = wo.observer_oracle(sess, exact=True)
    rec = wo.recovery(sess, exact, controls, [wo.observer_oracle(c, exact=True) for c in controls])
    assert [r["recovery_trials"] for r in rec] == [0, 0]
    # observer with a huge uniform prior outputs p = 1/2 for both stimuli
    flat = wo.observer_oracle(sess, strength=1e9)
    view = ww.trial_view(sess, flat)
    exp = ww.trial_view(sess, sess.expected_targets)
    i = 0
    p = sess.probabilities[i]
    np.testing.assert_allclose(view[i, :, 1:], exp[i, :, 1:] * (0.5 / p)[None, :], atol=1e-6)
    np.testing.assert_allclose(view[:, :, 0], exp[:, :, 0])


def test_oracle_summary_scores_every_learner_per_switch(ww_session):
    sess = ww_session()
    controls = [ww.generate(par, seed=b) for b, par in enumerate(wwt.control_paradigms(sess.paradigm))]
    res = wo.oracle_summary(sess, _states(sess), controls, [_states(c, 2) for c in controls])
    assert set(res["all"]) == set(wo.oracle_learners())
    assert all(len(v) == len(sess.switch_trials) for v in res["all"].values())
    assert [r["recovery_trials"] for r in res["all"]["observer_exact"]] == [0, 0]
