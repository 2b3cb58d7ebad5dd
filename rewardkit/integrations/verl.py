"""verl adapter: a ``compute_score`` that verl's ``custom_reward_function`` can point at.

verl imports the file named by ``custom_reward_function.path`` and calls the function named by
``custom_reward_function.name`` once per response (``NaiveRewardManager``) with keyword
arguments, adding ``custom_reward_function.reward_kwargs`` to every call::

    custom_reward_function.path=$(python -c 'import rewardkit.integrations.verl as m; print(m.__file__)')
    custom_reward_function.name=compute_score
    +custom_reward_function.reward_kwargs.config=/abs/path/rewards.yaml   # or REWARDKIT_CONFIG

The result is verl's dict form: ``score`` (the weighted total, which verl puts on the last
response token) plus one key per component label, which verl collects into
``reward_extra_info`` and logs. ``compute_score_batch`` is the same for verl's
``BatchRewardManager`` (``reward_model.reward_manager=batch``), which scores a batch per call:
much faster for batched rewards such as reward models.

Columns seen by the rewards: ``ground_truth`` as ``answer`` (``answer_field=`` or
``$REWARDKIT_ANSWER_FIELD`` to rename), ``data_source``, and every field of ``extra_info``
(``extra_info["prompt"]``, where present, is the prompt; verl does not pass one otherwise).
verl takes numbers only: a component's None ("does not apply") is reported as 0.0, and a row
every component gave None (unscorable) gets ``score`` 0.0; the rule is the core's
(docs/rows.md, "Rows, None and the total"), where ``rewardkit score`` writes null for both.

This file is loaded by path, so it imports rewardkit absolutely.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from rewardkit.compose import Composite
from rewardkit.errors import ConfigError
from rewardkit.integrations._shared import cached_composite, score_batch

ANSWER_ENV = "REWARDKIT_ANSWER_FIELD"
WHO = "rewardkit.integrations.verl"


def _composite(config: str | None) -> Composite:
    composite = cached_composite(config, WHO)
    if "score" in composite.labels:
        raise ConfigError(f"{composite.source}: label 'score' clashes with verl's total; rename it with 'as:'")
    return composite


def _answer_field(answer_field: str | None) -> str:
    return answer_field or os.environ.get(ANSWER_ENV) or "answer"


def compute_score_batch(data_sources: Sequence[Any], solution_strs: Sequence[str], ground_truths: Sequence[Any],
                        extra_infos: Sequence[Mapping[str, Any] | None] | None = None, *,
                        config: str | None = None, answer_field: str | None = None,
                        **kwargs: Any) -> list[dict[str, float]]:
    """Score a batch of responses; one verl result dict (``score`` + components) per response.

    ``config`` (a rewards YAML; default ``$REWARDKIT_CONFIG``) is loaded once per process.
    Other keyword arguments verl may add are accepted and ignored.
    """
    composite = _composite(config)
    n = len(solution_strs)
    extras = extra_infos if extra_infos is not None else [None] * n
    field = _answer_field(answer_field)
    rows = [{"prompt": "", **(e or {}), "completion": s, "data_source": ds, field: gt}  # the label wins
            for e, s, ds, gt in zip(extras, solution_strs, data_sources, ground_truths)]
    totals, scores = score_batch(composite, rows)
    return [{"score": totals[i], **{label: s[i] for label, s in scores.items()}} for i in range(n)]


def compute_score(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None,
                  **kwargs: Any) -> dict[str, float]:
    """verl's ``compute_score`` for one response: ``{"score": total, label: component, ...}``."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info], **kwargs)[0]
