"""Small Sphinx helpers for neuroplast's documentation (loaded from docs/conf.py)."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import subprocess
import tarfile
from pathlib import Path

# Reading order of the tutorials: a beginner starts with the reservoir.
TUTORIAL_ORDER = (
    "plot_reservoir.py", "plot_nalsm.py", "plot_whatwhen.py", "plot_hlop.py", "plot_continual_liquid.py",
    "plot_scan.py",
)


class TutorialOrder:
    """sphinx-gallery ``within_subsection_order``: the order of ``TUTORIAL_ORDER``, others last by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        rank = TUTORIAL_ORDER.index(name) if name in TUTORIAL_ORDER else len(TUTORIAL_ORDER)
        return f"{rank:03d}{name}"

    def __repr__(self):  # sphinx-gallery stores the key in its config; keep it stable across builds
        return f"<{type(self).__name__}>"


# "E. M. Izhikevich, ..." at the start of a docstring line is an alphabetic enumerated list to
# docutils; escaping the initial keeps reference lines as text.
_INITIAL = re.compile(r"^(\s*)([A-Z])\. (?=[A-Z][a-z.]|[A-Z]\.)")


def _escape_initials(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        lines[i] = _INITIAL.sub(r"\1\\\2. ", line)


# --- the source archive: the site carries the exact source it was built from -------------------

# Never packed when the tree is not a git checkout (an unpacked archive, a copied folder).
_SKIP_PARTS = {".git", ".venv", "__pycache__", "_build", "_generated", "auto_tutorials", "generated",
               ".pytest_cache", ".ruff_cache", "results", "output", "build", "dist"}


def source_files(root: Path) -> list[str]:
    """Relative paths of the project's source files, sorted.

    In a git checkout these are the tracked files (``git ls-files``), read from the working tree
    so the archive holds what the site was built from; elsewhere, every file under ``root`` except
    virtual environments, caches and build outputs.
    """
    root = Path(root)
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True, timeout=60
        ).stdout.decode()
        names = [n for n in out.split("\0") if n and (root / n).is_file()]
    except (OSError, subprocess.SubprocessError):
        names = [
            p.relative_to(root).as_posix()
            for p in root.rglob("*")
            if p.is_file()
            and not _SKIP_PARTS.intersection(p.relative_to(root).parts)
            and not p.name.endswith((".pyc", ".egg-info"))
            and ".egg-info" not in p.relative_to(root).as_posix()
        ]
    return sorted(names)


def write_source_archive(root: Path, out: Path, prefix: str) -> str:
    """Write ``out`` (.tar.gz) with :func:`source_files` under ``prefix/``; return its SHA-256.

    The archive is byte-reproducible: sorted members, zero timestamps and owners, gzip without a
    time stamp, so the same tree gives the same checksum on every build.
    """
    root, out = Path(root), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in source_files(root):
            data = (root / name).read_bytes()
            info = tarfile.TarInfo(f"{prefix}/{name}")
            info.size, info.mtime, info.uid, info.gid = len(data), 0, 0, 0
            info.uname = info.gname = ""
            info.mode = 0o755 if os.access(root / name, os.X_OK) else 0o644
            tar.addfile(info, io.BytesIO(data))
    tmp = out.with_suffix(out.suffix + ".tmp")
    with open(tmp, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
        gz.write(buf.getvalue())
    os.replace(tmp, out)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def _write_source_page_include(app, config):
    """Pack the source before reading, and write the snippet ``docs/source.rst`` includes."""
    docs = Path(app.confdir)
    name = f"neuroplast-{config.release}-src.tar.gz"
    digest = write_source_archive(docs.parent, docs / "_generated" / name, f"neuroplast-{config.release}")
    (docs / "_generated" / "source_archive.inc").write_text(
        f":download:`{name} <_generated/{name}>`\n\n"
        f"SHA-256: ``{digest}``\n\n"
        ".. code-block:: bash\n\n"
        f"   sha256sum {name}          # compare with the line above\n"
        f"   tar xzf {name} && cd neuroplast-{config.release}\n"
    )


def setup(app):
    app.connect("autodoc-process-docstring", _escape_initials, priority=400)
    app.connect("config-inited", _write_source_page_include)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
