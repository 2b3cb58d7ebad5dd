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
from rewardkit.pairs import prompt_key
from rewardkit.text import TextOrChat, text_of


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


def pair_key(*parts: TextOrChat) -> str:
    """A hashable identity of (prompt, chosen, rejected): the canonical JSON that groups prompts."""
    return prompt_key(list(parts))


@dataclass
class Cleaning:
    """What :func:`clean` dropped, by reason."""

    ties: int = 0  # chosen == rejected (two empty answers included): nothing to learn
    contradictory: int = 0  # the same pair also given the other way round: both directions dropped
    duplicates: int = 0  # the same pair again (in train, or in eval when it is in train)
    kept: int = 0

    @property
    def dropped(self) -> int:
        return self.ties + self.contradictory + self.duplicates

    def summary(self) -> str:
        return (f"{self.ties} tie(s) (chosen == rejected), {self.contradictory} contradictory (the same pair "
                f"both ways), {self.duplicates} duplicate(s)")


def _tie(p: Pair) -> bool:
    """Nothing to prefer: the same answer twice, or two answers with no text."""
    return p.chosen == p.rejected or not (text_of(p.chosen).strip() or text_of(p.rejected).strip())


def clean(pairs: list[Pair], stats: Cleaning, seen: set[str] | None = None) -> list[Pair]:
    """Pairs a Bradley-Terry model can learn from, in order: no ties, no pair given both ways, each
    pair once. ``seen`` holds pairs already used elsewhere (the train pairs, when cleaning eval
    pairs): those are dropped too, so eval never scores a pair it was trained on."""
    forward = [pair_key(p.prompt, p.chosen, p.rejected) for p in pairs]  # each key built once
    ties = [_tie(p) for p in pairs]
    keys = set(forward)
    both_ways = {k for p, k, tie in zip(pairs, forward, ties)
                 if not tie and pair_key(p.prompt, p.rejected, p.chosen) in keys}
    out, kept = [], set(seen or ())
    for p, k, tie in zip(pairs, forward, ties):
        if tie:
            stats.ties += 1
        elif k in both_ways:
            stats.contradictory += 1
        elif k in kept:
            stats.duplicates += 1
        else:
            kept.add(k)
            out.append(p)
    stats.kept += len(out)
    return out
