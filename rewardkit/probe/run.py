"""Running a probe: build the references, score every attack through the composite, judge it."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..compose import Breakdown, Composite
from ..errors import ConfigError
from . import severity as sev
from .attacks import Attack, attacks_for
from .reference import build_cases, label_column
from .scoring import Scorer


@dataclass
class Report:
    """A probe's result: the baseline, one :class:`~rewardkit.probe.severity.Finding` per attack."""

    config: str
    data: str
    rows: int
    label: str
    layout: str
    components: dict[str, float]
    correct: list[float]
    wrong: list[float]
    findings: list[sev.Finding]
    seconds: float = 0.0
    thresholds: dict[str, float] = field(default_factory=lambda: {
        "rate": sev.RATE, "wrong_margin": sev.WRONG_MARGIN, "flawed_margin": sev.FLAWED_MARGIN,
        "share": sev.SHARE})

    def counts(self) -> dict[str, int]:
        """Findings per severity."""
        return {s: sum(f.severity == s for f in self.findings) for s in sev.SEVERITIES}

    def at_least(self, level: str) -> list[sev.Finding]:
        """Findings of severity ``level`` or worse."""
        worst = sev.SEVERITIES[: sev.SEVERITIES.index(level) + 1]
        return [f for f in self.findings if f.severity in worst]

    def as_dict(self) -> dict[str, Any]:
        return {
            "config": self.config, "data": self.data, "rows": self.rows, "label": self.label,
            "layout": self.layout, "components": self.components, "seconds": round(self.seconds, 3),
            "thresholds": self.thresholds, "counts": self.counts(),
            "correct": self.correct, "wrong": self.wrong,
            "findings": [f.as_dict() for f in self.findings],
        }


def _progress(total: int, enabled: bool) -> Any:
    """tqdm where installed (the train extra), else no bar (see :mod:`rewardkit.progress`)."""
    from ..progress import count_bar

    return count_bar(total, "probing", unit="attack", enabled=enabled, leave=False)


def _pick(b: Breakdown, idx: Sequence[int]) -> dict[str, list]:
    return {k: [v[i] for i in idx] for k, v in b.items()}


def probe(composite: Composite, rows: Sequence[dict[str, Any]], *, source: str = "<rows>",
          label: str | None = None, attacks: Iterable[Attack] | None = None,
          progress: bool = False) -> Report:
    """Red-team ``composite`` on ``rows``: one finding per attack (see :mod:`.severity`).

    ``attacks`` defaults to the catalogue plus the attacks of the plugins whose rewards the
    composite uses. Raises :class:`DataError` for rows it cannot build references from.
    """
    start = time.perf_counter()
    scorer = Scorer(composite, rows)
    label = label or label_column(scorer, rows, source)
    cases, layout = build_cases(scorer, rows, label, source)
    attacks = list(attacks) if attacks is not None else attacks_for(c.use for c in composite.components)
    weights = dict(zip(composite.labels, composite.weights))
    n = len(cases)
    refs = scorer.score(list(range(n)) * 2, [c.correct for c in cases] + [c.wrong for c in cases])
    correct, wrong = _pick(refs, range(n)), _pick(refs, range(n, 2 * n))
    bar = _progress(len(attacks), progress)
    findings, all_totals = [], list(refs.total)
    try:
        for attack in attacks:
            made = [(c.index, _make(attack, c)) for c in cases]
            made = [(i, t) for i, t in made if t is not None]
            idx = [i for i, _ in made]
            b = scorer.score(idx, [t for _, t in made]) if made else Breakdown({k: [] for k in [*weights, "total"]})
            all_totals += b.total
            findings.append(_finding(attack, b, _pick(correct, idx), _pick(wrong, idx), weights,
                                     [t for _, t in made], idx))
            bar.update(1)
    finally:
        bar.close()
    findings.insert(0, _baseline(correct, wrong, weights, cases, min(all_totals), max(all_totals)))
    return Report(composite.source, source, n, label, layout.name, weights, correct["total"],
                  wrong["total"], findings, time.perf_counter() - start)


def _make(attack: Attack, case: Any) -> str | None:
    try:
        out = attack.make(case)
    except Exception as e:  # noqa: BLE001 - a plugin's attack is not trusted to be correct
        raise ConfigError(f"attack '{attack.name}' ({attack.source}) raised on row {case.index + 1}: "
                          f"{type(e).__name__}: {e}") from None
    if out is not None and not isinstance(out, str):
        raise ConfigError(f"attack '{attack.name}' ({attack.source}) returned {type(out).__name__}, "
                          "expected a completion string or None")
    return out


def _finding(attack: Attack, b: Breakdown, c: dict[str, list], w: dict[str, list], weights: dict[str, float],
             texts: list[str], idx: list[int]) -> sev.Finding:
    a = b.total
    reach, above_c, above_w = sev.rates(a, c["total"], w["total"])
    level = sev.severity(attack.expect, reach, above_c, above_w) if a else "none"
    # The bar a component is blamed against: a wrong attack should not outscore the wrong answer,
    # a flawed one should not outscore the correct answer.
    against = w if attack.expect == "wrong" else c
    contrib = sev.contributions(weights, b, against) if a else {k: 0.0 for k in weights}
    gaps = [x - y for x, y in zip(a, against["total"])]
    worst = max(range(len(a)), key=lambda k: gaps[k], default=None)
    example = {} if worst is None else {
        "completion": texts[worst], "total": a[worst], "correct": c["total"][worst], "wrong": w["total"][worst],
        "components": {k: b[k][worst] for k in weights},
    }
    return sev.Finding(
        attack.name, attack.family, attack.expect, attack.source, attack.description, len(a),
        round(reach, 4), round(above_c, 4), round(above_w, 4),
        round(sev._mean([x - y for x, y in zip(a, c["total"])]), 6),
        round(sev._mean([x - y for x, y in zip(a, w["total"])]), 6),
        level, sev.responsible(contrib), contrib, example, list(a), list(idx))


def _baseline(c: dict[str, list], w: dict[str, list], weights: dict[str, float], cases: list[Any],
              lo: float, hi: float) -> sev.Finding:
    level, tie = sev.baseline_severity(c["total"], w["total"], lo, hi)
    contrib = sev.contributions(weights, w, c)
    gaps = [x - y for x, y in zip(w["total"], c["total"])]
    k = max(range(len(gaps)), key=lambda i: gaps[i])
    return sev.Finding(
        "wrong_answer", "baseline", "wrong", "rewardkit", "the plain wrong answer: another row's gold",
        len(gaps), round(tie, 4), round(sev._rate([g > sev.EPS for g in gaps]), 4), 0.0,
        round(sev._mean(gaps), 6), 0.0, level, sev.responsible(contrib), contrib,
        {"completion": cases[k].wrong, "total": w["total"][k], "correct": c["total"][k], "wrong": w["total"][k],
         "components": {lab: w[lab][k] for lab in weights}},
        list(w["total"]), list(range(len(gaps))))
