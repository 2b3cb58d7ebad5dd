"""Per-step metrics: a JSONL file (flushed every step), optional TensorBoard, and a tqdm bar."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from ..errors import DataError
from ..jsonl import atomic_output

log = logging.getLogger("rewardkit.grpo")


class MetricsLog:
    """Appends one JSON line per step to ``output_dir/metrics.jsonl``; mirrors to TensorBoard."""

    def __init__(self, output_dir: Path, *, resume_step: int = 0, tensorboard: bool = False, enabled: bool = True):
        self.enabled = enabled
        self.path = output_dir / "metrics.jsonl"
        self.rows: list[dict[str, Any]] = []
        self.tb = None
        if not enabled:
            return
        self.rows, self._file = open_step_log(self.path, resume_step)
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(log_dir=str(output_dir / "runs"), purge_step=resume_step + 1 if resume_step else None)

    def write(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if not self.enabled:
            return
        self._file.write(json.dumps({k: _clean(v) for k, v in row.items()}) + "\n")
        self._file.flush()
        if self.tb is not None:
            for k, v in row.items():
                if k != "step" and isinstance(v, (int, float)) and math.isfinite(v):
                    self.tb.add_scalar(f"train/{k}", v, row["step"])

    def close(self) -> None:
        if not self.enabled:
            return
        self._file.close()
        if self.tb is not None:
            self.tb.close()


class CompletionsLog:
    """Appends every scored completion to ``output_dir/completions.jsonl``: the input row (prompt
    and columns), ``completion``, ``reward`` (total), ``rewards`` (label -> score) and ``step``."""

    def __init__(self, output_dir: Path, *, resume_step: int = 0, enabled: bool = True):
        self.enabled = enabled
        if enabled:
            _, self._file = open_step_log(output_dir / "completions.jsonl", resume_step)

    def write(self, step: int, rows: Sequence[dict[str, Any]]) -> None:
        if not self.enabled:
            return
        self._file.writelines(json.dumps({"step": step, **{k: _clean(v) for k, v in r.items()}}) + "\n"
                              for r in rows)
        self._file.flush()

    def close(self) -> None:
        if self.enabled:
            self._file.close()


def open_step_log(path: Path, resume_step: int) -> tuple[list[dict[str, Any]], IO[str]]:
    """``path`` opened for appending, after dropping rows of steps later than ``resume_step`` (a
    fresh run, ``resume_step`` 0, starts it empty). Returns the rows kept and the open file."""
    rows: list[dict[str, Any]] = []
    # On resume, rows written after the checkpoint belong to steps that will be redone.
    if resume_step and path.exists():
        rows = [r for r in read_step_rows(path) if r.get("step", 0) <= resume_step]
    with atomic_output(path) as f:  # a full disk leaves the old file as it was
        f.writelines(json.dumps(r) + "\n" for r in rows)
    return rows, open(path, "a", encoding="utf-8")  # open for the whole run


def read_step_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a step log. A partial last line (the run was killed while writing it) is
    dropped; a bad line before it is a :class:`DataError` naming the file and line."""
    lines = path.read_bytes().split(b"\n")
    last = max((i for i, ln in enumerate(lines) if ln.strip()), default=-1)
    rows = []
    for i, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
        except ValueError as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            row = e
        if not isinstance(row, dict):
            if i == last:
                log.warning("%s, line %d: dropped a partial last line (the run was stopped while writing it)",
                            path, i + 1)
                break
            raise DataError(f"{path}, line {i + 1}: not a JSON object ({type(row).__name__}); fix or delete "
                            "that line to resume") from None
        rows.append(row)
    return rows


def _clean(v: Any) -> Any:
    # JSON has no NaN: a metric with no data (e.g. a component that never applied) is null.
    return None if isinstance(v, float) and not math.isfinite(v) else v


def nan_stats(values: Sequence[float | None]) -> tuple[float, float]:
    """Mean and unbiased std of the non-None values (NaN when there are none), as TRL logs them."""
    xs = [v for v in values if v is not None and not math.isnan(v)]
    if not xs:
        return math.nan, math.nan
    mean = sum(xs) / len(xs)
    if len(xs) < 2:
        return mean, math.nan
    return mean, math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
