"""Bring your own data: IDX sets of any size, official-release recognition, .npz arrays, splits."""

import gzip
import hashlib
import logging
import shutil

import numpy as np
import pytest

import tasks.idx as idxmod
from tasks.datasets import (
    DatasetNotFoundError,
    check_dataset_spec,
    dataset_extent,
    load_dataset,
    normalise_images,
    split_indices,
)
from tasks.idx import find_idx_parts, read_idx_file, read_idx_header, verify_release


def _rows_in(rows, pool):
    """Index into ``pool`` of every row of ``rows`` (-1 when absent)."""
    lookup = {r.tobytes(): i for i, r in enumerate(pool)}
    return np.array([lookup.get(r.tobytes(), -1) for r in rows])


def _official(monkeypatch, d, release="fashion-mnist", n_train=300, n_test=100):
    """Make the synthetic set in ``d`` 'official': its payload digests and shapes become the table's."""
    files = find_idx_parts(d)
    read = {p: read_idx_file(f) for p, f in files.items()}
    monkeypatch.setitem(idxmod.OFFICIAL_PAYLOAD_SHA256, release, {p: f.sha256 for p, f in read.items()})
    monkeypatch.setattr(idxmod, "OFFICIAL_SHAPES", {p: f.array.shape for p, f in read.items()})
    return read


def test_own_idx_set_odd_sizes_seeded_split(tmp_path, caplog, write_idx_set):
    arrays = write_idx_set(tmp_path / "mine", 300, 100, n_classes=5, shape=(20, 20))
    with caplog.at_level(logging.INFO, logger="neuroplast.data"):
        ds = load_dataset(f"idx:{tmp_path / 'mine'}", split_seed=3)
    assert ds.n_classes == 5 and ds.image_shape == (20, 20) and not ds.official
    # default seeded split: one sixth of the training file for validation, the test file for test
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (250, 50, 100)
    # exactly one line, a warning, naming the skipped check and the split
    recs = [r for r in caplog.records if r.name == "neuroplast.data"]
    assert len(recs) == 1 and recs[0].levelno == logging.WARNING
    line = recs[0].getMessage()
    assert "\n" not in line and "official-release check skipped" in line and "split_seed=3" in line
    assert line == ds.provenance and "None" not in line
    # train and validation are disjoint and together are the training file; test is the test file
    pool = normalise_images(arrays["train_images"].astype(float))
    itr, iva = _rows_in(ds.x_train, pool), _rows_in(ds.x_val, pool)
    assert (itr >= 0).all() and (iva >= 0).all()
    assert len(set(itr) | set(iva)) == 300
    np.testing.assert_array_equal(ds.y_train, arrays["train_labels"][itr])
    np.testing.assert_array_equal(ds.y_test, arrays["test_labels"])
    # same seed, same split; another seed, another split
    again = load_dataset(f"idx:{tmp_path / 'mine'}", split_seed=3)
    np.testing.assert_array_equal(again.x_val, ds.x_val)
    other = load_dataset(f"idx:{tmp_path / 'mine'}", split_seed=4)
    assert not np.array_equal(other.x_val, ds.x_val)


def test_sizes_within_what_the_files_hold(tmp_path, write_idx_set):
    write_idx_set(tmp_path, 300, 100)
    ds = load_dataset(f"idx:{tmp_path}", n_train=200, n_val=100, n_test=30)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (200, 100, 30)
    with pytest.raises(ValueError, match=r"at most the 300 images of .*train-images.* got 250 \+ 100"):
        load_dataset(f"idx:{tmp_path}", n_train=250, n_val=100)
    with pytest.raises(ValueError, match="n_test"):
        load_dataset(f"idx:{tmp_path}", n_test=101)


def test_named_mnist_accepts_own_files_of_any_size(tmp_path, caplog, write_idx_set):
    write_idx_set(tmp_path, 80, 20, n_classes=10, shape=(28, 28), compress=False)
    with caplog.at_level(logging.WARNING, logger="neuroplast.data"):
        ds = load_dataset("mnist", path=tmp_path)
    assert ds.name == "mnist" and not ds.official and ds.x_train.shape[1] == 784
    msg = caplog.records[-1].getMessage()
    assert "not the official mnist release" in msg and "(80, 28, 28)" in msg and "(60000, 28, 28)" in msg
    # named datasets are 28x28 with labels 0-9; anything else is pointed at idx:DIR
    write_idx_set(tmp_path / "small", 30, 10, n_classes=10, shape=(20, 20))
    with pytest.raises(ValueError, match=r"expected images of 28x28 pixels, found 20x20; .*--dataset idx:"):
        load_dataset("mnist", path=tmp_path / "small")


def test_official_release_recognised_recompressed_and_raw(tmp_path, monkeypatch, caplog, write_idx_set):
    d = tmp_path / "official"
    arrays = write_idx_set(d, 60, 12, n_classes=10, shape=(28, 28))
    _official(monkeypatch, d)
    ds = load_dataset("fashion-mnist", path=d)
    assert ds.official and "payload SHA-256 of all four files matched" in ds.provenance
    # reference split: first 50 training images, last 10 for validation, the test file for test
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (50, 10, 12)
    np.testing.assert_array_equal(ds.y_train, arrays["train_labels"][:50])
    np.testing.assert_array_equal(ds.y_val, arrays["train_labels"][50:])
    # recompressed (other level, other header time) and decompressed copies are the same payload
    re_dir, raw_dir = tmp_path / "recompressed", tmp_path / "raw"
    re_dir.mkdir()
    raw_dir.mkdir()
    for f in d.iterdir():
        payload = gzip.decompress(f.read_bytes())
        again = gzip.compress(payload, compresslevel=1, mtime=12345)
        assert hashlib.md5(again).hexdigest() != hashlib.md5(f.read_bytes()).hexdigest()
        (re_dir / f.name).write_bytes(again)
        (raw_dir / f.stem).write_bytes(payload)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="neuroplast.data"):
        for src in (re_dir, raw_dir):
            got = load_dataset("fashion-mnist", path=src)
            assert got.official
            np.testing.assert_array_equal(got.x_val, ds.x_val)
    assert not caplog.records  # the official release loads without a warning


def test_flipped_byte_in_raw_file_fails(tmp_path, monkeypatch, write_idx_set):
    d = tmp_path / "raw"
    write_idx_set(d, 60, 12, n_classes=10, shape=(28, 28), compress=False)
    read = _official(monkeypatch, d)
    f = d / "train-images-idx3-ubyte"
    data = bytearray(f.read_bytes())
    data[1000] ^= 0x01
    f.write_bytes(bytes(data))
    with pytest.raises(DatasetNotFoundError) as exc:
        load_dataset("fashion-mnist", path=d)
    msg = str(exc.value)
    assert str(f) in msg and "corrupt copy" in msg and "None" not in msg
    assert read["train_images"].sha256 in msg  # expected digest
    assert hashlib.sha256(bytes(data)).hexdigest() in msg  # found digest


def test_mnist_recognised_by_official_gz_md5_only(tmp_path, monkeypatch, caplog, write_idx_set):
    d = tmp_path / "mnist"
    write_idx_set(d, 60, 12, n_classes=10, shape=(28, 28))
    files = find_idx_parts(d)
    monkeypatch.setitem(
        idxmod.OFFICIAL_GZ_MD5,
        "mnist",
        {p: hashlib.md5(f.read_bytes()).hexdigest() for p, f in files.items()},
    )
    monkeypatch.setattr(
        idxmod, "OFFICIAL_SHAPES", {p: read_idx_file(f).array.shape for p, f in files.items()}
    )
    assert "mnist" not in idxmod.OFFICIAL_PAYLOAD_SHA256  # not yet published: do not invent them
    ds = load_dataset("mnist", path=d)
    assert ds.official and "official .gz MD5" in ds.provenance
    # the same payload decompressed cannot be recognised: loaded, with the reason, never refused
    raw = tmp_path / "raw"
    raw.mkdir()
    for f in files.values():
        (raw / f.stem).write_bytes(gzip.decompress(f.read_bytes()))
    with caplog.at_level(logging.WARNING, logger="neuroplast.data"):
        got = load_dataset("mnist", path=raw)
    assert not got.official
    assert "payload SHA-256 digests are not yet published" in caplog.records[-1].getMessage()


def test_release_named_wrongly(tmp_path, monkeypatch, write_idx_set):
    write_idx_set(tmp_path, 60, 12, n_classes=10, shape=(28, 28))
    _official(monkeypatch, tmp_path)
    with pytest.raises(
        ValueError, match="found the official fashion-mnist release; pass --dataset fashion-mnist"
    ):
        load_dataset("mnist", path=tmp_path)
    # idx:DIR recognises an official release too and gives it the reference split
    assert load_dataset(f"idx:{tmp_path}").official


def test_npz_set(tmp_path):
    rng = np.random.default_rng(0)
    f = tmp_path / "mine.npz"
    y_train, y_test = rng.integers(0, 3, 70), rng.integers(0, 3, 21)
    np.savez(
        f,
        x_train=rng.random((70, 6, 5)),
        y_train=y_train,
        x_test=rng.random((21, 30)) * 0 + 0.5,
        y_test=y_test,
    )
    with pytest.raises(ValueError, match="expected images shaped like the training images"):
        load_dataset(f"npz:{f}")
    np.savez(f, x_train=rng.random((70, 6, 5)), y_train=y_train, x_test=rng.random((21, 6, 5)), y_test=y_test)
    ds = load_dataset(f"npz:{f}", n_val=10)
    assert ds.n_classes == 3 and ds.image_shape == (6, 5) and not ds.official
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (60, 10, 21)
    assert "no official digests exist for .npz" in ds.provenance
    np.savez(f, x_train=rng.random((70, 6, 5)), y_train=y_train, x_test=rng.random((21, 6, 5)))
    with pytest.raises(
        ValueError, match=r"mine.npz: expected arrays .* missing y_test; found x_test, x_train"
    ):
        load_dataset(f"npz:{f}")
    f.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"mine.npz: expected a NumPy .npz archive .*found a file starting"):
        load_dataset(f"npz:{f}")


def test_errors_name_file_expected_and_found(tmp_path, write_idx_set, idx_bytes):
    d = tmp_path / "bad"
    write_idx_set(d, 30, 10, n_classes=10, shape=(28, 28), compress=False)
    labels = d / "train-labels-idx1-ubyte"
    payload = labels.read_bytes()
    # 29 labels for 30 images
    labels.write_bytes(payload[:4] + (29).to_bytes(4, "big") + payload[8:-1])
    msgs = []
    with pytest.raises(ValueError, match="expected one label per image") as exc:
        load_dataset(f"idx:{d}")
    msgs.append(str(exc.value))
    assert str(labels) in msgs[-1] and "(30), found 29 labels" in msgs[-1]
    # labels outside 0-9 for a named release
    bad = np.full(30, 12, dtype=np.uint8)
    labels.write_bytes(idx_bytes(bad))
    with pytest.raises(ValueError, match=r"expected labels in \[0, 9\], found values in \[12, 12\]") as exc:
        load_dataset("mnist", path=d)
    msgs.append(str(exc.value))
    with pytest.raises(DatasetNotFoundError, match="expected one test images file") as exc:
        (d / "t10k-images-idx3-ubyte").unlink()
        load_dataset(f"idx:{d}")
    msgs.append(str(exc.value))
    with pytest.raises(DatasetNotFoundError, match="no such directory") as exc:
        load_dataset(f"idx:{tmp_path / 'nowhere'}")
    msgs.append(str(exc.value))
    assert all("None" not in m for m in msgs)


def test_other_file_names_found_by_pattern(tmp_path, write_idx_set):
    d = tmp_path / "emnist"
    write_idx_set(d, 40, 10, n_classes=4)
    for f in list(d.iterdir()):
        f.rename(d / ("emnist-letters-" + f.name.replace("t10k", "test")))
    ds = load_dataset(f"idx:{d}")
    assert ds.n_classes == 4 and len(ds.y_test) == 10
    shutil.copy(d / "emnist-letters-test-labels-idx1-ubyte.gz", d / "copy-test-labels-idx1-ubyte.gz")
    with pytest.raises(DatasetNotFoundError, match=r"expected one test labels file .* found 2 files"):
        load_dataset(f"idx:{d}")


def test_split_rules_and_specs():
    tr, va, te = split_indices(60, 10, rule="reference", n_train=20, n_val=5)
    assert tr.tolist() == list(range(20)) and va.tolist() == list(range(50, 55)) and len(te) == 10
    with pytest.raises(ValueError, match="n_train"):
        split_indices(60, 10, rule="reference", n_train=51)
    tr, va, te = split_indices(60, 10, rule="seeded", split_seed=1)
    assert len(tr) == 50 and len(va) == 10 and not set(tr) & set(va)
    for bad in ("cifar", "idx:", "npz: "):
        with pytest.raises(ValueError, match="dataset"):
            check_dataset_spec(bad)
    assert check_dataset_spec("idx:/data/kmnist") == "idx:/data/kmnist"
    with pytest.raises(ValueError, match="takes no path"):
        load_dataset("digits", path="/tmp")


def test_verify_release_never_refuses_own_data_for_not_being_official(tmp_path, monkeypatch, write_idx_set):
    # own files of the official shape but other content: all four differ -> loaded, not refused
    write_idx_set(tmp_path / "a", 60, 12, n_classes=10, shape=(28, 28))
    _official(monkeypatch, tmp_path / "a")
    write_idx_set(tmp_path / "b", 60, 12, n_classes=10, shape=(28, 28), seed=9)
    read = {p: read_idx_file(f) for p, f in find_idx_parts(tmp_path / "b").items()}
    v = verify_release(read, "fashion-mnist")
    assert (
        not v.official and set(v.checks.values()) == {"mismatch"} and "differs from the official" in v.reason
    )


def test_headers_size_a_run_without_loading(tmp_path, write_idx_set):
    write_idx_set(tmp_path / "gz", 30, 7, shape=(6, 5))
    write_idx_set(tmp_path / "raw", 30, 7, shape=(6, 5), compress=False)
    for d in ("gz", "raw"):
        for f in find_idx_parts(tmp_path / d).values():
            assert read_idx_header(f) == read_idx_file(f).array.shape
        assert dataset_extent(f"idx:{tmp_path / d}") == (37, 30)
    bad = tmp_path / "gz" / "junk"
    bad.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(DatasetNotFoundError, match="not an IDX file"):
        read_idx_header(bad)
    assert dataset_extent(f"idx:{tmp_path / 'none'}") is None  # the loader reports what is wrong
