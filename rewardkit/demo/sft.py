"""A short supervised warm start: a plain torch loop on ``prompt + answer + EOS``.

GRPO learns only from differences between samples of one prompt; a randomly initialised policy
never samples a right answer, so every group scores the same and there is nothing to learn. A few
seconds of SFT make the policy partly right, which gives GRPO its signal.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from .task import Problem


def encode(tokenizer: Any, problems: Sequence[Problem]) -> tuple[Any, Any, Any]:
    """Right-padded ``input_ids``, ``attention_mask`` and ``labels`` (answer and EOS only)."""
    import torch

    rows, targets = [], []
    for p in problems:
        prompt = tokenizer(p.prompt, add_special_tokens=False)["input_ids"]
        answer = tokenizer(p.answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        rows.append(prompt + answer)
        targets.append([-100] * len(prompt) + answer)  # no loss on the prompt
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)  # (N, L)
    mask = torch.zeros((len(rows), width), dtype=torch.long)  # (N, L)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)  # (N, L)
    for i, (r, t) in enumerate(zip(rows, targets)):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
        labels[i, : len(t)] = torch.tensor(t)
    return ids, mask, labels


def warm_start(model: Any, tokenizer: Any, problems: Sequence[Problem], *, steps: int, batch_size: int = 64,
               lr: float = 3e-3, seed: int = 0, on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Train ``model`` in place for ``steps`` AdamW steps; returns the loss of each step."""
    import torch

    rng = random.Random(seed)
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 20))  # short warm-up
    model.train()
    losses = []
    for step in range(steps):
        batch = rng.sample(list(problems), min(batch_size, len(problems)))
        ids, mask, labels = encode(tokenizer, batch)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if on_step is not None:
            on_step(step, losses[-1])
    model.eval()
    return losses
