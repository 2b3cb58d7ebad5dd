"""The ``format`` reward: a regular expression, or the ``<think>...</think><answer>...</answer>`` layout.

Without ``pattern``, the completion is checked against the reasoning layout R1-style models are
trained to: one ``<think>`` block, then one ``<answer>`` block, nothing else around them.

- ``strict``: 1.0 when the whole completion has exactly that layout, else 0.0.
- ``partial``: 0.25 for each of the four tags present exactly once, in order (open-r1's
  ``tag_count_reward``), so a model is pulled towards the layout before it gets it right.

With ``pattern`` (a regular expression): ``strict`` gives 1.0 for a full match, else 0.0;
``partial`` gives 1.0 for a full match, 0.5 when the pattern matches somewhere, else 0.0.

Time is linear in the completion's length whatever the pattern or text (completions are model
output and the pattern may come from anyone): the layout is checked by a scanner, not a regex
(the regex it replaced took 24 s on a 40k-character completion with an unclosed ``<answer>``),
and ``pattern`` runs on RE2 (``google-re2``), which never backtracks: ``(a+)+$`` on 300k
characters takes under a millisecond, where Python's ``re`` does not finish. RE2 has no
look-arounds or back-references; a pattern that uses them is refused at config load. The
``regex`` module's ``timeout`` was measured too: it bounds the time but still burns it (a
timed-out row is an error, not a score), so RE2 it is. ``budget_s`` caps a whole ``score`` call
as a last resort: past it the call raises, and the component's ``on_error`` applies.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import Field

import rewardkit
from rewardkit import ConfigError, RewardError, text_of

# RE2's inline flags for Python's flag names.
_FLAGS = {"IGNORECASE": "i", "MULTILINE": "m", "DOTALL": "s"}


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

    budget_s: float = Field(10.0, gt=0, description="most seconds one score call may take (then on_error)")

    def setup(self) -> None:
        self._tags = [f"<{self.think_tag}>", f"</{self.think_tag}>", f"<{self.answer_tag}>", f"</{self.answer_tag}>"]
        self._re = None if self.pattern is None else compile_linear(self.pattern, self.flags)

    def _one(self, text: str) -> float:
        if self.think_in_prompt and self.pattern is None and not text.lstrip().startswith(self._tags[0]):
            text = self._tags[0] + text
        full = self._re.fullmatch(text) is not None if self._re is not None else self._layout(text)
        if self.mode == "strict" or full:
            return 1.0 if full else 0.0
        if self._re is not None:
            return 0.5 if self._re.search(text) else 0.0
        return self._tag_credit(text)

    def _layout(self, text: str) -> bool:
        """``\\s*<think>T</think>\\s*<answer>A</answer>\\s*``, no tag of a block inside it, A not blank.

        One left-to-right pass of ``str.find``: linear in ``len(text)``.
        """
        t_open, t_close, a_open, a_close = self._tags
        body = text.strip()
        if not body.startswith(t_open):
            return False
        end_t = body.find(t_close, len(t_open))
        if end_t < 0 or body.find(t_open, len(t_open), end_t) >= 0:
            return False
        rest = body[end_t + len(t_close):].lstrip()
        if not rest.startswith(a_open) or not rest.endswith(a_close) or len(rest) < len(a_open) + len(a_close):
            return False
        answer = rest[len(a_open):len(rest) - len(a_close)]
        return a_open not in answer and a_close not in answer and bool(answer.strip())

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
        deadline = time.monotonic() + self.budget_s
        out: list[float | None] = []
        for i, c in enumerate(completions):
            if time.monotonic() > deadline:  # each row is linear; this bounds a batch of huge ones
                raise RewardError(f"reward 'format': scoring took more than budget_s={self.budget_s:g}s "
                                  f"(stopped at row {i} of {len(completions)})", row=i)
            out.append(self._one(text_of(c)))
        return out

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("_re", "_tags")}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.setup()


def compile_linear(pattern: str, flags: list[str]) -> Any:
    """``pattern`` compiled by RE2 (linear time); a pattern RE2 refuses is a :class:`ConfigError`."""
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print its own copy of the error on stderr
    prefix = "".join(_FLAGS[f] for f in flags)
    try:
        return re2.compile(f"(?{prefix}){pattern}" if prefix else pattern, options)
    except re2.error as e:
        why = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
        raise ConfigError(f"option 'pattern': {pattern!r} is not a regular expression the linear-time engine "
                          f"(RE2) accepts ({why}); look-arounds and back-references are not supported") from None


@rewardkit.hookimpl
def register_rewards(register):
    register(Format)
