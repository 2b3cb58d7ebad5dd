"""How a (prompt, completion) pair becomes the one text a reward model reads.

Scoring and ``rm train`` both call :func:`render`, so a model is scored on exactly the format it
was trained on.

- Conversational input (the prompt or the completion is a chat message list) and a tokenizer with
  a chat template: the prompt messages followed by the completion messages, rendered by the
  template (a plain-string prompt becomes one ``user`` message, a plain-string completion one
  ``assistant`` message). The template carries its own special tokens.
- Otherwise: ``prompt + separator + completion`` (as TRL concatenates standard data), where a
  chat list without a template contributes its message contents joined by new lines. The
  tokenizer adds its special tokens (``[CLS] ... [SEP]`` for BERT-style models).
"""

from __future__ import annotations

from typing import Any

from rewardkit.text import TextOrChat, is_chat


def as_messages(x: TextOrChat | None, role: str) -> list[dict[str, Any]]:
    """A chat message list for ``x``: itself when it is one, else one ``role`` message (none for "")."""
    if x is None or (isinstance(x, str) and not x):
        return []
    if isinstance(x, str):
        return [{"role": role, "content": x}]
    return [dict(m) for m in x]


def _plain(x: TextOrChat | None) -> str:
    if x is None:
        return ""
    if isinstance(x, str):
        return x
    return "\n".join(str(m.get("content") or "") for m in x)


def render(prompt: TextOrChat | None, completion: TextOrChat, tokenizer: Any, separator: str = "") -> tuple[str, bool]:
    """The text to score and whether the tokenizer should add its special tokens to it."""
    if (is_chat(prompt) or is_chat(completion)) and getattr(tokenizer, "chat_template", None):
        messages = as_messages(prompt, "user") + as_messages(completion, "assistant")
        return tokenizer.apply_chat_template(messages, tokenize=False), False
    p = _plain(prompt)
    c = _plain(completion)
    return (p + separator + c) if p else c, True
