"""N-MNIST: the dataset's binary event files as spike trains.

Every event is 40 bits, big-endian: x (8 bits), y (8 bits), polarity (1 bit),
timestamp in microseconds (23 bits), on a 34 x 34 sensor. The files are read
from a directory the user already has (``root/Train|Test/<label>/*.bin``);
nothing is downloaded. The names are also available from :mod:`tasks.datasets`.

References
----------
G. Orchard, A. Jayawant, G. Cohen, N. Thakor, "Converting static image datasets
to spiking neuromorphic datasets using saccades", Front. Neurosci. 9:437 (2015).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from plasticity_rules.validation import check_choice, check_int

from .idx import DatasetNotFoundError

__all__ = ["NMNIST_SIZE", "read_nmnist_events", "nmnist_spike_trains", "load_nmnist"]

NMNIST_SIZE = 34


def read_nmnist_events(path) -> dict[str, np.ndarray]:
    """Read one N-MNIST binary event file.

    Every event is 40 bits, big-endian: x (8 bits), y (8 bits), polarity (1
    bit), timestamp in microseconds (23 bits).

    Returns
    -------
    dict
        ``x``, ``y`` (uint8), ``p`` (uint8, 1 = ON), ``t_us`` (int64), each shape (n_events,).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(
            f"{path}: no such N-MNIST event file; the dataset must be obtained by the user "
            "(it is never downloaded) and its directory passed as root="
        )
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 5 != 0:
        raise DatasetNotFoundError(
            f"{path}: size {raw.size} bytes is not a multiple of 5 (corrupt N-MNIST file)"
        )
    ev = raw.reshape(-1, 5).astype(np.int64)
    x = ev[:, 0].astype(np.uint8)
    y = ev[:, 1].astype(np.uint8)
    p = (ev[:, 2] >> 7).astype(np.uint8)
    t = ((ev[:, 2] & 0x7F) << 16) | (ev[:, 3] << 8) | ev[:, 4]
    if x.size and (x.max() >= NMNIST_SIZE or y.max() >= NMNIST_SIZE):
        raise DatasetNotFoundError(f"{path}: event coordinates exceed the {NMNIST_SIZE}x{NMNIST_SIZE} sensor")
    return {"x": x, "y": y, "p": p, "t_us": t}


def nmnist_spike_trains(events, *, dt_us: int = 1000, duration_us: int | None = None):
    """Turn N-MNIST events into spike trains on ``2 * 34 * 34`` input neurons.

    Neuron index = ``p * 34 * 34 + y * 34 + x``; time is binned to ``dt_us``
    (one spike per neuron and bin at most, as a 1 ms simulation step sees it).

    Returns
    -------
    indices : ndarray of int64, shape (n_spikes,)
    steps : ndarray of int64, shape (n_spikes,)
        Time-step index of each spike, sorted by step then neuron.
    """
    check_int("dt_us", dt_us, minimum=1)
    idx = (
        events["p"].astype(np.int64) * NMNIST_SIZE * NMNIST_SIZE
        + events["y"].astype(np.int64) * NMNIST_SIZE
        + events["x"].astype(np.int64)
    )
    steps = events["t_us"].astype(np.int64) // dt_us
    if duration_us is not None:
        keep = events["t_us"] < duration_us
        idx, steps = idx[keep], steps[keep]
    n_neurons = 2 * NMNIST_SIZE * NMNIST_SIZE
    key = np.unique(steps * n_neurons + idx)
    return key % n_neurons, key // n_neurons


def load_nmnist(root, split: str = "Train", *, max_per_class: int | None = None):
    """List N-MNIST files under ``root/<split>/<label>/*.bin`` with their labels.

    Returns
    -------
    files : list of Path
    labels : ndarray of int64
    """
    check_choice("split", split, ("Train", "Test"))
    base = Path(root) / split
    if not base.is_dir():
        raise DatasetNotFoundError(
            f"N-MNIST: directory {base} not found (looked in root={root}); obtain N-MNIST yourself and pass"
            " the "
            "directory holding Train/ and Test/ as root="
        )
    files, labels = [], []
    for label in range(10):
        fs = sorted((base / str(label)).glob("*.bin"))
        if max_per_class is not None:
            fs = fs[:max_per_class]
        files += fs
        labels += [label] * len(fs)
    if not files:
        raise DatasetNotFoundError(f"N-MNIST: no .bin files under {base}/<0-9>/")
    return files, np.asarray(labels, dtype=np.int64)
