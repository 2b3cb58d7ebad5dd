"""Preference pairs in TRL's format: JSONL rows with ``prompt``, ``chosen``, ``rejected``.

Each field is a string or a chat message list (``[{"role": ..., "content": ...}]``). ``prompt`` may
be left out (TRL's implicit-prompt format: the prompt is inside ``chosen`` and ``rejected``).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Any

from rewardkit import DataError
from rewardkit.jsonl import iter_rows
from rewardkit.text import TextOrChat


@dataclass(frozen=True)
class Pair:
    """One preference: ``chosen`` is better than ``rejected`` as an answer to ``prompt``."""

    prompt: TextOrChat
    chosen: TextOrChat
    rejected: TextOrChat


def _check(value: Any, key: str, where: str) -> TextOrChat:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content", ""), (str, list))
        for m in value
    ):
        return value
    raise DataError(
        f"{where}: '{key}' must be a string or a list of chat messages "
        f"([{{\"role\": ..., \"content\": ...}}]), got {value!r:.60}"
    )


def read_pairs(path: str | os.PathLike[str]) -> list[Pair]:
    """Every pair of a JSONL file; :class:`rewardkit.DataError` names the file and line on a bad row."""
    pairs = []
    for lineno, row in iter_rows(path, required=("chosen", "rejected")):
        where = f"{path}, line {lineno}"
        prompt = _check(row.get("prompt", ""), "prompt", where)
        pairs.append(Pair(prompt, _check(row["chosen"], "chosen", where), _check(row["rejected"], "rejected", where)))
    if not pairs:
        raise DataError(f"{path}: no preference pairs (expected JSONL rows with 'prompt', 'chosen', 'rejected')")
    return pairs


def split(pairs: list[Pair], share: float, seed: int, source: str = "data") -> tuple[list[Pair], list[Pair]]:
    """A seeded random split into (train, eval) with ``share`` of the pairs held out (at least one)."""
    if share <= 0:
        return pairs, []
    n_eval = max(1, round(len(pairs) * share))
    if n_eval >= len(pairs):
        raise DataError(f"{source}: {len(pairs)} pair(s) are too few to hold out eval_split={share}; add pairs or set eval_data")
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    held = set(order[:n_eval])
    return [p for i, p in enumerate(pairs) if i not in held], [p for i, p in enumerate(pairs) if i in held]
