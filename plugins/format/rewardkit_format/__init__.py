"""The ``format`` reward: a regular expression, or the ``<think>...</think><answer>...</answer>`` layout.

Without ``pattern``, the completion is checked against the reasoning layout R1-style models are
trained to: one ``<think>`` block, then one ``<answer>`` block, nothing else around them.

- ``strict``: 1.0 when the whole completion has exactly that layout, else 0.0.
- ``partial``: 0.25 for each of the four tags present exactly once, in order (open-r1's
  ``tag_count_reward``), so a model is pulled towards the layout before it gets it right.

With ``pattern`` (a Python regular expression): ``strict`` gives 1.0 for a full match, else 0.0;
``partial`` gives 1.0 for a full match, 0.5 when the pattern matches somewhere, else 0.0.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

import rewardkit
from rewardkit import ConfigError, text_of

_FLAGS = {"IGNORECASE": re.IGNORECASE, "MULTILINE": re.MULTILINE, "DOTALL": re.DOTALL}


class Format(rewardkit.Reward):
    """Checks the completion's layout: think/answer tags, or a regular expression."""

    name = "format"
    pattern: str | None = Field(None, description="a regex; default: the think/answer layout")
    mode: Literal["strict", "partial"] = Field("strict", description="strict | partial credit")
    think_tag: str = Field("think", description="name of the reasoning tag")
    answer_tag: str = Field("answer", description="name of the answer tag")
    think_in_prompt: bool = Field(False, description="the prompt already opened <think> (R1 style)")
    flags: list[Literal["IGNORECASE", "MULTILINE", "DOTALL"]] = Field(
        default_factory=lambda: ["DOTALL"], description="regex flags for `pattern`"
    )

    def setup(self) -> None:
        flags = 0
        for f in self.flags:
            flags |= _FLAGS[f]
        if self.pattern is not None:
            try:
                self._re = re.compile(self.pattern, flags)
            except re.error as e:
                raise ConfigError(f"option 'pattern': not a valid regular expression ({e})") from None
        else:
            t, a = re.escape(self.think_tag), re.escape(self.answer_tag)
            self._re = re.compile(rf"\s*<{t}>(?:(?!</?{t}>).)*</{t}>\s*<{a}>(?:(?!</?{a}>).)*?\S(?:(?!</?{a}>).)*</{a}>\s*", re.DOTALL)
            self._tags = [f"<{self.think_tag}>", f"</{self.think_tag}>", f"<{self.answer_tag}>", f"</{self.answer_tag}>"]

    def _one(self, text: str) -> float:
        if self.think_in_prompt and self.pattern is None and not text.lstrip().startswith(self._tags[0]):
            text = self._tags[0] + text
        full = self._re.fullmatch(text) is not None
        if self.mode == "strict" or full:
            return 1.0 if full else 0.0
        if self.pattern is not None:
            return 0.5 if self._re.search(text) else 0.0
        return self._tag_credit(text)

    def _tag_credit(self, text: str) -> float:
        credit, last = 0.0, -1
        for tag in self._tags:
            if text.count(tag) == 1:
                pos = text.index(tag)
                if pos > last:  # in order: a closing tag before its opening one earns nothing
                    credit += 0.25
                    last = pos
        return credit

    def score(self, prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
        return [self._one(text_of(c)) for c in completions]

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("_re", "_tags")}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.setup()


@rewardkit.hookimpl
def register_rewards(register):
    register(Format)
