"""Preference pairs from scored completions: several completions per prompt -> (chosen, rejected).

Rows that share a ``prompt`` form a group; prompts are compared by their JSON form, so a chat
message list groups with an equal chat message list. Within a group, ``best_vs_worst`` gives one
pair (the highest total against the lowest), ``all`` gives every pair whose margin is large
enough. A pair whose margin is zero (a tie) is never written: it would teach DPO nothing but noise.

The output rows are TRL's preference format (``prompt``, ``chosen``, ``rejected``), plus
``score_chosen`` / ``score_rejected`` (the totals), as in UltraFeedback-style datasets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["best_vs_worst", "all"]
# Totals are float sums: two completions that score the same through different components can
# differ in the last bits. Margins within this tolerance count as ties (and as meeting a margin).
EPS = 1e-9
MODES: tuple[str, ...] = ("best_vs_worst", "all")


def prompt_key(prompt: Any) -> str:
    """The grouping key of a prompt: its canonical JSON form (strings and chat lists alike)."""
    return json.dumps(prompt, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Candidate:
    """One scored completion of a prompt."""

    completion: Any
    reward: float
    order: int  # position in the input, to break equal sorts deterministically


@dataclass
class Group:
    """Every scored completion of one prompt."""

    prompt: Any
    candidates: list[Candidate] = field(default_factory=list)


@dataclass
class PairStats:
    """What happened to the input: counts for the summary line."""

    rows: int = 0
    prompts: int = 0
    pairs: int = 0
    single: int = 0  # prompts with one completion: nothing to compare
    ties: int = 0  # candidate pairs dropped because the totals were equal
    below_margin: int = 0  # candidate pairs dropped because the margin was under --min-margin

    def summary(self) -> str:
        return (
            f"{self.rows:,} rows, {self.prompts:,} prompts -> {self.pairs:,} pairs "
            f"(dropped: {self.ties:,} ties, {self.below_margin:,} below margin, "
            f"{self.single:,} prompts with one completion)"
        )


def group_rows(rows: Iterable[tuple[dict[str, Any], float]]) -> list[Group]:
    """Group ``(row, total reward)`` by prompt, in order of first appearance."""
    groups: dict[str, Group] = {}
    for i, (row, reward) in enumerate(rows):
        prompt = row.get("prompt", "")
        key = prompt_key(prompt)
        g = groups.get(key)
        if g is None:
            g = groups[key] = Group(prompt)
        g.candidates.append(Candidate(row["completion"], float(reward), i))
    return list(groups.values())


def make_pairs(groups: Iterable[Group], *, mode: Mode = "best_vs_worst", min_margin: float = 0.0,
               stats: PairStats | None = None) -> Iterator[dict[str, Any]]:
    """Yield TRL preference rows from scored groups.

    A pair is kept when ``chosen - rejected > 0`` and ``>= min_margin`` (within ``EPS``). ``best_vs_worst``: one
    pair per prompt, the highest total against the lowest (first seen wins among equals).
    ``all``: every ordered pair with a kept margin.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    stats = stats if stats is not None else PairStats()
    for g in groups:
        stats.prompts += 1
        stats.rows += len(g.candidates)
        if len(g.candidates) < 2:
            stats.single += 1
            continue
        # Highest reward first; among equal rewards, input order (stable, deterministic).
        ranked = sorted(g.candidates, key=lambda c: (-c.reward, c.order))
        if mode == "best_vs_worst":
            candidates = [(ranked[0], ranked[-1])]
        else:
            candidates = [(a, b) for i, a in enumerate(ranked) for b in ranked[i + 1:]]
        for chosen, rejected in candidates:
            margin = chosen.reward - rejected.reward
            if margin <= EPS:
                stats.ties += 1
                continue
            if margin < min_margin - EPS:
                stats.below_margin += 1
                continue
            stats.pairs += 1
            yield {
                "prompt": g.prompt,
                "chosen": chosen.completion,
                "rejected": rejected.completion,
                "score_chosen": chosen.reward,
                "score_rejected": rejected.reward,
            }
