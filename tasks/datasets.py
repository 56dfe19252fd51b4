"""Image datasets for the liquid state machine: 8x8 digits, MNIST, Fashion-MNIST, N-MNIST.

* **digits** (default, embedded): scikit-learn's 1797 8x8 handwritten digits,
  split 5:1:1 into train/validation/test (the ratio of the reference's
  50k/10k/10k split) by a seeded permutation.
* **mnist**, **fashion-mnist**: read from IDX files the user already has (``.gz``
  or decompressed), never downloaded. Files are searched in this order:

  1. the explicit ``path`` argument (a directory or ``.../train-images-idx3-ubyte[.gz]``),
  2. the environment variable (``NEUROPLAST_MNIST`` / ``NEUROPLAST_FASHION_MNIST``,
     or ``$NEUROPLAST_DATA/<name>``),
  3. standard locations: ``~/.cache/neuroplast/datasets/<name>``,
     ``~/datasets/<name>``, ``/usr/share/datasets/<name>`` (Debian's
     ``dataset-fashion-mnist`` package installs Fashion-MNIST there).

  Headers and sizes are parsed and checked; a ``.gz`` file is accepted if its
  MD5 is the official one *or* the SHA-256 of its decompressed payload is the
  official payload's (Debian recompressed the archives, so only the payload
  matches); a raw file is checked against the payload SHA-256. The split is the
  reference's: train = first 50 000 training images, validation = last 10 000,
  test = the 10 000 test images.
* **N-MNIST**: :func:`read_nmnist_events` reads the dataset's binary event
  files (5 bytes per event) into spike trains.

Pixel intensities go through the reference's normalisation
(:func:`normalise_images`): each image is divided by its pixel sum, then all
images by the largest normalised pixel, so values lie in [0, 1] and are used
as per-step Bernoulli spike probabilities.

References
----------
Y. LeCun et al., MNIST; H. Xiao et al., Fashion-MNIST (2017); G. Orchard et al.,
"Converting static image datasets to spiking neuromorphic datasets using
saccades", Front. Neurosci. (2015); NALSM reference code
``NALSM_SIM_SUPPORT.assemble_data``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plasticity_rules.validation import check_array, check_choice, check_int, check_seed

__all__ = [
    "DATASETS",
    "ImageDataset",
    "load_dataset",
    "load_digits_dataset",
    "load_idx_dataset",
    "load_digits_images",
    "scale_to_max",
    "NORMALISATIONS",
    "find_idx_files",
    "read_idx",
    "normalise_images",
    "normalise_rows",
    "check_images_labels",
    "read_nmnist_events",
    "nmnist_spike_trains",
    "load_nmnist",
    "DatasetNotFoundError",
]

#: Datasets known to :func:`load_dataset`.
DATASETS = ("digits", "mnist", "fashion-mnist")

_ENV = {"mnist": "NEUROPLAST_MNIST", "fashion-mnist": "NEUROPLAST_FASHION_MNIST"}
_HOW_TO_GET = {
    "mnist": (
        "download the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) from the MNIST page yourself and pass "
        "their directory as path= or set NEUROPLAST_MNIST"
    ),
    "fashion-mnist": (
        "install Debian's package (apt-get install dataset-fashion-mnist, files go to "
        "/usr/share/datasets/fashion-mnist) or put the four IDX files in a directory passed as path= "
        "or set NEUROPLAST_FASHION_MNIST"
    ),
}
_PARTS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# Official MD5 of the distributed .gz archives.
_GZ_MD5 = {
    "mnist": {
        "train_images": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train_labels": "d53e105ee54ea40749a09fcbcd1e9432",
        "test_images": "9fb629c4189551a2d022fa330f9573f3",
        "test_labels": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train_images": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train_labels": "25c81989df183df01b3e8a0aad5dffbe",
        "test_images": "bef4ecab320f06d8554ea6380940ec79",
        "test_labels": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}
# SHA-256 of the decompressed payloads (measured on Debian's dataset-fashion-mnist, whose
# payloads are the official data). Not known for MNIST: there a raw file is checked by its
# header and size only, and a .gz file by its official MD5.
_PAYLOAD_SHA256 = {
    "fashion-mnist": {
        "train_images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train_labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "test_images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "test_labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}
_EXPECTED_SHAPE = {
    "train_images": (60000, 28, 28),
    "train_labels": (60000,),
    "test_images": (10000, 28, 28),
    "test_labels": (10000,),
}
_IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class DatasetNotFoundError(FileNotFoundError, ValueError):
    """A dataset file is missing or corrupt (message says which, where we looked, how to get it)."""


@dataclass(frozen=True)
class ImageDataset:
    """Images as flattened float64 arrays in [0, 1] with integer labels.

    Attributes
    ----------
    x_train, x_val, x_test : ndarray, shape (n, n_pixels)
    y_train, y_val, y_test : ndarray of int64, shape (n,)
    image_shape : tuple of int
    n_classes : int
    name : str
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple
    n_classes: int = 10

    def __post_init__(self):
        n_pix = int(np.prod(self.image_shape))
        for part in ("train", "val", "test"):
            x = getattr(self, f"x_{part}")
            y = getattr(self, f"y_{part}")
            check_images_labels(x, y, n_pixels=n_pix, n_classes=self.n_classes, name=f"x_{part}")

    @property
    def n_pixels(self) -> int:
        return int(np.prod(self.image_shape))

    def subset(self, n_train=None, n_val=None, n_test=None) -> ImageDataset:
        """First ``n_*`` samples of each part (None keeps all)."""

        def cut(a, n):
            return a if n is None else a[: check_int("n", n, minimum=1)]

        return ImageDataset(
            self.name,
            cut(self.x_train, n_train),
            cut(self.y_train, n_train),
            cut(self.x_val, n_val),
            cut(self.y_val, n_val),
            cut(self.x_test, n_test),
            cut(self.y_test, n_test),
            self.image_shape,
            self.n_classes,
        )


def check_images_labels(x, y, *, n_pixels=None, n_classes=10, name="images"):
    """Check a (n, n_pixels) image array and its labels; return them as float64 / int64.

    Raises ``ValueError`` on wrong shapes, NaN/inf pixels, pixels outside [0, 1]
    and labels outside ``[0, n_classes)``.
    """
    x = check_array(name, x, ndim=2)
    if n_pixels is not None and x.shape[1] != n_pixels:
        raise ValueError(f"{name} must have shape (n, {n_pixels}) (flattened images), got {x.shape}")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"{name} pixels must lie in [0, 1], got values in [{x.min()}, {x.max()}]")
    y_arr = np.asarray(y)
    if y_arr.ndim != 1 or y_arr.shape[0] != x.shape[0]:
        raise ValueError(f"labels for {name} must have shape ({x.shape[0]},), got {y_arr.shape}")
    if y_arr.dtype.kind not in "iu":
        if y_arr.dtype.kind == "f" and np.all(np.isfinite(y_arr)) and np.all(y_arr == np.round(y_arr)):
            y_arr = y_arr.astype(np.int64)
        else:
            raise ValueError(f"labels for {name} must be integers, got dtype {y_arr.dtype}")
    y_arr = y_arr.astype(np.int64)
    if y_arr.size and (y_arr.min() < 0 or y_arr.max() >= n_classes):
        raise ValueError(
            f"labels for {name} must lie in [0, {n_classes}), got values in [{y_arr.min()}, {y_arr.max()}]"
        )
    return x, y_arr


def normalise_rows(x, scale: float | None = None) -> tuple[np.ndarray, float]:
    """The reference's normalisation: each row divided by its sum, then all rows by ``scale``.

    .. math:: p_{ni} = \\frac{x_{ni} / \\sum_j x_{nj}}{s}, \\qquad
              s = \\max_{m,k} \\frac{x_{mk}}{\\sum_j x_{mj}} \\text{ unless given}

    Used for images (pixel intensities to per-step spike probabilities) and for the
    liquid's spike counts (readout features, ``scale`` taken from the training set).

    Parameters
    ----------
    x : array_like, shape (n, d)
        Non-negative values (an all-zero row stays zero).
    scale : float, optional
        Common divisor; default: the largest row-normalised value (1 if all are zero).

    Returns
    -------
    x : ndarray, shape (n, d)
    scale : float
    """
    x = check_array("x", x, ndim=2)
    if x.size and x.min() < 0:
        raise ValueError(f"x must be non-negative, got minimum {x.min()}")
    s = x.sum(axis=1, keepdims=True)
    normed = np.divide(x, s, out=np.zeros_like(x), where=s > 0)
    if scale is None:
        peak = normed.max()
        scale = float(peak) if peak > 0 else 1.0
    return normed / scale, scale


def normalise_images(images) -> np.ndarray:
    """Reference normalisation of images (:func:`normalise_rows` of the flattened images).

    .. math:: p_{ni} = \\frac{x_{ni} / \\sum_j x_{nj}}{\\max_{m,k} x_{mk} / \\sum_j x_{mj}}

    Parameters
    ----------
    images : array_like, shape (n, ...)
        Non-negative pixel intensities.

    Returns
    -------
    ndarray, shape (n, n_pixels)
        Flattened per-step spike probabilities in [0, 1]; an all-zero image stays zero.
    """
    x = check_array("images", images, ndim=(2, 3))
    x = x.reshape(x.shape[0], -1)
    if x.min() < 0:
        raise ValueError(f"images must be non-negative, got minimum {x.min()}")
    return normalise_rows(x)[0]


def _split_5_1_1(n, seed):
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_val = n // 7
    n_test = n // 7
    n_train = n - n_val - n_test
    return perm[:n_train], perm[n_train : n_train + n_val], perm[n_train + n_val :]


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits: images ``(1797, 8, 8)`` with intensities in [0, 1] and int64 labels.

    The one digits loader: :func:`load_digits_dataset` (liquid inputs) and the
    continual-learning streams (:mod:`tasks.continual`) both start here.
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.images / 16.0, d.target.astype(np.int64)


def load_digits_dataset(split_seed: int = 0) -> ImageDataset:
    """scikit-learn's 8x8 digits, normalised, split 5:1:1 by a permutation seeded with ``split_seed``."""
    split_seed = check_seed(split_seed)
    images, y = load_digits_images()
    # dividing by 16 is exact, so this equals normalising the raw 0..16 intensities bit for bit
    x = normalise_images(images)
    tr, va, te = _split_5_1_1(len(y), split_seed)
    return ImageDataset("digits", x[tr], y[tr], x[va], y[va], x[te], y[te], (8, 8), 10)


def _candidate_dirs(name: str, path) -> list[tuple[str, Path]]:
    dirs: list[tuple[str, Path]] = []
    if path is not None:
        p = Path(path)
        dirs.append(("path argument", p.parent if p.is_file() else p))
        return dirs
    env = os.environ.get(_ENV[name])
    if env:
        dirs.append((f"${_ENV[name]}", Path(env)))
    data = os.environ.get("NEUROPLAST_DATA")
    if data:
        dirs.append(("$NEUROPLAST_DATA", Path(data) / name))
    home = Path(os.path.expanduser("~"))
    dirs += [
        ("standard location", home / ".cache" / "neuroplast" / "datasets" / name),
        ("standard location", home / "datasets" / name),
        ("standard location", Path("/usr/share/datasets") / name),
    ]
    return dirs


def _file_variants(stem: str) -> list[str]:
    dotted = stem.replace("-idx", ".idx")  # e.g. train-images.idx3-ubyte
    return [stem + ".gz", stem, dotted + ".gz", dotted]


def find_idx_files(name: str, path=None) -> dict[str, Path]:
    """Locate the four IDX files of ``name`` (see the module docstring for the search order).

    Returns
    -------
    dict
        ``{'train_images': Path, 'train_labels': ..., 'test_images': ..., 'test_labels': ...}``

    Raises
    ------
    DatasetNotFoundError
        Naming the missing file, every directory searched, and how to get the data.
    """
    check_choice("dataset", name, ("mnist", "fashion-mnist"))
    dirs = _candidate_dirs(name, path)
    for _, d in dirs:
        found = {}
        for part, stem in _PARTS.items():
            for fname in _file_variants(stem):
                if (d / fname).is_file():
                    found[part] = d / fname
                    break
        if len(found) == len(_PARTS):
            return found
    # report the first missing file of the most promising directory
    looked = "; ".join(f"{what}: {d}" for what, d in dirs)
    missing = _PARTS["train_images"]
    for _, d in dirs:
        if d.is_dir():
            for stem in _PARTS.values():
                if not any((d / f).is_file() for f in _file_variants(stem)):
                    missing = stem
                    break
            break
    raise DatasetNotFoundError(
        f"{name}: file {missing}[.gz] not found (looked in {looked}); to get it: {_HOW_TO_GET[name]}"
    )


def _parse_idx(payload: bytes, source: str) -> np.ndarray:
    if len(payload) < 4 or payload[0] != 0 or payload[1] != 0:
        raise DatasetNotFoundError(f"{source}: not an IDX file (bad magic number {payload[:4].hex()})")
    code, ndim = payload[2], payload[3]
    if code not in _IDX_DTYPES:
        raise DatasetNotFoundError(f"{source}: unknown IDX data type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise DatasetNotFoundError(f"{source}: truncated IDX header")
    dims = tuple(int.from_bytes(payload[4 + 4 * k : 8 + 4 * k], "big") for k in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = header + int(np.prod(dims)) * dtype.itemsize
    if len(payload) != expected:
        raise DatasetNotFoundError(
            f"{source}: size {len(payload)} bytes does not match its header (dims {dims} -> {expected} B);"
            " "
            "the file is truncated or corrupt"
        )
    return np.frombuffer(payload, dtype=dtype, offset=header).reshape(dims)


def read_idx(path, *, md5: str | None = None, sha256: str | None = None) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw), checking its header, its size and optionally its checksum.

    Parameters
    ----------
    path : path-like
    md5 : str, optional
        Expected MD5 of the file as stored (the official ``.gz`` checksum).
    sha256 : str, optional
        Expected SHA-256 of the decompressed payload. When both are given, the
        file passes if either matches.

    Returns
    -------
    ndarray
        The array with the shape recorded in the header.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"{path}: no such file")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            payload = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DatasetNotFoundError(f"{path}: corrupt gzip archive ({exc})") from None
    else:
        payload = raw
    if md5 is not None or sha256 is not None:
        ok_md5 = md5 is not None and hashlib.md5(raw).hexdigest() == md5
        ok_sha = sha256 is not None and hashlib.sha256(payload).hexdigest() == sha256
        if not (ok_md5 or ok_sha):
            raise DatasetNotFoundError(
                f"{path}: checksum mismatch (expected official MD5 {md5} of the .gz or SHA-256 {sha256}"
                " of the "
                "decompressed payload); the file is corrupt or not the official data"
            )
    return _parse_idx(payload, str(path))


def scale_to_max(x) -> np.ndarray:
    """Each row divided by its own maximum (intensities as input currents in [0, 1]; zero rows stay 0)."""
    x = check_array("x", x, ndim=2)
    return x / np.maximum(x.max(axis=1, keepdims=True), 1e-12)


#: Pixel normalisations of :func:`load_idx_dataset`.
NORMALISATIONS = {"reference": normalise_images, "max": scale_to_max}


def load_idx_dataset(
    name: str, path=None, *, verify: bool = True, normalisation: str = "reference"
) -> ImageDataset:
    """MNIST or Fashion-MNIST with the reference's 50k/10k/10k split (never downloads).

    Parameters
    ----------
    name : {'mnist', 'fashion-mnist'}
    path : path-like, optional
        Directory holding the IDX files (or one of the files).
    verify : bool
        Check official checksums (see :func:`read_idx`).
    normalisation : {'reference', 'max'}
        ``reference``: :func:`normalise_images` (per-step spike probabilities of the
        NALSM inputs); ``max``: :func:`scale_to_max` (each image to a maximum of 1,
        the continual-learning streams' input currents).
    """
    check_choice("normalisation", normalisation, tuple(NORMALISATIONS))
    normalise = NORMALISATIONS[normalisation]
    files = find_idx_files(name, path)
    arrays = {}
    for part, f in files.items():
        md5 = _GZ_MD5[name][part] if verify and f.suffix == ".gz" else None
        sha = _PAYLOAD_SHA256.get(name, {}).get(part) if verify else None
        try:
            arr = read_idx(f, md5=md5, sha256=sha)
        except DatasetNotFoundError as exc:
            raise DatasetNotFoundError(f"{name}: {exc}; to get a good copy: {_HOW_TO_GET[name]}") from None
        if arr.shape != _EXPECTED_SHAPE[part]:
            raise DatasetNotFoundError(
                f"{f}: {name} {part} must have shape {_EXPECTED_SHAPE[part]}, got {arr.shape}"
            )
        arrays[part] = arr
    n_img = {part: arrays[part].shape[0] for part in ("train_images", "test_images")}
    x_train = normalise(arrays["train_images"].astype(np.float64).reshape(n_img["train_images"], -1))
    x_test = normalise(arrays["test_images"].astype(np.float64).reshape(n_img["test_images"], -1))
    y_train = arrays["train_labels"].astype(np.int64)
    y_test = arrays["test_labels"].astype(np.int64)
    n_fit = x_train.shape[0] - x_train.shape[0] // 6  # 50 000 of the 60 000 training images
    return ImageDataset(
        name, x_train[:n_fit], y_train[:n_fit], x_train[n_fit:], y_train[n_fit:], x_test, y_test, (28, 28), 10
    )


def load_dataset(name: str, *, path=None, split_seed: int = 0) -> ImageDataset:
    """Load ``'digits'`` (embedded), ``'mnist'`` or ``'fashion-mnist'`` (from local IDX files)."""
    check_choice("dataset", name, DATASETS)
    if name == "digits":
        return load_digits_dataset(split_seed)
    return load_idx_dataset(name, path)


# ----------------------------------------------------------------------------------------------
# N-MNIST
# ----------------------------------------------------------------------------------------------
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
