"""``run nalsm`` at scale: worker-independent features, the feature store, resume, refusal, kill -9."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sims import load_features
from sims.nalsm import NALSMConfig
from sims.nalsm_scale import resolve_workers
from sims.runner import execute

TINY = {
    "grid": "3x3x3",
    "n_train": 20,
    "n_val": 6,
    "n_test": 6,
    "n_init": 5,
    "sample_ms": 60,
    "epochs": 5,
    "n_record": 3,
    "backend": "numpy",
    "store_chunk": 8,
}
LABEL = "stdp_eta0.15_wastro0_wscale1"


def _stored(out, label=LABEL):
    return load_features(Path(out) / "features" / label)


def test_features_bit_identical_for_1_and_2_workers(tmp_path):
    # Numba engine for speed; Brian2 gives the same seeded features (tests/spiking/test_liquid.py)
    params = dict(TINY, model="stdp", engine="numba")
    one = execute("nalsm", dict(params, workers=1), seed=3, out=tmp_path / "w1")
    two = execute("nalsm", dict(params, workers=2), seed=3, out=tmp_path / "w2")
    assert one["n_workers"] == 1 and two["n_workers"] == 2
    a, b = _stored(tmp_path / "w1"), _stored(tmp_path / "w2")
    assert a.features.shape == (32, 27) and a.features.sum() > 0
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.labels, b.labels)
    for key in ("test_accuracy", "validation_accuracy", "branching_factor", "kernel_quality"):
        assert one[key] == two[key], key
    for key in ("init_s", "features_s", "readout_s", "samples_per_s"):
        assert one[key] >= 0 and two[key] >= 0, key
    assert one["n_samples_computed"] == 32 and one["n_samples_resumed"] == 0
    assert a.splits == {"train": (0, 20), "val": (20, 26), "test": (26, 32)}
    X, y = a.split("val")
    assert X.shape == (6, 27) and y.shape == (6,)


def test_resume_recomputes_only_missing_chunks_and_refuses_changed_config(tmp_path):
    tiny = dict(TINY, engine="numba")  # fast; the Brian2 engine resumes in the slow kill test
    full = execute("nalsm", dict(tiny, model="nalsm", workers=1), seed=0, out=tmp_path)
    label = "nalsm_eta0.15_wastro0.01_wscale1"
    ref = _stored(tmp_path, label).features
    store = tmp_path / "features" / label
    # an interrupted run: two chunks never finished
    for i in (1, 3):
        (store / f"chunk_{i:06d}.npy").unlink()
    again = execute("nalsm", dict(tiny, model="nalsm", workers=1), seed=0, out=tmp_path)
    assert again["n_samples_computed"] == 16 and again["n_samples_resumed"] == 16
    assert again["init_s"] == 0.0  # initialised weights reloaded, not recomputed
    np.testing.assert_array_equal(_stored(tmp_path, label).features, ref)
    assert again["test_accuracy"] == full["test_accuracy"]
    assert again["branching_factor"] == full["branching_factor"]
    # same command again: nothing to simulate
    third = execute("nalsm", dict(tiny, model="nalsm", workers=1), seed=0, out=tmp_path)
    assert third["n_samples_computed"] == 0 and third["samples_per_s"] is None
    # another configuration in the same --out: refused before simulating, unless --force
    with pytest.raises(ValueError, match=r"different configuration \(differs in: .*liquid_seed"):
        execute("nalsm", dict(tiny, model="nalsm", workers=1), seed=1, out=tmp_path)
    with pytest.raises(ValueError, match=r"differs in: .*liquid"):
        execute("nalsm", dict(tiny, model="nalsm", sample_ms=70, workers=1), seed=0, out=tmp_path)
    with pytest.raises(ValueError, match=r"differs in: data_sha256"):
        execute("nalsm", dict(tiny, model="nalsm", n_test=7, workers=1), seed=0, out=tmp_path)
    forced = execute(
        "nalsm", dict(tiny, model="nalsm", workers=1, force=True), seed=1, out=tmp_path
    )
    assert forced["n_samples_computed"] == 32
    assert json.loads((store / "manifest.json").read_text())["key"]["liquid_seed"] != full["seed"]


def test_workers_and_store_chunk_validation():
    assert resolve_workers(3) == 3 and resolve_workers(0) >= 1
    with pytest.raises(ValueError, match="workers"):
        NALSMConfig(workers=-1)
    with pytest.raises(ValueError, match="store_chunk"):
        NALSMConfig(store_chunk=0)
    with pytest.raises(ValueError, match="workers must be an integer >= 0"):
        resolve_workers(-2)
    assert NALSMConfig(scheduler="tcp://10.0.0.1:8786").scheduler == "tcp://10.0.0.1:8786"
    assert NALSMConfig(local_dask=True).local_dask
    with pytest.raises(ValueError, match="local_dask excludes scheduler"):
        NALSMConfig(local_dask=True, scheduler="tcp://h:8786")


def test_cli_bad_scheduler_is_one_line_error(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    args = [sys.executable, "-m", "sims.cli", "run", "nalsm", "--out", str(tmp_path), "--no-progress"]
    for k, v in TINY.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    p = subprocess.run(
        args + ["--engine", "numba", "--scheduler", "not an address"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and "scheduler must be a Dask scheduler address" in p.stderr


def _cli(out, extra=(), **kw):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    params = dict(TINY, grid="4x4x4", n_train=40, n_val=8, n_test=8, store_chunk=4)
    args = [sys.executable, "-m", "sims.cli", "run", "nalsm", "--model", "nalsm", "--out", str(out)]
    for k, v in params.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    return subprocess.Popen(args + ["--no-progress", *extra], env=env, start_new_session=True, **kw)


@pytest.mark.slow
def test_kill_9_mid_generation_then_resume_gives_identical_features(tmp_path):
    label = "nalsm_eta0.15_wastro0.01_wscale1"
    ref = _cli(tmp_path / "ref", ["--workers", "2"], stdout=subprocess.DEVNULL)
    assert ref.wait(timeout=600) == 0
    # while the run is in progress, its stores live in --out's hidden sibling (see feature_root)
    store = tmp_path / ".run.features" / label
    p = _cli(tmp_path / "run", ["--workers", "2"], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and len(list(store.glob("chunk_*.npy"))) < 3:
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)  # the run and its workers, mid-way
    p.wait()
    n_done = len(list(store.glob("chunk_*.npy")))
    assert 3 <= n_done < 14, n_done
    assert not (tmp_path / "run").exists()  # an interrupted run leaves no output, only resumable work
    q = _cli(tmp_path / "run", ["--workers", "2"], stdout=subprocess.PIPE, text=True)
    out, _ = q.communicate(timeout=600)
    assert q.returncode == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["n_samples_resumed"] >= 4 * n_done - 4  # at most the chunk being written is redone
    np.testing.assert_array_equal(
        _stored(tmp_path / "run", label).features, _stored(tmp_path / "ref", label).features
    )
    assert not store.parent.exists()  # moved into the output
    ref_summary = json.loads((tmp_path / "ref" / "summary.json").read_text())
    assert summary["test_accuracy"] == ref_summary["test_accuracy"]


def _write_idx(path, array):
    """An uncompressed IDX file (magic 0x0000 08 ndim, big-endian sizes, uint8 payload)."""
    a = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, a.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in a.shape)
    path.write_bytes(header + a.tobytes())


def test_full_split_by_default_and_the_command_on_mnist_format_files(tmp_path):
    """Synthetic MNIST-format files (all 70 000 images, class = position of a bright bar)."""
    from tasks.datasets import load_dataset

    rng = np.random.default_rng(0)
    d = tmp_path / "mnist"
    d.mkdir()
    for part, n in (("train", 60000), ("t10k", 10000)):
        y = rng.integers(0, 10, n).astype(np.uint8)
        x = (rng.random((n, 28, 28)) < 0.05).astype(np.uint8) * 60
        x[np.arange(n), 2 + 2 * y.astype(int), 4:24] = 255
        _write_idx(d / f"{part}-images-idx3-ubyte", x)
        _write_idx(d / f"{part}-labels-idx1-ubyte", y)
    data = load_dataset("mnist", path=d)
    # the reference's 50k/10k/10k split is what n_train = n_val = n_test = 0 (the default) use
    assert (data.x_train.shape[0], data.x_val.shape[0], data.x_test.shape[0]) == (50000, 10000, 10000)
    assert NALSMConfig().n_train == NALSMConfig().n_val == NALSMConfig().n_test == 0
    del data
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    params = dict(TINY, n_train=30, n_val=10, n_test=10, engine="numba", store_chunk=25)
    args = [sys.executable, "-m", "sims.cli", "run", "nalsm", "--dataset", "mnist", "--data-path", str(d)]
    for k, v in params.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    out = tmp_path / "out"
    args += ["--out", str(out), "--workers", "1", "--no-progress"]
    p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr
    s = json.loads((out / "summary.json").read_text())
    assert s["dataset"] == "mnist" and s["n_input"] == 784 and s["n_workers"] == 1
    assert (s["n_train"], s["n_val"], s["n_test"]) == (30, 10, 10)
    st = load_features(out)
    assert st.features.shape == (50, 27) and st.key["data_sha256"]
