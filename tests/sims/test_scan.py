"""End-to-end tests of ``neuroplast scan`` on a local Dask cluster with 2 workers (toy simulation)."""

from __future__ import annotations

import importlib.metadata
import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import sims._testing  # noqa: F401  (registers "_toy")
from sims import registry
from sims.cli import main
from sims.runner import execute
from sims.scan import load_scan, load_spec, parse_spec, point_key, run_scan

TOY = 'simulation = "_toy"\nmodule = "sims._testing"\n'


# 3 x values x 2 fail flags x 2 seeds: half of the points raise, the other half finish
FAILING_SPEC = """
    n_seeds = 2
    metrics = ["score", "xi"]
    [fixed]
    noise = 0.5
    [scan]
    x = { start = 0.0, stop = 0.4, num = 3 }
    fail = [false, true]
"""


def write_spec(tmp_path: Path, body: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(TOY + textwrap.dedent(body))
    return path


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    import dask
    from distributed import Client, LocalCluster

    # allowed-failures=0: a task that kills its worker is given up at once (keeps the crash test short)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        )
    c = Client(cluster, set_as_default=False)
    yield c
    c.close()
    cluster.close()


@pytest.fixture
def cache(tmp_path_factory):
    return tmp_path_factory.getbasetemp() / "worker-caches"


def quiet(msg):
    pass


# --------------------------------------------------------------------------------------------------
# end to end on 2 workers
# --------------------------------------------------------------------------------------------------
def test_failing_point_is_recorded_and_the_others_finish(tmp_path, client, cache):
    spec = write_spec(tmp_path, FAILING_SPEC)
    out = tmp_path / "out"
    s = run_scan(spec, out, client=client, cache_dir=cache, log=quiet)
    assert (s.total, s.done, s.failed, s.skipped) == (12, 6, 6, 0)
    df = load_scan(out)
    assert len(df) == 12
    assert list(df.columns[:4]) == ["point", "seed", "x", "fail"]
    failed = df[df.status == "failed"]
    assert failed["fail"].all() and len(failed) == 6
    assert failed["error"].str.contains("RuntimeError: toy failure on purpose").all()
    assert failed["score"].isna().all()
    done = df[df.status == "done"]
    assert (~done["fail"]).all() and done["error"].isna().all()
    assert np.isfinite(done["score"]).all()
    assert set(done["worker"]) <= {"0", "1"}
    assert (done["brian2_version"] == importlib.metadata.version("brian2")).all()
    assert (done["package_version"] == importlib.metadata.version("neuroplast")).all()
    assert (done["wall_time_s"] >= 0).all()
    # both workers got their own cache directories
    dirs = sorted(p.name for p in cache.iterdir() if not p.name.endswith("-shared"))
    assert len(dirs) == 2 and all("worker-" in d for d in dirs)
    assert all((cache / d / "numba").is_dir() and (cache / d / "cython").is_dir() for d in dirs)
    assert all((cache / d / "neuroplast").is_dir() for d in dirs)

    # re-running skips the done points and retries the failed ones (which fail again)
    s2 = run_scan(spec, out, client=client, cache_dir=cache, log=quiet)
    assert (s2.done, s2.failed, s2.skipped, s2.retried) == (0, 6, 6, 6)
    df2 = load_scan(out)
    assert (df2[df2.status == "failed"]["attempts"] == 2).all()
    assert (df2[df2.status == "done"]["attempts"] == 1).all()


def test_results_equal_points_run_one_by_one(tmp_path, client, cache):
    spec = write_spec(
        tmp_path,
        """
        seeds = [3, 11]
        [fixed]
        noise = 0.7
        [scan]
        x = [0.1, 0.9]
        k = { start = 1, stop = 3, step = 1 }
        kind = ["a", "b"]
    """,
    )
    out = tmp_path / "out"
    s = run_scan(spec, out, client=client, cache_dir=cache, log=quiet)
    assert s.done == 24 and s.failed == 0
    df = load_scan(out)
    # default metrics: every scalar the run returns (including the string one)
    assert {"score", "loss", "xi", "label"} <= set(df.columns)
    for row in df.itertuples():
        ref = execute("_toy", {"x": row.x, "k": row.k, "kind": row.kind, "noise": 0.7}, seed=row.seed)
        assert row.score == ref["score"] and row.xi == ref["xi"] and row.label == ref["label"]
    # the serial mode gives the same rows too
    s2 = run_scan(spec, tmp_path / "serial", serial=True, log=quiet)
    df2 = load_scan(tmp_path / "serial")
    assert s2.done == 24
    np.testing.assert_array_equal(df["score"].to_numpy(), df2["score"].to_numpy())
    assert list(df["key"]) == list(df2["key"])


def test_interrupted_scan_resumes_with_only_the_remaining_points(tmp_path, client, cache):
    logdir = tmp_path / "log"
    logdir.mkdir()
    spec = write_spec(
        tmp_path,
        f"""
        n_seeds = 2
        [fixed]
        log_dir = "{logdir}"
        [scan]
        x = [0.0, 0.25, 0.5, 0.75, 1.0]
    """,
    )
    out = tmp_path / "out"
    s1 = run_scan(spec, out, client=client, cache_dir=cache, max_points=4, log=quiet)
    assert s1.done == 4
    assert len(load_scan(out)) == 4
    s2 = run_scan(spec, out, client=client, cache_dir=cache, log=quiet)
    assert (s2.done, s2.skipped) == (6, 4)
    lines = (logdir / "runs.log").read_text().splitlines()
    assert len(lines) == 10  # every (point, seed) ran exactly once over the two calls
    assert len({tuple(line.split()[:4]) for line in lines}) == 10
    s3 = run_scan(spec, out, client=client, cache_dir=cache, log=quiet)
    assert (s3.ran, s3.skipped) == (0, 10)
    assert len((logdir / "runs.log").read_text().splitlines()) == 10


@pytest.mark.slow  # a worker restart re-imports Brian2: ~20 s on a busy 2-core machine
def test_a_killed_worker_fails_only_its_point(tmp_path, client, cache):
    spec = write_spec(
        tmp_path,
        """
        n_seeds = 2
        [fixed]
        sleep = "50ms"
        crash_below = 0.05
        [scan]
        x = [0.2, 0.0, 0.3, 0.4, 0.5, 0.6]
    """,
    )
    out = tmp_path / "out"
    s = run_scan(spec, out, client=client, cache_dir=cache, log=quiet)
    df = load_scan(out)
    crashed = df[df["x"] == 0.0]
    assert (crashed["status"] == "failed").all()
    assert crashed["error"].str.contains("died").all()
    # no point is lost; besides the crashing ones, at most those queued on the dying workers fail
    assert len(df) == 12 and s.done + s.failed == 12
    assert s.done >= 12 - 2 - 2 * 2
    client.wait_for_workers(2, timeout=30)


# --------------------------------------------------------------------------------------------------
# interruption of the driving process
# --------------------------------------------------------------------------------------------------
def _spawn_scan(spec: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sims.cli", "scan", str(spec), "--out", str(out), "--no-progress", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _n_rows(out: Path) -> int:
    try:
        with sqlite3.connect(f"file:{out / 'scan.sqlite'}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.Error:
        return 0


def _wait_rows(proc, out, n, timeout=60.0):
    t0 = time.monotonic()
    while _n_rows(out) < n:
        if proc.poll() is not None:
            raise AssertionError(f"scan ended early: {proc.communicate()}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            raise AssertionError("scan too slow")
        time.sleep(0.05)


def test_ctrl_c_loses_at_most_the_points_in_flight(tmp_path, client, cache):
    logdir = tmp_path / "log"
    logdir.mkdir()
    spec = write_spec(
        tmp_path,
        f"""
        [fixed]
        sleep = "250ms"
        log_dir = "{logdir}"
        [scan]
        x = {{ start = 0.0, stop = 1.1, step = 0.1 }}
    """,
    )
    out = tmp_path / "out"
    # the scan connects to the running test cluster, as `--scheduler` users do
    proc = _spawn_scan(spec, out, "--scheduler", client.scheduler.address, "--cache-dir", str(cache))
    _wait_rows(proc, out, 3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "resume" in err
    done_before = load_scan(out)
    n = len(done_before)
    assert 3 <= n < 12 and (done_before.status == "done").all()
    s = run_scan(spec, out, serial=True, log=quiet)
    assert (s.done, s.skipped) == (12 - n, n)
    after = load_scan(out)
    assert len(after) == 12
    # rows written before the interruption are untouched
    old = done_before.set_index("key")["finished_at"]
    assert (after.set_index("key").loc[old.index, "finished_at"] == old).all()
    # the points run twice are at most those that were in flight: executing or queued on the
    # 2 workers (Dask hands each worker up to 2 tasks at a time) when Ctrl-C came
    runs = (logdir / "runs.log").read_text().splitlines()
    assert 12 <= len(runs) <= 12 + 4


def test_sigkill_never_leaves_a_half_written_result(tmp_path):
    spec = write_spec(
        tmp_path,
        """
        [fixed]
        sleep = "100ms"
        [scan]
        x = { start = 0.0, stop = 1.9, step = 0.1 }
    """,
    )
    out = tmp_path / "out"
    proc = _spawn_scan(spec, out, "--serial")
    _wait_rows(proc, out, 4)
    proc.kill()  # SIGKILL: no clean-up at all
    proc.communicate(timeout=30)
    df = load_scan(out)
    assert 4 <= len(df) < 20
    assert (df.status == "done").all() and df["score"].notna().all() and df["key"].notna().all()
    s = run_scan(spec, out, serial=True, log=quiet)
    assert s.done + s.skipped == 20 and s.skipped == len(df)


# --------------------------------------------------------------------------------------------------
# spec validation: nothing runs, the message names the key
# --------------------------------------------------------------------------------------------------
BAD_SPECS = [
    ('simulation = "nope"\n[scan]\nx = [1]', "simulation", "unknown simulation 'nope'"),
    (TOY + "[scan]\nbogus = [1, 2]", "scan.bogus", "unknown parameter"),
    (TOY + "[fixed]\nbogus = 1\n[scan]\nx = [1]", "fixed.bogus", "unknown parameter"),
    (TOY + "[scan]\nx = []", "scan.x", "empty list"),
    (TOY + "[scan]\nx = { start = 1.0, stop = 0.0, step = 0.5 }", "scan.x", "empty range"),
    (TOY + "[scan]\nx = { start = 1.0, stop = 1.0, num = 3 }", "scan.x", "empty range"),
    (TOY + "[scan]\nx = { random = 'uniform', low = 2, high = 1, count = 3 }", "scan.x", "empty range"),
    (TOY + "[scan]\nx = { start = 0.0, stop = 1.0, step = 0.0 }", "scan.x.step", "non-zero"),
    (TOY + "[scan]\nx = { start = 0.0, stop = 1.0, num = 3, log = true }", "scan.x", "log range"),
    (TOY + "[scan]\nx = { start = 0.0, stop = 1.0 }", "scan.x", "exactly one of 'step' and 'num'"),
    (TOY + "[scan]\nx = { start = 0.0, stop = 1.0, nmu = 3 }", "scan.x", "unknown key 'nmu'"),
    (TOY + "[scan]\nx = ['a', 'b']", "scan.x[0]", "must be of type float"),
    (TOY + "[scan]\nk = [1, 2.5]", "scan.k[1]", "must be of type int"),
    (TOY + "[scan]\nkind = ['a', 'z']", "scan.kind[1]", "allowed: a, b"),
    (TOY + "[fixed]\nk = 'three'\n[scan]\nx = [1]", "fixed.k", "must be of type int"),
    (TOY + "[fixed]\nfail = 2\n[scan]\nx = [1]", "fixed.fail", "must be of type bool"),
    (TOY + "[fixed]\nsleep = 'soon'\n[scan]\nx = [1]", "fixed.sleep", "duration"),
    (TOY + "[fixed]\nx = 1\n[scan]\nx = [1]", "scan.x", "also given in [fixed]"),
    (TOY + "[scan]\nk = [1, 0]", "point 1 (k=0)", "k must be >= 1"),
    (TOY + "n_seeds = 0\n[scan]\nx = [1]", "n_seeds", "integer >= 1"),
    (TOY + "n_seeds = 'two'\n[scan]\nx = [1]", "n_seeds", "integer >= 1"),
    (TOY + "seeds = [1, 1]\n[scan]\nx = [1]", "seeds", "repeated"),
    (TOY + "metrics = 'score'\n[scan]\nx = [1]", "metrics", "list"),
    (TOY + "nseeds = 2\n[scan]\nx = [1]", "nseeds", "unknown key"),
    (TOY + "[scan]", "scan", "empty"),
    (TOY + "[fixed]\nx = 1", "scan", "missing"),
    (TOY + "[scan]\nx = { random = 'gauss', low = 0, high = 1, count = 2 }", "scan.x.random", "uniform"),
    (TOY + "[scan]\nx = { random = 'uniform', low = 0, high = 1 }", "scan.x", "missing key 'count'"),
    (
        TOY + "[scan]\nx = { random = 'uniform', low = 0, high = 1, count = 2 }\n"
        "noise = { random = 'uniform', low = 0, high = 1, count = 3 }",
        "scan.noise.count",
        "same count",
    ),
    ('simulation = "_toy"\nmodule = "no.such.module"\n[scan]\nx = [1]', "module", "cannot import"),
]


@pytest.mark.parametrize("text, key, phrase", BAD_SPECS, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD_SPECS)])
def test_malformed_spec_is_rejected_naming_the_key(tmp_path, text, key, phrase, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        load_spec(path)
    msg = str(err.value)
    assert key in msg and phrase in msg, msg
    # through the CLI: one line, exit 2, nothing created, nothing run
    out = tmp_path / "out"
    assert main(["scan", str(path), "--out", str(out), "--serial"]) == 2
    e = capsys.readouterr().err
    assert e.startswith("neuroplast: error:") and key in e and len(e.strip().splitlines()) == 1
    assert not out.exists()


def test_malformed_toml_and_missing_file(tmp_path, capsys):
    path = tmp_path / "broken.toml"
    path.write_text('simulation = "_toy"\n[scan\nx = [1, 2]\n')
    with pytest.raises(ValueError, match=r"broken.toml: malformed TOML: .*line 2"):
        load_spec(path)
    assert main(["scan", str(path), "--dry-run"]) == 2
    assert "malformed TOML" in capsys.readouterr().err
    assert main(["scan", str(tmp_path / "missing.toml"), "--dry-run"]) == 2
    assert "not found" in capsys.readouterr().err


def test_unwritable_out_dir_is_a_clear_error(tmp_path, capsys):
    spec = write_spec(tmp_path, "[scan]\nx = [0.0, 1.0]\n")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["scan", str(spec), "--out", str(blocker / "sub"), "--serial"]) == 2
    assert "cannot create output directory" in capsys.readouterr().err
    assert main(["scan", str(spec), "--out", str(blocker), "--serial"]) == 2
    assert "not a directory" in capsys.readouterr().err
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            assert main(["scan", str(spec), "--out", str(ro), "--serial"]) == 2
            assert "not writable" in capsys.readouterr().err
        finally:
            ro.chmod(0o700)


def test_scheduler_that_does_not_answer_fails_within_the_timeout(tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = write_spec(tmp_path, "[scan]\nx = [0.0, 1.0]\n")
    out = tmp_path / "out"
    t0 = time.monotonic()
    rc = main(
        [
            "scan",
            str(spec),
            "--out",
            str(out),
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
            "--connect-timeout",
            "1.5",
            "--no-progress",
        ]
    )
    assert time.monotonic() - t0 < 10
    assert rc == 2
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "did not answer within 1.5 s" in err


def test_changed_spec_is_refused_unless_forced_and_nothing_is_lost(tmp_path, capsys):
    spec = write_spec(tmp_path, "[scan]\nx = [0.0, 0.5]\n")
    out = tmp_path / "out"
    assert run_scan(spec, out, serial=True, log=quiet).done == 2
    before = load_scan(out)
    spec2 = write_spec(tmp_path, "[scan]\nx = [0.0, 0.5, 1.0]\n", name="spec2.toml")
    assert main(["scan", str(spec2), "--out", str(out), "--serial", "--no-progress"]) == 2
    assert "different spec" in capsys.readouterr().err and "--force" in capsys.readouterr().err + "--force"
    after = load_scan(out)
    assert after.equals(before)
    # --force: the two shared points are reused, only the new one runs; old rows are kept
    s = run_scan(spec2, out, serial=True, force=True, log=quiet)
    assert (s.done, s.skipped) == (1, 2)
    assert len(load_scan(out)) == 3
    spec3 = write_spec(tmp_path, "[scan]\nx = [2.0]\n", name="spec3.toml")
    run_scan(spec3, out, serial=True, force=True, log=quiet)
    assert len(load_scan(out)) == 1 and len(load_scan(out, all_points=True)) == 4
    assert (out / "spec.toml").read_text() == spec3.read_text()


def test_dry_run_prints_points_without_running(tmp_path, capsys):
    spec = write_spec(
        tmp_path,
        """
        n_seeds = 3
        [scan]
        x = { start = 0.001, stop = 1.0, num = 4, log = true }
        kind = ["a", "b"]
    """,
    )
    out = tmp_path / "out"
    assert main(["scan", str(spec), "--dry-run", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "8 points x 3 seeds = 24 runs" in text
    assert "0.01" in text and "0.1" in text
    assert not out.exists()


def test_load_scan_of_a_directory_without_results(tmp_path):
    with pytest.raises(FileNotFoundError, match="no scan results"):
        load_scan(tmp_path)


# --------------------------------------------------------------------------------------------------
# spec expansion
# --------------------------------------------------------------------------------------------------
def test_axis_expansion_and_random_draws():
    spec = parse_spec(
        {
            "simulation": "_toy",
            "n_seeds": 2,
            "seed": 5,
            "sample_seed": 7,
            "scan": {
                "k": {"start": 1, "stop": 7, "step": 3},
                "x": {"start": 0.0, "stop": 1.0, "step": 0.1},
                "noise": {"random": "loguniform", "low": 0.01, "high": 1.0, "count": 4},
                "sleep": {"random": "uniform", "low": 0.0, "high": 0.001, "count": 4},
            },
        }
    )
    ax = {a.name: a.values for a in spec.axes}
    assert ax["k"] == (1, 4, 7)
    assert ax["x"] == tuple(round(0.1 * i, 10) for i in range(11))  # stop included, no float noise
    assert all(0.01 <= v <= 1.0 for v in ax["noise"]) and len(set(ax["noise"])) == 4
    assert spec.seeds == (5, 6)
    pts = spec.points()
    assert len(pts) == 3 * 11 * 4 and len(spec.runs()) == 2 * len(pts)
    # random parameters are drawn jointly: each draw index pairs one noise with one sleep
    assert len({(p["noise"], p["sleep"]) for p in pts}) == 4
    # the same spec draws the same values; another sample_seed draws others
    again = parse_spec(
        {
            "simulation": "_toy",
            "sample_seed": 7,
            "scan": {"noise": {"random": "loguniform", "low": 0.01, "high": 1.0, "count": 4}},
        }
    )
    assert again.axes[0].values == ax["noise"]
    other = parse_spec(
        {
            "simulation": "_toy",
            "sample_seed": 8,
            "scan": {"noise": {"random": "loguniform", "low": 0.01, "high": 1.0, "count": 4}},
        }
    )
    assert other.axes[0].values != ax["noise"]
    logs = parse_spec(
        {"simulation": "_toy", "scan": {"x": {"start": 1e-4, "stop": 1e-1, "num": 4, "log": True}}}
    )
    np.testing.assert_allclose(logs.axes[0].values, [1e-4, 1e-3, 1e-2, 1e-1], rtol=1e-12)
    lin = parse_spec({"simulation": "_toy", "scan": {"k": {"start": 2, "stop": 10, "num": 5}}})
    assert lin.axes[0].values == (2, 4, 6, 8, 10) and all(isinstance(v, int) for v in lin.axes[0].values)
    ri = parse_spec(
        {"simulation": "_toy", "scan": {"k": {"random": "randint", "low": 1, "high": 3, "count": 50}}}
    )
    assert set(ri.axes[0].values) == {1, 2, 3}
    # durations and bools are parsed like on the command line
    d = parse_spec({"simulation": "_toy", "fixed": {"sleep": "20ms"}, "scan": {"fail": ["false", True]}})
    assert d.fixed["sleep"] == pytest.approx(0.02) and d.axes[0].values == (False, True)


def test_point_keys_and_spec_hash():
    a = parse_spec({"simulation": "_toy", "fixed": {"noise": 0.1}, "scan": {"x": [0.0, 1.0]}})
    b = parse_spec({"simulation": "_toy", "fixed": {"noise": "0.1"}, "scan": {"x": [0, 1]}})
    assert a.hash == b.hash and [r.key for r in a.runs()] == [r.key for r in b.runs()]
    c = parse_spec({"simulation": "_toy", "fixed": {"noise": 0.2}, "scan": {"x": [0.0, 1.0]}})
    assert c.hash != a.hash and not {r.key for r in c.runs()} & {r.key for r in a.runs()}
    assert point_key("_toy", {"x": 0.0}, 0) != point_key("_toy", {"x": 0.0}, 1)
    assert len({r.key for r in a.runs()}) == len(a.runs())


def test_example_specs_validate():
    specs = sorted((Path(__file__).parents[2] / "sims" / "specs").glob("*.toml"))
    assert specs, "no example specs"
    checked = 0
    for path in specs:
        import tomllib

        name = tomllib.loads(path.read_text())["simulation"]
        if name not in registry.names():
            continue  # that simulation's module is not written yet
        spec = load_spec(path)
        assert len(spec.runs()) >= 2
        checked += 1
    if not checked:
        pytest.skip("none of the example specs' simulations is registered yet")


# --------------------------------------------------------------------------------------------------
# scan-plot
# --------------------------------------------------------------------------------------------------
def test_scan_plot_line_and_heatmap(tmp_path, capsys):
    spec = write_spec(
        tmp_path,
        """
        n_seeds = 3
        [scan]
        x = { start = 0.0, stop = 0.6, num = 4 }
        k = [1, 2, 3]
    """,
    )
    out = tmp_path / "out"
    run_scan(spec, out, serial=True, log=quiet)
    assert main(["scan-plot", str(out), "--x", "x", "--y", "score"]) == 0
    png = out / "scan_score_vs_x.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (
        main(
            [
                "scan-plot",
                str(out),
                "--x",
                "x",
                "--y",
                "score",
                "--hue",
                "k",
                "--kind",
                "heatmap",
                "-o",
                str(tmp_path / "h.png"),
            ]
        )
        == 0
    )
    assert (tmp_path / "h.png").is_file()
    assert (
        main(
            [
                "scan-plot",
                str(out),
                "--x",
                "x",
                "--y",
                "score",
                "--hue",
                "k",
                "--where",
                "k=2",
                "-o",
                str(tmp_path / "w.png"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["scan-plot", str(out), "--x", "nope", "--y", "score"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "x, k" in err
    assert main(["scan-plot", str(out), "--x", "x", "--y", "accuracy"]) == 2
    assert "accuracy" in capsys.readouterr().err
    assert main(["scan-plot", str(tmp_path / "nothing"), "--x", "x", "--y", "score"]) == 2


def test_scan_plot_data_are_seed_means(tmp_path):
    from sims.scan.plot import aggregate

    spec = write_spec(tmp_path, "n_seeds = 4\n[scan]\nx = [0.0, 0.3]\n")
    out = tmp_path / "out"
    run_scan(spec, out, serial=True, log=quiet)
    df = load_scan(out)
    agg = aggregate(df, x="x", y="score")
    for xv, row in agg.iterrows():
        vals = df[df.x == xv]["score"]
        assert math.isclose(row["mean"], vals.mean()) and math.isclose(row["std"], vals.std(ddof=1))
        assert row["n"] == 4


def test_workers_of_one_machine_share_compiled_code(tmp_path, monkeypatch):
    from sims.scan import caches as scan

    own1, own2, shared = tmp_path / "w1", tmp_path / "w2", tmp_path / "shared"
    so = own1 / "cython" / "brian_extensions" / "_cython_magic_ab.cpython-311-x86_64-linux-gnu.so"
    nbi = own1 / "numba" / "plasticity_rules_abc" / "stdp.kernel-12.py311.nbi"
    for f, data in ((so, b"\x7fELF..."), (nbi, b"index")):
        f.parent.mkdir(parents=True)
        f.write_bytes(data)
    (so.parent / "_cython_magic_ab.lock").write_text("")  # locks and sources are not shared
    monkeypatch.setattr(scan, "_CACHES", {"own": own1, "shared": shared})
    assert scan.cache_state() == 1
    assert scan.sync_caches("push") == 2
    assert (shared / "cython" / "brian_extensions" / so.name).read_bytes() == b"\x7fELF..."
    assert not (shared / "cython" / "brian_extensions" / "_cython_magic_ab.lock").exists()
    monkeypatch.setattr(scan, "_CACHES", {"own": own2, "shared": shared})
    assert scan.cache_state() == 1  # the shared copy counts: this worker will not compile
    assert scan.sync_caches("pull") == 2
    assert (own2 / "numba" / "plasticity_rules_abc" / nbi.name).read_bytes() == b"index"
    assert scan.sync_caches("pull") == 0 and scan.sync_caches("push") == 0
    assert not list(tmp_path.rglob("*.tmp"))
    monkeypatch.setattr(scan, "_CACHES", {"own": own2, "shared": None})
    assert scan.sync_caches("pull") == 0


def test_two_scans_cannot_write_the_same_directory(tmp_path):
    from sims.scan.store import ScanStore

    spec = load_spec(write_spec(tmp_path, "[scan]\nx = [0.0, 1.0]\n"))
    out = tmp_path / "out"
    with ScanStore.open(out, spec_hash=spec.hash):
        with pytest.raises(ValueError, match="another scan is writing"):
            run_scan(spec, out, serial=True, log=quiet)
    assert run_scan(spec, out, serial=True, log=quiet).done == 2  # the lock is released with the store


def test_result_row_is_the_one_definition_of_a_result(tmp_path):
    from sims.runner import versions
    from sims.scan.row import FRAME_TAIL, NOT_METRICS, RESULT_COLUMNS, VERSION_COLUMNS, ResultRow
    from sims.scan.store import ScanStore

    with ScanStore.open(tmp_path / "s", spec_hash="h") as store:
        cols = [r[1] for r in store._conn.execute("PRAGMA table_info(results)").fetchall()]
        assert tuple(cols) == RESULT_COLUMNS  # the SQL schema is generated from ResultRow
        store.record(ResultRow(key="k", simulation="_toy", point=0, seed=1, params={"x": 1.0}, status="done"))
        with pytest.raises(ValueError, match="unknown result columns"):
            store.record({"key": "k2", "bogus": 1})
    assert set(versions()) == set(VERSION_COLUMNS) <= set(FRAME_TAIL) & NOT_METRICS
    df = load_scan(tmp_path / "s", all_points=True)
    assert list(df.columns[-len(FRAME_TAIL) :]) == list(FRAME_TAIL)
    assert df.loc[0, "status"] == "done" and df.loc[0, "attempts"] == 1


# --------------------------------------------------------------------------------------------------
# one machine: the process pool (default without --scheduler)
# --------------------------------------------------------------------------------------------------
def test_process_pool_runs_points_like_serial_and_resumes(tmp_path):
    # each point holds 100 ms: instant points could all go to the worker that started first
    spec = write_spec(tmp_path, FAILING_SPEC.replace("noise = 0.5", 'noise = 0.5\n    sleep = "100ms"'))
    out, cache = tmp_path / "pool", tmp_path / "caches"
    msgs = []
    s = run_scan(spec, out, n_workers=2, cache_dir=cache, log=msgs.append)
    assert (s.total, s.done, s.failed) == (12, 6, 6)
    assert any("cold caches" in m for m in msgs)  # first point alone, then both workers
    df = load_scan(out)
    failed = df[df.status == "failed"]
    assert failed["fail"].all() and failed["error"].str.contains("toy failure on purpose").all()
    done = df[df.status == "done"].sort_values("key")
    assert done["worker"].str.startswith("pid-").all()
    assert done["worker"].nunique() == 2 and str(os.getpid()) not in set(done["worker"].str[4:])
    # both workers used one shared cache directory for this machine
    (pool_dir,) = [p for p in cache.iterdir() if p.name.endswith("-pool")]
    assert (pool_dir / "numba").is_dir() and (pool_dir / "scan-pool-warm" / "_toy").exists()
    run_scan(spec, tmp_path / "serial", serial=True, log=quiet)
    ref = load_scan(tmp_path / "serial")
    ref = ref[ref.status == "done"].sort_values("key")
    np.testing.assert_array_equal(done["score"].to_numpy(), ref["score"].to_numpy())
    # resume: done points skipped, failed ones retried; warm caches: no warm-up point
    msgs.clear()
    s2 = run_scan(spec, out, n_workers=2, cache_dir=cache, log=msgs.append)
    assert (s2.done, s2.failed, s2.skipped, s2.retried) == (0, 6, 6, 6)
    assert not any("cold caches" in m for m in msgs)


def test_local_dask_flag_excludes_serial(tmp_path, capsys):
    spec = write_spec(tmp_path, "[scan]\nx = [0.1]\n")
    rc = main(["scan", str(spec), "--out", str(tmp_path / "o"), "--serial", "--local-dask"])
    assert rc == 2
    assert "--local-dask excludes --serial and --scheduler" in capsys.readouterr().err
