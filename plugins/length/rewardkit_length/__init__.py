"""The ``length`` reward: concise answers, a target band, or DAPO's soft overlong punishment.

Length is counted in ``unit``: ``tokens`` (the policy's own tokens when the trainer passes
``completion_ids``, else the ``tokenizer`` given, else a word-and-punctuation split), ``words``
(white-space separated) or ``chars``.

Modes, with ``L`` the length, ``max_tokens`` the limit and ``buffer`` the soft zone:

- ``shorter``: ``1 - min(L / max_tokens, 1)``: 1 for an empty answer, 0 at the limit and beyond.
- ``band``: 1 inside ``[min_tokens, max_tokens]``, falling linearly to 0 over ``buffer`` units
  outside it (0 at once when ``buffer`` is 0).
- ``overlong``: DAPO's soft overlong punishment: 0 up to ``max_tokens - buffer``, then linearly
  down to -1 at ``max_tokens``, and -1 beyond.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

import rewardkit
from rewardkit import ConfigError, text_of

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


class Length(rewardkit.Reward):
    """Rewards concise answers, a target length band, or punishes overlong ones (DAPO)."""

    name = "length"
    mode: Literal["shorter", "band", "overlong"] = Field("shorter", description="shorter | band | overlong")
    unit: Literal["tokens", "words", "chars"] = Field("tokens", description="tokens | words | chars")
    max_tokens: int = Field(256, gt=0, description="the limit, in `unit`s")
    min_tokens: int = Field(0, ge=0, description="band mode: the lower edge")
    buffer: int = Field(0, ge=0, description="band: decay width; overlong: DAPO's soft zone")
    tokenizer: str | None = Field(None, description="a tokenizer path or hub id for unit=tokens")

    def setup(self) -> None:
        if self.mode == "band" and self.min_tokens > self.max_tokens:
            raise ConfigError(
                f"option 'min_tokens' ({self.min_tokens}) is above 'max_tokens' ({self.max_tokens})"
            )
        if self.mode == "overlong" and self.buffer > self.max_tokens:
            raise ConfigError(f"option 'buffer' ({self.buffer}) is above 'max_tokens' ({self.max_tokens})")
        self._tok = None
        if self.tokenizer is not None:
            if self.unit != "tokens":
                raise ConfigError(f"option 'tokenizer' needs unit: tokens, got unit: {self.unit}")
            try:
                from transformers import AutoTokenizer

                self._tok = AutoTokenizer.from_pretrained(self.tokenizer)
            except Exception as e:  # noqa: BLE001 - any load failure is a config problem
                raise ConfigError(
                    f"option 'tokenizer': cannot load {self.tokenizer!r} ({type(e).__name__}: "
                    f"{' '.join(str(e).split())[:160]})"
                ) from None

    def measure(self, text: str) -> int:
        """The length of ``text`` in this reward's unit."""
        if self.unit == "chars":
            return len(text)
        if self.unit == "words":
            return len(text.split())
        if self._tok is not None:
            return len(self._tok(text, add_special_tokens=False)["input_ids"])
        return len(_TOKEN_RE.findall(text))

    def value(self, length: int) -> float:
        """The reward for a completion of ``length`` units."""
        hi, lo, buf = self.max_tokens, self.min_tokens, self.buffer
        if self.mode == "shorter":
            return 1.0 - min(length / hi, 1.0)
        if self.mode == "band":
            if lo <= length <= hi:
                return 1.0
            gap = lo - length if length < lo else length - hi
            return max(0.0, 1.0 - gap / buf) if buf else 0.0
        # overlong (DAPO, eq. 13)
        if length <= hi - buf:
            return 0.0
        if length <= hi:
            return (hi - buf - length) / buf
        return -1.0

    def score(self, prompts: list[Any], completions: list[Any], completion_ids: list[list[int]] | None = None,
              **columns: Any) -> list[float | None]:
        if completion_ids is not None and self.unit == "tokens" and self.tokenizer is None:
            # The trainer's own token ids: the exact length the policy produced.
            return [self.value(len(ids)) for ids in completion_ids]
        return [self.value(self.measure(text_of(c))) for c in completions]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_tok"] = None  # reloaded on unpickle: tokenizers need not pickle
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.tokenizer is not None:
            self.setup()


@rewardkit.hookimpl
def register_rewards(register):
    register(Length)
