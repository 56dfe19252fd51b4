"""Datasets: digits, IDX readers (gz/raw, header, size, checksums, search order), N-MNIST events.

Own data, splits and official-release recognition: test_own_data.py.
"""

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

import tasks.idx as idxmod
from tasks.datasets import (
    DatasetNotFoundError,
    check_images_labels,
    find_idx_files,
    load_dataset,
    load_digits_dataset,
    nmnist_spike_trains,
    normalise_images,
    read_idx,
    read_nmnist_events,
)


def _idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def test_digits_split_and_normalisation():
    ds = load_digits_dataset(0)
    n = len(ds.y_train) + len(ds.y_val) + len(ds.y_test)
    assert n == 1797 and len(ds.y_val) == len(ds.y_test) == 1797 // 7
    assert ds.x_train.shape[1] == 64 and ds.image_shape == (8, 8)
    allx = np.vstack([ds.x_train, ds.x_val, ds.x_test])
    assert allx.min() == 0.0 and allx.max() == pytest.approx(1.0)
    # same seed, same split; different seed, different split
    assert np.array_equal(load_digits_dataset(0).y_train, ds.y_train)
    assert not np.array_equal(load_digits_dataset(1).y_train, ds.y_train)
    assert load_dataset("digits").name == "digits"


def test_one_digits_loader_and_one_row_normalisation():
    from tasks.datasets import load_digits_images, normalise_rows

    images, y = load_digits_images()
    assert images.shape == (1797, 8, 8) and images.max() == 1.0 and y.dtype == np.int64
    ds = load_digits_dataset(0)
    allx = np.vstack([ds.x_train, ds.x_val, ds.x_test])
    np.testing.assert_array_equal(
        np.sort(allx.sum(axis=1)), np.sort(normalise_rows(images.reshape(1797, -1))[0].sum(1))
    )
    counts = np.array([[1.0, 3.0], [0.0, 0.0], [2.0, 6.0]])
    x, scale = normalise_rows(counts)
    assert scale == 0.75 and np.allclose(x, [[1 / 3, 1.0], [0, 0], [1 / 3, 1.0]])
    x2, s2 = normalise_rows(np.array([[4.0, 0.0]]), scale)  # a later split keeps the training scale
    assert s2 == 0.75 and np.allclose(x2, [[4 / 3, 0.0]])
    with pytest.raises(ValueError, match="non-negative"):
        normalise_rows(-counts)


def test_normalise_images_reference_formula():
    x = np.array([[[1.0, 3.0]], [[2.0, 2.0]], [[0.0, 0.0]]])
    p = normalise_images(x)
    normed = np.array([[0.25, 0.75], [0.5, 0.5], [0, 0]])
    np.testing.assert_allclose(p, normed / 0.75)
    with pytest.raises(ValueError, match="non-negative"):
        normalise_images(-x)
    with pytest.raises(ValueError, match="NaN"):
        normalise_images(np.array([[np.nan, 1.0]]))


def test_bad_images_and_labels():
    x = np.random.default_rng(0).random((4, 64))
    with pytest.raises(ValueError, match=r"shape \(n, 64\)"):
        check_images_labels(x[:, :10], np.zeros(4, int), n_pixels=64)
    with pytest.raises(ValueError, match=r"labels .* \[0, 10\)"):
        check_images_labels(x, np.array([0, 1, 2, 10]), n_pixels=64)
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        check_images_labels(bad, np.zeros(4, int), n_pixels=64)
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        load_dataset("cifar")


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_roundtrip_and_checksums(tmp_path, compress):
    arr = np.random.default_rng(1).integers(0, 256, (7, 5, 3)).astype(np.uint8)
    payload = _idx_bytes(arr)
    raw = gzip.compress(payload) if compress else payload
    f = tmp_path / ("a.gz" if compress else "a")
    f.write_bytes(raw)
    np.testing.assert_array_equal(read_idx(f), arr)
    sha = hashlib.sha256(payload).hexdigest()
    md5 = hashlib.md5(raw).hexdigest()
    np.testing.assert_array_equal(read_idx(f, sha256=sha), arr)
    np.testing.assert_array_equal(read_idx(f, md5=md5, sha256="0" * 64), arr)  # either checksum suffices
    with pytest.raises(DatasetNotFoundError, match="checksum mismatch") as exc:
        read_idx(f, md5="0" * 32, sha256="0" * 64)
    assert sha in str(exc.value) and "None" not in str(exc.value)  # expected and found digests
    with pytest.raises(DatasetNotFoundError, match=f"expected MD5 {'0' * 32} .*found MD5 {md5}"):
        read_idx(f, md5="0" * 32)


def test_read_idx_detects_corruption(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    f = tmp_path / "trunc"
    f.write_bytes(_idx_bytes(arr)[:-5])
    with pytest.raises(DatasetNotFoundError, match="does not match its header"):
        read_idx(f)
    f.write_bytes(b"\x01\x02\x03\x04junk")
    with pytest.raises(DatasetNotFoundError, match="not an IDX file"):
        read_idx(f)
    g = tmp_path / "bad.gz"
    g.write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    with pytest.raises(DatasetNotFoundError, match="corrupt gzip"):
        read_idx(g)


def _write_fake_set(d: Path, n_train=60, n_test=20, compress=True):
    rng = np.random.default_rng(2)
    d.mkdir(parents=True, exist_ok=True)
    parts = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }
    for stem, a in parts.items():
        payload = _idx_bytes(a)
        if compress:
            (d / (stem + ".gz")).write_bytes(gzip.compress(payload))
        else:
            (d / stem).write_bytes(payload)
    return parts


def test_search_order(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NEUROPLAST_DATA", raising=False)
    env_dir = tmp_path / "env"
    _write_fake_set(env_dir)
    explicit = tmp_path / "explicit"
    _write_fake_set(explicit, compress=False)
    monkeypatch.setenv("NEUROPLAST_MNIST", str(env_dir))
    assert find_idx_files("mnist")["train_images"].parent == env_dir
    # an explicit path comes first, and nothing else is searched when it is given
    assert find_idx_files("mnist", explicit)["train_images"] == explicit / "train-images-idx3-ubyte"
    with pytest.raises(DatasetNotFoundError, match="no such directory"):
        find_idx_files("mnist", tmp_path / "nowhere")
    home_dir = tmp_path / "home" / "datasets" / "mnist"
    _write_fake_set(home_dir)
    monkeypatch.delenv("NEUROPLAST_MNIST")
    assert find_idx_files("mnist")["train_images"].parent == home_dir
    # files of any size load (not the official release: seeded split of the training file)
    ds = load_dataset("mnist", path=explicit)
    assert ds.x_train.shape == (50, 784) and ds.x_val.shape == (10, 784) and ds.x_test.shape == (20, 784)
    assert not ds.official
    # one normalisation per loader call: the continual streams ask for images scaled to a maximum of 1
    mx = load_dataset("mnist", path=explicit, normalisation="max")
    assert np.allclose(mx.x_train.max(axis=1), 1.0) and not np.allclose(ds.x_train.max(axis=1), 1.0)
    np.testing.assert_allclose(
        mx.x_train / ds.x_train.clip(1e-300),
        (mx.x_train / ds.x_train.clip(1e-300)).max(axis=1, keepdims=True) * (ds.x_train > 0),
        rtol=1e-12,
    )  # the same images, per-image rescaled
    with pytest.raises(ValueError, match="normalisation"):
        load_dataset("mnist", path=explicit, normalisation="l2")


def test_missing_files_error_names_file_places_and_remedy(tmp_path, monkeypatch):
    monkeypatch.setattr(
        idxmod, "candidate_dirs", lambda name, path: [("standard location", tmp_path / "none")]
    )
    with pytest.raises(DatasetNotFoundError) as exc:
        find_idx_files("fashion-mnist")
    msg = str(exc.value)
    assert "train-images-idx3-ubyte" in msg and str(tmp_path / "none") in msg
    assert "apt-get install dataset-fashion-mnist" in msg


def test_standard_locations_include_debian_path(monkeypatch):
    monkeypatch.delenv("NEUROPLAST_FASHION_MNIST", raising=False)
    dirs = [str(d) for _, d in idxmod.candidate_dirs("fashion-mnist", None)]
    assert "/usr/share/datasets/fashion-mnist" in dirs


def test_nmnist_reader(tmp_path):
    # events: (x, y, p, t_us)
    events = [(3, 4, 1, 10), (33, 0, 0, 1500), (3, 4, 1, 900), (0, 33, 0, (1 << 23) - 1)]
    raw = bytearray()
    for x, y, p, t in events:
        raw += bytes([x, y, (p << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF])
    f = tmp_path / "00001.bin"
    f.write_bytes(bytes(raw))
    ev = read_nmnist_events(f)
    assert ev["x"].tolist() == [3, 33, 3, 0] and ev["y"].tolist() == [4, 0, 4, 33]
    assert ev["p"].tolist() == [1, 0, 1, 0] and ev["t_us"].tolist() == [10, 1500, 900, (1 << 23) - 1]
    idx, steps = nmnist_spike_trains(ev, dt_us=1000, duration_us=5000)
    # the two events of pixel (3,4,ON) in the first ms collapse into one spike
    assert list(zip(steps.tolist(), idx.tolist(), strict=True)) == [(0, 34 * 34 + 4 * 34 + 3), (1, 33)]
    f.write_bytes(bytes(raw[:-2]))
    with pytest.raises(DatasetNotFoundError, match="multiple of 5"):
        read_nmnist_events(f)


@pytest.mark.slow
def test_fashion_mnist_debian_package():
    if not Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").exists():
        pytest.skip("dataset-fashion-mnist not installed")
    ds = load_dataset("fashion-mnist")
    assert (
        ds.x_train.shape == (50000, 784)
        and ds.x_val.shape == (10000, 784)
        and ds.x_test.shape == (10000, 784)
    )
    assert set(np.unique(ds.y_test)) == set(range(10))
    assert ds.official and "payload SHA-256 of all four files matched" in ds.provenance
