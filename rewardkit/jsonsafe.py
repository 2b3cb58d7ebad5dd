"""Checking a parsed JSON value before anything works on it: nesting depth and lone surrogates.

``json.loads`` accepts ``[[[[...]]]]`` as deep as the C stack allows (100k levels raise
RecursionError, a few thousand pass and break whatever recurses over them next) and ``"\\ud800"``
(a lone surrogate: a str that cannot be encoded as UTF-8, so writing it back out fails). Both
come from a client or a data file, never from rewardkit; :func:`problem` finds them without
recursion, in one pass over the value.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 64  # a chat row is 4 deep; columns with nested metadata stay far below this


def problem(value: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """A one-line reason when ``value`` nests deeper than ``max_depth`` or holds a lone surrogate
    (in a string or a key), naming where; None when it is fine."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        v, depth, where = stack.pop()
        if isinstance(v, str):
            if _has_surrogate(v):
                return f"{where or 'value'}: text holds a lone UTF-16 surrogate (not valid Unicode)"
        elif isinstance(v, (list, dict)):
            if depth > max_depth:
                return f"{where or 'value'}: nested deeper than {max_depth} levels"
            if isinstance(v, dict):
                for k, item in v.items():
                    if isinstance(k, str) and _has_surrogate(k):
                        return f"{where or 'value'}: a key holds a lone UTF-16 surrogate (not valid Unicode)"
                    stack.append((item, depth + 1, f"{where}.{k}" if where else str(k)))
            else:
                stack.extend((item, depth + 1, f"{where}[{i}]") for i, item in enumerate(v))
    return None


def _has_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
