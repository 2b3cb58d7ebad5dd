"""Atomic writes: the one way rewardkit replaces a file or a folder.

Every output (scored JSONL, metrics, probe reports, plots, checkpoints, trained models) is first
written beside its target, flushed to disk, then renamed over it, and the parent folder is synced
so the rename survives a power cut. A failed or interrupted write leaves the old target exactly as
it was and removes what it staged. Files get the mode a plain ``open()`` would give them (the
umask's, e.g. 0644 under umask 022), or keep the mode of the file they replace: ``mkstemp``'s
0600 would otherwise make a shared run folder unreadable to the group.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_dir", "atomic_file", "atomic_path", "fsync_dir", "replace_dir"]


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask is process-wide, not thread-safe)
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def _mode_for(target: Path) -> int:
    """The mode ``target`` should have: its current one if it exists, else 0666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a rename (or a new entry) in folder ``path`` durable; a no-op where folders cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - not every platform opens folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix) for a library that writes by file name.

    When the block succeeds the file is synced, given ``path``'s mode and renamed over ``path``;
    when it raises, ``path`` is untouched and the temporary file removed.
    """
    target = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".rewardkit-{target.name}.", suffix=".tmp" + target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync_file(tmp)
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """An open file that replaces ``path`` only if the block succeeds (``mode`` "w" or "wb")."""
    with atomic_path(path) as tmp, open(tmp, mode, encoding=None if "b" in mode else encoding) as f:
        yield f


def replace_dir(staging: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Put the complete folder ``staging`` in place of ``target`` with no moment without one.

    An existing ``target`` is moved aside, ``staging`` renamed into place, then the old one removed;
    the parent folder is synced so the swap is durable.
    """
    staging, target = Path(staging), Path(target)
    fsync_dir(staging)
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".rewardkit-{target.name}.old-", dir=target.parent))
        os.rmdir(old)
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)
    fsync_dir(target.parent)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A fresh staging folder beside ``path`` that replaces it only if the block succeeds.

    A failed (or interrupted) block removes the staging folder and leaves a previous ``path``
    exactly as it was. The caller makes sure ``path`` is not an existing file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".rewardkit-{target.name}.tmp-", dir=target.parent))
    try:
        yield staging
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it 0700
        replace_dir(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
