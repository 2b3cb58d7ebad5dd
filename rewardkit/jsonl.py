"""JSONL input with line-numbered errors, and output that replaces a file only on success."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from .errors import DataError


def iter_rows(path: str | os.PathLike[str], required: tuple[str, ...] = ()) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, row)`` from a JSONL file, streaming; blank lines are skipped.

    Raises :class:`DataError` naming the file and line for malformed JSON, a line that is not
    an object, or a row missing one of ``required``.
    """
    p = Path(path)
    try:
        f = p.open("r", encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{p}: no such data file") from None
    except OSError as e:
        raise DataError(f"{p}: cannot read ({e.strerror})") from None
    with f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{p}, line {lineno}: not valid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(row, dict):
                raise DataError(f"{p}, line {lineno}: expected a JSON object, got {type(row).__name__}")
            for key in required:
                if key not in row:
                    have = ", ".join(row) or "none"
                    raise DataError(f"{p}, line {lineno}: row has no '{key}' field (fields: {have})")
            yield lineno, row


def read_rows(path: str | os.PathLike[str], required: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """All rows of a JSONL file (see :func:`iter_rows`)."""
    return [row for _, row in iter_rows(path, required)]


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str] | None) -> Iterator[TextIO]:
    """Write to a temporary file and put it in place only if the block succeeds.

    ``path`` None means standard output: the rows are still buffered in a temporary file, so a
    failed run prints nothing rather than a partial result. An existing file at ``path`` is left
    exactly as it was when the block raises.
    """
    target = Path(path) if path is not None else None
    directory = target.parent if target is not None else None
    if directory is not None and not directory.exists():
        raise DataError(f"{target}: output folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".rewardkit-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if target is not None:
            os.replace(tmp, target)
        else:
            with open(tmp, encoding="utf-8") as f:
                shutil.copyfileobj(f, sys.stdout)
            sys.stdout.flush()
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def dump_row(row: dict[str, Any]) -> str:
    """One JSONL line (UTF-8 kept as is)."""
    return json.dumps(row, ensure_ascii=False) + "\n"
