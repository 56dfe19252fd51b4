"""The chunked feature store: atomic chunks, resume after a crash, key refusal, reading back."""

import json

import numpy as np
import pytest

from tasks.feature_store import FeatureStore, array_digest, load_features, stored_key

KEY = {"liquid": {"grid": [3, 3, 3]}, "weights_sha256": "abc", "seed": 0}


def _data(n=10, f=4, seed=0):
    return np.random.default_rng(seed).integers(0, 40, (n, f)).astype(np.float64)


def _open(d, key=KEY, **kw):
    return FeatureStore(d, key=key, n_samples=10, n_features=4, chunk_size=3, **kw)


def test_roundtrip_and_layout(tmp_path):
    x = _data()
    st = _open(tmp_path)
    assert st.n_chunks == 4 and st.chunk_rows(3) == (9, 10) and st.missing() == [0, 1, 2, 3]
    for i in st.missing():
        a, b = st.chunk_rows(i)
        st.write_chunk(i, x[a:b])
    assert st.complete
    st.save_array("labels", np.arange(10) % 3)
    st.set_meta(splits={"train": [0, 6], "test": [6, 10]})
    out = load_features(tmp_path)
    np.testing.assert_array_equal(out.features, x)
    X, y = out.split("test")
    np.testing.assert_array_equal(X, x[6:]) and np.testing.assert_array_equal(y, np.arange(6, 10) % 3)
    assert out.key == KEY and stored_key(tmp_path) == KEY
    with pytest.raises(ValueError, match="unknown split 'val'"):
        out.split("val")
    # stored compactly as uint16, one file per chunk
    assert np.load(tmp_path / "chunk_000000.npy").dtype == np.uint16


def test_crash_between_chunk_write_and_manifest_update_loses_nothing(tmp_path):
    x = _data()
    st = _open(tmp_path)
    st.write_chunk(0, x[0:3])
    st._write_chunk_file(2, x[6:9])  # killed before the manifest listed chunk 2
    # a writer killed mid-write leaves a partial temporary file
    (tmp_path / ".chunk_000001.abcd.tmp").write_bytes(b"\x93NUMPY partial")
    assert json.loads((tmp_path / "manifest.json").read_text())["chunks"].keys() == {"0"}
    again = _open(tmp_path)
    assert sorted(again.done) == [0, 2] and again.missing() == [1, 3]  # chunk 2 adopted, not recomputed
    assert not list(tmp_path.glob(".*.tmp"))
    for i in again.missing():
        a, b = again.chunk_rows(i)
        again.write_chunk(i, x[a:b])
    np.testing.assert_array_equal(load_features(tmp_path).features, x)


def test_truncated_chunk_or_lost_file_is_recomputed(tmp_path):
    x = _data()
    st = _open(tmp_path)
    st.write_chunk(0, x[0:3])
    st.write_chunk(1, x[3:6])
    (tmp_path / "chunk_000001.npy").unlink()
    (tmp_path / "chunk_000002.npy").write_bytes(b"garbage")  # not a valid chunk: removed
    again = _open(tmp_path)
    assert again.missing() == [1, 2, 3]
    assert not (tmp_path / "chunk_000002.npy").exists()
    with pytest.raises(ValueError, match="incomplete: 3 of 4 chunks missing"):
        again.read()


def test_changed_configuration_refused_unless_force(tmp_path):
    x = _data()
    _open(tmp_path).write_chunk(0, x[0:3])
    other = dict(KEY, weights_sha256="def")
    with pytest.raises(ValueError, match=r"different configuration \(differs in: weights_sha256\).*--force"):
        _open(tmp_path, key=other)
    with pytest.raises(ValueError, match="differs in: chunk_size"):
        FeatureStore(tmp_path, key=KEY, n_samples=10, n_features=4, chunk_size=5)
    st = _open(tmp_path, key=other, force=True)
    assert st.missing() == [0, 1, 2, 3] and not (tmp_path / "chunk_000000.npy").exists()
    assert stored_key(tmp_path)["weights_sha256"] == "def"


def test_bad_chunks_and_corruption(tmp_path):
    st = _open(tmp_path)
    with pytest.raises(ValueError, match=r"chunk 0 must have shape \(3, 4\)"):
        st.write_chunk(0, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="integers in"):
        st.write_chunk(0, np.full((3, 4), 0.5))
    with pytest.raises(ValueError, match="chunk index must be < 4"):
        st.write_chunk(4, np.zeros((1, 4)))
    x = _data()
    for i in range(4):
        a, b = st.chunk_rows(i)
        st.write_chunk(i, x[a:b])
    # flip one stored value: the checksum catches it
    arr = np.load(tmp_path / "chunk_000001.npy")
    arr[0, 0] += 1
    np.save(tmp_path / "chunk_000001.npy", arr)
    with pytest.raises(ValueError, match="checksum"):
        load_features(tmp_path)
    with pytest.raises(ValueError, match="not a feature store"):
        load_features(tmp_path / "nowhere")


def test_array_digest_sees_values_dtype_and_shape():
    a = np.arange(6.0)
    assert array_digest(a) == array_digest(a.copy())
    assert array_digest(a) != array_digest(a.reshape(2, 3))
    assert array_digest(a) != array_digest(a.astype(np.float32))
    b = a.copy()
    b[3] = np.nextafter(b[3], 10)
    assert array_digest(a) != array_digest(b)
