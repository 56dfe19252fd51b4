import numpy as np
import pytest

from spiking._numba_reference import izhikevich2003_numba, reservoir_arrays, simulate_reference
from spiking.encoders import poisson_encode
from spiking.reservoir import PRESETS, IzhikevichReservoir, ReservoirConfig, preset


@pytest.fixture(scope="module")
def paper_net():
    return IzhikevichReservoir(preset("izhikevich2003"), seed=0)


def test_izhikevich2003_regime(paper_net):
    """Izhikevich (2003), Fig. 3 network (1000 neurons, all-to-all, noise 5/2).

    The paper's own program (transliterated in ``spiking._numba_reference``, its own
    structure and noise, seeds 0-2, 10 s) gives 7.2-7.3 Hz (excitatory) and
    6.7-6.8 Hz (inhibitory), as do NEST and BrainPy, with synchronous alpha/gamma-band
    population bursts. Here: another structure and noise stream, 2 s, so rates agree
    to within sampling spread (10 %) with the reference program's run of the same length.
    """
    run = paper_net.run(2.0, seed=0)
    exc, inh = run.mean_rate("exc"), run.mean_rate("inh")
    ref_i, _ = izhikevich2003_numba(2.0, seed=0)
    counts = np.bincount(ref_i, minlength=1000) / 2.0
    assert exc == pytest.approx(counts[:800].mean(), rel=0.10)
    assert inh == pytest.approx(counts[800:].mean(), rel=0.10)
    # population bursts: the 5 ms population rate is far from Poisson-flat
    pop = run.population_rate(5e-3)
    assert pop.std() > 0.5 * pop.mean()


def _assert_same_as_program(res, duration, seed):
    """The reservoir's spikes equal the transliterated program's on the same structure and noise."""
    run = res.run(duration, seed=seed)
    n_steps = int(round(duration / res.config.dt))
    # The program detects at the start of step k + 1 what Brian2 stamps at step k.
    ref_i, ref_k = simulate_reference(
        **reservoir_arrays(res), n_steps=n_steps + 1, rng=np.random.default_rng(seed)
    )
    brian_k = np.round(run.spikes.times / res.config.dt).astype(np.int64)
    n = res.config.n_neurons
    assert run.spikes.n_spikes > 0
    # within 2 %: rates and counts (a guard with a readable message before the exact check)
    ref_rates = np.bincount(ref_i, minlength=n) / duration
    for pop, sel in (("exc", slice(0, res.config.n_exc)), ("inh", slice(res.config.n_exc, None))):
        assert run.mean_rate(pop) == pytest.approx(ref_rates[sel].mean(), rel=0.02)
    assert run.spikes.n_spikes == pytest.approx(ref_i.size, rel=0.02)
    # identical spikes: same neurons at the same steps
    np.testing.assert_array_equal(np.sort(brian_k * n + run.spikes.indices), np.sort((ref_k - 1) * n + ref_i))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paper_numerics_identical_to_program(paper_net, seed):
    """Izhikevich (2003) numerics: the 1000-neuron network fires exactly as the paper's program.

    Per 1 ms step: last step's spikes reset v/u and add their weights to I, then
    v += 0.5*(0.04 v^2 + 5 v + 140 - u + I) twice and u += a(bv - u) once with the
    new v. A joint half-step scheme for (v, u), or weights added to v instead of I,
    changes the rates by 9-26 % and the spike trains within tens of ms.
    """
    _assert_same_as_program(paper_net, 2.0, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paper_numerics_identical_to_program_10k(seed):
    """The same at 10 000 neurons, fixed in-degree 100 (preset ``sparse``)."""
    res = _sparse_10k()
    _assert_same_as_program(res, 2.0, seed)


_SPARSE = {}


def _sparse_10k():
    if "net" not in _SPARSE:
        _SPARSE["net"] = IzhikevichReservoir(preset("sparse", n_neurons=10_000), seed=0)
    return _SPARSE["net"]


def test_trial_seed_reproduces_after_restore(paper_net):
    a = paper_net.run(0.3, seed=11)
    b = paper_net.run(0.3, seed=11)
    c = paper_net.run(0.3, seed=12)
    np.testing.assert_array_equal(a.spikes.indices, b.spikes.indices)
    np.testing.assert_array_equal(a.spikes.times, b.spikes.times)
    assert not np.array_equal(a.spikes.indices, c.spikes.indices)


def test_earlier_trial_keeps_its_spikes(paper_net):
    """A later trial must not overwrite an earlier trial's spike times (monitor arrays are views)."""
    a = paper_net.run(0.3, seed=11)
    times, indices = a.spikes.times.copy(), a.spikes.indices.copy()
    paper_net.run(0.3, seed=12)
    np.testing.assert_array_equal(a.spikes.times, times)
    np.testing.assert_array_equal(a.spikes.indices, indices)


def test_same_seed_same_network_and_spikes():
    cfg = preset("izhikevich2003", n_neurons=200)
    r1 = IzhikevichReservoir(cfg, seed=5).run(0.3)
    r2 = IzhikevichReservoir(cfg, seed=5).run(0.3)
    r3 = IzhikevichReservoir(cfg, seed=6).run(0.3)
    np.testing.assert_array_equal(r1.spikes.indices, r2.spikes.indices)
    np.testing.assert_array_equal(r1.spikes.times, r2.spikes.times)
    assert not np.array_equal(r1.spikes.indices, r3.spikes.indices)


def test_heterogeneity_and_dale(paper_net):
    G = paper_net._objects["reservoir"]
    r, exc = np.asarray(G.r[:]), np.asarray(G.is_exc[:])
    c, d = np.asarray(G.c[:]), np.asarray(G.d[:])
    np.testing.assert_allclose(c[exc], -65 + 15 * r[exc] ** 2)
    np.testing.assert_allclose(d[exc], 8 - 6 * r[exc] ** 2)
    np.testing.assert_allclose(np.asarray(G.a[:])[~exc], 0.02 + 0.08 * r[~exc])
    np.testing.assert_allclose(np.asarray(G.b[:])[~exc], 0.25 - 0.05 * r[~exc])
    assert exc.sum() == 800
    S = paper_net._objects["recurrent"]
    w, pre = np.asarray(S.w[:]), np.asarray(S.i[:])
    assert len(w) == 1000 * 1000
    assert np.all(w[pre < 800] >= 0) and np.all(w[pre < 800] <= 0.5)
    assert np.all(w[pre >= 800] <= 0) and np.all(w[pre >= 800] >= -1.0)


def test_indegree_and_inputs():
    cfg = preset("sparse", n_neurons=150, n_inputs=10, p_input=0.2)
    res = IzhikevichReservoir(cfg, seed=1)
    post = np.asarray(res._objects["recurrent"].j[:])
    np.testing.assert_array_equal(np.bincount(post, minlength=150), cfg.indegree)
    quiet = res.run(0.3, seed=1)
    drive = poisson_encode(np.full(10, 200.0), 0.3, dt=cfg.dt, seed=0)
    loud = res.run(0.3, input_spikes=drive, seed=1)
    assert loud.mean_rate("all") > quiet.mean_rate("all")


def test_current_drive_increases_rate():
    cfg = preset("izhikevich2003", n_neurons=100, noise_exc=0.0, noise_inh=0.0)
    res = IzhikevichReservoir(cfg, seed=2)
    silent = res.run(0.2)
    assert silent.spikes.n_spikes == 0  # no noise, no input: rest
    driven = res.run(0.2, input_current=np.full((4, 100), 10.0))
    assert driven.mean_rate("exc") > 5.0
    states = driven.counts([0.0, 0.1], [0.1, 0.2])
    assert states.shape == (2, 100)


def test_preset_scaling():
    small = preset("izhikevich2003", n_neurons=500)
    assert (small.n_exc, small.n_inh) == (400, 100)
    assert small.w_exc == pytest.approx(1.0) and small.w_inh == pytest.approx(2.0)
    assert set(PRESETS) >= {"izhikevich2003", "sparse", "timing", "prediction"}


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ReservoirConfig(n_exc=0), "n_exc must be >= 1, got 0"),
        (lambda: ReservoirConfig(p_connect=1.5), r"p_connect must be a probability in \[0, 1\], got 1.5"),
        (lambda: ReservoirConfig(dt=-1e-3), "dt must be > 0"),
        (
            lambda: ReservoirConfig(connectivity="ring"),
            "unknown connectivity 'ring'; allowed: all, prob, indegree",
        ),
        (
            lambda: ReservoirConfig(n_exc=8, n_inh=2, connectivity="indegree", indegree=11),
            "indegree must be <= 10",
        ),
        (lambda: preset("brunel"), "unknown preset 'brunel'"),
        (
            lambda: ReservoirConfig(noise_repeat=0.0105),
            r"noise_repeat \(0.0105 s\) must be a whole number of dt",
        ),
        (
            lambda: ReservoirConfig(noise_repeat=0.1, noise_period=2e-3),
            "noise_repeat > 0 needs noise_period == dt",
        ),
        (lambda: preset(n_neurons=-5), "n_neurons must be >= 2"),
        (
            lambda: IzhikevichReservoir(ReservoirConfig(n_exc=8, n_inh=2), backend="gpu"),
            "unknown backend 'gpu'",
        ),
    ],
)
def test_bad_config(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_run_input(paper_net):
    with pytest.raises(ValueError, match="duration must be > 0"):
        paper_net.run(0.0)
    with pytest.raises(ValueError, match="n_inputs=0"):
        paper_net.run(0.1, input_spikes=poisson_encode([10.0], 0.1))
    with pytest.raises(ValueError, match=r"input_current must have shape \(n_steps, 1000\)"):
        paper_net.run(0.1, input_current=np.ones((10, 3)))
    with pytest.raises(ValueError, match="input_current contains 10 NaN"):
        paper_net.run(0.1, input_current=np.where(np.eye(10, 1000) > 0, np.nan, 0.0))


def test_synaptic_time_constant_prolongs_input_effect():
    """With tau_syn > 0 an input volley keeps driving the network for ~tau_syn after it."""
    base = preset(
        "izhikevich2003", n_neurons=100, noise_exc=0.0, noise_inh=0.0, n_inputs=20, p_input=0.5, w_input=20.0
    )
    volley = poisson_encode(
        np.r_[np.full(50, 1000.0), np.zeros(250)][:, None] * np.ones((1, 20)), 0.3, seed=0
    )
    fast = IzhikevichReservoir(base, seed=0).run(0.3, input_spikes=volley, seed=0)
    slow = IzhikevichReservoir(base.replace(tau_syn=0.05), seed=0).run(0.3, input_spikes=volley, seed=0)
    late = lambda r: np.sum(r.spikes.times > 0.07)  # noqa: E731 - spikes 20 ms after the volley ended
    assert slow.spikes.n_spikes > 0 and late(slow) > late(fast)
    with pytest.raises(ValueError, match="tau_syn must be 0 or >= 2\\*dt"):
        base.replace(tau_syn=1e-3)


def test_frozen_noise_stream_replays_its_realisation():
    from spiking.noise import NoiseStream

    fresh, frozen = NoiseStream(6), NoiseStream(6, frozen=True)
    for st in (fresh, frozen):
        st.reset(np.random.default_rng(3))
    a, b = fresh.take(12), frozen.take(12)
    np.testing.assert_array_equal(b[:6], b[6:])  # period of 6 deviates
    np.testing.assert_array_equal(a[:6], b[:6])  # the same first realisation
    assert not np.array_equal(a[:6], a[6:])
    frozen.reset(np.random.default_rng(4))  # a new run draws a new realisation
    assert not np.array_equal(frozen.take(6), b[:6])


def test_frozen_noise_makes_trials_repeat():
    """Noise frozen per 200 ms window: a noise-driven network repeats its spikes window after window."""
    cfg = preset("timing", n_neurons=100, w_exc=1.0, w_inh=2.0)

    def window_similarity(config):
        run = IzhikevichReservoir(config, seed=0).run(0.6, seed=1)
        c = [
            run.counts(np.arange(0, 0.2, 0.01) + w, np.arange(0.01, 0.21, 0.01) + w).ravel()
            for w in (0.2, 0.4)
        ]
        return np.corrcoef(c[0], c[1])[0, 1]

    frozen, fresh = window_similarity(cfg.replace(noise_repeat=0.2)), window_similarity(cfg)
    assert frozen > 0.8 and fresh < 0.3


def test_input_delays_are_fixed_per_seed_whole_steps_in_range():
    assert (preset("prediction").input_delay, preset("prediction").input_taps) == (0.15, 3)
    cfg = preset("prediction", n_neurons=200, input_delay=0.2, input_taps=1)
    a, b = IzhikevichReservoir(cfg, seed=3), IzhikevichReservoir(cfg, seed=3)
    d, g = a.input_taps()
    np.testing.assert_array_equal(d, b.input_taps()[0])
    np.testing.assert_array_equal(g, 1.0)  # one tap: the whole input weight
    d = d[:, 0]
    assert d.shape == (200,) and d.min() >= 0 and d.max() <= 0.2 + 1e-12
    np.testing.assert_allclose(d / cfg.dt, np.round(d / cfg.dt), atol=1e-9)
    assert np.unique(d).size > 100  # spread over the 201 possible steps, not one value
    assert not np.array_equal(d, IzhikevichReservoir(cfg, seed=4).input_taps()[0][:, 0])
    d2, g2 = IzhikevichReservoir(cfg.replace(input_taps=2), seed=3).input_taps()
    assert d2.shape == g2.shape == (200, 2)
    np.testing.assert_allclose(np.linalg.norm(g2, axis=1), 1.0)  # taps share the input weight
    assert np.all(g2[:, 0] > 0) and np.any(g2[:, 1] < 0)
    with pytest.raises(ValueError, match="input_delay must be >= 0"):
        ReservoirConfig(input_delay=-0.1)
    with pytest.raises(ValueError, match="input_taps = 2 needs input_delay > 0"):
        ReservoirConfig(input_taps=2)


def test_input_delay_shifts_each_neurons_drive_by_its_own_delay():
    """A current step at 100 ms reaches neuron i at 100 ms + delta_i: its first spike follows by a few ms."""
    cfg = ReservoirConfig(
        n_exc=40, n_inh=0, connectivity="prob", p_connect=0.0, noise_exc=0.0, noise_inh=0.0, input_delay=0.1
    )
    res = IzhikevichReservoir(cfg, seed=1)
    current = np.zeros((30, 40))
    current[10:] = 20.0  # rows of 10 ms: on from 100 ms
    run = res.run(0.3, input_current=current, current_dt=0.01)
    first = np.full(40, np.inf)
    np.minimum.at(first, run.spikes.indices, run.spikes.times)
    latency = first - 0.1 - res.input_taps()[0][:, 0]
    assert np.all(np.isfinite(first))
    assert latency.min() >= 0 and latency.max() < 0.01  # the same few-ms latency after each own delay
    # without delays every neuron spikes within those few ms of the step
    undelayed = IzhikevichReservoir(cfg.replace(input_delay=0.0), seed=1).run(
        0.3, input_current=current, current_dt=0.01
    )
    assert undelayed.spikes.times.min() - 0.1 < 0.01 and first.max() - 0.1 > 0.08


def test_record_state_samples_the_state_at_the_start_of_each_row():
    """Row k of the samples is the state a run of k rows ends in (same structure and noise seed)."""
    cfg = preset("timing", n_neurons=60)
    current = np.random.default_rng(0).normal(0.0, 10.0, (8, 60))
    res = IzhikevichReservoir(cfg, seed=3, record_state=("v", "u", "I_exp"))
    run = res.run(0.08, input_current=current, current_dt=0.01, seed=7)
    assert set(run.state_samples) == {"v", "u", "I_exp"}
    assert all(x.shape == (8, 60) for x in run.state_samples.values())
    G = res._drive_objects["reservoir"]
    for k in (3, 5):
        short = res.run(k * 0.01, input_current=current, current_dt=0.01, seed=7)
        np.testing.assert_array_equal(short.spikes.indices, run.spikes.indices[run.spikes.times < k * 0.01])
        np.testing.assert_allclose(np.asarray(G.v[:]), run.state_samples["v"][k], rtol=1e-12)
        np.testing.assert_allclose(np.asarray(G.u[:]), run.state_samples["u"][k], rtol=1e-12)
    assert IzhikevichReservoir(cfg, seed=3).run(0.05, input_current=current).state_samples is None


def test_record_state_bad_names():
    with pytest.raises(ValueError, match="record_state"):
        IzhikevichReservoir(preset("timing", n_neurons=20), seed=0, record_state=("w",))
    with pytest.raises(ValueError, match="needs tau_syn > 0"):
        IzhikevichReservoir(preset("sparse", n_neurons=20), seed=0, record_state=("I_exp",))


def test_input_spike_delay_delays_each_input_synapse():
    """A burst from one input at 10 ms reaches neuron i after its synapse's own delay (0..100 ms)."""
    from spiking.encoders import SpikeTrains

    cfg = ReservoirConfig(
        n_exc=40, n_inh=0, connectivity="prob", p_connect=0.0, noise_exc=0.0, noise_inh=0.0,
        n_inputs=1, p_input=1.0, w_input=60.0, input_spike_delay=0.1,
    )
    burst = SpikeTrains(np.zeros(5, dtype=np.int64), 0.01 + 1e-3 * np.arange(5), 1, 0.3)
    res = IzhikevichReservoir(cfg, seed=1)
    run = res.run(0.3, input_spikes=burst, seed=0)
    S = res._objects["input_synapses"]
    delay = np.zeros(40)
    delay[np.asarray(S.j[:])] = np.asarray(S.delay[:])
    steps = delay / cfg.dt
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)  # whole steps in [0, 100 ms]
    assert delay.min() >= 0 and delay.max() <= 0.1 + 1e-12 and np.unique(delay).size > 20
    first = np.full(40, np.inf)
    np.minimum.at(first, run.spikes.indices, run.spikes.times)
    fired = np.isfinite(first)
    assert fired.sum() >= 20
    latency = first[fired] - 0.01 - delay[fired]
    assert latency.min() >= 0 and latency.max() < 0.02  # a few ms after each own delay
    plain = IzhikevichReservoir(cfg.replace(input_spike_delay=0.0), seed=1)
    undelayed = plain.run(0.3, input_spikes=burst, seed=0)
    assert undelayed.spikes.times.max() < 0.04 < first[fired].max()
    # the delays are the last structure draw: the weights are those of the undelayed network
    np.testing.assert_array_equal(np.asarray(plain._objects["input_synapses"].w[:]), np.asarray(S.w[:]))
    with pytest.raises(ValueError, match="input_spike_delay"):
        cfg.replace(input_spike_delay=-0.1)
