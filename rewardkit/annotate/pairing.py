"""Candidate pairs from a samples file: rows sharing a prompt, paired at random with a seed.

A row is ``{"prompt": ..., "completion": ..., ...}`` (what ``rewardkit train`` saves and
``rewardkit score`` reads); prompts and completions are plain strings or chat message lists.
Two rows share a prompt when the prompts have the same JSON form (keys sorted), so a chat prompt
and its plain-text twin are different prompts, as they are to a trainer.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..jsonl import iter_rows
from ..pairs import Group, group_by_prompt  # the one rule for "the same prompt"


def _check_text(value: Any, path: Path, line: int, name: str) -> None:
    if isinstance(value, str):
        return
    if isinstance(value, list) and all(isinstance(m, dict) and "content" in m for m in value):
        return
    raise DataError(
        f"{path}, line {line}: '{name}' must be a string or a list of chat messages "
        f"({{\"role\": ..., \"content\": ...}}), got {type(value).__name__}"
    )


def read_groups(path: str | os.PathLike[str], prompt_field: str = "prompt",
                completion_field: str = "completion") -> list[Group]:
    """Group the rows of a samples JSONL file by prompt, in order of first appearance.

    A group keeps each distinct completion once, with the file line it was first seen on.
    """
    p = Path(path)

    def items() -> Iterator[tuple[Any, Any, int, None]]:
        for line, row in iter_rows(p, required=(prompt_field, completion_field)):
            prompt, completion = row[prompt_field], row[completion_field]
            _check_text(prompt, p, line, prompt_field)
            _check_text(completion, p, line, completion_field)
            yield prompt, completion, line, None

    return group_by_prompt(items(), distinct=True)


def choose_pairs(groups: Iterable[Group], seed: int, per_prompt: int) -> list[tuple[int, int, int]]:
    """``(group index, i, j)`` with ``i < j``: up to ``per_prompt`` random pairs of each prompt.

    ``per_prompt`` 0 takes every pair. Each prompt draws from its own generator, seeded by the
    seed and the prompt, so adding a prompt elsewhere in the file does not reshuffle the others.
    """
    out: list[tuple[int, int, int]] = []
    for gi, group in enumerate(groups):
        combos = list(itertools.combinations(range(len(group.completions)), 2))
        if not combos:
            continue
        rng = random.Random(_digest(f"{seed}|{group.key}"))
        rng.shuffle(combos)
        out.extend((gi, i, j) for i, j in sorted(combos[:per_prompt] if per_prompt else combos))
    return out


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def order_key(seed: int, annotator: str, pair_id: int) -> int:
    """Where a pair stands in an annotator's queue: a seeded hash, stable as pairs are added."""
    return _digest(f"{seed}|order|{annotator}|{pair_id}")


def flipped(seed: int, annotator: str, pair_id: int) -> bool:
    """Whether this annotator sees the pair's second candidate on the left (a fair coin)."""
    return bool(_digest(f"{seed}|side|{annotator}|{pair_id}") & 1)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex digest of a file's bytes (the database remembers which samples built its pairs)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
