"""Continual-learning task streams: sequences of experiences.

An :class:`Experience` is one task (train and test split, its classes); a
:class:`TaskStream` is a non-empty sequence of experiences with the same
input dimension and a scenario:

``"domain"``
    every task has the same classes (permuted digits / MNIST): one shared head.
``"class"``
    class-incremental: disjoint classes per task, predictions over all classes seen.
``"task"``
    task-incremental: disjoint classes, the task identity selects the head
    (predictions restricted to the task's classes).

Streams: permuted digits (sklearn's 8x8 digits upsampled, bilinearly, to
``image_size`` x ``image_size`` so that the input dimension exceeds the total
HLOP subspace budget, then a fixed random pixel permutation per task), split
digits, permuted / split MNIST and Fashion-MNIST from IDX files through
:mod:`tasks.datasets` (``data_path`` or the loader's search order), and
permuted / split streams over your own data (``*-idx`` streams: ``data_path``
is a directory of IDX files or a ``.npz`` file, any image shape and number of
classes). MNIST-format streams draw their training samples only from the
loader's training split and their test samples only from its test split (the
validation split is never used).

References
----------
I. Goodfellow et al. "An empirical investigation of catastrophic forgetting in
gradient-based neural networks", 2013 (permuted MNIST). F. Zenke, B. Poole,
S. Ganguli. "Continual learning through synaptic intelligence", ICML 2017
(split MNIST). G. van de Ven, A. Tolias. "Three scenarios for continual
learning", 2019.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from plasticity_rules.validation import check_array, check_choice, check_int, make_rng

from .datasets import load_digits_images

__all__ = [
    "Experience",
    "TaskStream",
    "load_digits_images",
    "upsample_images",
    "permuted_stream",
    "split_stream",
    "permuted_digits",
    "split_digits",
    "make_stream",
    "STREAMS",
    "subspace_budget",
]

SCENARIOS = ("domain", "class", "task")
STREAMS = (
    "permuted-digits",
    "split-digits-class",
    "split-digits-task",
    "permuted-mnist",
    "split-mnist-class",
    "split-mnist-task",
    "permuted-fashion",
    "split-fashion-class",
    "split-fashion-task",
    "permuted-idx",
    "split-idx-class",
    "split-idx-task",
)


@dataclass(frozen=True)
class Experience:
    """One task of a stream.

    Attributes
    ----------
    task_id : int
    X_train, X_test : ndarray, shape (n, n_inputs)
    y_train, y_test : ndarray of int, shape (n,)
    classes : tuple of int
        Labels that occur in this task.
    name : str
    """

    task_id: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple
    name: str = ""

    def __post_init__(self):
        X_train = check_array(f"task {self.task_id} X_train", self.X_train, ndim=2)
        X_test = check_array(f"task {self.task_id} X_test", self.X_test, ndim=2)
        if X_train.shape[1] != X_test.shape[1]:
            raise ValueError(
                f"task {self.task_id}: X_train has {X_train.shape[1]} inputs but X_test has {X_test.shape[1]}"
            )
        for nm, X, y in (("train", X_train, self.y_train), ("test", X_test, self.y_test)):
            y = np.asarray(y)
            if y.ndim != 1 or y.shape[0] != X.shape[0]:
                raise ValueError(
                    f"task {self.task_id}: y_{nm} must have one label per row of X_{nm} "
                    f"({X.shape[0]}), got shape {y.shape}"
                )
        object.__setattr__(self, "X_train", X_train)
        object.__setattr__(self, "X_test", X_test)
        object.__setattr__(self, "y_train", np.asarray(self.y_train, dtype=np.int64))
        object.__setattr__(self, "y_test", np.asarray(self.y_test, dtype=np.int64))
        object.__setattr__(self, "classes", tuple(int(c) for c in self.classes))

    @property
    def n_inputs(self) -> int:
        return self.X_train.shape[1]


@dataclass(frozen=True)
class TaskStream:
    """A non-empty sequence of experiences with one input dimension.

    Attributes
    ----------
    experiences : tuple of Experience
    scenario : {"domain", "class", "task"}
    n_classes : int
        Size of the output layer (labels are ``0 .. n_classes - 1``).
    name : str
    """

    experiences: tuple
    scenario: str
    n_classes: int
    name: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        exps = tuple(self.experiences)
        if len(exps) == 0:
            raise ValueError("a task stream needs at least one experience, got an empty stream")
        check_choice("scenario", self.scenario, SCENARIOS)
        check_int("n_classes", self.n_classes, minimum=2)
        dims = {e.n_inputs for e in exps}
        if len(dims) != 1:
            raise ValueError(
                "all tasks of a stream must have the same input size, got "
                + ", ".join(f"task {e.task_id}: {e.n_inputs}" for e in exps)
            )
        for e in exps:
            for y in (e.y_train, e.y_test):
                if y.size and (y.min() < 0 or y.max() >= self.n_classes):
                    raise ValueError(f"task {e.task_id} has labels outside 0..{self.n_classes - 1}")
        object.__setattr__(self, "experiences", exps)

    def __len__(self) -> int:
        return len(self.experiences)

    def __iter__(self):
        return iter(self.experiences)

    def __getitem__(self, i) -> Experience:
        return self.experiences[i]

    @property
    def n_inputs(self) -> int:
        return self.experiences[0].n_inputs

    def class_mask(self, task_id: int):
        """Output mask used at train/test time for ``task_id`` (None: all outputs)."""
        if self.scenario != "task":
            return None
        mask = np.zeros(self.n_classes, dtype=bool)
        mask[list(self.experiences[task_id].classes)] = True
        return mask


# ----------------------------------------------------------------------------- data


def upsample_images(images, size: int) -> np.ndarray:
    """Bilinear upsampling of ``(n, h, w)`` images to ``(n, size * size)`` values in [0, 1]."""
    from scipy.ndimage import zoom

    images = check_array("images", images, ndim=3)
    size = check_int("image_size", size, minimum=1)
    n, h, w = images.shape
    if size == h and size == w:
        return images.reshape(n, -1).copy()
    out = zoom(images, (1, size / h, size / w), order=1, grid_mode=False)
    return np.clip(out.reshape(n, -1), 0.0, 1.0)


def _split(X, y, test_fraction, rng):
    n = len(y)
    idx = rng.permutation(n)
    n_test = int(round(test_fraction * n))
    if n_test < 1 or n - n_test < 1:
        raise ValueError(f"test_fraction={test_fraction} leaves an empty split of {n} samples")
    te, tr = idx[:n_test], idx[n_test:]
    return X[tr], y[tr], X[te], y[te]


def permuted_stream(X_train, y_train, X_test, y_test, n_tasks: int, *, seed=None, name="permuted",
                    permute_first: bool = True) -> TaskStream:
    """Domain-incremental stream: one fixed random input permutation per task.

    Parameters
    ----------
    X_train, X_test : ndarray, shape (n, n_inputs)
    y_train, y_test : ndarray of int
    n_tasks : int
    seed : int or Generator
    permute_first : bool
        Also permute the first task (otherwise it sees the original inputs).
    """
    n_tasks = check_int("n_tasks", n_tasks, minimum=1)
    rng = make_rng(seed)
    X_train = check_array("X_train", X_train, ndim=2)
    X_test = check_array("X_test", X_test, ndim=2)
    n_in = X_train.shape[1]
    classes = tuple(np.unique(np.concatenate([y_train, y_test])).tolist())
    exps = []
    perms = []
    for t in range(n_tasks):
        perm = rng.permutation(n_in) if (t > 0 or permute_first) else np.arange(n_in)
        perms.append(perm)
        exps.append(Experience(t, X_train[:, perm], y_train, X_test[:, perm], y_test, classes,
                               f"{name} task {t}"))
    return TaskStream(tuple(exps), "domain", int(max(classes)) + 1, name, {"permutations": perms})


def split_stream(X_train, y_train, X_test, y_test, n_tasks: int, *, scenario="class", seed=None,
                 name="split", shuffle_classes: bool = False) -> TaskStream:
    """Split stream: the classes are divided into ``n_tasks`` disjoint groups.

    Parameters
    ----------
    scenario : {"class", "task"}
        Class-incremental (one head over all classes) or task-incremental (masked heads).
    shuffle_classes : bool
        Random class order (otherwise 0, 1 | 2, 3 | ...).
    """
    check_choice("scenario", scenario, ("class", "task"))
    n_tasks = check_int("n_tasks", n_tasks, minimum=1)
    classes = np.unique(np.concatenate([y_train, y_test]))
    if n_tasks > len(classes):
        raise ValueError(f"n_tasks must be <= the number of classes ({len(classes)}), got {n_tasks}")
    rng = make_rng(seed)
    order = rng.permutation(classes) if shuffle_classes else classes
    groups = np.array_split(order, n_tasks)
    exps = []
    for t, g in enumerate(groups):
        tr = np.isin(y_train, g)
        te = np.isin(y_test, g)
        exps.append(Experience(t, X_train[tr], y_train[tr], X_test[te], y_test[te], tuple(sorted(g.tolist())),
                               f"{name} task {t} (classes {', '.join(map(str, sorted(g.tolist())))})"))
    return TaskStream(tuple(exps), scenario, int(classes.max()) + 1, name)


def _digits_split(image_size, test_fraction, rng):
    images, y = load_digits_images()
    X = upsample_images(images, image_size)
    return _split(X, y, test_fraction, rng)


def permuted_digits(n_tasks: int = 5, *, image_size: int = 28, test_fraction: float = 0.2,
                    seed=None) -> TaskStream:
    """Permuted digits: 8x8 digits upsampled to ``image_size**2`` inputs, one permutation per task."""
    rng = make_rng(seed)
    Xtr, ytr, Xte, yte = _digits_split(image_size, test_fraction, rng)
    return permuted_stream(Xtr, ytr, Xte, yte, n_tasks, seed=rng, name="permuted-digits")


def split_digits(n_tasks: int = 5, *, scenario: str = "class", image_size: int = 28,
                 test_fraction: float = 0.2, seed=None) -> TaskStream:
    """Split digits (0/1, 2/3, ... for 5 tasks), class- or task-incremental."""
    rng = make_rng(seed)
    Xtr, ytr, Xte, yte = _digits_split(image_size, test_fraction, rng)
    return split_stream(Xtr, ytr, Xte, yte, n_tasks, scenario=scenario, seed=rng,
                        name=f"split-digits-{scenario}")


def _idx_dataset(which: str, max_train: int | None, max_test: int | None, rng, data_path=None):
    """MNIST-format data from local files via :func:`tasks.datasets.load_dataset`.

    ``which`` is ``'mnist'`` / ``'fashion-mnist'`` (files at ``data_path`` or found by the
    loader's search order) or ``'idx'`` (``data_path`` is an IDX directory or a ``.npz``
    file). Images are rescaled to a maximum of 1 each by the loader (pixel intensities as
    input currents; ``normalisation="max"``, the only normalisation they go through);
    ``max_train`` / ``max_test`` draw random subsets of the loader's training and test
    splits only. Returns ``(X_train, y_train, X_test, y_test, provenance)``. Missing files
    raise the loader's ``DatasetNotFoundError`` (a ``FileNotFoundError`` and ``ValueError``)
    saying where it looked.
    """
    from tasks import datasets

    if which == "idx":
        if not data_path:
            raise ValueError("the *-idx streams need data_path (a directory of IDX files or a .npz file)")
        spec = f"npz:{data_path}" if str(data_path).endswith(".npz") else f"idx:{data_path}"
        ds = datasets.load_dataset(spec, normalisation="max")
    else:
        ds = datasets.load_dataset(which, path=data_path or None, normalisation="max")
    out = []
    for X, y, cap in ((ds.x_train, ds.y_train, max_train), (ds.x_test, ds.y_test, max_test)):
        if cap is not None and cap < len(y):
            idx = np.sort(rng.choice(len(y), cap, replace=False))
            X, y = X[idx], y[idx]
        out += [X, y]
    return tuple(out) + (ds.provenance,)


def make_stream(stream: str, n_tasks: int, *, seed=None, image_size: int = 28,
                max_train: int | None = 2000, max_test: int | None = 500, data_path=None) -> TaskStream:
    """Build a named stream (see :data:`STREAMS`).

    ``max_train`` / ``max_test`` cap the samples per task for MNIST-sized data
    (so a laptop run stays short); the digits streams use all 1797 digits.
    ``data_path`` is the directory of the MNIST / Fashion-MNIST IDX files (default:
    the loader's search order), or, for the ``*-idx`` streams, an IDX directory or
    ``.npz`` file (required); the digits streams take none.
    """
    check_choice("stream", stream, STREAMS)
    n_tasks = check_int("n_tasks", n_tasks, minimum=1)
    rng = make_rng(seed)
    if "digits" in stream and data_path:
        raise ValueError(
            f"stream {stream!r} uses the embedded digits and takes no data_path, got {data_path!r}"
        )
    if stream == "permuted-digits":
        return permuted_digits(n_tasks, image_size=image_size, seed=rng)
    if stream.startswith("split-digits"):
        return split_digits(n_tasks, scenario=stream.rsplit("-", 1)[1], image_size=image_size, seed=rng)
    which = "fashion-mnist" if "fashion" in stream else ("idx" if "-idx" in stream else "mnist")
    if stream.startswith("permuted"):
        Xtr, ytr, Xte, yte, prov = _idx_dataset(which, max_train, max_test, rng, data_path)
        out = permuted_stream(Xtr, ytr, Xte, yte, n_tasks, seed=rng, name=stream)
    else:
        cap_train = None if max_train is None else max_train * n_tasks
        cap_test = None if max_test is None else max_test * n_tasks
        Xtr, ytr, Xte, yte, prov = _idx_dataset(which, cap_train, cap_test, rng, data_path)
        out = split_stream(Xtr, ytr, Xte, yte, n_tasks, scenario=stream.rsplit("-", 1)[1], seed=rng,
                           name=stream)
    out.meta["provenance"] = prov  # which files, what was verified, which split
    return out


def subspace_budget(first: Sequence[int], per_task: Sequence[int], n_tasks: int) -> list[int]:
    """Total subspace neurons per layer after ``n_tasks`` tasks (``first + (n_tasks-1) * per_task``)."""
    return [f + (n_tasks - 1) * p for f, p in zip(first, per_task, strict=True)]
