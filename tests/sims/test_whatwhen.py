"""``neuroplast run whatwhen`` with tiny settings."""

import json

import numpy as np
import pytest

from sims import cli
from sims.runner import execute

TINY = {
    "blocks": "6:0.1:0.7,0.3; 6:0.15:0.3,0.7",
    "trial_duration": "0.3s",
    "n_neurons": 40,
    "probe_fraction": 0.3,
    "eval_trials": 2,
    "backend": "numpy",
}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ww")
    summary = execute("whatwhen", TINY, seed=3, out=out)
    return out, summary


def test_summary_and_plots(tiny_run):
    out, s = tiny_run
    on_disk = json.loads((out / "summary.json").read_text())
    _assert_declared("whatwhen", TINY, on_disk)
    for key in (
        "readout",
        "timing_error_ms",
        "amplitude_probability_corr",
        "recovery_trials",
        "what_when_cosine",
        "seed",
        "wall_time_s",
        "worst_error_after_switch",
        "learning_curve",
        "time_decoding_r2",
        "amplitude_probability_corr_single_trial_peaks",
        "amplitude_probability_corr_above_baseline",
        "what_timing_error_ms",
    ):
        assert key in on_disk, key
    assert on_disk["readout"] == "three_factor" and on_disk["seed"] == 3
    assert len(on_disk["recovery_trials"]) == 1 == len(on_disk["switch_trials"])
    assert len(on_disk["learning_curve"]) == 12
    # issue 15 contract: per-block timing bias, anchored recovery, decoding per centre
    assert len(on_disk["timing_bias_ms_per_block"]) == 2
    assert on_disk["timing_bias_ms"] == pytest.approx(np.mean(on_disk["timing_bias_ms_per_block"]))
    assert on_disk["recovery_anchor"] == "no-switch control"
    assert len(on_disk["control_error_at_switch"]) == 1 and on_disk["control_error_at_switch"][0] > 0
    assert on_disk["recovery_threshold"][0] == pytest.approx(1.2 * on_disk["control_error_at_switch"][0])
    assert len(on_disk["time_decoding_r2"]) == len(on_disk["time_decoding_centres_ms"])
    assert on_disk["time_decoding_r2_min"] == pytest.approx(min(on_disk["time_decoding_r2"]))
    assert set(on_disk["comparison"]) == {"three_factor", "force", "force_reset", "ridge"}
    # the reported cosine is that of the smallest principal angle between the what and when weights
    angles = np.asarray(on_disk["what_when_angles_deg"])
    assert on_disk["what_when_cosine"] == pytest.approx(np.cos(np.radians(angles.min())))
    for name in ("readout_traces.png", "learning_curves.png", "amplitude_vs_probability.png"):
        assert (out / name).stat().st_size > 1000


def test_same_seed_same_result(tiny_run):
    _, s = tiny_run
    again = execute("whatwhen", {**TINY, "compare": False}, seed=3)
    assert again["learning_curve"] == s["learning_curve"]
    assert again["timing_error_ms"] == s["timing_error_ms"]


def test_force_reset_differs_from_force_only_after_switch(tiny_run):
    _, s = tiny_run
    from sims import whatwhen as sw
    from tasks import whatwhen as ww
    from tasks import whatwhen_training as wwt

    c = sw.WhatWhenConfig(**{k: v for k, v in TINY.items() if k != "trial_duration"}, trial_duration=0.3)
    sess = ww.generate(c.paradigm(), seed=0)
    X = np.random.default_rng(0).random((sess.times.size, 10))
    settings = sw.readout_settings(c)
    a, _ = wwt.train_readout("force", sess, X, settings)
    b, _ = wwt.train_readout("force_reset", sess, X, settings)
    k = sess.switch_trials[0] * sess.paradigm.steps_per_trial
    np.testing.assert_array_equal(a[:k], b[:k])
    assert not np.allclose(a[k:], b[k:])


def test_time_decoding_separates_clocks_from_noise():
    from sims import whatwhen as sw
    from tasks import whatwhen as ww
    from tasks import whatwhen_metrics as wwm

    c = sw.WhatWhenConfig(blocks="20:0.2:0.5,0.5", trial_duration=0.4, probe_fraction=0.3)
    sess = ww.generate(c.paradigm(), seed=1)
    spt = sess.paradigm.steps_per_trial
    rng = np.random.default_rng(0)
    # a perfect clock: one unit per step of the trial (time since the trial start)
    clock = np.tile(np.eye(spt), (sess.n_trials, 1)) + 0.01 * rng.random((sess.times.size, spt))
    good = wwm.time_decoding(sess, clock, alpha=1e-3)
    assert good["centres_ms"] == pytest.approx([50.0, 100.0, 150.0, 200.0])
    assert min(good["r2"]) > 0.95
    # states without any memory of the cue: nothing to decode on held-out trials
    noise = rng.random((sess.times.size, 30))
    bad = wwm.time_decoding(sess, noise, alpha=1e-3)
    assert max(bad["r2"]) < 0.2
    # a clock that fades 100 ms after the cue decodes early bumps only
    rel = np.arange(spt) * sess.paradigm.dt - sess.paradigm.cue_time
    fading = clock * np.tile(np.where(rel <= 0.1, 1.0, 0.0), sess.n_trials)[:, None]
    fade = wwm.time_decoding(sess, fading + 0.01 * rng.random(fading.shape), alpha=1e-3)
    assert fade["r2"][0] > 0.9 and fade["r2"][-1] < 0.3


@pytest.mark.parametrize(
    "params, match",
    [
        ({"blocks": "5:0.1:0.5,0.6"}, "probabilities must sum to 1"),
        ({"blocks": "5:0.1:1.2,-0.2"}, "probabilities\\[1\\]"),
        ({"blocks": "5:0.6:0.5,0.5"}, "beyond the trial"),
        ({"gate_floor": 1.5}, "gate_floor"),
        ({"readout": "lms"}, "unknown readout"),
        ({"trace_taus": "0.1,-1"}, "trace_taus"),
        ({"tau_syn": -0.01}, "tau_syn"),
        ({"what_gate": "cue"}, "what_gate"),
    ],
)
def test_bad_input(params, match):
    with pytest.raises(ValueError, match=match):
        execute("whatwhen", params, seed=0)


def test_cli_error_is_one_line(capsys):
    code = cli.main(["run", "whatwhen", "--blocks", "5:0.1:0.5,0.6"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("neuroplast: error:") and "probabilities" in err and err.count("\n") == 1


@pytest.mark.slow
def test_default_session_force_reset_adapts_faster_than_force():
    """At the defaults (minutes): after each switch, resetting P lowers FORCE's error.

    The issue's other claims (three-factor amplitude correlation >= 0.9, faster
    recovery than FORCE, near-orthogonal what/when weights) are measured and
    reported by the simulation; they are not asserted here.
    """
    s = execute("whatwhen", {}, seed=0)
    comp = s["comparison"]
    assert set(comp) == {"three_factor", "force", "force_reset", "ridge"}
    curve = {}
    for name in ("force", "force_reset"):
        again = execute("whatwhen", {"readout": name, "compare": False}, seed=0)
        curve[name] = np.asarray(again["learning_curve"])
    for sw in s["switch_trials"]:
        after = slice(sw, sw + 20)
        assert curve["force_reset"][after].mean() < curve["force"][after].mean()


def _assert_declared(name, params, summary):
    """Every summary key is declared (scan specs may name it in ``metrics``)."""
    from sims import registry

    sim = registry.get(name)
    undeclared = set(summary) - sim.output_names(sim.make_config(params)) - {
        "package_version", "brian2_version", "numba_version"}
    assert not undeclared, f"summary keys not declared in the registry: {sorted(undeclared)}"


def test_config_defaults_are_the_library_readout_defaults():
    # the tutorial composes tasks.whatwhen_training with its defaults; they must be the CLI's
    from sims import whatwhen as sw
    from tasks import whatwhen_training as wwt

    assert sw.readout_settings(sw.WhatWhenConfig()) == wwt.ReadoutSettings()
    assert sw.readout_settings(sw.WhatWhenConfig(ridge_alpha=3.0)).ridge_alpha == 3.0
