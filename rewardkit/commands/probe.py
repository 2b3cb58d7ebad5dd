"""``rewardkit probe CONFIG DATA.jsonl [--out DIR] [--fail-on high|medium]``: red-team a reward."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..compose import load
from ..errors import DataError
from ..jsonl import read_rows
from .score import positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("probe", help="red-team a composite reward with attacked completions before training")
    p.add_argument("config", help="rewards YAML (as for score and train)")
    p.add_argument("data", help="JSONL rows with 'prompt', the label column and optionally 'reference'")
    p.add_argument("--out", default="probe-report", help="folder for report.json and report.html "
                   "(default: probe-report)")
    p.add_argument("--fail-on", choices=("high", "medium"), help="exit 1 when a finding of this severity "
                   "or worse exists")
    p.add_argument("--rows", type=positive_int, help="probe only the first N rows")
    p.add_argument("--label", help="the column holding the gold answer (default: the reward's "
                   "answer_field option, else 'answer')")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..probe import probe
    from ..probe.report import table, write_json, write_text

    composite = load(args.config)  # every config problem surfaces before any work
    rows = read_rows(args.data, required=("prompt",))
    if args.rows:
        rows = rows[: args.rows]
    if not rows:
        raise DataError(f"{args.data}: no rows to probe")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise DataError(f"--out {out}: exists and is not a folder")
    report = probe(composite, rows, source=str(args.data), label=args.label, progress=sys.stderr.isatty())
    print(table(report))
    try:  # the page is drawn before anything is written, so a failure leaves the folder as it was
        from ..probe.html import render

        page: str | None = render(report)
        wrote = f" and {out / 'report.html'}"
    except ImportError as e:
        page = None
        wrote = f"; report.html skipped ({e.name or 'matplotlib'} is not installed: pip install 'rewardkit[train]')"
    out.mkdir(parents=True, exist_ok=True)
    write_json(report, out / "report.json")
    if page is not None:
        write_text(page, out / "report.html")
    print(f"wrote {out / 'report.json'}{wrote}", file=sys.stderr)
    if args.fail_on:
        failing = report.at_least(args.fail_on)
        if failing:
            names = ", ".join(f"{f.attack} ({f.severity})" for f in failing)
            print(f"rewardkit probe: {len(failing)} finding(s) at {args.fail_on} or worse: {names}",
                  file=sys.stderr)
            return 1
    return 0
