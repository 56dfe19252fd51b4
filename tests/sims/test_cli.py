import importlib.metadata
import json
import subprocess
import sys

import pytest

from sims.cli import main


def test_run_reservoir_writes_summary_and_raster(tmp_path):
    out = tmp_path / "res"
    code = main(
        [
            "run",
            "reservoir",
            "--n-neurons",
            "100",
            "--duration",
            "200ms",
            "--seed",
            "3",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    _assert_declared("reservoir", {"n_neurons": 100, "duration": "200ms"}, summary)
    for key in (
        "n_neurons",
        "duration_s",
        "seed",
        "mean_rate_exc_hz",
        "mean_rate_inh_hz",
        "wall_time_s",
        "brian2_version",
        "package_version",
    ):
        assert key in summary
    assert (
        summary["n_neurons"] == 100 and summary["duration_s"] == pytest.approx(0.2) and summary["seed"] == 3
    )
    assert summary["brian2_version"] == importlib.metadata.version("brian2")  # what is installed, not a pin
    assert summary["mean_rate_exc_hz"] > 0
    png = (out / "raster.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


@pytest.mark.parametrize(
    "args, match",
    [
        (["--duration=-1s"], "duration must be > 0"),
        (["--duration", "soon"], "duration must be a duration such as '1s'"),
        (["--n-neurons", "0"], "n_neurons must be >= 2, got 0"),
        (["--n-neurons", "many"], "n_neurons must be of type int"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, match, capsys, tmp_path):
    code = main(["run", "reservoir", *args, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("neuroplast: error: ") and match in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_unknown_choice_and_help():
    proc = subprocess.run(
        [sys.executable, "-m", "sims.cli", "run", "reservoir", "--preset", "nope"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "invalid choice: 'nope'" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "sims.cli", "run", "reservoir", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "--n-neurons" in proc.stdout and "--seed" in proc.stdout


def test_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(
        ["run", "reservoir", "--n-neurons", "10", "--duration", "10ms", "--out", str(blocker / "sub")]
    )
    assert code == 2 and "cannot create output directory" in capsys.readouterr().err


def test_the_register_decorator_is_the_one_list_of_simulations():
    from sims import registry

    mods = registry.simulation_modules()
    assert "sims._testing" not in mods and "sims.registry" not in mods  # private / docstring only
    declared = {registry.get(n).run.__module__ for n in registry.names() if not n.startswith("_")}
    assert declared == set(mods)


def _assert_declared(name, params, summary):
    """Every summary key is declared (scan specs may name it in ``metrics``)."""
    from sims import registry

    sim = registry.get(name)
    undeclared = set(summary) - sim.output_names(sim.make_config(params)) - {
        "package_version", "brian2_version", "numba_version"}
    assert not undeclared, f"summary keys not declared in the registry: {sorted(undeclared)}"
