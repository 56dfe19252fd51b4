"""Shared test settings: quiet Brian2, headless matplotlib."""

import matplotlib
import pytest

matplotlib.use("Agg")


def _idx_bytes(arr) -> bytes:
    """An array as an IDX payload (uint8 data, big-endian header)."""
    import numpy as np

    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def _write_idx_set(d, n_train=300, n_test=100, *, n_classes=5, shape=(20, 20), compress=True, seed=0):
    """Write a synthetic MNIST-format set (standard file names) into ``d``; return the arrays by part.

    Each class brightens its own band of rows, so a classifier can learn it.
    """
    import gzip
    from pathlib import Path

    import numpy as np

    rng = np.random.default_rng(seed)
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n, stem in (("train", n_train, "train"), ("test", n_test, "t10k")):
        y = rng.integers(0, n_classes, n).astype(np.uint8)
        x = rng.integers(0, 60, (n, *shape)).astype(np.uint8)
        band = max(1, shape[0] // n_classes)
        for k in range(n_classes):
            x[y == k, k * band : (k + 1) * band] += 180
        for kind, a, rank in (("images", x, 3), ("labels", y, 1)):
            payload = _idx_bytes(a)
            name = f"{stem}-{kind}-idx{rank}-ubyte"
            if compress:
                (d / (name + ".gz")).write_bytes(gzip.compress(payload))
            else:
                (d / name).write_bytes(payload)
        out[f"{split}_images"], out[f"{split}_labels"] = x, y
    return out


@pytest.fixture
def write_idx_set():
    """``write_idx_set(d, n_train, n_test, *, n_classes, shape, compress, seed)`` (see ``_write_idx_set``)."""
    return _write_idx_set


@pytest.fixture
def idx_bytes():
    """``idx_bytes(array) -> bytes``: an IDX payload."""
    return _idx_bytes
