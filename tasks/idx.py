"""IDX files (the MNIST format): reading, locating and recognising the official releases.

An IDX file is a 4-byte magic number (two zero bytes, a data-type code, the
number of dimensions :math:`d`), :math:`d` big-endian 32-bit sizes and the
array in C order. Images are ``idx3`` files of shape ``(n_images, height,
width)``, labels ``idx1`` files of shape ``(n_images,)``. Files may be gzipped
(``.gz``) or raw; the reader decides by the gzip magic bytes, not the name.

**Verification.** A dataset is a directory of four IDX files of any size. The
official MNIST and Fashion-MNIST releases are *recognised*, not required:

* a file is the official one when the SHA-256 of its decompressed payload is
  the official payload's, so a recompressed ``.gz`` (Debian recompressed
  Fashion-MNIST) passes and a flipped byte in a raw file does not;
* the payload digests of Fashion-MNIST were measured on Debian's
  ``dataset-fashion-mnist`` (whose payloads are the official data). The payload
  digests of MNIST are **not yet published here** (the official files could
  not be checked on the machines this was written on): MNIST is recognised by
  the official MD5 of the distributed ``.gz`` archives when it matches, and
  raw or recompressed MNIST files cannot be recognised;
* a set whose files all match is the official release; a set in which some
  files match and another has the official shape but a different payload is
  a corrupt copy and is refused, naming the file and both digests; any other
  set is the user's own data, loaded with one line saying which check was
  skipped and why.

References
----------
Y. LeCun, C. Cortes, C. Burges, "The MNIST database of handwritten digits"
(file format); H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a novel image
dataset for benchmarking machine learning algorithms", arXiv:1708.07747 (2017).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plasticity_rules.validation import check_choice

__all__ = [
    "PARTS",
    "RELEASES",
    "OFFICIAL_GZ_MD5",
    "OFFICIAL_PAYLOAD_SHA256",
    "OFFICIAL_SHAPES",
    "DatasetNotFoundError",
    "IdxFile",
    "Verification",
    "parse_idx",
    "read_idx_file",
    "read_idx_header",
    "read_idx",
    "candidate_dirs",
    "find_idx_files",
    "find_idx_parts",
    "verify_release",
]

#: The four files of an MNIST-format dataset, in this order.
PARTS = ("train_images", "train_labels", "test_images", "test_labels")
#: Official releases this module recognises.
RELEASES = ("mnist", "fashion-mnist")

_STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_ENV = {"mnist": "NEUROPLAST_MNIST", "fashion-mnist": "NEUROPLAST_FASHION_MNIST"}
HOW_TO_GET = {
    "mnist": (
        "download the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) from the MNIST page yourself and pass "
        "their directory as --data-path (path=) or set NEUROPLAST_MNIST"
    ),
    "fashion-mnist": (
        "install Debian's package (apt-get install dataset-fashion-mnist, files go to "
        "/usr/share/datasets/fashion-mnist) or put the four IDX files in a directory passed as "
        "--data-path (path=) or set NEUROPLAST_FASHION_MNIST"
    ),
}
#: Official MD5 of the distributed ``.gz`` archives (as published with the datasets).
OFFICIAL_GZ_MD5 = {
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
#: SHA-256 of the decompressed payloads. Fashion-MNIST: measured on Debian's
#: dataset-fashion-mnist 0.0~git20200523.55506a9-1. MNIST: not yet published (see module docstring).
OFFICIAL_PAYLOAD_SHA256 = {
    "fashion-mnist": {
        "train_images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train_labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "test_images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "test_labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}
#: Array shapes of the official releases (both are 60 000 + 10 000 images of 28 x 28).
OFFICIAL_SHAPES = {
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
class IdxFile:
    """One IDX file as read: the array and the digests needed to recognise it.

    Attributes
    ----------
    path : Path
    array : ndarray
        Shape as recorded in the header.
    compressed : bool
        The file is gzipped.
    md5 : str
        MD5 of the file as stored (what the official ``.gz`` checksums cover).
    sha256 : str
        SHA-256 of the decompressed payload.
    """

    path: Path
    array: np.ndarray
    compressed: bool
    md5: str
    sha256: str


def parse_idx(payload: bytes, source: str) -> np.ndarray:
    """Parse a decompressed IDX payload; ``source`` names the file in error messages."""
    if len(payload) < 4 or payload[0] != 0 or payload[1] != 0:
        raise DatasetNotFoundError(
            f"{source}: not an IDX file (expected magic bytes 00 00 <type> <ndim>, "
            f"found {payload[:4].hex(' ') or 'an empty file'})"
        )
    code, ndim = payload[2], payload[3]
    if code not in _IDX_DTYPES:
        allowed = ", ".join(f"0x{c:02x}" for c in _IDX_DTYPES)
        raise DatasetNotFoundError(
            f"{source}: unknown IDX data type code 0x{code:02x}; expected one of {allowed}"
        )
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise DatasetNotFoundError(
            f"{source}: truncated IDX header (expected {header} bytes for {ndim} dimensions, "
            f"found {len(payload)})"
        )
    dims = tuple(int.from_bytes(payload[4 + 4 * k : 8 + 4 * k], "big") for k in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = header + int(np.prod(dims)) * dtype.itemsize
    if len(payload) != expected:
        raise DatasetNotFoundError(
            f"{source}: size {len(payload)} bytes does not match its header "
            f"(dims {dims} -> {expected} bytes); the file is truncated or corrupt"
        )
    return np.frombuffer(payload, dtype=dtype, offset=header).reshape(dims)


def read_idx_header(path) -> tuple[int, ...]:
    """Dimensions recorded in an IDX file's header (gzipped or raw), without reading its data.

    Cheap enough to size a run before loading anything; :func:`read_idx_file` checks
    the header against the data when the file is loaded.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    with (gzip.open if gz else open)(path, "rb") as fh:
        head = fh.read(4)
        if len(head) < 4 or head[:2] != b"\x00\x00":
            raise DatasetNotFoundError(
                f"{path}: not an IDX file (expected magic bytes 00 00 <type> <ndim>, found {head.hex(' ')})"
            )
        raw = fh.read(4 * head[3])
    if len(raw) < 4 * head[3]:
        raise DatasetNotFoundError(f"{path}: truncated IDX header ({head[3]} dimensions announced)")
    return tuple(int.from_bytes(raw[4 * k : 4 * k + 4], "big") for k in range(head[3]))


def read_idx_file(path) -> IdxFile:
    """Read an IDX file (gzipped or raw) with its header checked and both digests computed."""
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"{path}: no such file")
    raw = path.read_bytes()
    compressed = raw[:2] == b"\x1f\x8b"
    if compressed:
        try:
            payload = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DatasetNotFoundError(f"{path}: corrupt gzip archive ({exc})") from None
    else:
        payload = raw
    arr = parse_idx(payload, str(path))
    return IdxFile(path, arr, compressed, hashlib.md5(raw).hexdigest(), hashlib.sha256(payload).hexdigest())


def read_idx(path, *, md5: str | None = None, sha256: str | None = None) -> np.ndarray:
    """Read an IDX file, optionally requiring a checksum.

    Parameters
    ----------
    path : path-like
    md5 : str, optional
        Expected MD5 of the file as stored.
    sha256 : str, optional
        Expected SHA-256 of the decompressed payload. When both are given, either suffices.

    Returns
    -------
    ndarray
        The array with the shape recorded in the header.
    """
    f = read_idx_file(path)
    if md5 is None and sha256 is None:
        return f.array
    if (md5 is not None and f.md5 == md5) or (sha256 is not None and f.sha256 == sha256):
        return f.array
    expected = " or ".join(
        s
        for s in (
            f"MD5 {md5} of the file as stored" if md5 is not None else "",
            f"SHA-256 {sha256} of the decompressed payload" if sha256 is not None else "",
        )
        if s
    )
    found = f"MD5 {f.md5}" if sha256 is None else f"SHA-256 {f.sha256}" + (f", MD5 {f.md5}" if md5 else "")
    raise DatasetNotFoundError(f"{f.path}: checksum mismatch (expected {expected}, found {found})")


def candidate_dirs(name: str, path=None) -> list[tuple[str, Path]]:
    """Directories searched for ``name``: the explicit path only, else env variables, then standard places."""
    if path is not None:
        p = Path(path)
        return [("--data-path", p.parent if p.is_file() else p)]
    dirs: list[tuple[str, Path]] = []
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


def _standard_names(d: Path) -> dict[str, Path]:
    found = {}
    for part, stem in _STEMS.items():
        for fname in _file_variants(stem):
            if (d / fname).is_file():
                found[part] = d / fname
                break
    return found


# Other MNIST-format sets name their files differently (EMNIST: emnist-balanced-train-images-idx3-ubyte,
# QMNIST: qmnist-test-images-idx3-ubyte, KMNIST: the MNIST names); match split, kind and idx rank.
_PATTERNS = {
    "train_images": re.compile(r"train.*images.*idx3", re.I),
    "train_labels": re.compile(r"train.*labels.*idx1", re.I),
    "test_images": re.compile(r"(t10k|test).*images.*idx3", re.I),
    "test_labels": re.compile(r"(t10k|test).*labels.*idx1", re.I),
}


def find_idx_parts(directory) -> dict[str, Path]:
    """The four IDX files of an MNIST-format dataset in ``directory``, by name.

    The standard names (``train-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte``...)
    are tried first; otherwise every file whose name contains ``train``/``t10k``
    or ``test``, ``images``/``labels`` and ``idx3``/``idx1`` in that order.

    Raises
    ------
    DatasetNotFoundError
        Naming the directory, the file that is missing or ambiguous, and the files present.
    """
    d = Path(directory)
    if not d.is_dir():
        raise DatasetNotFoundError(f"{d}: no such directory (expected a directory of four IDX files)")
    found = _standard_names(d)
    if len(found) == len(PARTS):
        return found
    names = sorted(p.name for p in d.iterdir() if p.is_file())
    out = {}
    for part in PARTS:
        if part in found:
            out[part] = found[part]
            continue
        hits = [n for n in names if _PATTERNS[part].search(n)]
        if len(hits) != 1:
            what = "no file" if not hits else f"{len(hits)} files ({', '.join(hits)})"
            raise DatasetNotFoundError(
                f"{d}: expected one {part.replace('_', ' ')} file named like {_STEMS[part]}[.gz], "
                f"found {what}; files present: {', '.join(names) or 'none'}"
            )
        out[part] = d / hits[0]
    return out


def find_idx_files(name: str, path=None) -> dict[str, Path]:
    """Locate the four IDX files of ``'mnist'`` or ``'fashion-mnist'``.

    Search order: the explicit ``path`` (a directory or one of its files; when
    given, nothing else is searched), then ``$NEUROPLAST_MNIST`` /
    ``$NEUROPLAST_FASHION_MNIST``, ``$NEUROPLAST_DATA/<name>``,
    ``~/.cache/neuroplast/datasets/<name>``, ``~/datasets/<name>`` and
    ``/usr/share/datasets/<name>``.

    Returns
    -------
    dict
        ``{'train_images': Path, 'train_labels': ..., 'test_images': ..., 'test_labels': ...}``
    """
    check_choice("dataset", name, RELEASES)
    dirs = candidate_dirs(name, path)
    if path is not None:
        return find_idx_parts(dirs[0][1])
    for _, d in dirs:
        found = _standard_names(d)
        if len(found) == len(PARTS):
            return found
    looked = "; ".join(f"{what}: {d}" for what, d in dirs)
    missing = _STEMS["train_images"]
    for _, d in dirs:
        if d.is_dir():
            found = _standard_names(d)
            missing = next(_STEMS[p] for p in PARTS if p not in found)
            break
    raise DatasetNotFoundError(
        f"{name}: file {missing}[.gz] not found (looked in {looked}); to get it: {HOW_TO_GET[name]}"
    )


@dataclass(frozen=True)
class Verification:
    """What is known about a set of four IDX files.

    Attributes
    ----------
    release : str
        The official release the files are (``''`` when they are not).
    checks : dict
        Per part: ``'sha256'`` (payload digest matched), ``'md5'`` (official ``.gz``
        MD5 matched), ``'different'`` (another dataset: shape or content differs),
        ``'unverifiable'`` (official shape, but no published digest to compare).
    reason : str
        One line: how the release was verified, or which check was skipped and why.
    """

    release: str
    checks: dict
    reason: str

    @property
    def official(self) -> bool:
        return bool(self.release)


def _check_part(release: str, part: str, f: IdxFile) -> str:
    sha = OFFICIAL_PAYLOAD_SHA256.get(release, {}).get(part)
    if sha is not None and f.sha256 == sha:
        return "sha256"
    if f.compressed and f.md5 == OFFICIAL_GZ_MD5[release][part]:
        return "md5"
    if f.array.shape != OFFICIAL_SHAPES[part]:
        return "different"
    return "mismatch" if sha is not None else "unverifiable"


def verify_release(files: dict[str, IdxFile], release: str | None = None) -> Verification:
    """Recognise the official release among ``files`` (the four parts, read by :func:`read_idx_file`).

    Parameters
    ----------
    files : dict
        ``{part: IdxFile}`` for the four :data:`PARTS`.
    release : {'mnist', 'fashion-mnist'}, optional
        The release the user named. ``None`` (own data) tries every release.

    Returns
    -------
    Verification

    Raises
    ------
    DatasetNotFoundError
        When some files are an official release and another file with the
        official shape has a different payload (a corrupt copy), or the files
        are the official release of another dataset than the one named.
    """
    for other in RELEASES:
        checks = {p: _check_part(other, p, files[p]) for p in PARTS}
        if all(c in ("sha256", "md5") for c in checks.values()):
            if release is not None and other != release:
                raise DatasetNotFoundError(
                    f"{files['train_images'].path.parent}: expected the {release} files, found the official "
                    f"{other} release; pass --dataset {other}"
                )
            names = {"sha256": "payload SHA-256", "md5": "official .gz MD5"}
            how = " / ".join(names[c] for c in sorted(set(checks.values()), reverse=True))
            return Verification(
                other, checks, f"the official {other} release ({how} of all four files matched)"
            )
    if release is None:
        return Verification(
            "",
            {p: "different" for p in PARTS},
            "official-release check skipped: these are your own files (no official digests exist for them)",
        )
    checks = {p: _check_part(release, p, files[p]) for p in PARTS}
    matched = [p for p in PARTS if checks[p] in ("sha256", "md5")]
    bad = [p for p in PARTS if checks[p] == "mismatch"]
    if matched and bad:
        f = files[bad[0]]
        raise DatasetNotFoundError(
            f"{f.path}: corrupt copy of the official {release} {bad[0].replace('_', ' ')} "
            f"(expected payload SHA-256 {OFFICIAL_PAYLOAD_SHA256[release][bad[0]]}, found {f.sha256}; "
            f"the other files {', '.join(matched)} are official); to get a good copy: {HOW_TO_GET[release]}"
        )
    diff = [p for p in PARTS if checks[p] == "different"]
    unver = [p for p in PARTS if checks[p] == "unverifiable"]
    if diff:
        p = diff[0]  # "different" means another shape
        why = f"{files[p].path.name} has shape {files[p].array.shape}, the official file {OFFICIAL_SHAPES[p]}"
        reason = f"official-release check skipped: not the official {release} release ({why})"
    elif bad:
        reason = (
            f"official-release check skipped: not the official {release} release (payload SHA-256 of "
            f"{', '.join(files[p].path.name for p in bad)} differs from the official)"
        )
    else:
        reason = (
            f"official-release check skipped: {release} payload SHA-256 digests are not yet published in "
            f"neuroplast and {', '.join(files[p].path.name for p in unver)} "
            f"{'is' if len(unver) == 1 else 'are'} not the official .gz archive, so only headers and "
            "sizes were checked"
        )
    return Verification("", checks, reason)
