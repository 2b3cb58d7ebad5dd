"""``rewardkit pairs CONFIG SAMPLES.jsonl -o PAIRS.jsonl``: DPO preference pairs from scored samples."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Iterator
from typing import Any

from ..compose import load
from ..jsonl import atomic_output, dump_row, iter_rows, prints_to_stderr
from ..pairs import MODES, PairStats, group_rows, make_pairs
from ..progress import row_bar
from .score import batches, positive_int, score_rows


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pairs", help="preference pairs (prompt, chosen, rejected) for DPO from several completions per prompt",
        description="Score every completion with the composite, group rows by prompt, and write "
        "TRL preference rows (prompt, chosen, rejected, score_chosen, score_rejected).",
    )
    p.add_argument("config", help="rewards YAML")
    p.add_argument("data", help="JSONL with 'prompt' and 'completion' per row, several rows per prompt "
                   "(other fields are columns for the rewards)")
    p.add_argument("-o", "--output", help="output JSONL (default: standard output)")
    p.add_argument("--mode", choices=MODES, default="best_vs_worst",
                   help="best_vs_worst: one pair per prompt (default); all: every pair whose margin is kept")
    p.add_argument("--min-margin", type=non_negative_float, default=0.0, metavar="M",
                   help="keep a pair only when chosen - rejected >= M (ties are always dropped; default 0)")
    p.add_argument("--batch-size", type=positive_int, default=256, help="rows per reward call (default 256)")
    p.set_defaults(func=run)


def non_negative_float(text: str) -> float:
    """argparse type: a finite float of at least 0."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    with prints_to_stderr() as stdout:  # a reward's print() must not land in the JSONL
        composite = load(args.config)  # config problems surface before any output

        def scored() -> Iterator[tuple[dict[str, Any], float]]:
            rows = iter_rows(args.data, required=("prompt", "completion"))
            with row_bar(args.data, f"scoring {os.path.basename(args.data)}") as bar:
                for batch in batches(rows, args.batch_size):
                    for row in score_rows(composite, [r for _, r in batch], [ln for ln, _ in batch], args.data):
                        yield row, row["reward"]
                    bar.update(len(batch))

        groups = group_rows(scored())  # every row is read and scored before the output is opened
        stats = PairStats()
        with atomic_output(args.output, stdout=stdout) as out:
            for pair in make_pairs(groups, mode=args.mode, min_margin=args.min_margin, stats=stats):
                out.write(dump_row(pair))
    print(f"pairs: {stats.summary()}" + (f" -> {args.output}" if args.output else ""), file=sys.stderr)
    errors = sum(composite.errors.values())
    if errors:
        print(f"{errors} rows took the on_error policy: {dict(composite.errors)}", file=sys.stderr)
    return 0
