"""What every run promises: interrupted runs, overflowing sizes, memory refusals and failed
runs write nothing, a completed run writes one complete output directory."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sims._testing  # noqa: F401 - registers `_toy`
from sims import limits
from sims.cli import main
from sims.outputs import staged_output
from sims.runner import execute

ROOT = Path(__file__).resolve().parents[2]


def _env():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("MPLBACKEND", None)
    return env


# ---------------------------------------------------------------------------------- interrupt
def test_sigint_during_a_real_run_writes_nothing_and_exits_130(tmp_path):
    out = tmp_path / "results" / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sims.cli", "run", "reservoir", "--n-neurons", "200",
         "--duration", "600s", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=tmp_path,
    )
    # wait until the simulation loop runs (its progress bar appears), then Ctrl-C once
    seen = b""
    deadline = time.monotonic() + 120
    while b"s(bio)" not in seen and time.monotonic() < deadline and proc.poll() is None:
        seen += os.read(proc.stderr.fileno(), 4096)
    assert b"s(bio)" in seen, seen.decode(errors="replace")
    assert any(p.name.endswith(".partial") for p in (tmp_path / "results").iterdir())
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    err = stderr.decode(errors="replace")
    assert proc.returncode == 130, err
    assert stdout == b""  # no summary printed
    last = err.replace("\r", "\n").strip().splitlines()[-1].strip()
    assert last == "neuroplast: interrupted; nothing was written"
    assert "Traceback" not in err and err.count("neuroplast:") == 1
    assert not (tmp_path / "results").exists()  # neither the output nor the parent it created


def test_brian2_stop_on_first_ctrl_c_is_switched_off():
    import brian2

    from spiking.engine import configure

    configure("numpy")
    assert brian2.prefs.core.stop_on_keyboard_interrupt is False


def test_interrupt_caught_inside_a_run_is_still_reported(tmp_path):
    from sims.runner import Interrupted, interrupt_guard

    # a library that swallows the KeyboardInterrupt cannot make the run look complete
    with pytest.raises(Interrupted):
        with interrupt_guard():
            try:
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)
            except KeyboardInterrupt:
                pass


# ---------------------------------------------------------------------------------- overflow
@pytest.mark.parametrize(
    "name, params, match",
    [
        ("reservoir", {"duration": "1e300s"}, "steps of 1 ms; at most"),
        ("reservoir", {"duration": float("inf")}, "finite"),
        ("nalsm", {"sample_duration": "1e20s"}, "fit the step counter"),
        ("whatwhen", {"trial_duration": "1e20s"}, "fit the step counter"),
        ("prediction", {"step": "1e300s"}, "fit the step counter"),
    ],
)
def test_step_counter_overflow_is_refused(name, params, match):
    with pytest.raises(ValueError, match=match):
        execute(name, params)


def test_reservoir_refuses_overflowing_duration_in_the_library():
    from spiking.reservoir import IzhikevichReservoir, preset

    res = IzhikevichReservoir.__new__(IzhikevichReservoir)  # the check comes before any Brian2 object
    res.config = preset(n_neurons=10)
    with pytest.raises(ValueError, match="step counter"):
        res.run(1e300)


# ---------------------------------------------------------------------------------- memory
@pytest.mark.parametrize(
    "name, params, option",
    [
        ("reservoir", {"n_neurons": 10**6}, "--n-neurons"),
        ("reservoir", {"duration": "1e9s"}, "--duration"),
        ("continual", {"n_tasks": 100000}, "--n-tasks"),
        ("nalsm", {"grid": "200x200x200"}, "--grid"),
        ("whatwhen", {"n_neurons": 10**6}, "--n-neurons"),
        ("prediction", {"n_train": 10**9}, "--n-train"),
    ],
)
def test_runs_beyond_memory_are_refused_before_building(name, params, option, tmp_path):
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=f"needs about .* is available; lower .*{option}"):
        execute(name, params, out=tmp_path / "out")
    assert time.perf_counter() - t0 < 5  # refused from the parameters, nothing was built
    assert not (tmp_path / "out").exists()


def test_max_memory_replaces_the_available_memory(capsys):
    code = main(["run", "_toy", "--max-memory", "1K"])
    assert code == 2
    assert "allowed by --max-memory" in capsys.readouterr().err
    assert main(["run", "_toy", "--max-memory", "64G"]) == 0
    assert main(["run", "_toy", "--max-memory", "lots"]) == 2
    assert "--max-memory must be a size" in capsys.readouterr().err


def test_size_parsing_and_memory_check():
    assert limits.parse_size("8G") == 8 * 2**30
    assert limits.parse_size("512MiB") == 512 * 2**20
    assert limits.parse_size(1000) == 1000
    with pytest.raises(ValueError):
        limits.parse_size("-1G")
    parts = {"a": (3 * 2**30, "--a"), "b": (1 * 2**30, "--b")}
    assert limits.check_memory(parts, "8G") == 4 * 2**30
    with pytest.raises(ValueError, match=r"needs about 4 GiB .*\(a: 3 GiB\) .*lower --a"):
        limits.check_memory(parts, "2G")


# ---------------------------------------------------------------------------------- atomic output
def test_output_directory_holds_one_complete_run(tmp_path):
    out = tmp_path / "deep" / "run"
    s = execute("_toy", {"x": 0.1}, seed=1, out=out)
    assert sorted(p.name for p in out.iterdir()) == ["summary.json", "toy.txt"]
    assert json.loads((out / "summary.json").read_text())["score"] == s["score"]
    # a second run replaces the first as a whole (no stale files of the first run remain)
    (out / "stale.png").write_bytes(b"old")
    execute("_toy", {"x": 0.2}, seed=1, out=out)
    assert sorted(p.name for p in out.iterdir()) == ["summary.json", "toy.txt"]
    assert (out / "toy.txt").read_text() == "x = 0.2\n"
    assert [p.name for p in out.parent.iterdir()] == ["run"]  # no temporary directory left


def test_failed_run_leaves_no_files_and_keeps_the_previous_result(tmp_path):
    out = tmp_path / "a" / "b"
    with pytest.raises(RuntimeError, match="on purpose"):
        execute("_toy", {"fail": True}, out=out)
    assert not (tmp_path / "a").exists()  # the parents it created are gone too
    execute("_toy", {"x": 0.5}, out=out)
    before = (out / "summary.json").read_text()
    with pytest.raises(RuntimeError):
        execute("_toy", {"fail": True, "x": 0.7}, out=out)
    assert (out / "summary.json").read_text() == before and (out / "toy.txt").read_text() == "x = 0.5\n"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b"]


@pytest.mark.parametrize(
    "bad, match", [("", "empty path"), ("file", "not a directory"), ("busy", "not empty")]
)
def test_unusable_out_is_refused_before_running(bad, match, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("x")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.tex").write_text("keep me")
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["run", "_toy", "--sleep", "30s", "--out", bad])  # would sleep if it ran
    err = capsys.readouterr().err
    assert code == 2 and match in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "busy" / "thesis.tex").read_text() == "keep me"


def test_unwritable_parent_is_refused_before_running(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user that ignores permissions")
        with pytest.raises(ValueError, match="cannot create output directory"):
            with staged_output(ro / "run"):
                pass
    finally:
        ro.chmod(0o700)


# ---------------------------------------------------------------------------------- unexpected errors
def test_unexpected_error_is_one_line_with_a_log_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NEUROPLAST_CACHE", str(tmp_path / "cache"))
    code = main(["run", "_toy", "--fail", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("neuroplast: error: unexpected RuntimeError: toy failure on purpose")
    log = Path(err.rsplit("traceback in ", 1)[1].strip())
    assert log.parent == tmp_path / "cache" / "logs" and "Traceback" in log.read_text()
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------------------- scan specs
def test_scan_metrics_are_checked_against_the_declared_outputs():
    from sims.scan import parse_spec

    ok = parse_spec({"simulation": "_toy", "metrics": ["score"], "scan": {"x": [0, 1]}})
    assert ok.metrics == ("score",)
    with pytest.raises(ValueError, match="'accuracy' is not reported by simulation '_toy'; it reports"):
        parse_spec({"simulation": "_toy", "metrics": ["score", "accuracy"], "scan": {"x": [0, 1]}})
    with pytest.raises(ValueError, match="'test_acc' is not reported by simulation 'nalsm'"):
        parse_spec({"simulation": "nalsm", "metrics": ["test_acc"], "scan": {"eta": [0.1, 0.2]}})
    # keys that depend on the parameters (prediction's horizon) are declared per point
    parse_spec({"simulation": "prediction", "metrics": ["esn_nrmse_direct_10_step"],
                "fixed": {"horizon": 10}, "scan": {"n_neurons": [50, 60]}})
    with pytest.raises(ValueError, match="'esn_nrmse_direct_84_step' is not reported"):
        parse_spec({"simulation": "prediction", "metrics": ["esn_nrmse_direct_84_step"],
                    "fixed": {"horizon": 10}, "scan": {"n_neurons": [50, 60]}})


@pytest.mark.parametrize(
    "scan, match",
    [
        ({"x": {"start": 0, "stop": 1, "num": 100_000_000}}, "scan.x.num: is 100000000; at most"),
        ({"x": {"random": "uniform", "low": 0, "high": 1, "count": 10**9}}, "scan.x.count: is"),
        ({"x": {"start": 0, "stop": 1, "num": 10_000}, "k": {"start": 1, "stop": 10_000, "num": 10_000}},
         "100000000 runs; at most"),
    ],
)
def test_huge_scan_is_refused_by_its_size(scan, match):
    from sims.scan import parse_spec

    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        parse_spec({"simulation": "_toy", "scan": scan})
    assert time.perf_counter() - t0 < 2  # counted, not materialised


def test_scan_out_is_required_and_not_empty(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text('simulation = "_toy"\nmodule = "sims._testing"\n[scan]\nx = [0, 1]\n')
    for extra in ([], ["--out", ""]):
        assert main(["scan", str(spec), *extra]) == 2
        assert "--out DIR is required" in capsys.readouterr().err


# ---------------------------------------------------------------------------------- --help
def test_help_shows_choices_defaults_and_per_simulation_seed(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")

    def _help(*args):
        with pytest.raises(SystemExit) as exit_:
            main([*args, "--help"])
        assert exit_.value.code == 0
        return " ".join(capsys.readouterr().out.split())  # argparse wraps lines

    res = _help("run", "reservoir")
    assert "--preset {izhikevich2003,sparse,timing,prediction}" in res
    assert "--backend {cython,numpy,cpp_standalone}" in res
    assert "(default: izhikevich2003)" in res and "NumPy and Brian2" in res
    nalsm = _help("run", "nalsm")
    for shown in ("--dataset {digits,mnist,fashion-mnist,idx:DIR,npz:FILE}", "--model {lsm,stdp,nalsm}",
                  "--engine {brian2,numba}", "--sample-duration SAMPLE_DURATION", "--sample-ms MS"):
        assert shown in nalsm
    assert "(default: $NEUROPLAST_MNIST" in nalsm and "(default: )" not in nalsm
    assert "default: 0.25 s" in nalsm
    cont = _help("run", "continual")
    assert "--method {finetune,multitask,hlop,exact,ewc}" in cont and "--stream {permuted-digits," in cont
    assert "Brian2" not in cont.split("--seed", 1)[1].split("--out", 1)[0]
    assert "--gate-shape {constant,boxcar,ramp,gaussian}" in _help("run", "whatwhen")
    assert "required unless --dry-run" in _help("scan")


def test_old_millisecond_flags_are_aliases():
    from sims import registry

    sim = registry.get("nalsm")
    assert sim.make_config({"sample_ms": 100}).sample_duration == pytest.approx(0.1)
    assert sim.make_config({"sample_ms": "0.1s"}).sample_steps == 100
    assert sim.make_config({"init-ms": 30}).init_steps == 30
    with pytest.raises(ValueError, match="whole number of ms"):
        sim.make_config({"sample_duration": "100.5ms"})


def test_out_of_memory_inside_brian2_is_one_line(tmp_path, capsys, monkeypatch):
    import sims.runner

    def fake_execute(*args, **kwargs):  # what Brian2 raises when connect() cannot allocate
        try:
            raise MemoryError("Unable to allocate 4.00 GiB for an array")
        except MemoryError as exc:
            raise RuntimeError("Error with object named 'recurrent'.\nPlease report a bug") from exc

    monkeypatch.setattr(sims.runner, "execute", fake_execute)
    monkeypatch.setenv("NEUROPLAST_CACHE", str(tmp_path))
    assert main(["run", "_toy"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "report a bug" not in err
    assert err.startswith("neuroplast: error: out of memory: Unable to allocate 4.00 GiB")
    assert "traceback in " + str(tmp_path / "logs") in err


# ---------------------------------------------------------------------------------- first-run feedback
def test_compile_status_line_counts_seconds_of_uncached_compiles(monkeypatch):
    import io

    from brian2.codegen.runtime.cython_rt.extension_manager import CythonExtensionManager

    from sims.feedback import compile_seconds, compile_status

    calls = []

    def fake_load(self, module_path, *args, **kwargs):  # stands in for a Cython compile
        calls.append(module_path)
        time.sleep(1.3)
        return "module"

    monkeypatch.setattr(CythonExtensionManager, "_load_module", fake_load)
    stream = io.StringIO()
    with compile_status(True, stream):
        assert CythonExtensionManager._load_module(None, "/nonexistent/x.so") == "module"
        assert CythonExtensionManager._load_module(None, __file__) == "module"  # cached: no status
        assert 1.3 <= compile_seconds() < 2.5  # only the uncached compile counts as build time
    text = stream.getvalue()
    assert calls == ["/nonexistent/x.so", __file__]
    assert "compiling the network (first run only; cached in " in text and text.endswith("s (1 modules)\n")
    assert CythonExtensionManager._load_module is fake_load  # patch removed
    quiet = io.StringIO()
    with compile_status(True, quiet):
        CythonExtensionManager._load_module(None, __file__)
    assert quiet.getvalue() == ""  # a cached run prints nothing


def test_ctrl_c_that_killed_make_is_an_interrupt():
    from sims.feedback import _raise_if_interrupted

    with pytest.raises(KeyboardInterrupt):  # os.system wait status: killed by signal 2
        _raise_if_interrupted(RuntimeError("Project compilation failed (error code: 2)."))
    _raise_if_interrupted(RuntimeError("Project compilation failed (error code: 512)."))  # exit 2
