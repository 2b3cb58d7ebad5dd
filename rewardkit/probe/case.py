"""What an attack works from: one dataset row as a :class:`Case`, and the completion layout."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

REASONING = "I work through the problem step by step."
_EXPR = re.compile(r"-?\d+(?:\.\d+)?(?:\s*[-+*/^×÷]\s*\(?-?\d+(?:\.\d+)?\)?)+")


@dataclass(frozen=True)
class Layout:
    """A completion shape: ``template`` with ``{reasoning}`` and ``{answer}`` slots.

    ``think`` is the (open, close) pair of the reasoning block, where the layout has one.
    """

    name: str
    template: str
    think: tuple[str, str] | None = None

    def render(self, answer: str, reasoning: str = REASONING) -> str:
        """The completion with ``answer`` in the answer slot and ``reasoning`` before it."""
        return self.template.replace("{reasoning}", reasoning).replace("{answer}", answer)

    def unboxed(self) -> Layout:
        """The same layout with a bare answer slot, for attacks that write their own boxes."""
        return Layout(self.name, self.template.replace("\\boxed{{answer}}", "{answer}"), self.think)


def candidate_layouts(think_tag: str = "think", answer_tag: str = "answer") -> list[Layout]:
    """The layouts the probe tries, most structured first (ties go to the earlier one)."""
    t = (f"<{think_tag}>", f"</{think_tag}>")
    a_open, a_close = f"<{answer_tag}>", f"</{answer_tag}>"
    return [
        Layout("think_answer", f"{t[0]}{{reasoning}}{t[1]}{a_open}{{answer}}{a_close}", t),
        Layout("think_boxed", f"{t[0]}{{reasoning}}{t[1]}{a_open}\\boxed{{{{answer}}}}{a_close}", t),
        Layout("boxed", "{reasoning} The answer is \\boxed{{answer}}."),
        Layout("hashes", "{reasoning}\n#### {answer}"),
        Layout("plain", "{reasoning} The answer is {answer}."),
        Layout("bare", "{answer}"),
    ]


@dataclass(frozen=True)
class Case:
    """One dataset row as attacks see it (plain text; the composite still gets the raw row).

    ``answer`` is the gold answer, ``other`` and ``other2`` two different rows' gold answers,
    ``correct`` the reference correct completion and ``wrong`` the plain wrong one (``other``
    in the same layout). ``index`` is the row's position, for attacks that cycle variants.
    """

    index: int
    prompt: str
    answer: str
    other: str
    other2: str
    correct: str
    wrong: str
    layout: Layout
    row: dict[str, Any] = field(default_factory=dict)

    @property
    def expression(self) -> str | None:
        """The arithmetic expression the prompt asks about (``"7+10"`` in ``"7+10="``), if any."""
        found = _EXPR.findall(self.prompt)
        return max(found, key=len).strip() if found else None

    @property
    def near_miss(self) -> str:
        """A wrong answer close to the gold: an integer plus one, else the gold with ``+1``."""
        a = self.answer.strip()
        if re.fullmatch(r"-?\d+", a):
            return str(int(a) + 1)
        return f"{a}+1"
