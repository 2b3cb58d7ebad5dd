"""Reference completions: a correct and a wrong one per row, in the layout the composite rewards.

A row's ``reference`` field, where present, is its correct completion; otherwise the probe writes
a minimal one from the label in the layout that scores highest on a few rows (tags, a box, ``####``,
"The answer is ..."). The wrong completion is the same thing with another row's label.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import DataError
from ..text import text_of
from .case import Case, Layout, candidate_layouts
from .scoring import Scorer

LAYOUT_SAMPLE = 8  # rows scored per candidate layout


def label_column(scorer: Scorer, rows: Sequence[dict[str, Any]], source: str) -> str:
    """The column holding the gold answer: a reward option naming a column (``answer_field``),
    else ``answer``. Raises :class:`DataError` naming the row without it."""
    names = [v for c in scorer.composite.components for k, v in c.reward.options.items()
             if isinstance(v, str) and (k.endswith("_field") or k == "column")]
    present = [n for n in names if n in rows[0]]
    label = present[0] if present else "answer"
    for i, row in enumerate(rows, 1):
        if row.get(label) is None:
            have = ", ".join(row) or "none"
            raise DataError(f"{source}, row {i}: no label column '{label}' (fields: {have}); "
                            "pass --label COLUMN")
    return label


def gold_of(value: Any) -> str:
    """The short gold answer in a label: after GSM8K's ``####`` where present."""
    text = text_of(value) if isinstance(value, (str, list)) else str(value)
    return text.rsplit("####", 1)[1].strip() if "####" in text else text.strip()


def _others(golds: list[str], i: int, avoid: set[str]) -> str | None:
    n = len(golds)
    for k in range(1, n):
        g = golds[(i + k) % n]
        if g not in avoid:
            return g
    return None


def infer_layout(scorer: Scorer, golds: list[str]) -> Layout:
    """The candidate layout whose correct completions score highest on the first rows."""
    think, answer = "think", "answer"
    for c in scorer.composite.components:  # a format-like reward's own tag names, if it has them
        opts = c.reward.options
        think, answer = opts.get("think_tag", think), opts.get("answer_tag", answer)
    layouts = candidate_layouts(think, answer)
    idx = list(range(min(LAYOUT_SAMPLE, len(golds))))
    texts = [lay.render(golds[i]) for lay in layouts for i in idx]
    totals = scorer.score(idx * len(layouts), texts).total
    means = [sum(totals[k * len(idx):(k + 1) * len(idx)]) / len(idx) for k in range(len(layouts))]
    best = max(range(len(layouts)), key=lambda k: (means[k], -k))
    return layouts[best]


def build_cases(scorer: Scorer, rows: Sequence[dict[str, Any]], label: str, source: str) -> tuple[list[Case], Layout]:
    """One :class:`Case` per row, and the layout its references use."""
    golds = [gold_of(r[label]) for r in rows]
    if len(set(golds)) < 2:
        raise DataError(f"{source}: the probe needs rows with at least two different '{label}' values "
                        "(a wrong answer is another row's)")
    layout = infer_layout(scorer, golds)
    cases = []
    for i, row in enumerate(rows):
        gold = golds[i]
        other = _others(golds, i, {gold}) or gold
        other2 = _others(golds, (i + 1) % len(golds), {gold, other}) or other
        ref = row.get("reference")
        if isinstance(ref, str) and ref.strip():
            correct = ref
            cut = ref.rfind(gold)
            wrong = ref[:cut] + other + ref[cut + len(gold):] if cut >= 0 and gold else layout.render(other)
        else:
            correct, wrong = layout.render(gold), layout.render(other)
        cases.append(Case(i, text_of(row.get("prompt", "")), gold, other, other2, correct, wrong, layout, row))
    return cases, layout
