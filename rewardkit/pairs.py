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
    """One completion of a prompt, with its total reward once scored."""

    completion: Any
    reward: float | None
    order: int  # position in the input (or line in the file): breaks equal sorts deterministically


@dataclass
class Group:
    """The completions of one prompt, in input order (``rewardkit pairs`` and ``rewardkit annotate``)."""

    prompt: Any
    candidates: list[Candidate] = field(default_factory=list)
    key: str = ""  # prompt_key(prompt), filled in when left empty
    _seen: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        self.key = self.key or prompt_key(self.prompt)

    @property
    def completions(self) -> list[Any]:
        return [c.completion for c in self.candidates]

    @property
    def lines(self) -> list[int]:
        """Where each completion came from (its ``order``: the file line for annotate)."""
        return [c.order for c in self.candidates]

    def add(self, completion: Any, order: int, reward: float | None = None, *, distinct: bool = False) -> None:
        """Append a completion; with ``distinct`` one equal (by JSON form) to an earlier one is dropped."""
        if distinct:
            ckey = prompt_key(completion)
            if ckey in self._seen:  # the same answer twice is nothing to compare
                return
            self._seen.add(ckey)
        self.candidates.append(Candidate(completion, reward, order))


def group_by_prompt(items: Iterable[tuple[Any, Any, int, float | None]], *, distinct: bool = False) -> list[Group]:
    """Group ``(prompt, completion, order, reward)`` by :func:`prompt_key`, in order of first appearance."""
    groups: dict[str, Group] = {}
    for prompt, completion, order, reward in items:
        key = prompt_key(prompt)
        g = groups.get(key)
        if g is None:
            g = groups[key] = Group(prompt, key=key)
        g.add(completion, order, reward, distinct=distinct)
    return list(groups.values())


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
    return group_by_prompt((row.get("prompt", ""), row["completion"], i, float(reward))
                           for i, (row, reward) in enumerate(rows))


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
