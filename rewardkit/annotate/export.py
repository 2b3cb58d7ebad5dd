"""Labels -> preference pairs in TRL's format (``prompt``, ``chosen``, ``rejected``).

One row per labelled pair. Where several annotators labelled a pair, the majority decides
(a tie vote counts as a vote); a pair without a strict majority for one candidate, or whose
majority is "tie", is left out, and so are skips. Prompts and completions keep the shape they
had in the samples file, so chat lists give TRL's conversational preference format.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from ..jsonl import atomic_output, dump_row
from .db import LabelDB


@dataclass
class ExportCounts:
    """What happened to each labelled pair."""

    written: int = 0
    ties: int = 0       # majority said tie
    skipped: int = 0    # only skips
    split: int = 0      # annotators disagreed with no majority

    def summary(self) -> str:
        return (f"{self.written} pairs written; left out: {self.ties} ties, {self.skipped} skipped, "
                f"{self.split} without a majority")


def preference_rows(db: LabelDB, annotator: str | None = None,
                    with_meta: bool = False) -> tuple[list[dict[str, Any]], ExportCounts]:
    """The export rows, in pair order, and the counts of what was left out."""
    votes: dict[int, list[Any]] = defaultdict(list)
    info: dict[int, tuple[int, int]] = {}
    for label in db.live_labels(annotator):
        info[label["pair_id"]] = (label["a"], label["b"])
        votes[label["pair_id"]].append(label)
    counts = ExportCounts()
    decided: list[tuple[int, int, int, list[Any]]] = []  # (pair, winner, loser, labels)
    for pair_id in sorted(votes):
        labels = [v for v in votes[pair_id] if v["choice"] != "skip"]
        if not labels:
            counts.skipped += 1
            continue
        tally = Counter(v["winner_id"] for v in labels)  # None = tie
        (top, n), *rest = tally.most_common()
        if rest and rest[0][1] == n:
            counts.split += 1
            continue
        if top is None:
            counts.ties += 1
            continue
        a, b = info[pair_id]
        decided.append((pair_id, top, b if top == a else a, labels))
    texts = db.samples({s for _, w, l_, _ in decided for s in (w, l_)})
    rows = []
    for pair_id, winner, loser, labels in decided:
        row = {"prompt": texts[winner]["prompt"], "chosen": texts[winner]["completion"],
               "rejected": texts[loser]["completion"]}
        if with_meta:
            row["pair_id"] = pair_id
            row["annotators"] = [v["annotator"] for v in labels]
            row["reasons"] = [v["reason"] for v in labels if v["reason"]]
        rows.append(row)
    counts.written = len(rows)
    return rows, counts


def export(db: LabelDB, output: str | os.PathLike[str] | None, annotator: str | None = None,
           with_meta: bool = False) -> ExportCounts:
    """Write the preference pairs to ``output`` (None: standard output), replacing it atomically."""
    rows, counts = preference_rows(db, annotator, with_meta)
    with atomic_output(output) as f:
        for row in rows:
            f.write(dump_row(row))
    return counts
