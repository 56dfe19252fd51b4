"""Readout training through a what/when session and the no-switch controls."""

import numpy as np
import pytest

from tasks import whatwhen as ww
from tasks import whatwhen_metrics as wwm
from tasks import whatwhen_training as wwt

# the three-factor rule without the decorrelating stage and the common-mode split (defaults: on)
PLAIN = dict(decorrelate=0.0, what_common=0.0)


def _clock_states(sess, rng):
    # a noisy clock: one unit per step of the trial plus noise units
    spt = sess.paradigm.steps_per_trial
    clock = np.tile(np.eye(spt), (sess.n_trials, 1))
    return np.hstack([clock, 0.05 * rng.random((sess.times.size, 5))])


def test_ridge_predicts_each_trial_with_earlier_trials_only(ww_session):
    sess = ww_session()
    X = _clock_states(sess, np.random.default_rng(0))
    out, m = wwt.train_readout("ridge", sess, X)
    spt = sess.paradigm.steps_per_trial
    first = int(np.argmax(~sess.probe))
    assert np.all(out[: (first + 1) * spt] == 0)  # nothing learned before the first teaching trial ends
    # the last trial's output is the fit on all earlier teaching trials
    from plasticity_rules.readouts import RidgeReadout

    ref = RidgeReadout(alpha=1.0)
    for i in range(sess.n_trials - 1):
        if not sess.probe[i]:
            ref.partial_fit(X[i * spt : (i + 1) * spt], sess.targets[i * spt : (i + 1) * spt])
    np.testing.assert_allclose(out[-spt:], ref.predict(X[-spt:]))
    assert m.coef_.shape == (sess.targets.shape[1], X.shape[1])


def test_settings_reach_the_readout(ww_session):
    sess = ww_session()
    X = _clock_states(sess, np.random.default_rng(1))
    a, ma = wwt.train_readout("three_factor", sess, X)
    b, mb = wwt.train_readout("three_factor", sess, X, wwt.ReadoutSettings(eta_when=1.0))
    assert not np.allclose(a[:, 0], b[:, 0])  # the "when" rate changed
    f1, _ = wwt.train_readout("ridge", sess, X, wwt.ReadoutSettings(ridge_alpha=1.0))
    f2, _ = wwt.train_readout("ridge", sess, X, wwt.ReadoutSettings(ridge_alpha=100.0))
    assert not np.allclose(f1, f2)


def test_bad_names_and_settings_are_rejected(ww_session):
    sess = ww_session()
    with pytest.raises(ValueError, match="readout"):
        wwt.train_readout("lasso", sess, np.zeros((sess.times.size, 2)))
    with pytest.raises(ValueError, match="eta_when"):
        wwt.ReadoutSettings(eta_when=0.0)
    with pytest.raises(ValueError, match="readout"):
        wwt.control_errors(sess, ["lasso"], _clock_states, seed=0)


def test_control_paradigms_are_single_post_switch_blocks(ww_session):
    sess = ww_session()
    ctrl = wwt.control_paradigms(sess.paradigm)
    assert len(ctrl) == len(sess.paradigm.blocks) - 1
    for c, b in zip(ctrl, sess.paradigm.blocks[1:], strict=True):
        assert len(c.blocks) == 1
        assert c.blocks[0] == ww.Block(sess.n_trials, b.latency, b.probabilities)
        assert c.trial_duration == sess.paradigm.trial_duration


def test_control_errors_share_identical_conditions_and_seed_per_block(ww_session):
    sess = ww_session()
    calls = []

    def states(csess, crng):
        calls.append(csess.paradigm.blocks[0])
        return _clock_states(csess, crng)

    out = wwt.control_errors(sess, ["ridge", "force"], states, seed=4)
    assert len(calls) == 2  # the two switches have different conditions
    assert set(out) == {"ridge", "force"} and all(len(v) == 2 for v in out.values())
    # block b's control is the session drawn from default_rng([seed, 1, b]), states from the same rng
    crng = np.random.default_rng([4, 1, 2])
    csess = ww.generate(wwt.control_paradigms(sess.paradigm)[1], seed=crng)
    X = _clock_states(csess, crng)
    expected = wwm.trial_errors(csess, wwt.train_readout("ridge", csess, X)[0])
    np.testing.assert_array_equal(out["ridge"][1], expected)


def test_centred_when_readout_leaves_the_what_readouts_unchanged(ww_session):
    sess = ww_session()
    X = _clock_states(sess, np.random.default_rng(2)) + 1.0  # a common mode
    plain, m0 = wwt.train_readout("three_factor", sess, X, wwt.ReadoutSettings(center_when=0.0, **PLAIN))
    centred, m1 = wwt.train_readout("three_factor", sess, X, wwt.ReadoutSettings(**PLAIN))  # centred: 0.6 s
    assert isinstance(m1, wwt.WhenWhatReadouts) and m1.coef_.shape == m0.coef_.shape
    # "what" reads the rates themselves in both: same outputs and weights
    np.testing.assert_allclose(centred[:, 1:], plain[:, 1:], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m1.coef_[1:], m0.coef_[1:], rtol=1e-12, atol=1e-12)
    # "when" reads centred inputs: a different readout, still learning the bump
    assert not np.allclose(centred[:, 0], plain[:, 0])
    assert m1.predict(X[:3]).shape == (3, 1 + sess.paradigm.n_stimuli)
    with pytest.raises(ValueError, match="center_when"):
        wwt.ReadoutSettings(center_when=-0.1)


def test_annealed_what_rate_follows_its_schedule(ww_session):
    sess = ww_session()
    X = _clock_states(sess, np.random.default_rng(3))
    def S(**kw):
        return wwt.ReadoutSettings(**PLAIN, **kw)

    for center in (0.0, 0.6):
        # n0 -> infinity: the rate stays at A eta_what, the same as a constant rate A eta_what
        slow, m1 = wwt.train_readout("three_factor", sess, X, S(center_when=center, what_anneal=4.0,
                                                               what_anneal_trials=1e12))
        const, m2 = wwt.train_readout("three_factor", sess, X, S(center_when=center, what_anneal=1.0,
                                                                eta_what=4 * 0.002))
        np.testing.assert_allclose(slow, const, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(m1.coef_, m2.coef_, rtol=1e-9, atol=1e-12)
        # the default schedule decays: it ends between the constant rates eta_what and A eta_what
        ann, m3 = wwt.train_readout("three_factor", sess, X, S(center_when=center))
        low, _ = wwt.train_readout("three_factor", sess, X, S(center_when=center, what_anneal=1.0))
        assert not np.allclose(ann[:, 1:], low[:, 1:]) and not np.allclose(ann[:, 1:], const[:, 1:])
        np.testing.assert_allclose(ann[:, 0], low[:, 0], rtol=1e-12, atol=1e-12)  # "when" untouched
    with pytest.raises(ValueError, match="what_anneal must be >= 1"):
        S(what_anneal=0.5)


def test_decorrelating_stage_changes_when_only(ww_session):
    sess = ww_session()
    X = _clock_states(sess, np.random.default_rng(2))
    a, _ = wwt.train_readout("three_factor", sess, X, wwt.ReadoutSettings(decorrelate=0.0))
    b, mb = wwt.train_readout("three_factor", sess, X, wwt.ReadoutSettings(decorrelate=1e-3))
    np.testing.assert_array_equal(a[:, 1:], b[:, 1:])  # "what" reads the raw rates either way
    assert not np.allclose(a[:, 0], b[:, 0])
    # weights on the rates are the "when" weights through R
    np.testing.assert_allclose(mb.coef_[0], mb.when.coef_[0] @ mb.when_decorrelator.R_)
    assert mb.predict(X[:10]).shape == (10, sess.targets.shape[1])
    both = wwt.ReadoutSettings(decorrelate=1e-3, decorrelate_what=True)
    c, mc = wwt.train_readout("three_factor", sess, X, both)
    assert not np.allclose(a[:, 1:], c[:, 1:]) and mc.what_decorrelator is not None


def test_decorrelating_stage_needs_the_centred_when_readout():
    with pytest.raises(ValueError, match="center_when"):
        wwt.ReadoutSettings(decorrelate=0.01, center_when=0.0)
    with pytest.raises(ValueError, match="decorrelate_kappa"):
        wwt.ReadoutSettings(decorrelate_kappa=2.0)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_common_mode_basis_is_orthonormal_with_the_mean_first(k):
    Q = wwt.common_mode_basis(k)
    np.testing.assert_allclose(Q.T @ Q, np.eye(k), atol=1e-12)
    np.testing.assert_allclose(Q[:, 0], np.full(k, 1 / np.sqrt(k)))
    Y = np.random.default_rng(k).random((7, k))
    np.testing.assert_allclose((Y @ Q) @ Q.T, Y, atol=1e-12)
    if k > 1:  # the other columns sum to zero: differences between outputs only
        np.testing.assert_allclose(Q[:, 1:].sum(axis=0), 0, atol=1e-12)


def test_what_common_mode_split(ww_session):
    sess = ww_session()
    X = _clock_states(sess, np.random.default_rng(4))
    S = wwt.ReadoutSettings
    Q = wwt.common_mode_basis(sess.paradigm.n_stimuli)
    base, m0 = wwt.train_readout("three_factor", sess, X, S(what_anneal=1.0, what_common=0.0))
    # equal rates, both consolidated: the rule is equivariant under output rotations
    same, m1 = wwt.train_readout("three_factor", sess, X, S(what_anneal=1.0, what_common=0.002,
                                                           what_common_online=False))
    np.testing.assert_allclose(same, base, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(m1.coef_, m0.coef_, rtol=1e-9, atol=1e-12)
    # a fast online common mode: the identity (differential) modes and "when" are untouched
    for anneal in (1.0, 10.0):
        ref, _ = wwt.train_readout("three_factor", sess, X, S(what_anneal=anneal, what_common=0.0))
        fast, m2 = wwt.train_readout("three_factor", sess, X, S(what_anneal=anneal, what_common=0.05))
        np.testing.assert_allclose(fast[:, 1:] @ Q[:, 1:], ref[:, 1:] @ Q[:, 1:], rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(fast[:, 0], ref[:, 0])
        assert not np.allclose(fast[:, 1:] @ Q[:, 0], ref[:, 1:] @ Q[:, 0])
    # weights on the rates in the stimuli's own basis, consistent with predict
    np.testing.assert_allclose(m2.predict(X[:20])[:, 1:], X[:20] @ m2.coef_[1:].T, atol=1e-12)
    with pytest.raises(ValueError, match="what_common=0.01 need the centred"):
        S(what_common=0.01, center_when=0.0, decorrelate=0.0)
    with pytest.raises(ValueError, match="what_common"):
        S(what_common=-1.0)
