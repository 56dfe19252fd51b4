"""``neuroplast run nalsm``: summary fields, plots, sweeps and bad input (tiny liquids, numpy target)."""

import json

import numpy as np
import pytest

from plasticity_rules.readouts import SoftmaxReadout
from sims.nalsm import NALSMConfig
from sims.parsing import parse_floats, parse_grid
from sims.runner import execute
from tasks.datasets import normalise_rows

TINY = {
    "grid": "3x3x3",
    "n_train": 20,
    "n_val": 6,
    "n_test": 6,
    "n_init": 5,
    "sample_duration": "60ms",
    "epochs": 5,
    "n_record": 3,
    "backend": "numpy",
}


def test_run_writes_summary_and_plots(tmp_path):
    s = execute("nalsm", dict(TINY, model="nalsm"), seed=0, out=tmp_path)
    _assert_declared("nalsm", dict(TINY, model="nalsm"), s)
    for key in (
        "dataset",
        "model",
        "n_liquid",
        "test_accuracy",
        "validation_accuracy",
        "branching_factor",
        "branching_factor_chance",
        "w_astro",
        "seed",
        "wall_time_s",
        "kernel_quality",
        "generalisation_rank",
        "confusion_matrix",
    ):
        assert key in s, key
    assert s["dataset"] == "digits" and s["model"] == "nalsm" and s["n_liquid"] == 27
    cm = np.array(s["confusion_matrix"])
    assert cm.sum() == 6 and s["test_accuracy"] == pytest.approx(np.trace(cm) / cm.sum())
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["test_accuracy"] == s["test_accuracy"]
    for name in ("accuracy_vs_bf.png", "raster.png", "astrocyte.png"):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.slow
def test_sweep_runs_every_model(tmp_path):
    s = execute(
        "nalsm", dict(TINY, sweep=True, lsm_scales="0.5,1.0", astro_values="0.01"), seed=0, out=tmp_path
    )
    models = [r["model"] for r in s["sweep"]]
    assert models == ["lsm", "lsm", "stdp", "nalsm"]
    assert s["best_lsm_w_scale"] in (0.5, 1.0)


def test_same_seed_same_result_numba_engine():
    a = execute("nalsm", dict(TINY, model="stdp", engine="numba"), seed=1)
    b = execute("nalsm", dict(TINY, model="stdp", engine="numba"), seed=1)
    assert a["engine"] == "numba"
    assert a["test_accuracy"] == b["test_accuracy"] and a["branching_factor"] == b["branching_factor"]


def test_bad_parameters():
    with pytest.raises(ValueError, match="unknown model 'foo'"):
        execute("nalsm", {"model": "foo"})
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        execute("nalsm", {"dataset": "cifar"})
    with pytest.raises(ValueError, match="grid"):
        NALSMConfig(grid="10x0x10")
    with pytest.raises(ValueError, match="grid"):
        parse_grid("ten")
    with pytest.raises(ValueError, match="sample_duration"):
        NALSMConfig(sample_duration=0.04)
    with pytest.raises(ValueError, match="astro_values"):
        NALSMConfig(astro_values="0.1,x")
    assert parse_floats("x", "0.5, 1") == [0.5, 1.0]


def test_cli_reports_bad_model_in_one_line(capsys):
    from sims.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["run", "nalsm", "--model", "foo", "--seed", "0"])
    assert exc.value.code == 2
    assert "foo" in capsys.readouterr().err


def test_readout_and_normalisation():
    import numpy as np

    rng = np.random.default_rng(0)
    counts = rng.poisson(3, (200, 20)).astype(float)
    y = rng.integers(0, 3, 200)
    counts[np.arange(200), y] += 20  # class-coding neuron
    X, scale = normalise_rows(counts)
    assert X.max() == pytest.approx(1.0)
    np.testing.assert_allclose(X * scale, counts / counts.sum(1, keepdims=True))
    ro = SoftmaxReadout(n_classes=3, epochs=30, seed=0).fit(X[:150], y[:150], X[150:], y[150:])
    assert ro.val_accuracy_ > 0.9 and np.mean(ro.predict(X[150:]) == y[150:]) > 0.9
    # progress reporting calls back once per epoch and does not change the fit
    seen = []
    again = SoftmaxReadout(n_classes=3, epochs=30, seed=0).fit(
        X[:150], y[:150], X[150:], y[150:], on_epoch=seen.append
    )
    assert seen == list(range(30)) and np.array_equal(again.coef_, ro.coef_)


@pytest.mark.slow
def test_fashion_mnist_run(tmp_path):
    """Needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist); 1000-neuron liquid."""
    from pathlib import Path

    if not Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").exists():
        pytest.skip("dataset-fashion-mnist not installed")
    s = execute("nalsm", {"dataset": "fashion-mnist", "engine": "numba", "model": "nalsm", "n_train": 200,
                          "n_val": 50, "n_test": 50, "n_init": 200, "epochs": 20}, seed=0, out=tmp_path)
    assert s["dataset"] == "fashion-mnist" and s["n_liquid"] == 1000 and s["n_input"] == 784
    assert s["test_accuracy"] > 0.3  # far above chance (0.1) even on this small subset


def test_own_idx_data_and_data_path(tmp_path, write_idx_set, capsys):
    """Any MNIST-format directory runs: odd sizes, 5 classes, 20x20 images; errors are one line."""
    from sims.cli import main

    write_idx_set(tmp_path / "own", 300, 100, n_classes=5, shape=(20, 20))
    small = dict(TINY, n_train=40, n_val=10, n_test=10, engine="numba")
    s = execute("nalsm", dict(small, dataset=f"idx:{tmp_path / 'own'}", split_seed=2), seed=0)
    assert s["n_input"] == 400 and s["n_classes"] == 5 and len(s["confusion_matrix"]) == 5
    assert "official-release check skipped" in s["data"] and "split_seed=2" in s["data"]
    assert (s["n_train"], s["n_val"], s["n_test"]) == (40, 10, 10)
    # more than the files hold, a missing directory, a bad spec: one line naming what is wrong, exit 2
    for args, expect in (
        (["--dataset", f"idx:{tmp_path / 'own'}", "--n-train", "260"], "at most the 300 images"),
        (["--dataset", "mnist", "--data-path", str(tmp_path / "none")], "no such directory"),
        (["--dataset", "cifar"], "unknown dataset 'cifar'"),
    ):
        assert main(["run", "nalsm", *args, "--no-progress"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("neuroplast: error:") and expect in err
        assert "\n" not in err and "None" not in err


def _assert_declared(name, params, summary):
    """Every summary key is declared (scan specs may name it in ``metrics``)."""
    from sims import registry

    sim = registry.get(name)
    undeclared = set(summary) - sim.output_names(sim.make_config(params)) - {
        "package_version", "brian2_version", "numba_version"}
    assert not undeclared, f"summary keys not declared in the registry: {sorted(undeclared)}"
