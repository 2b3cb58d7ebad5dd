"""``rewardkit score CONFIG DATA.jsonl [-o OUT.jsonl]``: score rows, stream, summarise."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from ..compose import Composite, load
from ..errors import DataError, RewardError, RewardkitError
from ..jsonl import atomic_output, dump_row, iter_rows, prints_to_stderr
from ..progress import row_bar
from ..rows import score_rows as core_score_rows
from ..stats import RunningStats as Stats


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="score prompt/completion rows of a JSONL file")
    p.add_argument("config", help="rewards YAML")
    p.add_argument("data", help="JSONL with 'prompt' and 'completion' per row (other fields are columns)")
    p.add_argument("-o", "--output", help="output JSONL (default: standard output)")
    p.add_argument("--batch-size", type=positive_int, default=256, help="rows per reward call (default 256)")
    p.set_defaults(func=run)


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def batches(rows: Iterable[tuple[int, dict[str, Any]]], size: int) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """``(line, row)`` pairs from :func:`iter_rows` in lists of ``size``."""
    batch: list[tuple[int, dict[str, Any]]] = []
    for item in rows:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def score_rows(composite: Composite, rows: list[dict[str, Any]], lines: list[int] | None = None,
               source: str | None = None) -> list[dict[str, Any]]:
    """:func:`rewardkit.rows.score_rows`, with errors naming the file and line.

    With ``lines`` (each row's 1-based line in ``source``) an error about one row names the file
    and line rather than the row's index in the batch. (Kept here for callers of
    ``rewardkit.commands.score.score_rows``; the contract lives in :mod:`rewardkit.rows`.)
    """
    try:
        return core_score_rows(composite, rows)
    except (RewardError, DataError) as e:
        if lines is None or source is None:
            raise
        raise _located(e, lines, source) from None


def _located(e: RewardError | DataError, lines: list[int], source: str) -> RewardkitError:
    """The same error, naming the input file and line(s) instead of a row of the batch."""
    row = getattr(e, "row", None)
    where = f"{source}, line {lines[row]}" if row is not None else f"{source}, lines {lines[0]}-{lines[-1]}"
    msg = f"{where}: {getattr(e, 'bare', str(e))}"
    return RewardError(msg, label=e.label, row=row) if isinstance(e, RewardError) else DataError(msg)


def score_file(composite: Composite, path: str, batch_size: int, bar: Any = None) -> Iterator[dict[str, Any]]:
    """Scored rows of a JSONL file, batch by batch; errors name the file and line.

    ``bar`` (a :func:`rewardkit.progress.row_bar`) advances by each batch's rows.
    """
    for batch in batches(iter_rows(path, required=("completion",)), batch_size):
        rows = [r for _, r in batch]
        yield from score_rows(composite, rows, [ln for ln, _ in batch], path)
        if bar is not None:
            bar.update(len(batch))


def run(args: argparse.Namespace) -> int:
    # Rewards run with print() sent to stderr: the JSONL on stdout holds rows only.
    with prints_to_stderr() as stdout:
        composite = load(args.config)  # every config problem surfaces before any output is written
        stats = {label: Stats() for label in [*composite.labels, "total"]}
        count = 0
        with atomic_output(args.output, stdout=stdout) as out, \
                row_bar(args.data, f"scoring {os.path.basename(args.data)}") as bar:
            for row in score_file(composite, args.data, args.batch_size, bar):
                out.write(dump_row(row))
                for label, s in row["rewards"].items():
                    stats[label].add(s)
                stats["total"].add(row["reward"])
                count += 1
    print_summary(stats, composite, count, args.output)
    return 0


def print_summary(stats: dict[str, Stats], composite: Composite, count: int, output: str | None) -> None:
    weights = dict(zip(composite.labels, composite.weights))
    err = sys.stderr
    print(f"scored {count:,} rows" + (f" -> {output}" if output else ""), file=err)
    header = f"{'component':<20} {'weight':>7} {'mean':>9} {'std':>9} {'min':>9} {'max':>9} {'none':>6}"
    print(header, file=err)
    print("-" * len(header), file=err)
    for label, s in stats.items():
        w = f"{weights[label]:g}" if label in weights else ""
        if s.n:
            nums = f"{s.mean:>9.4f} {s.std:>9.4f} {s.lo:>9.4f} {s.hi:>9.4f}"
        else:
            nums = f"{'-':>9} {'-':>9} {'-':>9} {'-':>9}"
        print(f"{label:<20} {w:>7} {nums} {s.none:>6}", file=err)
    errors = sum(composite.errors.values())
    if errors:
        print(f"{errors} rows took the on_error policy: {dict(composite.errors)}", file=err)
