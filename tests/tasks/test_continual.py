"""Task streams: permuted / split digits, scenarios, bad input."""

import numpy as np
import pytest

from tasks.continual import (
    Experience,
    TaskStream,
    make_stream,
    permuted_digits,
    permuted_stream,
    split_digits,
    upsample_images,
)


def test_permuted_digits_stream():
    s = permuted_digits(3, image_size=16, seed=0)
    assert len(s) == 3 and s.scenario == "domain" and s.n_classes == 10
    assert s.n_inputs == 256
    e0, e1 = s[0], s[1]
    np.testing.assert_array_equal(e0.y_train, e1.y_train)
    # same samples, different pixel order: equal sorted rows, different rows
    np.testing.assert_allclose(np.sort(e0.X_train[:5], axis=1), np.sort(e1.X_train[:5], axis=1))
    assert not np.allclose(e0.X_train[:5], e1.X_train[:5])
    perm = s.meta["permutations"][1]
    np.testing.assert_array_equal(np.sort(perm), np.arange(256))
    assert 0.0 <= s[0].X_train.min() and s[0].X_train.max() <= 1.0
    assert s.class_mask(0) is None
    # reproducible
    s2 = permuted_digits(3, image_size=16, seed=0)
    np.testing.assert_array_equal(s2[2].X_test, s[2].X_test)
    assert len(e0.y_train) + len(e0.y_test) == 1797


def test_upsampled_input_dimension_exceeds_subspace_budget():
    s = make_stream("permuted-digits", 2, seed=1)
    assert s.n_inputs == 784  # 28 x 28 by default
    # upsampling is bilinear: an 8x8 image of a constant stays constant
    up = upsample_images(np.full((1, 8, 8), 0.5), 28)
    np.testing.assert_allclose(up, 0.5)


@pytest.mark.parametrize("scenario", ["class", "task"])
def test_split_digits(scenario):
    s = split_digits(5, scenario=scenario, image_size=8, seed=0)
    assert len(s) == 5 and s.scenario == scenario
    seen = set()
    for e in s:
        assert len(e.classes) == 2
        assert set(np.unique(e.y_train)) == set(e.classes)
        assert not seen & set(e.classes)
        seen |= set(e.classes)
    assert seen == set(range(10))
    mask = s.class_mask(2)
    if scenario == "task":
        np.testing.assert_array_equal(np.flatnonzero(mask), [4, 5])
    else:
        assert mask is None


def test_bad_streams():
    with pytest.raises(ValueError, match="empty stream"):
        TaskStream((), "domain", 10)
    a = Experience(0, np.zeros((4, 5)), np.zeros(4, int), np.zeros((2, 5)), np.zeros(2, int), (0,))
    b = Experience(1, np.zeros((4, 6)), np.zeros(4, int), np.zeros((2, 6)), np.zeros(2, int), (0,))
    with pytest.raises(ValueError, match="same input size.*task 0: 5, task 1: 6"):
        TaskStream((a, b), "domain", 10)
    with pytest.raises(ValueError, match="X_train has 5 inputs but X_test has 6"):
        Experience(0, np.zeros((4, 5)), np.zeros(4, int), np.zeros((2, 6)), np.zeros(2, int), (0,))
    with pytest.raises(ValueError, match="one label per row"):
        Experience(0, np.zeros((4, 5)), np.zeros(3, int), np.zeros((2, 5)), np.zeros(2, int), (0,))
    with pytest.raises(ValueError, match="NaN"):
        Experience(0, np.full((4, 5), np.nan), np.zeros(4, int), np.zeros((2, 5)), np.zeros(2, int), (0,))
    with pytest.raises(ValueError, match="labels outside"):
        TaskStream((Experience(0, np.zeros((1, 5)), [7], np.zeros((1, 5)), [0], (7,)),), "domain", 5)
    with pytest.raises(ValueError, match="scenario"):
        TaskStream((a,), "online", 10)
    with pytest.raises(ValueError, match="n_tasks"):
        permuted_digits(0)
    with pytest.raises(ValueError, match="n_tasks must be <="):
        split_digits(11)
    with pytest.raises(ValueError, match="stream"):
        make_stream("rotated-digits", 3)
    with pytest.raises(ValueError, match="n_tasks"):
        permuted_stream(np.zeros((3, 4)), np.zeros(3, int), np.zeros((3, 4)), np.zeros(3, int), 0)


def test_mnist_streams_need_idx_files(monkeypatch, tmp_path):
    # point every search location at an empty directory
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("NEUROPLAST_MNIST", "NEUROPLAST_FASHION_MNIST", "NEUROPLAST_DATA"):
        monkeypatch.setenv(var, str(tmp_path / "none"))
    import tasks.datasets as ds

    try:
        ds.find_idx_files("mnist")
    except (FileNotFoundError, ValueError):
        pass
    else:  # pragma: no cover - machine with MNIST in a system location
        pytest.skip("MNIST IDX files are installed system-wide")
    with pytest.raises((FileNotFoundError, ValueError), match="(?i)mnist"):
        make_stream("permuted-mnist", 2, seed=0)


@pytest.mark.slow
def test_fashion_streams_when_idx_files_present():
    import tasks.datasets as ds

    try:
        ds.find_idx_files("fashion-mnist")
    except (FileNotFoundError, ValueError):
        pytest.skip("Fashion-MNIST IDX files not installed")
    s = make_stream("permuted-fashion", 2, seed=0, max_train=100, max_test=30)
    assert s.n_inputs == 784 and len(s[0].y_train) == 100 and len(s[1].y_test) == 30
    assert s[0].X_train.max() == pytest.approx(1.0)
    sp = make_stream("split-fashion-task", 5, seed=0, max_train=40, max_test=10)
    assert sp.scenario == "task" and [len(e.classes) for e in sp] == [2] * 5


def test_streams_over_own_idx_files_sample_only_their_split(tmp_path, write_idx_set):
    from tasks.datasets import load_dataset

    write_idx_set(tmp_path / "mine", 300, 100, n_classes=5, shape=(20, 20))
    ds = load_dataset(f"idx:{tmp_path / 'mine'}", normalisation="max")  # as the streams load it
    train_rows = {r.tobytes() for r in ds.x_train}
    val_rows = {r.tobytes() for r in ds.x_val}
    test_rows = {r.tobytes() for r in ds.x_test}
    s = make_stream("split-idx-class", 5, seed=0, max_train=30, max_test=10, data_path=tmp_path / "mine")
    assert s.n_inputs == 400 and s.n_classes == 5 and [e.classes for e in s] == [(k,) for k in range(5)]
    assert "official-release check skipped" in s.meta["provenance"]
    for e in s:
        assert all(r.tobytes() in train_rows and r.tobytes() not in val_rows for r in e.X_train)
        assert all(r.tobytes() in test_rows for r in e.X_test)
    # permuted streams undo their permutation onto training rows only
    p = make_stream("permuted-idx", 2, seed=0, max_train=40, max_test=10, data_path=tmp_path / "mine")
    inv = np.argsort(p.meta["permutations"][1])
    assert len(p[1].y_train) == 40
    assert all(r.tobytes() in train_rows for r in p[1].X_train[:, inv])
    with pytest.raises(ValueError, match="need data_path"):
        make_stream("permuted-idx", 2, seed=0)
    with pytest.raises(ValueError, match="takes no data_path"):
        make_stream("permuted-digits", 2, seed=0, data_path=tmp_path)


def test_mnist_stream_reads_data_path(tmp_path, write_idx_set):
    # own 28x28 MNIST-format files of an odd size: no official-size assumption, caps within the split
    write_idx_set(tmp_path, 90, 33, n_classes=10, shape=(28, 28))
    s = make_stream("permuted-mnist", 2, seed=1, max_train=2000, max_test=500, data_path=tmp_path)
    assert len(s[0].y_train) == 75 and len(s[0].y_test) == 33  # 90 - 90 // 6 training images
