"""Image datasets: 8x8 digits, MNIST, Fashion-MNIST, your own IDX or ``.npz`` data, N-MNIST.

(The N-MNIST event readers live in :mod:`tasks.nmnist` and are re-exported here.)

A dataset is named by a *spec*:

* ``'digits'`` (default, embedded): scikit-learn's 1797 8x8 handwritten
  digits, split 5:1:1 into train/validation/test (the ratio of the reference's
  50k/10k/10k split) by a permutation seeded with ``split_seed``.
* ``'mnist'``, ``'fashion-mnist'``: a directory of four IDX files of any size
  (28 x 28 images, labels 0-9), never downloaded. The directory is ``path``
  (``--data-path``) when given, else the first of ``$NEUROPLAST_MNIST`` /
  ``$NEUROPLAST_FASHION_MNIST``, ``$NEUROPLAST_DATA/<name>``,
  ``~/.cache/neuroplast/datasets/<name>``, ``~/datasets/<name>``,
  ``/usr/share/datasets/<name>`` that holds them (see :mod:`tasks.idx`).
* ``'idx:DIR'``: any MNIST-format dataset (KMNIST, EMNIST, QMNIST, your own
  recordings): four IDX files in ``DIR``, any image shape, ``n_classes`` = the
  largest label + 1.
* ``'npz:FILE'``: NumPy arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``
  in ``FILE`` (images ``(n, h, w)`` or flattened ``(n, d)``).

Checks on every load: headers and sizes of IDX files, as many labels as
images in each part, labels in range. The official releases are recognised by
their digests (:func:`tasks.idx.verify_release`); whatever is not the official
release is loaded anyway, with one line (logger ``neuroplast.data``, shown on
stderr) saying which check was skipped and why. The same line is kept in
:attr:`ImageDataset.provenance`.

**Splits.** The official release gets the reference split: train = the first
50 000 training images, validation = the last 10 000, test = the 10 000 test
images; ``n_train``/``n_val``/``n_test`` keep the first samples of each part.
Any other IDX or ``.npz`` data gets the seeded split: the training file is
permuted by ``numpy.random.default_rng(split_seed)``, validation = the first
``n_val`` of the permutation (default: one sixth of the training file, the
reference's ratio), train = the next ``n_train`` (default: the rest); test =
the whole test file, or ``n_test`` images drawn by the same generator.
``split='reference'`` / ``'seeded'`` forces either split. Sizes beyond what the
files hold raise ``ValueError``.

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

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plasticity_rules.validation import check_array, check_choice, check_int, check_seed

from .idx import (
    PARTS,
    RELEASES,
    DatasetNotFoundError,
    find_idx_files,
    find_idx_parts,
    read_idx,
    read_idx_file,
    read_idx_header,
    verify_release,
)
from .nmnist import load_nmnist, nmnist_spike_trains, read_nmnist_events

__all__ = [
    "DATASETS",
    "SPLITS",
    "ImageDataset",
    "load_dataset",
    "load_digits_dataset",
    "load_idx_dataset",
    "load_npz_dataset",
    "load_digits_images",
    "scale_to_max",
    "NORMALISATIONS",
    "check_dataset_spec",
    "split_indices",
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

#: Named datasets known to :func:`load_dataset` (besides ``idx:DIR`` and ``npz:FILE``).
DATASETS = ("digits", "mnist", "fashion-mnist")
#: Split rules: the reference's for the official release, else seeded (``auto``), or forced.
SPLITS = ("auto", "reference", "seeded")

log = logging.getLogger("neuroplast.data")


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
    official : bool
        The files are the official release (verified by digests).
    provenance : str
        One line: where the data came from, what was verified, which split.
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
    official: bool = False
    provenance: str = ""

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
        """First ``n_*`` samples of each part (None keeps all; more than the part holds is an error)."""

        def cut(part, n):
            x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
            if n is None:
                return x, y
            n = check_int(f"n_{part}", n, minimum=1, maximum=len(y))
            return x[:n], y[:n]

        (xa, ya), (xv, yv), (xt, yt) = cut("train", n_train), cut("val", n_val), cut("test", n_test)
        return ImageDataset(
            self.name,
            xa,
            ya,
            xv,
            yv,
            xt,
            yt,
            self.image_shape,
            self.n_classes,
            self.official,
            self.provenance,
        )


def check_images_labels(x, y, *, n_pixels=None, n_classes=10, name="images"):
    """Check a (n, n_pixels) image array and its labels; return them as float64 / int64.

    Raises ``ValueError`` on wrong shapes, NaN/inf pixels, pixels outside [0, 1]
    and labels outside ``[0, n_classes)``.
    """
    x = check_array(name, x, ndim=2)
    if n_pixels is not None and x.shape[1] != n_pixels:
        raise ValueError(f"{name} must have shape (n, {n_pixels}) (flattened images), got {x.shape}")
    if x.size and (x.min() < 0 or x.max() > 1):
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


def scale_to_max(x) -> np.ndarray:
    """Each row divided by its own maximum (intensities as input currents in [0, 1]; zero rows stay 0)."""
    x = check_array("x", x, ndim=2)
    return x / np.maximum(x.max(axis=1, keepdims=True), 1e-12)


#: Pixel normalisations of the IDX / ``.npz`` loaders.
NORMALISATIONS = {"reference": normalise_images, "max": scale_to_max}


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
    return ImageDataset(
        "digits",
        x[tr],
        y[tr],
        x[va],
        y[va],
        x[te],
        y[te],
        (8, 8),
        10,
        False,
        f"digits: scikit-learn's embedded 8x8 digits, seeded 5:1:1 split (split_seed={split_seed})",
    )


def split_indices(
    n_train_file: int,
    n_test_file: int,
    *,
    rule: str,
    split_seed: int = 0,
    n_train=None,
    n_val=None,
    n_test=None,
    source: str = "the training file",
    test_source: str = "the test file",
):
    """Indices ``(train, val, test)`` of the split (see the module docstring).

    Parameters
    ----------
    n_train_file, n_test_file : int
        Images in the training and test files.
    rule : {'reference', 'seeded'}
        ``reference``: train = first ``n - n // 6``, validation = last ``n // 6``;
        ``seeded``: a permutation seeded with ``split_seed``.
    n_train, n_val, n_test : int, optional
        Sizes; within what the files hold.
    source, test_source : str
        Names of the training and test files for error messages.

    Returns
    -------
    train, val : ndarray of int64
        Indices into the training file (disjoint, sorted).
    test : ndarray of int64
        Indices into the test file (sorted).
    """
    check_choice("split", rule, ("reference", "seeded"))
    n_val_default = n_train_file // 6
    nv = n_val_default if n_val is None else check_int("n_val", n_val, minimum=1)
    if n_train_file - nv < 1:
        raise ValueError(
            f"{source} holds {n_train_file} images: too few for a training and a validation part"
        )
    nt = n_train_file - n_val_default if n_train is None else check_int("n_train", n_train, minimum=1)
    if n_test is not None and check_int("n_test", n_test, minimum=1) > n_test_file:
        raise ValueError(f"n_test must be at most the {n_test_file} images of {test_source}, got {n_test}")
    if rule == "reference":
        # train from the head, validation from the tail of the file, as the reference does
        for what, n, most in (("n_train", nt, n_train_file - n_val_default), ("n_val", nv, n_val_default)):
            if n > most:
                raise ValueError(
                    f"{what} must be at most the {most} images of the reference split of {source} "
                    f"({n_train_file} images), got {n}"
                )
        train = np.arange(nt)
        val = np.arange(n_train_file - n_val_default, n_train_file - n_val_default + nv)
        test = np.arange(n_test_file if n_test is None else n_test)
        return train, val, test
    if n_train is None:
        nt = n_train_file - nv
    if nt + nv > n_train_file:
        raise ValueError(
            f"n_train + n_val must be at most the {n_train_file} images of {source}, "
            f"got {nt} + {nv} = {nt + nv}"
        )
    rng = np.random.default_rng(check_seed(split_seed))
    perm = rng.permutation(n_train_file)
    val, train = np.sort(perm[:nv]), np.sort(perm[nv : nv + nt])
    if n_test is None:
        test = np.arange(n_test_file)
    else:
        test = np.sort(rng.permutation(n_test_file)[:n_test])
    return train, val, test


def _assemble(
    name,
    arrays,
    *,
    n_classes,
    official,
    what,
    split,
    split_seed,
    n_train,
    n_val,
    n_test,
    sources,
    normalisation,
) -> ImageDataset:
    """Split, normalise and wrap checked arrays; log the one provenance line."""
    check_choice("split", split, SPLITS)
    check_choice("normalisation", normalisation, tuple(NORMALISATIONS))
    normalise = NORMALISATIONS[normalisation]
    rule = split if split != "auto" else ("reference" if official else "seeded")
    xtr, ytr, xte, yte = (arrays[p] for p in PARTS)
    tr, va, te = split_indices(
        len(ytr),
        len(yte),
        rule=rule,
        split_seed=split_seed,
        n_train=n_train,
        n_val=n_val,
        n_test=n_test,
        source=sources["train_images"],
        test_source=sources["test_images"],
    )
    x_train = normalise(xtr.astype(np.float64).reshape(len(xtr), -1))
    x_test = normalise(xte.astype(np.float64).reshape(len(xte), -1))
    ytr = ytr.astype(np.int64)
    yte = yte.astype(np.int64)
    how = "reference split" if rule == "reference" else f"seeded split (split_seed={split_seed})"
    line = (
        f"{name}: {what}; {how}: {len(tr)} train / {len(va)} validation / {len(te)} test, "
        f"{n_classes} classes, images {'x'.join(map(str, xtr.shape[1:]))}"
    )
    (log.info if official else log.warning)(line)
    return ImageDataset(
        name,
        x_train[tr],
        ytr[tr],
        x_train[va],
        ytr[va],
        x_test[te],
        yte[te],
        tuple(int(s) for s in xtr.shape[1:]),
        n_classes,
        official,
        line,
    )


def _check_arrays(arrays, sources, *, n_classes=None, image_shape=None, hint=""):
    """Counts agree, labels are 1-D non-negative integers below ``n_classes``; returns n_classes."""
    for split in ("train", "test"):
        x, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        xs, ys = sources[f"{split}_images"], sources[f"{split}_labels"]
        if x.ndim < 2 or x.shape[0] == 0:
            raise ValueError(
                f"{xs}: expected images of shape (n_images, ...) with n_images >= 1, found {x.shape}"
            )
        if image_shape is not None and tuple(x.shape[1:]) != image_shape:
            raise ValueError(
                f"{xs}: expected images of {image_shape[0]}x{image_shape[1]} pixels, found "
                f"{'x'.join(map(str, x.shape[1:]))}{hint}"
            )
        if y.ndim != 1:
            raise ValueError(f"{ys}: expected labels of shape (n_images,), found shape {y.shape}")
        if y.shape[0] != x.shape[0]:
            raise ValueError(
                f"{ys}: expected one label per image of {xs} ({x.shape[0]}), found {y.shape[0]} labels"
            )
        if y.dtype.kind not in "iu":
            raise ValueError(f"{ys}: expected integer labels, found dtype {y.dtype}")
        if y.min() < 0 or (n_classes is not None and y.max() >= n_classes):
            top = "" if n_classes is None else f", {n_classes - 1}]"
            raise ValueError(
                f"{ys}: expected labels in [0{top or ', ...)'}, found values in [{y.min()}, {y.max()}]{hint}"
            )
        if x.dtype.kind == "f" and not np.all(np.isfinite(x)) or x.min() < 0:
            raise ValueError(
                f"{xs}: expected finite non-negative pixel intensities, found values in "
                f"[{np.nanmin(x)}, {np.nanmax(x)}]"
            )
    if image_shape is None and arrays["train_images"].shape[1:] != arrays["test_images"].shape[1:]:
        raise ValueError(
            f"{sources['test_images']}: expected images shaped like the training images "
            f"{arrays['train_images'].shape[1:]}, found {arrays['test_images'].shape[1:]}"
        )
    k = 1 + int(max(arrays["train_labels"].max(), arrays["test_labels"].max()))
    if n_classes is None and k < 2:
        raise ValueError(f"{sources['train_labels']}: expected at least 2 classes, found only label 0")
    return n_classes or k


def load_idx_dataset(
    name: str,
    path=None,
    *,
    split: str = "auto",
    split_seed: int = 0,
    n_train=None,
    n_val=None,
    n_test=None,
    normalisation: str = "reference",
) -> ImageDataset:
    """An MNIST-format dataset from a directory of four IDX files (never downloads).

    Parameters
    ----------
    name : {'mnist', 'fashion-mnist', 'idx'}
        A named release (28 x 28 images, labels 0-9, searched as in the module
        docstring when ``path`` is None) or ``'idx'`` for any IDX data in ``path``.
    path : path-like, optional
        Directory of the files (or one of them). Required for ``'idx'``.
    split, split_seed, n_train, n_val, n_test
        See the module docstring.
    normalisation : {'reference', 'max'}
        ``reference``: :func:`normalise_images` (per-step spike probabilities of the
        NALSM inputs); ``max``: :func:`scale_to_max` (each image to a maximum of 1,
        the continual-learning streams' input currents).
    """
    check_choice("dataset", name, RELEASES + ("idx",))
    if name == "idx":
        if path is None:
            raise ValueError("dataset 'idx' needs a directory: use --dataset idx:DIR (or path=)")
        p = Path(path)
        files = find_idx_parts(p.parent if p.is_file() else p)
    else:
        files = find_idx_files(name, path)
    read = {part: read_idx_file(f) for part, f in files.items()}
    ver = verify_release(read, None if name == "idx" else name)
    arrays = {p: f.array for p, f in read.items()}
    sources = {p: str(f) for p, f in files.items()}
    label = name if name != "idx" else f"idx:{files['train_images'].parent}"
    if name == "idx":
        n_classes = _check_arrays(arrays, sources)
    else:
        hint = f"; for other MNIST-format data use --dataset idx:{files['train_images'].parent}"
        n_classes = _check_arrays(arrays, sources, n_classes=10, image_shape=(28, 28), hint=hint)
    what = ver.reason if name == "idx" else f"files in {files['train_images'].parent}: {ver.reason}"
    return _assemble(
        label,
        arrays,
        n_classes=n_classes,
        official=ver.official,
        what=what,
        split=split,
        split_seed=split_seed,
        n_train=n_train,
        n_val=n_val,
        n_test=n_test,
        sources=sources,
        normalisation=normalisation,
    )


def load_npz_dataset(
    path,
    *,
    split: str = "auto",
    split_seed: int = 0,
    n_train=None,
    n_val=None,
    n_test=None,
    normalisation: str = "reference",
) -> ImageDataset:
    """Your own data as NumPy arrays ``x_train``, ``y_train``, ``x_test``, ``y_test`` in one ``.npz`` file.

    Images are ``(n, h, w)`` or flattened ``(n, d)`` non-negative intensities,
    labels ``(n,)`` non-negative integers (``n_classes`` = largest + 1). No
    official digests exist for ``.npz`` data, so the seeded split applies unless
    ``split='reference'``. ``normalisation`` as in :func:`load_idx_dataset`.
    """
    p = Path(path)
    if not p.is_file():
        raise DatasetNotFoundError(
            f"{p}: no such file (expected a .npz file with x_train, y_train, x_test, y_test)"
        )
    head = p.read_bytes()[:4]
    if head[:2] != b"PK":  # an .npz file is a zip archive
        raise ValueError(
            f"{p}: expected a NumPy .npz archive (a zip file written by numpy.savez), found a file starting "
            f"with bytes {head.hex(' ') or '(empty file)'}"
        )
    keys = {
        "train_images": "x_train",
        "train_labels": "y_train",
        "test_images": "x_test",
        "test_labels": "y_test",
    }
    try:
        with np.load(p, allow_pickle=False) as z:
            present = sorted(z.files)
            missing = [k for k in keys.values() if k not in present]
            if missing:
                raise ValueError(
                    f"{p}: expected arrays x_train, y_train, x_test, y_test, missing "
                    f"{', '.join(missing)}; found {', '.join(present) or 'no arrays'}"
                )
            arrays = {part: np.asarray(z[k]) for part, k in keys.items()}
    except (OSError, EOFError, zipfile.BadZipFile) as exc:  # truncated or damaged archive
        raise ValueError(f"{p}: expected a NumPy .npz archive, could not read it ({exc})") from None
    except ValueError as exc:
        if str(exc).startswith(str(p)):
            raise
        raise ValueError(f"{p}: expected plain numeric arrays in the .npz archive ({exc})") from None
    sources = {
        part: f"{p}[{k}]" for part, k in zip(PARTS, ("x_train", "y_train", "x_test", "y_test"), strict=True)
    }
    n_classes = _check_arrays(arrays, sources)
    what = "NumPy arrays; official-release check skipped: no official digests exist for .npz data"
    return _assemble(
        f"npz:{p}",
        arrays,
        n_classes=n_classes,
        official=False,
        what=what,
        split=split,
        split_seed=split_seed,
        n_train=n_train,
        n_val=n_val,
        n_test=n_test,
        sources=sources,
        normalisation=normalisation,
    )


def check_dataset_spec(spec: str) -> str:
    """Check a dataset spec: ``digits``, ``mnist``, ``fashion-mnist``, ``idx:DIR`` or ``npz:FILE``."""
    if not isinstance(spec, str):
        raise ValueError(f"dataset must be a string, got {spec!r}")
    kind, sep, rest = spec.partition(":")
    if sep and kind in ("idx", "npz"):
        if not rest.strip():
            raise ValueError(f"dataset {spec!r} needs a path after '{kind}:' (e.g. {kind}:/data/kmnist)")
        return spec
    if spec not in DATASETS:
        raise ValueError(
            f"unknown dataset {spec!r}; allowed: {', '.join(DATASETS)}, idx:DIR (a directory of IDX files), "
            "npz:FILE (arrays x_train, y_train, x_test, y_test)"
        )
    return spec


def dataset_extent(spec: str) -> tuple[int, int] | None:
    """``(n_images, n_pixels)`` of an ``idx:DIR`` / ``npz:FILE`` dataset, read from headers only.

    Cheap enough to size a run before loading anything (the IDX headers, the ``.npy`` headers
    inside the ``.npz``). Returns None for other specs or files that cannot be read; the loader
    then reports what is wrong with them.
    """
    kind, _, rest = str(spec).partition(":")
    path = Path(rest.strip()).expanduser()
    try:
        if kind == "idx":
            parts = find_idx_parts(path)
            dims = [read_idx_header(parts[p]) for p in ("train_images", "test_images")]
            return dims[0][0] + dims[1][0], int(np.prod(dims[1][1:]))
        if kind == "npz":
            n, n_pix = 0, 1
            with zipfile.ZipFile(path) as z:
                for key in ("x_train", "x_test"):
                    with z.open(f"{key}.npy") as fh:
                        fmt = np.lib.format
                        version = fmt.read_magic(fh)
                        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
                        shape = read(fh)[0]
                    n += shape[0]
                    n_pix = int(np.prod(shape[1:]))
            return n, n_pix
    except (OSError, KeyError, IndexError, ValueError, zipfile.BadZipFile):
        return None
    return None


def load_dataset(
    name: str,
    *,
    path=None,
    split: str = "auto",
    split_seed: int = 0,
    n_train=None,
    n_val=None,
    n_test=None,
    normalisation: str = "reference",
) -> ImageDataset:
    """Load a dataset by spec (see the module docstring).

    Parameters
    ----------
    name : str
        ``'digits'``, ``'mnist'``, ``'fashion-mnist'``, ``'idx:DIR'`` or ``'npz:FILE'``.
    path : path-like, optional
        Directory of the IDX files of ``'mnist'`` / ``'fashion-mnist'`` (searched for when None).
    split : {'auto', 'reference', 'seeded'}
    split_seed : int
        Seed of the digits split and of the seeded split.
    n_train, n_val, n_test : int, optional
        Sizes of the parts (None: all the split gives).
    normalisation : {'reference', 'max'}
        Pixel normalisation of IDX / ``.npz`` data (see :func:`load_idx_dataset`); the
        digits always get the reference normalisation.
    """
    check_dataset_spec(name)
    check_choice("split", split, SPLITS)
    check_choice("normalisation", normalisation, tuple(NORMALISATIONS))
    sizes = dict(n_train=n_train, n_val=n_val, n_test=n_test)
    opts = dict(split=split, split_seed=split_seed, normalisation=normalisation, **sizes)
    kind, _, rest = name.partition(":")
    rest = str(Path(rest.strip()).expanduser()) if rest.strip() else rest  # idx:~/data: no shell expansion
    path = None if path is None else Path(path).expanduser()
    if kind in ("idx", "npz") and rest:
        if path is not None:
            raise ValueError(
                f"dataset {name!r} already names its path; pass --data-path only with mnist or "
                f"fashion-mnist, got '{path}'"
            )
        if kind == "npz":
            return load_npz_dataset(rest, **opts)
        return load_idx_dataset("idx", rest, **opts)
    if name == "digits":
        if path is not None:
            raise ValueError(f"dataset 'digits' is embedded and takes no path, got --data-path '{path}'")
        return load_digits_dataset(split_seed).subset(**sizes)
    return load_idx_dataset(name, path, **opts)
