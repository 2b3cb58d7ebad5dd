"""The demo's task: small-integer addition written as ``"12+7="``, answered with ``"19"``.

Problems are drawn from a fixed grid of operand pairs; a seeded split keeps the evaluation pairs
out of the training pairs, so "accuracy" measures generalisation, not memory.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..reward import Reward
from ..text import text_of

# A completion is right when it is the answer, alone (white space around it allowed): the same
# thing `math` checks on a bare number, without its parser, so the demo runs without the plugin.
_NUMBER = re.compile(r"\s*(-?\d+)\s*")


@dataclass(frozen=True)
class Problem:
    """One addition problem."""

    a: int
    b: int

    @property
    def prompt(self) -> str:
        return f"{self.a}+{self.b}="

    @property
    def answer(self) -> str:
        return str(self.a + self.b)

    def row(self) -> dict[str, str]:
        """The dataset row: ``prompt`` and the ``answer`` column the rewards read."""
        return {"prompt": self.prompt, "answer": self.answer}


def split(max_operand: int, n_eval: int, seed: int = 0) -> tuple[list[Problem], list[Problem]]:
    """All pairs with operands in ``[0, max_operand]``, shuffled and split into (train, eval)."""
    pairs = [Problem(a, b) for a in range(max_operand + 1) for b in range(max_operand + 1)]
    if not 0 < n_eval < len(pairs):
        raise ValueError(f"n_eval must be between 1 and {len(pairs) - 1}, got {n_eval}")
    random.Random(seed).shuffle(pairs)
    return pairs[n_eval:], pairs[:n_eval]


def is_correct(completion: Any, answer: str) -> bool:
    """True when ``completion`` is exactly the number ``answer`` (white space aside)."""
    m = _NUMBER.fullmatch(text_of(completion))
    return m is not None and m.group(1) == str(answer).strip()


class ExactAnswer(Reward):
    """1.0 when the completion is exactly the ``answer`` column's number, else 0.0.

    The demo's stand-in for ``math`` where rewardkit-math is not installed.
    """

    name = "demo_exact"
    answer_field: str = "answer"

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float | None]:
        answers = columns[self.answer_field]
        return [float(is_correct(c, a)) for c, a in zip(completions, answers)]
