"""Cutting text to a character budget before it is tokenized, so one huge row cannot exhaust memory.

Hugging Face tokenizers tokenize a whole string before ``truncation`` drops what is over
``max_length``: a 100 MB prompt took 23 GB of RSS in ``rewardkit train`` to keep 512 tokens.
Every place that tokenizes untrusted text with a token limit (the trainer's prompts, the
``toxicity``, ``factuality`` and ``reward_model`` rewards, ``rm train``) first cuts the text to
``max_tokens * chars_per_token(tokenizer)`` characters on the side that truncation would keep,
then tokenizes and truncates by tokens as before. Memory is then bounded by the configured
lengths, whatever the input.

``chars_per_token`` is an upper bound on how many characters one token can cover: twice the
longest entry of the tokenizer's vocabulary (a byte-level BPE token of n characters covers at most
n characters of text; WordPiece's ``##`` and SentencePiece's ``▁`` only make entries longer),
clamped to [8, 1024], so the cut text still holds at least twice ``max_tokens`` tokens and the
tokens kept are those of the uncut text for ordinary input. Pathological input (a normaliser that
deletes characters in bulk, one "word" of millions of characters) may tokenize differently near
the cut, or keep fewer tokens; never more, and never more memory.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, Literal

_FLOOR, _CEILING = 8, 1024
_cache: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def chars_per_token(tokenizer: Any) -> int:
    """An upper bound on the characters one token of ``tokenizer`` covers (cached per tokenizer)."""
    try:
        return _cache[tokenizer]
    except (KeyError, TypeError):
        pass
    try:
        longest = max((len(t) for t in tokenizer.get_vocab()), default=0)
    except (AttributeError, NotImplementedError, TypeError):
        longest = _CEILING  # unknown vocabulary: the generous end
    bound = min(max(2 * longest, _FLOOR), _CEILING)
    try:
        _cache[tokenizer] = bound
    except TypeError:  # not weak-referenceable: recompute next time
        pass
    return bound


def cap_text(text: str, max_chars: int, keep: Literal["start", "end"] = "start") -> str:
    """``text`` cut to ``max_chars`` characters, keeping its start or its end."""
    if len(text) <= max_chars:
        return text
    return text[:max_chars] if keep == "start" else text[len(text) - max_chars:]


def cap_for_tokens(texts: Sequence[str], tokenizer: Any, max_tokens: int | None,
                   keep: Literal["start", "end"] = "start") -> list[str]:
    """Each text cut to what ``max_tokens`` tokens of ``tokenizer`` can cover; None or an absurd
    limit (a tokenizer's "no limit" sentinel, 1e30) leaves the texts as they are."""
    if not max_tokens or max_tokens > 10**7:
        return list(texts)
    budget = max_tokens * chars_per_token(tokenizer)
    return [cap_text(t, budget, keep) if isinstance(t, str) else t for t in texts]


def keep_side(tokenizer: Any) -> Literal["start", "end"]:
    """The side a tokenizer's truncation keeps: ``truncation_side`` "left" drops the start."""
    return "end" if getattr(tokenizer, "truncation_side", "right") == "left" else "start"
