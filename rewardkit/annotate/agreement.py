"""Agreement between annotators on the pairs they both labelled: raw agreement and Cohen's kappa.

Labels are compared by what they say about the pair, not by screen side (annotators may see a
pair in different left/right orders): first candidate better, second better, or tie. Skips are
not judgements and are left out of the overlap.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .db import LabelDB


@dataclass
class PairAgreement:
    """Agreement of two annotators over the pairs both judged."""

    first: str
    second: str
    overlap: int
    agreement: float | None      # share of overlapping pairs with the same judgement
    kappa: float | None          # Cohen's kappa; None when chance agreement is 1 (no variation)


@dataclass
class AnnotatorSummary:
    name: str
    labels: int
    left: int
    right: int
    tie: int
    skip: int

    @property
    def left_share(self) -> float | None:
        """Share of decisive labels that picked the left side (0.5 = no position bias)."""
        decisive = self.left + self.right
        return self.left / decisive if decisive else None


def cohen_kappa(x: Sequence[Any], y: Sequence[Any]) -> float | None:
    """Cohen's kappa of two aligned label sequences; None where it is undefined (p_e = 1)."""
    if len(x) != len(y):
        raise ValueError("label sequences differ in length")
    n = len(x)
    if n == 0:
        return None
    po = sum(a == b for a, b in zip(x, y)) / n
    cx, cy = Counter(x), Counter(y)
    pe = sum(cx[k] * cy[k] for k in cx) / (n * n)
    if pe >= 1.0:
        return None
    return (po - pe) / (1.0 - pe)


def judgements(db: LabelDB) -> dict[str, dict[int, str]]:
    """``annotator -> {pair_id: "first" | "second" | "tie"}`` (skips left out)."""
    out: dict[str, dict[int, str]] = defaultdict(dict)
    for label in db.live_labels():
        if label["choice"] == "skip":
            continue
        winner = label["winner_id"]
        out[label["annotator"]][label["pair_id"]] = (
            "tie" if winner is None else "first" if winner == label["a"] else "second")
    return out


def summaries(db: LabelDB) -> list[AnnotatorSummary]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for label in db.live_labels():
        counts[label["annotator"]][label["choice"]] += 1
    return [AnnotatorSummary(name, sum(c.values()), c["left"], c["right"], c["tie"], c["skip"])
            for name, c in sorted(counts.items())]


def pairwise(db: LabelDB) -> list[PairAgreement]:
    """Agreement for every two annotators who share at least one judged pair."""
    judged = judgements(db)
    out = []
    for first, second in itertools.combinations(sorted(judged), 2):
        common = sorted(judged[first].keys() & judged[second].keys())
        if not common:
            continue
        x = [judged[first][p] for p in common]
        y = [judged[second][p] for p in common]
        agree = sum(a == b for a, b in zip(x, y)) / len(common)
        out.append(PairAgreement(first, second, len(common), agree, cohen_kappa(x, y)))
    return out


def stats(db: LabelDB) -> dict[str, Any]:
    """Everything ``rewardkit annotate stats`` prints, as plain data."""
    pairs = pairwise(db)
    total_overlap = sum(p.overlap for p in pairs)
    kappas = [(p.kappa, p.overlap) for p in pairs if p.kappa is not None]
    return {
        "pairs": db.total(),
        "annotators": [{**asdict(s), "left_share": s.left_share} for s in summaries(db)],
        "agreement": [asdict(p) for p in pairs],
        # Weighted by overlap, so a pair of annotators with two shared pairs does not count as
        # much as one with two hundred.
        "mean_agreement": (sum(p.agreement * p.overlap for p in pairs) / total_overlap) if total_overlap else None,
        "mean_kappa": (sum(k * n for k, n in kappas) / sum(n for _, n in kappas)) if kappas else None,
    }


def format_stats(data: dict[str, Any]) -> str:
    """The human-readable table of :func:`stats`."""
    def num(x: float | None, fmt: str = "{:.3f}") -> str:
        return "n/a" if x is None else fmt.format(x)

    lines = [f"{data['pairs']} pairs"]
    if not data["annotators"]:
        lines.append("no labels yet")
        return "\n".join(lines)
    lines.append(f"{'annotator':<20} {'labels':>6} {'left':>5} {'right':>5} {'tie':>5} {'skip':>5} {'left share':>10}")
    for a in data["annotators"]:
        lines.append(f"{a['name']:<20} {a['labels']:>6} {a['left']:>5} {a['right']:>5} {a['tie']:>5} "
                     f"{a['skip']:>5} {num(a['left_share'], '{:.2f}'):>10}")
    if not data["agreement"]:
        lines.append("agreement: no pair judged by two annotators yet")
        return "\n".join(lines)
    lines.append("")
    lines.append(f"{'annotators':<41} {'overlap':>7} {'agreement':>9} {'kappa':>7}")
    for p in data["agreement"]:
        who = f"{p['first']} / {p['second']}"
        lines.append(f"{who:<41} {p['overlap']:>7} {num(p['agreement']):>9} {num(p['kappa']):>7}")
    if len(data["agreement"]) > 1:
        lines.append(f"{'all (weighted by overlap)':<41} {'':>7} {num(data['mean_agreement']):>9} "
                     f"{num(data['mean_kappa']):>7}")
    return "\n".join(lines)
