"""The ``continual`` simulation: outputs, HLOP vs fine-tuning forgetting, bad input."""

import csv
import json

import numpy as np
import pytest

from sims.cli import main
from sims.continual import ContinualConfig, train_stream
from sims.runner import execute
from tasks.continual import permuted_digits

SMALL = dict(n_tasks=3, n_hidden=64, image_size=16, epochs=2, subspace_first=20, subspace_per_task=10,
             eval_every=5, eval_samples=60)


@pytest.fixture(scope="module")
def small_runs():
    stream = permuted_digits(3, image_size=16, seed=0)
    out = {}
    for method in ("finetune", "hlop"):
        cfg = ContinualConfig(method=method, **SMALL)
        out[method] = train_stream(stream, cfg, seed=1)
    return out


def test_hlop_forgets_less_than_finetune(small_runs):
    ft, hl = small_runs["finetune"]["metrics"], small_runs["hlop"]["metrics"]
    assert ft["forgetting"] > 0.10  # fine-tuning forgets heavily on this stream
    assert hl["forgetting"] < 0.5 * ft["forgetting"]
    assert hl["bwt"] > ft["bwt"]
    assert hl["min_acc"] > ft["min_acc"]
    # every task is learned (diagonal well above chance)
    assert np.all(np.diag(small_runs["hlop"]["R"]) > 0.7)


def test_curves_and_phases(small_runs):
    res = small_runs["hlop"]
    T = res["R"].shape[0]
    assert res["curve"].shape == (len(res["phase"]), T)
    assert res["phase"][-1] == T and np.all(np.diff(res["phase"]) >= 0)
    # unseen tasks are NaN, seen ones are accuracies
    during0 = res["curve"][res["phase"] == 0]
    assert np.all(np.isnan(during0[:, 1:])) and np.all((during0[:, 0] >= 0) & (during0[:, 0] <= 1))
    assert res["hlop_orthonormality_error"] < 0.2


def test_run_writes_summary_matrix_and_plots(tmp_path):
    params = {**SMALL, "n_tasks": 2, "epochs": 1, "method": "exact"}
    summary = execute("continual", params, seed=0, out=tmp_path)
    for key in ("stream", "method", "n_tasks", "acc", "bwt", "fwt", "forgetting", "min_acc", "wc_acc", "seed",
                "wall_time_s"):
        assert key in summary
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    _assert_declared("continual", params, on_disk)
    assert on_disk["method"] == "exact" and on_disk["n_tasks"] == 2
    assert on_disk["accuracy_unit"] == "fraction" and 0 <= on_disk["acc"] <= 1
    rows = [r for r in csv.reader(open(tmp_path / "accuracy_matrix.csv")) if not r[0].startswith("#")]
    R = np.array(rows, dtype=float)
    assert R.shape == (2, 2)
    np.testing.assert_allclose(R, on_disk["accuracy_matrix"], atol=1e-3)
    assert on_disk["acc"] == pytest.approx(R[-1].mean(), abs=1e-3)
    assert (tmp_path / "accuracy_matrix.png").stat().st_size > 0
    assert (tmp_path / "accuracy_curves.png").stat().st_size > 0


@pytest.mark.parametrize("method", ["ewc", "multitask"])
def test_other_methods_run(method):
    stream = permuted_digits(2, image_size=12, seed=0)
    cfg = ContinualConfig(method=method, **{**SMALL, "n_tasks": 2, "epochs": 1})
    res = train_stream(stream, cfg, seed=0)
    assert res["R"].shape == (2, 2) and np.all(np.isfinite(res["R"]))
    assert res["R"][0, 0] > 0.5


def test_split_task_incremental_runs():
    from tasks.continual import split_digits

    stream = split_digits(2, scenario="task", image_size=12, seed=0)
    cfg = ContinualConfig(method="hlop", **{**SMALL, "n_tasks": 2, "epochs": 1})
    res = train_stream(stream, cfg, seed=0)
    assert res["R"][1, 1] > 0.8  # 5-way within-task choice


def test_bad_input(capsys):
    with pytest.raises(ValueError, match="exceeds the input dimension 64"):
        train_stream(permuted_digits(2, image_size=16, seed=0),
                     ContinualConfig(method="hlop", **{**SMALL, "subspace_first": 60}), seed=0)
    with pytest.raises(ValueError, match="subspace_first"):
        ContinualConfig(subspace_first=0)
    with pytest.raises(ValueError, match="momentum"):
        ContinualConfig(hlop_momentum=1.5)
    with pytest.raises(ValueError, match="TaskStream"):
        train_stream([], ContinualConfig())
    assert main(["run", "continual", "--n-tasks", "0", "--no-progress"]) == 2
    assert "n_tasks" in capsys.readouterr().err
    assert main(["run", "continual", "--n-tasks", "3", "--n-hidden", "32", "--no-progress"]) == 2
    assert "exceeds the input dimension" in capsys.readouterr().err


def test_continual_reads_data_path(tmp_path, write_idx_set, capsys):
    write_idx_set(tmp_path / "own", 300, 100, n_classes=4, shape=(12, 12))
    cfg = dict(SMALL, n_tasks=2, epochs=1, subspace_first=8, subspace_per_task=4, n_hidden=32, max_train=60,
               max_test=20)
    s = execute("continual", dict(cfg, stream="split-idx-class", data_path=str(tmp_path / "own")), seed=0)
    assert s["n_inputs"] == 144 and len(s["accuracy_matrix"]) == 2
    assert "official-release check skipped" in s["data"]
    assert main(["run", "continual", "--stream", "split-mnist-class", "--data-path", str(tmp_path / "none"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "no such directory" in err and str(tmp_path / "none") in err


def _assert_declared(name, params, summary):
    """Every summary key is declared (scan specs may name it in ``metrics``)."""
    from sims import registry

    sim = registry.get(name)
    undeclared = set(summary) - sim.output_names(sim.make_config(params)) - {
        "package_version", "brian2_version", "numba_version"}
    assert not undeclared, f"summary keys not declared in the registry: {sorted(undeclared)}"
