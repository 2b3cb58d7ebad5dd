"""Turning the two shapes of TRL inputs (plain strings, chat message lists) into text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Message = dict[str, Any]
TextOrChat = str | Sequence[Message]


def _content_text(content: Any) -> str:
    # OpenAI-style multimodal content is a list of parts; keep the text parts only.
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content)


def text_of(x: TextOrChat | None) -> str:
    """The text a reward should read from a prompt or completion.

    A plain string is returned as is. A chat message list (``[{"role": ..., "content": ...}]``,
    as TRL passes conversational data) gives the content of its last message: for a completion
    that is the assistant's answer, for a prompt the last user turn. ``None`` gives ``""``.
    """
    if x is None:
        return ""
    if isinstance(x, str):
        return x
    if isinstance(x, dict):  # a single message
        return _content_text(x.get("content"))
    if isinstance(x, (list, tuple)):
        if not x:
            return ""
        last = x[-1]
        if isinstance(last, dict):
            return _content_text(last.get("content"))
        return _content_text(list(x))
    raise TypeError(
        f"expected a string or a list of chat messages, got {type(x).__name__}: {x!r:.80}"
    )


def texts_of(xs: Sequence[TextOrChat | None]) -> list[str]:
    """:func:`text_of` over a batch."""
    return [text_of(x) for x in xs]


def is_chat(x: Any) -> bool:
    """True when ``x`` is a chat message list rather than a plain string."""
    return isinstance(x, (list, tuple)) and (not x or isinstance(x[0], dict))


def text_problem(x: Any, *, allow_empty: bool = True) -> str | None:
    """Why ``x`` is not a prompt/completion (a string or a list of chat messages), or None if it is.

    A chat message is a mapping with a string ``role`` and a ``content`` that is a string, a list
    of content parts, or null. ``allow_empty=False`` also refuses ``""``, whitespace and ``[]``.
    """
    if isinstance(x, str):
        return None if allow_empty or x.strip() else "is empty"
    if isinstance(x, list):
        if not x:
            return None if allow_empty else "is an empty chat"
        for i, m in enumerate(x):
            if not isinstance(m, dict):
                return f"message {i + 1} is {type(m).__name__}, expected {{\"role\": ..., \"content\": ...}}"
            if not isinstance(m.get("role"), str):
                return f"message {i + 1} has no string 'role'"
            if not isinstance(m.get("content"), (str, list, type(None))):
                return f"message {i + 1} has a 'content' of type {type(m.get('content')).__name__}"
        return None
    shown = "null" if x is None else f"{type(x).__name__} {x!r:.40}"
    return f"is {shown}, expected a string or a list of chat messages"
