"""The one way output files are written: whole or not at all.

A file is written under a temporary name in its own folder, flushed to disk and renamed over
the target (``os.replace``, atomic within one file system), so a full disk, a crash or a failed
writer leaves the old file (or none), never a truncated one. What is not a regular file (a
device such as ``/dev/stdout`` or ``/dev/full``, a named pipe) cannot be replaced by a file: it
is written into (the content is made in a temporary file first, since some writers, GDAL's,
delete what they write over) and its write errors are reported. A symbolic link keeps pointing
where it pointed: the file it points to is replaced.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from geo.errors import SourceError


def write_atomically(path: str | Path, write: Callable[[Path], object], *, field: str,
                     suffix: str | None = None) -> Path:
    """Have ``write(target)`` write the content of ``path`` to ``target`` and put it in place.

    ``suffix`` ends the temporary file's name (default: the suffix of ``path``), for writers
    that choose a format by it. Missing folders are created (and removed again if the write
    fails). Any :class:`OSError` becomes a :class:`SourceError` naming ``field`` and ``path``."""
    path = Path(path)
    suffix = path.suffix if suffix is None else suffix
    if _is_special(path):
        _write_into(path, write, field=field, suffix=suffix)
        return path
    target = Path(os.path.realpath(path))
    created: list[Path] = []
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial{suffix}")
    try:
        _make_folders(target.parent, created)
        write(partial)
        _flush_to_disk(partial)
        os.replace(partial, target)
    except OSError as exc:
        _clean_up(partial, created)
        raise SourceError(f"{field}: {path}: cannot write ({_reason(exc)})") from exc
    except BaseException:
        _clean_up(partial, created)
        raise
    _flush_folder(target.parent)
    return path


def write_text_atomically(path: str | Path, text: str, *, field: str,
                          encoding: str = "utf-8") -> Path:
    """:func:`write_atomically` for text."""
    return write_atomically(path, lambda target: target.write_text(text, encoding=encoding),
                            field=field)


def _is_special(path: Path) -> bool:
    """Whether ``path`` (followed through links) exists and is not a regular file."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:  # missing (a new file), or unreachable: the write will say why
        return False


def _write_into(path: Path, write: Callable[[Path], object], *, field: str,
                suffix: str) -> None:
    with tempfile.TemporaryDirectory(prefix="geo-out-") as folder:
        staged = Path(folder) / f"out{suffix}"
        try:
            write(staged)
            with staged.open("rb") as source, path.open("wb") as sink:
                shutil.copyfileobj(source, sink)
        except OSError as exc:
            raise SourceError(f"{field}: {path}: cannot write ({_reason(exc)})") from exc


def _make_folders(folder: Path, created: list[Path]) -> None:
    """Create ``folder`` and its missing parents, adding each to ``created`` (innermost
    first) as soon as it exists."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir()
        created.insert(0, new)


def _clean_up(partial: Path, created: list[Path]) -> None:
    with contextlib.suppress(OSError):
        partial.unlink(missing_ok=True)
    for folder in created:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _flush_to_disk(path: Path) -> None:
    """Make the written bytes durable before the rename: a disk that fills while the system
    writes its buffers back then fails here, not after the old file is gone."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _flush_folder(folder: Path) -> None:
    # Records the rename itself; some file systems cannot sync a folder, which costs nothing.
    with contextlib.suppress(OSError):
        _flush_to_disk(folder)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__
