"""Scoring completions for dataset rows through the public composite (``breakdown``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..compose import Breakdown, Composite

NOT_COLUMNS = ("prompt", "completion", "reference")


@dataclass
class Scorer:
    """Scores completions written for given rows: each gets its row's prompt and columns."""

    composite: Composite
    rows: Sequence[dict[str, Any]]
    _keys: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self._keys = sorted({k for r in self.rows for k in r if k not in NOT_COLUMNS})

    def score(self, row_index: Sequence[int], completions: Sequence[str]) -> Breakdown:
        """``composite.breakdown`` of ``completions[k]`` as an answer to row ``row_index[k]``."""
        rows = [self.rows[i] for i in row_index]
        columns = {k: [r.get(k) for r in rows] for k in self._keys}
        out = self.composite.breakdown(prompts=[r.get("prompt", "") for r in rows],
                                       completions=list(completions), **columns)
        # The probe ranks completions: an unscorable one (total None, docs/rows.md) ranks as 0.0.
        out["total"] = [0.0 if t is None else t for t in out["total"]]
        return out
