"""OpenRLHF adapter: the ``reward_func(queries, prompts, labels)`` file form.

OpenRLHF imports the ``.py`` file given as ``--remote_rm_url`` (``--reward.remote_url`` in newer
releases) and calls its ``reward_func`` with three aligned lists: ``queries`` (the decoded
prompt + response tokens, special tokens kept), ``prompts`` (the prompt text as given to the
model, chat template applied) and ``labels`` (the ``--label_key`` field)::

    export REWARDKIT_CONFIG=/abs/path/rewards.yaml
    python -m openrlhf.cli.train_ppo_ray ... --label_key answer \\
        --remote_rm_url $(python -c 'import rewardkit.integrations.openrlhf as m; print(m.__file__)')

Like OpenRLHF's own examples, the completion is the query with the prompt prefix removed; the
end-of-sequence markers the decoder kept (``<|im_end|>``, ``</s>``, ...) are stripped from its
end. Labels reach the rewards as the ``answer`` column (``$REWARDKIT_LABEL_FIELD`` renames it).

Returns ``{"rewards", "scores", "extra_logs"}``: ``rewards`` the weighted totals (a float tensor,
as OpenRLHF expects, when torch is present), ``scores`` the same totals (OpenRLHF's dynamic
filtering reads them), ``extra_logs`` one tensor per component label, logged by OpenRLHF.
OpenRLHF takes numbers only: a component's None ("does not apply") is logged as 0.0, and a row
every component gave None (unscorable) gets reward 0.0; the rule is the core's (docs/rows.md,
"Rows, None and the total"), where ``rewardkit score`` writes null for both.

This file is loaded by path, so it imports rewardkit absolutely.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from rewardkit.compose import Composite
from rewardkit.errors import DataError
from rewardkit.integrations._shared import cached_composite, score_batch

LABEL_ENV = "REWARDKIT_LABEL_FIELD"
WHO = "rewardkit.integrations.openrlhf"

# End-of-turn / end-of-sequence markers a decode with special tokens kept leaves on a response.
END_MARKERS: tuple[str, ...] = (
    "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "</s>", "<｜end▁of▁sentence｜>",
    "<end_of_turn>", "<|end|>",
)


def split_query(query: str, prompt: str | None, end_markers: Sequence[str] = END_MARKERS) -> str:
    """The completion inside an OpenRLHF ``query``: the query minus the ``prompt`` prefix.

    Where a decode round trip changed the prompt slightly, the longest common prefix is
    removed. Trailing ``end_markers`` (and padding made of them) are stripped.
    """
    if prompt:
        if query.startswith(prompt):
            query = query[len(prompt):]
        else:
            query = query[len(os.path.commonprefix([query, prompt])):]
    stripped = True
    while stripped:  # e.g. "<|im_end|><|endoftext|>"
        stripped = False
        for m in end_markers:
            if m and query.endswith(m):
                query = query[: -len(m)]
                stripped = True
    return query


def _label_field(label_field: str | None) -> str:
    return label_field or os.environ.get(LABEL_ENV) or "answer"


def score_queries(composite: Composite, queries: Sequence[str], prompts: Sequence[str] | None = None,
                  labels: Sequence[Any] | None = None, *, label_field: str | None = None) -> dict[str, Any]:
    """OpenRLHF's answer as plain lists: ``{"rewards": [...], "scores": [...], "extra_logs": {label: [...]}}``.

    Shared by :func:`reward_func` and ``rewardkit serve``'s ``/get_reward``. Without
    ``prompts`` (OpenRLHF's oldest remote protocol sent only ``query``), the whole query is the
    completion. Raises :class:`DataError` when the lists are not aligned.
    """
    n = len(queries)
    if prompts is not None and len(prompts) != n:
        raise DataError(f"got {len(prompts)} prompts for {n} queries")
    if labels is not None and len(labels) != n:
        raise DataError(f"got {len(labels)} labels for {n} queries")
    prompt_list = list(prompts) if prompts is not None else [""] * n
    completions = [split_query(q, p) for q, p in zip(queries, prompt_list)]
    field = _label_field(label_field)
    rows = [{"prompt": p, "completion": c} for p, c in zip(prompt_list, completions)]
    if labels is not None:
        for row, label in zip(rows, labels):
            row[field] = label
    totals, scores = score_batch(composite, rows)
    return {"rewards": totals, "scores": list(totals), "extra_logs": scores}


def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any] | None = None,
                **kwargs: Any) -> dict[str, Any]:
    """OpenRLHF's custom reward function.

    Keyword arguments (none from OpenRLHF): ``config`` (a rewards YAML; default
    ``$REWARDKIT_CONFIG``, loaded once per process) and ``label_field``.
    """
    composite = cached_composite(kwargs.get("config"), WHO)
    out = score_queries(composite, queries, prompts, labels, label_field=kwargs.get("label_field"))
    try:
        import torch
    except ImportError:  # OpenRLHF always has torch; a plain process gets lists
        return out
    return {
        "rewards": torch.tensor(out["rewards"], dtype=torch.float32),  # (B,)
        "scores": torch.tensor(out["scores"], dtype=torch.float32),  # (B,)
        "extra_logs": {k: torch.tensor(v, dtype=torch.float32) for k, v in out["extra_logs"].items()},  # (B,) each
    }
