"""NALSM STDP kernels: Numba vs NumPy reference, event form vs dense form, rule behaviour."""

import numpy as np
import pytest

from plasticity_rules.stdp import (
    csr_by_row,
    stdp_trace_update,
    stdp_trace_update_reference,
    stdp_weight_update,
    stdp_weight_update_events,
    stdp_weight_update_reference,
    trace_decay,
)


def _random_net(rng, n=30, n_syn=200):
    pre = rng.integers(0, n, n_syn)
    post = rng.integers(0, n, n_syn)
    inh = rng.random(n) < 0.3
    w_min = np.where(inh[pre], -3.0, 0.0)
    w_max = np.where(inh[pre], 0.0, 3.0)
    w = rng.uniform(w_min, w_max)
    return pre, post, inh, w, w_min, w_max


def test_trace_kernel_matches_reference_and_formula():
    rng = np.random.default_rng(0)
    tr = rng.random(50)
    s = (rng.random(50) < 0.4).astype(float)
    d = trace_decay(10.0)
    np.testing.assert_allclose(stdp_trace_update(tr, s, 0.1, d), stdp_trace_update_reference(tr, s, 0.1, d))
    np.testing.assert_allclose(stdp_trace_update(tr, s, 0.1, d), d * (tr + 0.1 * s))
    assert d == pytest.approx(np.exp(-0.1))
    with pytest.raises(ValueError, match="tau_trace"):
        trace_decay(0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weight_kernel_matches_reference(seed):
    rng = np.random.default_rng(seed)
    pre, post, inh, w, lo, hi = _random_net(rng)
    s = (rng.random(30) < 0.5).astype(float)
    tr = rng.random(30)
    for eta, A in ((0.15, 0.15), (0.15, 0.4), (0.0, 0.0), (2.0, 5.0)):  # large rates exercise clipping
        got = stdp_weight_update(w, pre, post, s, tr, inh, eta, A, lo, hi)
        ref = stdp_weight_update_reference(w, pre, post, s, tr, inh, eta, A, lo, hi)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-14)
        assert np.all(got >= lo) and np.all(got <= hi)


def test_event_form_equals_dense_form():
    rng = np.random.default_rng(5)
    pre, post, inh, w, lo, hi = _random_net(rng, n=40, n_syn=400)
    out_ptr, out_syn = csr_by_row(pre, 40)
    in_ptr, in_syn = csr_by_row(post, 40)
    for _ in range(10):
        s = rng.random(40) < 0.3
        tr = rng.random(40)
        dense = stdp_weight_update(w, pre, post, s.astype(float), tr, inh, 0.3, 0.7, lo, hi)
        ev = stdp_weight_update_events(w.copy(), pre, post, np.flatnonzero(s), s, tr, inh, 0.3, 0.7, lo, hi,
                                       out_ptr, out_syn, in_ptr, in_syn)
        np.testing.assert_allclose(ev, dense, atol=1e-14)
        w = dense


def test_rule_signs():
    # 0 -> 1 (excitatory pre), 2 -> 1 (inhibitory pre)
    pre = np.array([0, 2])
    post = np.array([1, 1])
    inh = np.array([False, False, True])
    w = np.array([1.0, -1.0])
    lo, hi = np.array([0.0, -3.0]), np.array([3.0, 0.0])
    tr = np.array([0.5, 0.2, 0.5])
    post_spikes = np.array([0.0, 1.0, 0.0])  # only the postsynaptic neuron fires: causal pairing
    new = stdp_weight_update(w, pre, post, post_spikes, tr, inh, 0.1, 0.3, lo, hi)
    assert new[0] == pytest.approx(1.0 + 0.1 * 0.5)  # E pre: potentiation eta * x_pre
    assert new[1] == pytest.approx(-1.0 - 0.3 * 0.5)  # I pre: signs reversed, -A * x_pre
    pre_spikes = np.array([1.0, 0.0, 1.0])  # only the presynaptic neurons fire: anti-causal
    new = stdp_weight_update(w, pre, post, pre_spikes, tr, inh, 0.1, 0.3, lo, hi)
    assert new[0] == pytest.approx(1.0 - 0.3 * 0.2)  # depression -A * x_post
    assert new[1] == pytest.approx(-1.0 + 0.1 * 0.2)  # I pre: +eta * x_post


def test_clipping_at_bounds():
    pre, post = np.array([0]), np.array([1])
    inh = np.array([False, False])
    w = np.array([2.99])
    new = stdp_weight_update(w, pre, post, np.array([0.0, 1.0]), np.array([1.0, 0.0]), inh, 1.0, 0.0,
                             np.array([0.0]), np.array([3.0]))
    assert new[0] == 3.0
    new = stdp_weight_update(w, pre, post, np.array([1.0, 0.0]), np.array([0.0, 10.0]), inh, 0.0, 1.0,
                             np.array([0.0]), np.array([3.0]))
    assert new[0] == 0.0
