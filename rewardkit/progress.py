"""Progress bars for long CLI work: tqdm, counting rows of the input file (shown only on a terminal).

The bar counts input rows against the number of non-blank lines in the input file, so its
fraction is rows done / rows in the file. (The hand-written bar before it divided the bytes of the
*output* lines, which carry the scores too, by the size of the *input* file, and ran ahead.)

tqdm is not a core dependency (the core stays pluggy, PyYAML and pydantic): it comes with the
``train`` extra and with transformers, so every install that runs a model has it. Without it,
the commands run the same and show no bar.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

from typing_extensions import Self

try:
    from tqdm import tqdm
except ImportError:  # not a core dependency: see the module docstring
    tqdm = None


class NoBar:
    """What :func:`row_bar` returns without tqdm: the calls the commands make, doing nothing."""

    disable = True
    total = None

    def update(self, n: int = 1) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None: ...


def count_rows(path: str | os.PathLike[str]) -> int:
    """Non-blank lines of a file, the rows :func:`rewardkit.jsonl.iter_rows` yields; 0 if unreadable."""
    try:
        with open(path, "rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0  # the reader reports the missing or unreadable file, with its name


def row_bar(path: str | os.PathLike[str], desc: str, *, file: TextIO | None = None,
            disable: bool | None = None, **tqdm_kwargs: Any) -> Any:
    """A tqdm bar over the rows of ``path``; call ``bar.update(len(batch))`` after each batch.

    ``disable=None`` (the default) shows the bar only when ``file`` (standard error by default) is
    a terminal; the rows are counted only when the bar is shown, so piped runs read the file once.
    Without tqdm installed, a :class:`NoBar`.
    """
    if tqdm is None:
        return NoBar()
    stream = file if file is not None else sys.stderr
    bar = tqdm(total=None, desc=desc, unit="rows", file=stream, disable=disable,
               dynamic_ncols=True, leave=True, **tqdm_kwargs)
    if not bar.disable:
        bar.total = count_rows(path) or None  # unreadable or empty: a plain counter
        bar.refresh()
    return bar


def count_bar(total: int, desc: str, *, unit: str = "it", enabled: bool = True, **tqdm_kwargs: Any) -> Any:
    """A tqdm bar over ``total`` items of work (not file rows); a :class:`NoBar` without tqdm."""
    if tqdm is None:
        return NoBar()
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, dynamic_ncols=True, **tqdm_kwargs)
