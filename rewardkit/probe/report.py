"""Writing a probe :class:`~rewardkit.probe.run.Report`: the terminal table and report.json."""

from __future__ import annotations

import json
from pathlib import Path

from ..jsonl import atomic_output
from .run import Report
from .severity import SEVERITIES, Finding


def worst_first(findings: list[Finding]) -> list[Finding]:
    """Findings by severity, then family (the order of the table and the page)."""
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), f.family))


def table(report: Report) -> str:
    """The findings, worst first, as a fixed-width text table."""
    head = (f"{'attack':<22} {'family':<9} {'expect':<7} {'rows':>5} {'>=correct':>9} {'>wrong':>7} "
            f"{'gap_c':>7} {'gap_w':>7} {'severity':<8} responsible")
    lines = [head, "-" * len(head)]
    for f in worst_first(report.findings):
        lines.append(
            f"{f.attack:<22} {f.family:<9} {f.expect:<7} {f.rows:>5} {f.reaches_correct:>9.0%} "
            f"{f.above_wrong:>7.0%} {f.gap_correct:>7.3f} {f.gap_wrong:>7.3f} {f.severity:<8} "
            f"{f.responsible or '-'}")
    counts = report.counts()
    lines.append(f"{report.rows} rows, layout '{report.layout}', label '{report.label}', "
                 f"{len(report.findings)} attacks in {report.seconds:.1f}s: "
                 + ", ".join(f"{counts[s]} {s}" for s in ("high", "medium", "low")))
    return "\n".join(lines)


def write_json(report: Report, path: Path) -> None:
    """report.json, put in place only once written in full."""
    with atomic_output(path) as f:
        json.dump(report.as_dict(), f, ensure_ascii=False, indent=1)
        f.write("\n")


def write_text(text: str, path: Path) -> None:
    """A text file (report.html), put in place only once written in full."""
    with atomic_output(path) as f:
        f.write(text)
