"""Output directories that hold one run's complete output or nothing.

A run writes every file into a temporary directory created next to the target
(same file system, so the final move is one ``rename``); ``summary.json`` is
written last, and only then is the temporary directory moved into place. An
error or an interrupt at any point removes the temporary directory and any
parent directories this run created, so a failed run leaves nothing behind
and an existing result is never mixed with files of another run.

An existing target is replaced only when it is empty or holds a previous
result (a ``summary.json``); any other non-empty directory is refused, so
``--out .`` or ``--out ~`` cannot delete unrelated files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["check_out_path", "staged_output"]

#: The file that marks a directory as a neuroplast result (written last).
SUMMARY = "summary.json"


def check_out_path(out, *, option: str = "--out") -> Path:
    """Validate an output-directory argument before anything runs; return it as a ``Path``.

    Raises ``ValueError`` for an empty path (which would mean the current directory),
    for an existing non-directory, and for a non-empty directory that is not a
    previous result (it would be replaced as a whole).
    """
    if out is None or str(out).strip() == "":
        raise ValueError(f"{option} must name a directory, got an empty path")
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {str(path)!r} exists and is not a directory")
    if path.is_dir():
        try:
            entries = os.listdir(path)
        except OSError as exc:
            raise ValueError(f"cannot read output directory {str(path)!r}: {exc.strerror}") from None
        if entries and SUMMARY not in entries:
            raise ValueError(
                f"output directory {str(path)!r} is not empty and holds no previous result "
                f"({SUMMARY}); expected a new, empty or result directory (it is replaced as a whole)"
            )
    return path


def _make_parents(path: Path) -> list[Path]:
    """Create the missing parents of ``path``; return those created (deepest last)."""
    missing = []
    p = path.parent
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    created = []
    for d in reversed(missing):
        try:
            d.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            _remove_dirs(created)
            raise ValueError(f"cannot create output directory {str(path)!r}: {exc.strerror}") from None
        created.append(d)
    return created


def _remove_dirs(created: list[Path]) -> None:
    for d in reversed(created):
        try:
            d.rmdir()  # only if still empty: another process may have used it meanwhile
        except OSError:
            pass


@contextmanager
def staged_output(out, *, option: str = "--out"):
    """Context manager yielding a temporary directory that becomes ``out`` on success.

    Use it as::

        with staged_output(out) as tmp:
            ...write every file into tmp, summary.json last...

    On a normal exit the temporary directory replaces ``out`` (a previous
    result there is removed after the move); on any exception, including
    ``KeyboardInterrupt``, it is deleted with every directory it created.
    """
    target = check_out_path(out, option=option).absolute()
    created = _make_parents(target)
    try:
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial"))
    except OSError as exc:
        _remove_dirs(created)
        raise ValueError(f"cannot create output directory {str(target)!r}: {exc.strerror}") from None
    os.chmod(tmp, 0o755)  # mkdtemp's 0700 would make results private to the writer
    try:
        yield tmp
        _commit(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_dirs(created)
        raise


def _commit(tmp: Path, target: Path) -> None:
    """Move ``tmp`` into place as ``target``; an old result is moved aside first, then deleted."""
    old = None
    if target.exists():
        check_out_path(target)  # it may have changed while the run ran
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
        os.rmdir(old)
        os.rename(target, old)
    try:
        os.rename(tmp, target)
    except OSError as exc:
        if old is not None:
            os.rename(old, target)  # put the previous result back
        raise ValueError(f"cannot move the results into {str(target)!r}: {exc.strerror}") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
