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

from .atomic import atomic_file
from .errors import DataError
from .jsonsafe import problem


def iter_rows(path: str | os.PathLike[str], required: tuple[str, ...] = ()) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, row)`` from a JSONL file, streaming; blank lines are skipped.

    Raises :class:`DataError` naming the file and 1-based line for bytes that are not UTF-8,
    malformed JSON (numbers of thousands of digits and nesting too deep included), a string
    holding a lone surrogate (it could not be written back out as UTF-8), a line that is not an
    object, or a row missing one of ``required``.
    """
    p = Path(path)
    if p.is_dir():
        raise DataError(f"{p}: is a folder, expected a JSONL data file")
    try:
        f = p.open("rb")
    except FileNotFoundError:
        raise DataError(f"{p}: no such data file") from None
    except OSError as e:
        raise DataError(f"{p}: cannot read ({e.strerror})") from None
    with f:
        for lineno, raw in enumerate(f, 1):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark
                raw = raw[3:]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DataError(f"{p}, line {lineno}: not UTF-8 (byte 0x{raw[e.start]:02x} at byte "
                                f"{e.start + 1}); save the file as UTF-8") from None
            if not line.strip():
                continue
            row = parse_row(line, f"{p}, line {lineno}")
            for key in required:
                if key not in row:
                    have = ", ".join(row) or "none"
                    raise DataError(f"{p}, line {lineno}: row has no '{key}' field (fields: {have:.200})")
            yield lineno, row


def parse_row(line: str, where: str) -> dict[str, Any]:
    """One JSON object from one line of text; :class:`DataError` naming ``where`` otherwise."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        raise DataError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise DataError(f"{where}: JSON nested too deeply") from None
    except ValueError as e:  # an integer of more than 4300 digits
        raise DataError(f"{where}: not valid JSON ({' '.join(str(e).split())[:100]})") from None
    if not isinstance(row, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}")
    # A lone surrogate fails every UTF-8 write later; thousands of levels break what recurses next.
    reason = problem(row)
    if reason is not None:
        raise DataError(f"{where}: {reason}")
    return row


def read_rows(path: str | os.PathLike[str], required: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """All rows of a JSONL file (see :func:`iter_rows`)."""
    return [row for _, row in iter_rows(path, required)]


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str] | None, stdout: TextIO | None = None) -> Iterator[TextIO]:
    """Write to a temporary file and put it in place only if the block succeeds.

    A thin wrapper over :func:`rewardkit.atomic.atomic_file` that adds the ``-o`` checks and
    standard output: ``path`` None means ``stdout`` (default ``sys.stdout`` when the block ends),
    and the rows are still buffered in a temporary file, so a failed run prints nothing rather
    than a partial result. An existing file at ``path`` is left
    exactly as it was when the block raises.
    """
    target = Path(path) if path is not None else None
    directory = target.parent if target is not None else None
    if directory is not None and not directory.exists():
        raise DataError(f"{target}: output folder {directory} does not exist")
    if target is not None and target.is_dir():
        raise DataError(f"{target}: is a folder; -o needs a file path")
    if target is not None:
        with atomic_file(target) as f:
            yield f
        return
    with tempfile.TemporaryFile("w+", encoding="utf-8") as f:
        yield f
        f.seek(0)
        out = stdout or sys.stdout
        shutil.copyfileobj(f, out)
        out.flush()


def dump_row(row: dict[str, Any]) -> str:
    """One JSONL line (UTF-8 kept as is)."""
    return json.dumps(row, ensure_ascii=False) + "\n"


@contextlib.contextmanager
def prints_to_stderr() -> Iterator[TextIO]:
    """While the block runs, ``print()`` (``sys.stdout``) goes to standard error; yields the real stdout.

    A reward that prints must not put its text into the JSONL a command writes on standard output,
    so the command writes its rows to the stream this yields. Only Python-level writes move;
    a C extension writing to file descriptor 1 directly is not caught.
    """
    real = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield real
    finally:
        sys.stdout = real
