"""Finding the final answer in an untrusted completion (never in the prompt).

Every scan here is linear in the text it reads: the completion is first cut to its last
``max_chars`` characters (a final answer is at the end), brace matching stops after a fixed
window, and only the last few ``\\boxed`` occurrences are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

METHODS = ("boxed", "answer_is", "final_answer", "hashes", "a_colon", "last_number")
_BOX_WINDOW = 4000  # longest boxed content read
_MAX_BOXES = 20

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*(\{)?")
_FINAL = re.compile(r"final answer\s*(?:is)?\s*[:=]?\s*", re.IGNORECASE)
_ANSWER_IS = re.compile(r"answer is\s*[:=]?\s*", re.IGNORECASE)
_HASHES = re.compile(r"####\s*")
_A_COLON = re.compile(r"(?m)^\s*A\s*:\s*")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+")


@dataclass
class Extracted:
    """The final answer found, the method that found it, and any other boxed answers."""

    answer: str | None
    method: str | None = None
    others: list[str] = field(default_factory=list)


def _braced(text: str, start: int) -> str | None:
    """Content of the brace group whose ``{`` is at ``start - 1``; None if unbalanced."""
    depth = 1
    end = min(len(text), start + _BOX_WINDOW)
    for j in range(start, end):
        c = text[j]
        if c == "\\":
            continue
        if c == "{" and text[j - 1] != "\\":
            depth += 1
        elif c == "}" and text[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[start:j]
    return None


def boxed_all(text: str) -> list[str]:
    """Contents of the ``\\boxed{}`` / ``\\fbox{}`` groups, in order (at most the last 20)."""
    starts = list(_BOXED.finditer(text))[-_MAX_BOXES:]
    out = []
    for m in starts:
        if m.group(1):
            inner = _braced(text, m.end())
            # An unclosed (truncated) or over-long box is an answer that cannot be read: "".
            out.append(inner if inner is not None else "")
        else:  # \boxed 5
            tok = re.match(r"[^\s$.,]+", text[m.end():m.end() + 100])
            if tok:
                out.append(tok.group())
    return out


def _line_after(text: str, m: re.Match) -> str:
    rest = text[m.end():m.end() + 500].split("\n", 1)[0]
    rest = rest.strip()
    dollar = re.match(r"\$+([^$]+)\$+", rest)
    if dollar:
        return dollar.group(1)
    rest = re.split(r"\.\s|\.$", rest, maxsplit=1)[0]
    return rest.strip().rstrip(".")


def _last(pattern: re.Pattern, text: str) -> re.Match | None:
    m = None
    for m in pattern.finditer(text):
        pass
    return m


def extract(completion: str, order: tuple[str, ...] = METHODS, max_chars: int = 20_000) -> Extracted:
    """The final answer of ``completion`` by the first method in ``order`` that finds one.

    An empty ``\\boxed{}`` is an answer of ``""`` (no credit). ``others`` holds the other boxed
    answers so the verifier can refuse a completion that boxes two different values.
    """
    text = completion[-max_chars:]
    for method in order:
        if method == "boxed":
            boxes = boxed_all(text)
            if boxes:
                last = boxes[-1].strip()
                others = sorted({b.strip() for b in boxes[:-1]} - {last, ""})
                return Extracted(last, method, others)
            continue
        pattern = {"answer_is": _ANSWER_IS, "final_answer": _FINAL, "hashes": _HASHES,
                   "a_colon": _A_COLON}.get(method)
        if pattern is not None:
            m = _last(pattern, text)
            if m:
                ans = _line_after(text, m)
                if ans:
                    return Extracted(ans, method)
            continue
        if method == "last_number":
            m = _last(_NUMBER, text)
            if m:
                return Extracted(m.group().rstrip(","), method)
    return Extracted(None)


def gold_text(gold: str) -> str:
    """The answer inside a reference: after GSM8K's ``####``, else the last boxed, else all."""
    if "####" in gold:
        return gold.rsplit("####", 1)[1].strip()
    if "\\boxed" in gold or "\\fbox" in gold:
        boxes = boxed_all(gold)
        if boxes:
            return boxes[-1]
    return gold.strip()
