"""Greedy evaluation on the fixed evaluation problems: accuracy and mean reward."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .task import Problem, is_correct


@dataclass
class Evaluation:
    """Greedy completions of the evaluation problems and what they scored."""

    accuracy: float
    reward: float
    completions: list[str] = field(default_factory=list)


def generate_greedy(model: Any, tokenizer: Any, prompts: Sequence[str], max_new_tokens: int,
                    batch_size: int = 256) -> list[str]:
    """Greedy completions (special tokens dropped) of ``prompts``."""
    import torch

    out: list[str] = []
    model.eval()
    for start in range(0, len(prompts), batch_size):
        chunk = list(prompts[start : start + batch_size])
        enc = tokenizer(chunk, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False)
        with torch.no_grad():
            ids = model.generate(  # (N, P + T)
                **enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        out += tokenizer.batch_decode(ids[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    return out


def evaluate(model: Any, tokenizer: Any, problems: Sequence[Problem], reward: Any,
             max_new_tokens: int) -> Evaluation:
    """Greedy-decode every problem; score with ``reward`` (a composite) and exact match."""
    prompts = [p.prompt for p in problems]
    answers = [p.answer for p in problems]
    completions = generate_greedy(model, tokenizer, prompts, max_new_tokens)
    totals = reward(prompts=prompts, completions=completions, answer=answers)
    accuracy = sum(is_correct(c, a) for c, a in zip(completions, answers)) / len(problems)
    scored = [t for t in totals if t is not None]  # unscorable rows are left out of the mean (docs/rows.md)
    return Evaluation(accuracy, sum(scored) / len(scored) if scored else float("nan"), completions)
