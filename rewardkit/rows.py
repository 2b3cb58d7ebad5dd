"""The row contract, once: rows to aligned columns, scoring, and the all-None rule.

A row is ``{"prompt": ..., "completion": ..., <column>: ...}``. Every caller (``rewardkit score``
and ``pairs``, the server, the trainer's completions log, the TRL/verl/OpenRLHF adapters and the
testing helpers) goes through :func:`columns_from_rows` and :func:`score_rows`, so a row scores the
same everywhere. The rule for None is written down in docs/rows.md ("Rows, None and the total").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import DataError

if TYPE_CHECKING:
    from .compose import Composite
    from .reward import Score

ROW_FIELDS = ("prompt", "completion")
# Keyword names of ``Composite.score_components`` / ``Reward.score``: a column with one of these
# names would collide with the call itself.
RESERVED = frozenset({"prompts", "completions", "self"})
# What the number-only engines (verl, OpenRLHF) get for None: a component's None, and the total
# of an unscorable row, are sent as 0.0 (what a None adds to the weighted sum).
NONE_AS_NUMBER = 0.0


def columns_from_rows(rows: Sequence[Mapping[str, Any]], reserved: Sequence[str] = ()
                      ) -> tuple[list[Any], list[Any], dict[str, list[Any]]]:
    """``(prompts, completions, columns)``, one list per field, aligned with ``rows``.

    A missing prompt is ``""``, a missing completion None (the composite refuses it with the
    row), a column a row lacks is None there. A column named like a keyword of the scoring call
    (``prompts``, ``completions``, ``self``, or one in ``reserved``, e.g. a trainer keyword the
    caller passes itself) is a :class:`DataError` naming it and its row.
    """
    taken = RESERVED | set(reserved)
    keys: set[str] = set()
    for i, r in enumerate(rows):
        for k in r:
            if k in ROW_FIELDS or k in keys:
                continue
            if k in taken:
                bare = f"column '{k}' is a reserved name (a keyword of the reward call); rename it"
                err = DataError(f"{bare} (row {i})")
                err.row, err.bare = i, bare  # type: ignore[attr-defined]
                raise err
            keys.add(k)
    prompts = [r.get("prompt", "") for r in rows]
    completions = [r.get("completion") for r in rows]
    return prompts, completions, {k: [r.get(k) for r in rows] for k in sorted(keys)}


def row_total(weights: Sequence[float], scores: Sequence[Score]) -> float | None:
    """The weighted sum of one row's component scores, None left out; None when all are None.

    This is TRL 1.16's rule: a row every component gave None is unscorable (NaN in a trainer,
    advantage 0, left out of its group's mean), not a row that scored 0.
    """
    if all(s is None for s in scores):
        return None
    return float(sum(w * s for w, s in zip(weights, scores) if s is not None))


def totals(composite: Composite, scores: Mapping[str, Sequence[Score]]) -> list[float | None]:
    """:func:`row_total` of each row of ``{label: scores}``."""
    cols = [scores[c.label] for c in composite.components]
    n = len(cols[0]) if cols else 0
    return [row_total(composite.weights, [s[i] for s in cols]) for i in range(n)]


def score_rows(composite: Composite, rows: Sequence[Mapping[str, Any]], **trainer_kwargs: Any
               ) -> list[dict[str, Any]]:
    """Each row plus ``reward`` (the total, None when unscorable) and ``rewards`` (label -> score).

    ``trainer_kwargs`` (e.g. ``completion_ids``) go to the rewards that take them; a column of
    the same name is refused. Errors about one row carry ``row`` (its index in ``rows``).
    """
    prompts, completions, columns = columns_from_rows(rows, reserved=tuple(trainer_kwargs))
    scores = composite.score_components(prompts=prompts, completions=completions, **columns, **trainer_kwargs)
    total = totals(composite, scores)
    return [{**row, "reward": total[i], "rewards": {label: s[i] for label, s in scores.items()}}
            for i, row in enumerate(rows)]


def as_number(value: float | None) -> float:
    """A score or total for an engine that takes numbers only: None is :data:`NONE_AS_NUMBER`."""
    return NONE_AS_NUMBER if value is None else value


def as_nan(value: float | None) -> float:
    """A score or total inside a trainer's tensors: None is NaN."""
    return math.nan if value is None else value
