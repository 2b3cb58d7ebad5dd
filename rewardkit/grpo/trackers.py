"""Experiment trackers for ``report_to``: Weights & Biases and Trackio through their own libraries.

Each step's metrics go to ``train/<name>`` (as Hugging Face's callbacks name them) and, with
``log_completions``, the latest generation goes out as a ``completions`` table with TRL's columns
(step, prompt, completion, one column per reward, advantage). Offline use is the libraries' own:
``WANDB_MODE=offline`` and Trackio's local database (``TRACKIO_DIR``). TensorBoard stays in
:mod:`.metrics`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError

TRACKERS = ("wandb", "trackio")


class Trackers:
    """The ``wandb``/``trackio`` runs a training run reports to (none: every call is a no-op)."""

    def __init__(self, report_to: Sequence[str] | None, output_dir: Path, config: dict[str, Any], *,
                 enabled: bool = True, log_completions: bool = True) -> None:
        self.backends: list[Any] = []
        names = [n for n in (report_to or ()) if n in TRACKERS] if enabled else []
        self.wants_table = bool(names) and log_completions
        project = os.environ.get("WANDB_PROJECT") or os.environ.get("TRACKIO_PROJECT") or "rewardkit"
        for name in names:
            try:
                lib = __import__(name)
            except ImportError:
                raise ConfigError(f"key 'report_to': {name} is not installed (pip install {name})") from None
            if name == "wandb":
                lib.init(project=project, dir=str(output_dir), config=config, name=output_dir.name)
            else:
                lib.init(project=project, name=output_dir.name, config=config, resume="allow")
            self.backends.append(lib)

    def log(self, row: dict[str, Any], table: dict[str, list[Any]] | None = None) -> None:
        """One step's numeric metrics, and the completions table when given."""
        if not self.backends:
            return
        step = int(row["step"])
        scalars = {f"train/{k}": v for k, v in row.items()
                   if k != "step" and isinstance(v, (int, float)) and math.isfinite(v)}
        for lib in self.backends:
            lib.log(scalars, step=step)
            if table is not None and self.wants_table:
                columns = list(table)
                data = [[_cell(table[c][i]) for c in columns] for i in range(len(table[columns[0]]))]
                lib.log({"completions": lib.Table(columns=columns, data=data)}, step=step)

    def close(self) -> None:
        for lib in self.backends:
            lib.finish()
        self.backends = []


def completions_table(step: int, prompts: Sequence[Any], completions: Sequence[Any],
                      scores: dict[str, Sequence[float | None]], advantages: Sequence[float]
                      ) -> dict[str, list[Any]]:
    """TRL's completions table: one row per completion of the generation."""
    return {"step": [step] * len(completions), "prompt": list(prompts), "completion": list(completions),
            **{label: list(values) for label, values in scores.items()}, "advantage": list(advantages)}


def _cell(v: Any) -> Any:
    # Chat messages become their text; None stays None (a reward that did not apply).
    if isinstance(v, list):
        return "\n".join(m.get("content", "") if isinstance(m, dict) else str(m) for m in v)
    if isinstance(v, dict):
        return v.get("content", str(v))
    return v
