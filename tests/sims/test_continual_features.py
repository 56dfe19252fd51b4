"""``run continual --features``: liquid / reservoir states, readouts, the stability-gap summary."""

import json

import numpy as np
import pytest

from sims.cli import main
from sims.runner import execute

TINY = dict(stream="permuted-digits", n_tasks=2, image_size=8, epochs=1, subspace_first=10,
            subspace_per_task=5, eval_every=5, eval_samples=40, liquid_grid="4x4x4", liquid_duration="30ms",
            n_init=20)


@pytest.mark.parametrize("readout", ["softmax", "three-factor"])
def test_liquid_features_run_and_report_the_stability_gap(tmp_path, readout):
    params = {**TINY, "features": "nalsm", "readout": readout, "method": "hlop",
              "feature_cache": str(tmp_path / "c")}
    s = execute("continual", params, seed=0, out=tmp_path / readout)
    assert s["features"] == "nalsm" and s["readout"] == readout and s["units"] == "fraction"
    assert s["n_features"] == 64 and s["n_liquid"] == 64
    for key in ("acc", "bwt", "forgetting", "min_acc", "wc_acc"):
        assert key in s
    assert 0 <= s["acc"] <= 1 and 0 <= s["stability_gap_depth"] <= 1
    assert len(s["stability_gap_depth_per_switch"]) == 1 and "stability_gap_iterations" in s
    R = np.array(s["accuracy_matrix"])
    assert R.shape == (2, 2) and R[0, 0] > 0.3  # the readout learns the first task from liquid states
    on_disk = json.loads((tmp_path / readout / "summary.json").read_text())
    assert on_disk["stability_gap_depth"] == pytest.approx(s["stability_gap_depth"])
    assert (tmp_path / readout / "accuracy_curves.png").stat().st_size > 0


def test_states_are_computed_once_and_shared(tmp_path):
    cache = str(tmp_path / "c")
    first = execute("continual", {**TINY, "features": "lsm", "method": "finetune", "feature_cache": cache},
                    seed=1, out=None)
    again = execute("continual", {**TINY, "features": "lsm", "method": "exact", "feature_cache": cache},
                    seed=1, out=None)
    assert first["feature_cache_misses"] == 4 and first["feature_cache_hits"] == 0
    assert again["feature_cache_misses"] == 0 and again["feature_cache_hits"] == 4
    # the same seed gives the same run, states included (the old name liquid_ms is an alias, in ms)
    old_name = {k: v for k, v in TINY.items() if k != "liquid_duration"}
    rerun = execute("continual", {**old_name, "liquid_ms": 30, "features": "lsm", "method": "finetune",
                                  "feature_cache": "none"}, seed=1, out=None)
    assert rerun["accuracy_matrix"] == first["accuracy_matrix"]


@pytest.mark.slow  # ~2 min: 3600 digits through a Brian2 reservoir
def test_reservoir_features(tmp_path):
    s = execute("continual", {**TINY, "features": "reservoir", "reservoir_neurons": 60,
                              "reservoir_duration": "40ms", "method": "finetune", "feature_cache": "none"},
                seed=0, out=None)
    assert s["n_features"] == 60 and s["n_reservoir"] == 60 and s["readout"] == "softmax"
    assert np.array(s["accuracy_matrix"])[0, 0] > 0.2


def test_bad_features_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "continual", "--features", "retina"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "features" in err and "retina" in err
    with pytest.raises(ValueError, match="whole number of ms"):
        execute("continual", {**TINY, "features": "lsm", "liquid_duration": "2.5ms"}, seed=0, out=None)
    with pytest.raises(ValueError, match="liquid_grid|grid"):
        execute("continual", {**TINY, "features": "lsm", "liquid_grid": "4x4"}, seed=0, out=None)
