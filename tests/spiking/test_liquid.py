"""The Brian2 NALSM liquid: structure, equivalence with the Numba ground truth, run-call economy."""

import numpy as np
import pytest

from spiking.liquid import (
    Brian2Liquid,
    Liquid,
    LiquidConfig,
    LiquidFeatures,
    NALSMLiquid,
    NumbaLiquid,
    build_connectivity,
    simulate_liquid_numba,
    step_constants,
)

SMALL = LiquidConfig(grid_shape=(5, 5, 4), n_input=16, init_steps=20, sample_steps=60)


def test_config_validation():
    with pytest.raises(ValueError, match="grid_shape"):
        LiquidConfig(grid_shape=(10, 0, 10))
    with pytest.raises(ValueError, match="grid_shape"):
        LiquidConfig(grid_shape=(10, 10))
    with pytest.raises(ValueError, match="n_input"):
        LiquidConfig(n_input=0)
    with pytest.raises(ValueError, match="w_scale"):
        LiquidConfig(w_scale=1.5)
    assert LiquidConfig().n_liquid == 1000 and LiquidConfig().n_exc == 800


def test_connectivity_structure():
    cfg = LiquidConfig(grid_shape=(8, 8, 8), n_input=40)
    conn = build_connectivity(cfg, seed=0)
    nls = conn.n_liquid_syn
    pre, post = conn.liquid_pre, conn.liquid_post
    assert not np.any(pre == post)
    assert len(set(zip(pre.tolist(), post.tolist(), strict=True))) == nls  # no duplicate synapses
    # weights start at their bounds and the bounds follow the presynaptic class
    exc = pre < conn.n_exc
    assert np.all(conn.w0[:nls][exc] == 3.0) and np.all(conn.w0[:nls][~exc] == -3.0)
    assert np.all(conn.w_min[:nls][exc] == 0.0) and np.all(conn.w_max[:nls][~exc] == 0.0)
    assert set(np.unique(conn.w0[nls:])) == {-3.0, 3.0}
    assert np.all(conn.w_min[nls:] == -3.0) and np.all(conn.w_max[nls:] == 3.0)
    # 15 % of the (input, liquid) pairs
    frac = (conn.pre.size - nls) / (cfg.n_input * cfg.n_liquid)
    assert frac == pytest.approx(0.15, abs=0.01)
    # connection probability decays with distance as C exp(-(D/3)^2)
    d = np.linalg.norm(conn.positions[pre] - conn.positions[post], axis=1)
    assert np.mean(d > 7.5) < 0.005 and np.median(d) < 3.5
    ee = exc & (post < conn.n_exc)
    n_ee_near = np.sum(ee & (d == 1.0))
    pairs_near = 0
    pos = conn.positions
    for k in range(conn.n_exc):
        dist = np.linalg.norm(pos[: conn.n_exc] - pos[k], axis=1)
        pairs_near += np.sum(dist == 1.0)
    assert n_ee_near / pairs_near == pytest.approx(0.2 * np.exp(-1 / 9), abs=0.04)


@pytest.fixture(scope="module")
def small_liquid():
    return Brian2Liquid(SMALL, seed=3, backend="numpy", chunk=4, init_chunk=4)


@pytest.mark.parametrize("eta,w_astro", [(0.0, 0.0), (0.15, 0.0), (0.15, 0.01)])
def test_brian2_equals_numba_ground_truth(small_liquid, eta, w_astro):
    """With 0/1 input probabilities both simulations are deterministic and must agree exactly."""
    liq = small_liquid
    rng = np.random.default_rng(1)
    probs = (rng.random((6, SMALL.n_input)) < 0.3).astype(float)
    liq.initialise(probs, eta=eta, w_astro=w_astro)
    out = liq.features(probs, eta=eta, w_astro=w_astro, n_record=6)
    _, _, _, _, w = simulate_liquid_numba(
        liq.conn,
        SMALL,
        probs,
        n_steps=SMALL.init_steps,
        w_start=liq.conn.w0,
        reset_weights=False,
        eta=eta,
        w_astro=w_astro,
        gamma=1.0,
        seed=0,
    )
    np.testing.assert_allclose(liq.w_init_, w, atol=1e-12)
    if eta > 0:
        assert np.any(w != liq.conn.w0)  # plasticity did something
    counts, rt, ri, astro, _ = simulate_liquid_numba(
        liq.conn,
        SMALL,
        probs,
        n_steps=SMALL.sample_steps,
        w_start=w,
        reset_weights=True,
        eta=eta,
        w_astro=w_astro,
        gamma=SMALL.lr_decay,
        seed=0,
        n_record=6,
    )
    np.testing.assert_array_equal(out["counts"], counts)
    assert counts.sum() > 0
    b_spikes = np.sort(
        (out["spike_samples"] * SMALL.sample_steps + out["spike_steps"]) * 1000 + out["spike_neurons"]
    )
    np.testing.assert_array_equal(b_spikes, np.sort(rt * 1000 + ri))
    np.testing.assert_allclose(out["astro"].ravel(), astro, atol=1e-12)
    if w_astro == 0.0:  # plain STDP: A = eta, decaying by lr_decay every step
        np.testing.assert_allclose(out["astro"][0], eta * SMALL.lr_decay ** np.arange(SMALL.sample_steps))


def test_many_samples_per_run_and_no_rebuild(small_liquid, monkeypatch):
    liq = small_liquid
    calls = []
    real_run = liq.net.run

    def counting_run(*args, **kwargs):
        calls.append(args[0])
        return real_run(*args, **kwargs)

    monkeypatch.setattr(liq.net, "run", counting_run)
    probs = np.random.default_rng(2).random((10, SMALL.n_input))
    net_before = liq.net
    out = liq.features(probs, eta=0.15, w_astro=0.01)
    assert len(calls) == 3  # ceil(10 / chunk=4) run() calls, not one per sample
    assert liq.net is net_before
    assert out["counts"].shape == (10, SMALL.n_liquid)


def test_samples_do_not_depend_on_their_neighbours(small_liquid):
    """Weights, neuron state and astrocyte are reset per sample: a sample's counts are the same alone,
    next to other samples in its chunk, and in another copy of the batch (0/1 inputs: deterministic)."""
    liq = small_liquid
    probs = (np.random.default_rng(11).random((4, SMALL.n_input)) < 0.4).astype(float)
    liq.initialise(probs, eta=0.15, w_astro=0.01)
    alone = liq.features(probs[:1], eta=0.15, w_astro=0.01)["counts"][0]
    assert alone.sum() > 0
    # sample 0 in copy 0, again in copy 2 after two different samples, and in the next run() call
    mixed = liq.features(np.vstack([probs[:1], probs[1:3], probs[:1], probs[3:]]), eta=0.15, w_astro=0.01)
    for row in (0, 3):
        np.testing.assert_array_equal(mixed["counts"][row], alone)
    assert not np.array_equal(mixed["counts"][1], alone)  # the neighbours themselves differ


def test_engines_share_one_interface_and_leave_the_default_clock_alone(small_liquid):
    import brian2 as b2

    before = b2.defaultclock.dt
    b2liq = Brian2Liquid(SMALL, seed=3, backend="numpy", chunk=2, init_chunk=2)
    assert b2.defaultclock.dt == before  # the liquid runs on its own 1 ms clock
    assert all(obj.clock.dt == 1 * b2.ms for obj in (b2liq.liquid, b2liq.inputs, b2liq.syn_ll))
    nb = NumbaLiquid(SMALL, seed=3)
    assert NALSMLiquid is Brian2Liquid
    for liq in (b2liq, nb):
        assert isinstance(liq, Liquid)
        np.testing.assert_array_equal(liq.conn.w0, nb.conn.w0)  # same seed, same connectivity
        assert liq.use_initial_weights(0.5) is liq
        np.testing.assert_array_equal(liq.w_init_, 0.5 * liq.conn.w0)
        pre, post = liq.liquid_synapses()
        assert pre.size == post.size == liq.conn.n_liquid_syn
    probs = (np.random.default_rng(3).random((3, SMALL.n_input)) < 0.5).astype(float)
    fb = b2liq.features(probs, eta=0.1, w_astro=0.01, n_record=2)
    fn = nb.features(probs, eta=0.1, w_astro=0.01, n_record=2)
    for f in (fb, fn):
        assert isinstance(f, LiquidFeatures)
        samples, steps, neurons, n_rec, n_neu, n_steps = f.recorded_spikes()
        assert (n_rec, n_neu, n_steps) == (2, SMALL.n_liquid, SMALL.sample_steps)
        assert samples.max() < 2 and steps.max() < n_steps and f.astro.shape == (2, n_steps)
    np.testing.assert_array_equal(fb.counts, fn.counts)
    k = step_constants(SMALL)
    assert k["leak"] == 1 - 1 / SMALL.tau_v_steps and k["decay_u"] == np.exp(-1.0)


def test_bad_inputs(small_liquid):
    with pytest.raises(ValueError, match=r"probs must have shape \(n_samples, 16\)"):
        small_liquid.features(np.zeros((3, 5)), eta=0.1, w_astro=0.0)
    with pytest.raises(ValueError, match="NaN"):
        small_liquid.features(np.full((2, 16), np.nan), eta=0.1, w_astro=0.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        small_liquid.features(np.full((2, 16), 2.0), eta=0.1, w_astro=0.0)
    with pytest.raises(ValueError, match="config"):
        Brian2Liquid({"grid_shape": (2, 2, 2)})
    with pytest.raises(ValueError, match="config"):
        NumbaLiquid({"grid_shape": (2, 2, 2)})


def test_initialisation_starts_from_initial_weights(small_liquid):
    """Each model's initialisation starts from conn.w0, not from the previous model's weights."""
    probs = (np.random.default_rng(7).random((5, SMALL.n_input)) < 0.4).astype(float)
    for liq in (small_liquid, NumbaLiquid(SMALL, seed=3)):
        liq.initialise(probs, eta=0.15, w_astro=0.0)
        after_stdp = liq.w_init_.copy()
        liq.initialise(probs, eta=0.15, w_astro=0.01)
        liq.initialise(probs, eta=0.15, w_astro=0.0)
        np.testing.assert_array_equal(liq.w_init_, after_stdp)


def test_batch_copies_do_not_change_deterministic_results(small_liquid):
    """Copies side by side are independent: with 0/1 inputs, counts do not depend on ``batch``."""
    probs = (np.random.default_rng(5).random((5, SMALL.n_input)) < 0.3).astype(float)
    small_liquid.initialise(probs, eta=0.15, w_astro=0.01)
    ref = small_liquid.features(probs, eta=0.15, w_astro=0.01, n_record=5)
    assert small_liquid.batch == 4  # capped at chunk
    single = Brian2Liquid(SMALL, seed=3, backend="numpy", chunk=3, init_chunk=4, batch=1)
    single.initialise(probs, eta=0.15, w_astro=0.01)
    np.testing.assert_array_equal(single.w_init_, small_liquid.w_init_)
    out = single.features(probs, eta=0.15, w_astro=0.01, n_record=5)
    np.testing.assert_array_equal(out["counts"], ref["counts"])
    np.testing.assert_allclose(out["astro"], ref["astro"], atol=1e-12)
    assert ref["counts"].sum() > 0


def test_seeded_features_match_numba_and_ignore_batch_and_neighbours():
    """Per-sample seeds: stochastic inputs, yet Brian2 equals Numba and a sample's counts
    do not depend on the batch copy, the run or the other samples it is computed with."""
    from spiking.liquid import sample_seeds

    rng = np.random.default_rng(5)
    probs = rng.uniform(0.0, 0.6, (7, SMALL.n_input))
    seeds = sample_seeds(11, np.arange(7))
    b2liq = Brian2Liquid(SMALL, seed=4, backend="numpy", chunk=4, batch=2)
    nb = NumbaLiquid(SMALL, seed=4)
    for liq in (b2liq, nb):
        liq.initialise(probs[:3], eta=0.0, w_astro=0.0)  # 0 plasticity: both keep w0
    fb = b2liq.features(probs, eta=0.15, w_astro=0.01, n_record=2, sample_seeds=seeds)
    fn = nb.features(probs, eta=0.15, w_astro=0.01, n_record=2, sample_seeds=seeds)
    assert fb.counts.sum() > 0
    np.testing.assert_array_equal(fb.counts, fn.counts)
    np.testing.assert_allclose(fb.astro, fn.astro, rtol=1e-12)
    # samples 4..6 alone (other copies, other run) and with sample 0 again in front
    sub = [0, 4, 5, 6]
    alone = b2liq.features(probs[sub], eta=0.15, w_astro=0.01, sample_seeds=[seeds[i] for i in sub])
    np.testing.assert_array_equal(alone.counts, fb.counts[sub])
    # a different seed gives different inputs
    other = nb.features(probs[:2], eta=0.15, w_astro=0.01, sample_seeds=sample_seeds(12, [0, 1]))
    assert not np.array_equal(other.counts, fn.counts[:2])
