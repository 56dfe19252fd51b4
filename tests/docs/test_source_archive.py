"""The site's source archive: the project's files, nothing else, byte-reproducible."""

import hashlib
import importlib.util
import subprocess
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ext():
    spec = importlib.util.spec_from_file_location(
        "neuroplast_docs", ROOT / "docs" / "_ext" / "neuroplast_docs.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _tree(tmp_path):
    root = tmp_path / "tree"
    (root / "spiking").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (root / "spiking" / "__init__.py").write_text("X = 1\n")
    for junk in (".venv/lib/site.py", "spiking/__pycache__/a.pyc", "docs/_build/html/index.html",
                 "docs/_generated/old.tar.gz"):
        (root / junk).parent.mkdir(parents=True, exist_ok=True)
        (root / junk).write_text("junk")
    return root


def test_outside_git_packs_sources_without_caches_and_builds(tmp_path, ext):
    root = _tree(tmp_path)
    names = ext.source_files(root)
    assert names == ["pyproject.toml", "spiking/__init__.py"]


def test_git_checkout_packs_tracked_files_from_the_working_tree(tmp_path, ext):
    root = _tree(tmp_path)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "pyproject.toml", "spiking/__init__.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    (root / "spiking" / "__init__.py").write_text("X = 2\n")  # edited, not committed
    (root / "untracked.py").write_text("")
    out = tmp_path / "a.tar.gz"
    ext.write_source_archive(root, out, "neuroplast-0")
    with tarfile.open(out) as tar:
        assert tar.getnames() == ["neuroplast-0/pyproject.toml", "neuroplast-0/spiking/__init__.py"]
        assert tar.extractfile("neuroplast-0/spiking/__init__.py").read() == b"X = 2\n"


def test_archive_is_byte_reproducible_and_digest_matches(tmp_path, ext):
    root = _tree(tmp_path)
    a, b = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    da = ext.write_source_archive(root, a, "p")
    (root / "pyproject.toml").touch()  # a new mtime must not change the bytes
    db = ext.write_source_archive(root, b, "p")
    assert da == db == hashlib.sha256(a.read_bytes()).hexdigest()
    assert a.read_bytes() == b.read_bytes()


def test_this_checkout_archive_holds_the_packages(tmp_path, ext):
    names = ext.source_files(ROOT)
    for needed in ("pyproject.toml", "README.md", "spiking/__init__.py", "sims/cli.py",
                   "docs/conf.py", ".ci/run"):
        assert needed in names or not (ROOT / needed).exists(), needed
    assert not [n for n in names if n.startswith((".venv/", "docs/_build/"))]
