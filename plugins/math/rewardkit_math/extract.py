"""Finding the final answer in an untrusted completion (never in the prompt).

Every scan here is linear in the text it reads: the completion is first cut to its last
``max_chars`` characters (a final answer is at the end), brace matching stops after a fixed
window, only the last few ``\\boxed`` occurrences are read, and every pattern is a plain
alternation with no nested quantifiers.

Rules, in order:

- Reasoning blocks: with ``<think>...</think>`` (or ``<reasoning>``, ``<thought>``) only the
  text after the last closing tag counts; an opened block that never closes has no answer.
- The first method of ``order`` that finds an answer gives it, except that an answer committed
  after the last ``\\boxed{}`` ("Final answer: 13" after a retracted ``\\boxed{12}``) wins.
- An answer followed only by a retraction ("that's wrong", "I made a mistake") is no answer.
- A marker's answer is read from its line (or, for a heading such as ``# Answer``, the next
  non-empty line); a sentence there is reduced to its value (:func:`answer_phrase`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

METHODS = ("boxed", "answer_is", "final_answer", "hashes", "a_colon", "last_number")
_BOX_WINDOW = 4000  # longest boxed content read
_MAX_BOXES = 20

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*(\{)?")
# "Final answer", its translations, and a bare "Answer:" (also as **Answer:** or a heading).
_FINAL = re.compile(
    r"(?:final\s+answer|réponse\s+finale|endgültige\s+antwort|respuesta\s+final|最终答案|окончательный\s+ответ)"
    r"\s*(?:is)?\s*[:：=]?\s*"
    r"|(?m:^[ \t]*(?:[#*>-]+[ \t]*)?)(?:answer|réponse|antwort|respuesta|ответ)\s*\**\s*[:：]\s*"
    r"|答案\s*[:：]?\s*|故选\s*[:：]?\s*"
    r"|(?m:^[ \t]*(?:#{1,6}[ \t]*|\*\*)[ \t]*(?:final[ \t]+)?(?:answer|réponse|antwort|respuesta|ответ)"
    r"[ \t]*[:：]?[ \t]*\**[ \t]*$)",
    re.IGNORECASE)
_ANSWER_IS = re.compile(
    r"answer\s+(?:is|would\s+be|will\s+be)\s*[:=]?\s*"
    r"|(?:la\s+)?réponse\s+est\s*|(?:die\s+)?antwort\s+(?:ist|lautet)\s*|(?:la\s+)?respuesta\s+es\s*"
    r"|答案(?:是|为)\s*|ответ\s*(?:—|-|:)?\s*(?=[\d$\\(-])",
    re.IGNORECASE)
_HASHES = re.compile(r"####\s*")
_A_COLON = re.compile(r"(?m)^[ \t]*+A[ \t]*+:[ \t]*+")  # possessive: linear on runs of blank lines
_PLAIN_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?\.?")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+")
_THINK_CLOSE = re.compile(r"</(?:think|thinking|reasoning|thought)>|<\|end_of_thought\|>", re.IGNORECASE)
_THINK_OPEN = re.compile(r"<(?:think|thinking|reasoning|thought)>|<\|begin_of_thought\|>", re.IGNORECASE)
_RETRACT = re.compile(
    r"\b(?:that(?:'s| is| was)\s+(?:wrong|incorrect|not\s+(?:right|correct))|is\s+(?:wrong|incorrect)"
    r"|i\s+made\s+(?:a|an)\s+(?:mistake|error)|scratch\s+that|this\s+is\s+not\s+correct"
    r"|not\s+the\s+(?:right|correct)\s+answer|just\s+kidding|no,?\s+wait|actually,?\s+no)\b"
    # a second value offered after the answer: a hedge
    r"|\b(?:could|might|may)\s+(?:also\s+)?be\s+\$?-?\d|\bor\s+(?:maybe|perhaps)\s+\$?-?\d", re.IGNORECASE)
_CODE = re.compile(r"__|\bimport\b|\blambda\b|\bdef\b|\breturn\b|\bprint\s*\(|\w\(\)|\bor\s+0\b|==|\bexcept\b")
_COPULA = re.compile(r"(?:\s|^)(?:is|are|was|were|equals|equal\s+to|be|est|ist|es|равно|равен|是|为)\s+|\s*[=≈]\s*|:\s+",
                     re.IGNORECASE)
_HEDGE_NEAR = re.compile(r"\d\s*(?:,\s*)?or\s+(?:maybe\s+)?-?\d|\bor\s+(?:maybe\s+)?-?\d|\b(?:maybe|perhaps|possibly)\b",
                         re.IGNORECASE)
_REMARK = re.compile(r"\s*[(\[](?:since|because|as|from|by|which|i\.e\.|e\.g\.|note|using|check)\b[^()\[\]]*[)\]]\s*\.?$",
                     re.IGNORECASE)
_WORD_REMARK = re.compile(r"(?<=[\d}$])\s*\([A-Za-z][A-Za-z ,'-]{1,40}\)\s*\.?$")
_CLOSING_SPAN = re.compile(r"(?:\$((?:\\\$|[^$])+)\$|\\\((.+?)\\\))\s*\.?\s*$")
_CLOSING_COPULA = re.compile(r"(?:\s|^)(?:is|are|equals|be)\s+(?=[$\\(\[\d-])", re.IGNORECASE)
_MONEY_NUM = re.compile(r"(?:[$€£¥]\s*(-?\d[\d,]*(?:\.\d+)?))|(?:(-?\d[\d,]*(?:\.\d+)?)\s*(?:\\?\$|€|£|¥|dollars?\b|euros?\b))")
_SPAN = re.compile(r"\$\$((?:\\\$|[^$])+)\$\$|\$((?:\\\$|[^$])+)\$|\\\(([\s\S]+?)\\\)|\\\[([\s\S]+?)\\\]")
_CHOICE_LEAD = re.compile(r"^\s*\(?\s*([A-J])\s*\)?(?=$|[.:)]|\s*[,;]?\s*(?:or|and|/|,)\s*\(?[A-J]\)?\b)")
_CHOICE_HEDGE = re.compile(r"^\s*[,;]?\s*(?:or|and|/|,)\s*\(?([A-J])\)?(?![A-Za-z])")
_UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")
_TENS = ("thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_WORD_NUMBERS = {w: str(i) for i, w in enumerate(_UNITS)} | {w: str(10 * (i + 3)) for i, w in enumerate(_TENS)}
_WORD_NUMBER = re.compile(
    r"(?<![A-Za-z])(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](one|two|three|four|five|six|seven|eight|nine))?"
    r"(?![A-Za-z])|(?<![A-Za-z])(" + "|".join(_WORD_NUMBERS) + r"|hundred)(?![A-Za-z])", re.IGNORECASE)


@dataclass
class Extracted:
    """The final answer found, the method that found it, and the boxed answers of the completion.

    ``others`` holds the other boxed answers (so the verifier can refuse a completion that boxes
    two different values); ``boxes`` all distinct boxed answers in order (one box per part).
    """

    answer: str | None
    method: str | None = None
    others: list[str] = field(default_factory=list)
    boxes: list[str] = field(default_factory=list)


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


def _boxes(text: str) -> list[tuple[str, int]]:
    """(content, end position) of the ``\\boxed{}`` / ``\\fbox{}`` groups (at most the last 20)."""
    starts = list(_BOXED.finditer(text))[-_MAX_BOXES:]
    out = []
    for m in starts:
        if m.group(1):
            inner = _braced(text, m.end())
            # An unclosed (truncated) or over-long box is an answer that cannot be read: "".
            out.append((inner, m.end() + len(inner) + 1) if inner is not None else ("", len(text)))
        else:  # \boxed 5
            tok = re.match(r"[^\s$.,]+", text[m.end():m.end() + 100])
            if tok:
                out.append((tok.group(), m.end() + tok.end()))
    return out


def boxed_all(text: str) -> list[str]:
    """Contents of the ``\\boxed{}`` / ``\\fbox{}`` groups, in order (at most the last 20)."""
    return [b for b, _ in _boxes(text)]


def words_to_digits(s: str) -> str:
    """"ten marbles" -> "10 marbles"; "twenty-five" -> "25" (prose only, never inside math)."""
    def one(m: re.Match) -> str:
        if m.group(1):
            tens = int(_WORD_NUMBERS.get(m.group(1).lower(), 0))
            return str(tens + int(_WORD_NUMBERS[m.group(2).lower()]) if m.group(2) else tens)
        w = m.group(3).lower()
        return "100" if w == "hundred" else _WORD_NUMBERS[w]

    return _WORD_NUMBER.sub(one, s)


def _mathlike(s: str) -> bool:
    """Whether a phrase is a value rather than prose: no run of two or more words."""
    bare = re.sub(r"\\(?:begin|end)\{\w+\*?\}|\\[a-zA-Z]+|\$[^$]*\$", " ", s)
    words = re.findall(r"[A-Za-z]{2,}", bare)
    plain = {"sqrt", "pi", "inf", "infinity", "and", "or", "sin", "cos", "tan", "ln", "log", "exp", "cm", "m",
             "km", "kg", "dollars", "units", "degrees", "percent", "pct"}
    return len([w for w in words if w.lower() not in plain]) <= 1


def answer_phrase(s: str) -> str:
    """The value of an answer line: ``The largest $n$ is 34.`` -> ``34``; ``**B**`` -> ``B``.

    A multiple-choice letter is the committed one (``D. it can't be A or B`` -> ``D``); a line
    that names two letters as alternatives stays hedged (``A or B``), so it gets no credit.
    """
    s = s.strip().replace("**", "").strip()
    s = re.sub(r"^(?:[:：]|[-–—](?=\s))\s*", "", s).strip()
    s = _REMARK.sub("", s)  # "3 (since 1 + 2 = 3)": the remark is not the answer
    s = _WORD_REMARK.sub("", s)  # "5 (five)", "12 (dozen eggs)"
    c = _CHOICE_LEAD.match(s)
    if c:
        rest = s[c.end():].lstrip(").: ")
        h = _CHOICE_HEDGE.match(s[c.end():].lstrip(")"))
        if h and h.group(1) != c.group(1):
            return f"{c.group(1)} or {h.group(1)}"
        if not rest or not re.match(r"\s*[=<>+\-*/^]", rest):
            return c.group(1)
    spans = list(_SPAN.finditer(s))
    if len(spans) == 1 and spans[0].start() == 0 and spans[0].end() >= len(s.rstrip(" .")):
        return next(g for g in spans[0].groups() if g is not None)
    if _mathlike(s):
        return s.rstrip(" .")
    prose = words_to_digits(s)
    # After the last copula ("... is 34", "... = 5") whose right side holds a value.
    # Copulas inside a math span ("$a = 5$") are not the sentence's.
    masked = _SPAN.sub(lambda m: "\x00" * len(m.group()), prose)
    for m in reversed(list(_COPULA.finditer(masked))):
        right = prose[m.end():].strip()
        if re.search(r"[\d\\$(]", right):
            sub = answer_phrase_value(right)
            if sub:
                return sub
    if spans:
        last = spans[-1]
        return next(g for g in last.groups() if g is not None)
    money = _MONEY_NUM.search(prose)
    if money:  # "will pay 220 $ in 12 months": the amount
        return money.group(1) or money.group(2)
    nums = _NUMBER.findall(prose)
    return nums[0].rstrip(",") if nums else s.rstrip(" .")


def answer_phrase_value(right: str) -> str | None:
    """The value at the start of the right side of a copula: ``(2,5).`` ``$34$ dollars`` ``34 apples``."""
    right = right.strip()
    span = _SPAN.match(right)
    if span:
        return next(g for g in span.groups() if g is not None)
    # A value runs to a sentence end, a comma followed by a word, or a run of words.
    cut = re.split(r"\.\s|\.$|,\s+(?=[A-Za-z]{2})|;\s|\s+(?:which|because|since|so|and\s+(?=[A-Za-z]{3}))\b", right,
                   maxsplit=1)[0]
    cut = cut.strip().rstrip(".")
    if not cut:
        return None
    unit = re.fullmatch(r"(-?\d[\d,]*(?:\.\d+)?)\s+[A-Za-z]+\.?", cut)
    if unit:  # "1,250 dollars": the number
        return unit.group(1)
    if _mathlike(cut):
        return cut
    nums = _NUMBER.findall(cut)
    return nums[0].rstrip(",") if nums else None


def _line_after(text: str, m: re.Match) -> tuple[str, int]:
    """(answer, end position) after a marker: the rest of its line or, if empty, the next line."""
    start = m.end()
    rest = text[start:start + 500].split("\n", 1)[0]
    if not rest.strip(" \t*:#"):
        tail = text[start:start + 600]
        nxt = re.match(r"[ \t*:#]*\n(?:[ \t]*\n){0,3}([^\n]+)", tail)
        if not nxt:
            return "", start
        rest = nxt.group(1)
        start += nxt.start(1)
    end = start + len(rest)
    rest = rest.strip()
    if _PLAIN_NUMBER.fullmatch(rest):
        return rest.rstrip("."), end  # the common case, "A: 18"
    if _CODE.search(rest):
        return "", end  # code is never read as an answer
    dollar = re.match(r"\$+((?:\\\$|[^$])+)\$+\s*\.?\s*$", rest)
    if dollar:
        return dollar.group(1), end
    return answer_phrase(rest).strip().rstrip("."), end


# A marker pattern can only match where one of these words is; most completions have none, and a
# substring test is far cheaper than the alternation.
_MARKER_WORDS = ("answer", "réponse", "antwort", "respuesta", "ответ", "答案", "故选")


class _Markers:
    """The last match of each marker pattern in one text, each searched at most once."""

    def __init__(self, text: str):
        self.text = text
        lower = text.lower()
        self.any = any(w in lower for w in _MARKER_WORDS)
        self.seen: dict[int, re.Match | None] = {}

    def last(self, pattern: re.Pattern) -> re.Match | None:
        if pattern in (_FINAL, _ANSWER_IS) and not self.any:
            return None
        key = id(pattern)
        if key not in self.seen:
            self.seen[key] = _last(pattern, self.text)
        return self.seen[key]


def _last(pattern: re.Pattern, text: str) -> re.Match | None:
    m = None
    for m in pattern.finditer(text):
        pass
    return m


def _without_code(text: str) -> str:
    """The text with its fenced code blocks blanked: code is never read as an answer."""
    if text.count("```") < 2:
        return text
    out, pos = [], 0
    while True:
        start = text.find("```", pos)
        end = text.find("```", start + 3) if start >= 0 else -1
        if start < 0 or end < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:start] + "\n")
        pos = end + 3


def reasoning_tail(completion: str) -> str:
    """The text after the reasoning block; "" while a block is still open."""
    close = _last(_THINK_CLOSE, completion)
    if close:
        return completion[close.end():]
    if _THINK_OPEN.search(completion):
        return ""  # the reasoning never ended: no final answer was given
    return completion


def _last_line_answer(text: str) -> tuple[str, int] | None:
    """The value of a closing sentence ``The intersection point is (2,5).``, or None."""
    lines = [ln for ln in text.rstrip().rsplit("\n", 3) if ln.strip()]
    if not lines:
        return None
    last = lines[-1].strip()
    if len(last) > 300 or _CODE.search(last):
        return None
    span = _CLOSING_SPAN.search(last)
    if span and "=" in (span.group(1) or span.group(2)):
        # "Thus $\\sin 60^\\circ = \\frac{\\sqrt{3}}{2}$.": the last side of the closing equation.
        value = re.split(r"(?<![<>!])=", span.group(1) or span.group(2))[-1].strip()
        if value and not _CODE.search(value):
            return value, len(text)
    m = _last(_CLOSING_COPULA, last)
    if not m:
        return None
    right = last[m.end():]
    value = answer_phrase_value(right)
    after = right[right.find(value) + len(value):] if value else ""
    restated = re.match(r"\$?\s*or\s+([^\s]{1,40}?)\s*\.?\s*$", after)
    if value and restated:
        return f"{value} or {restated.group(1)}", len(text)  # one value said twice, or a hedge
    # The value closes the line: "... is 25, plus 10 gives 35" is working, not an answer.
    if value and re.search(r"[\d\\]", value) and not re.search(r"\d", after):
        return value, len(text)
    return None


def extract(completion: str, order: tuple[str, ...] = METHODS, max_chars: int = 20_000) -> Extracted:
    """The final answer of ``completion`` by the first method in ``order`` that finds one.

    An empty ``\\boxed{}`` is an answer of ``""`` (no credit). ``others`` holds the other boxed
    answers so the verifier can refuse a completion that boxes two different values.
    """
    text = _without_code(reasoning_tail(completion[-max_chars:] if len(completion) > max_chars else completion))
    boxes = _boxes(text)
    marks = _Markers(text)
    found: Extracted | None = None
    end = len(text)
    for method in order:
        if method == "boxed":
            if boxes:
                last, end = boxes[-1][0].strip(), boxes[-1][1]
                contents = [b.strip() for b, _ in boxes]
                others = sorted(set(contents[:-1]) - {last, ""})
                distinct = list(dict.fromkeys(b for b in contents if b))
                found = Extracted(last, method, others, distinct)
                break
            continue
        pattern = {"answer_is": _ANSWER_IS, "final_answer": _FINAL, "hashes": _HASHES,
                   "a_colon": _A_COLON}.get(method)
        if pattern is not None:
            m = marks.last(pattern)
            sibling = {"answer_is": "final_answer", "final_answer": "answer_is"}.get(method)
            if sibling in order:  # of "the answer is" and "Final answer:", the later one wins
                other = marks.last(_FINAL if method == "answer_is" else _ANSWER_IS)
                if other and (m is None or other.start() > m.start()) and _line_after(text, other)[0]:
                    m, method = other, sibling
            if m:
                ans, end = _line_after(text, m)
                if ans:
                    found = Extracted(ans, method)
                    break
            continue
        if method == "last_number":
            line = _last_line_answer(text)
            if line:
                found = Extracted(line[0], method)
                end = line[1]
                break
            m = _last(_NUMBER, text)
            if m:
                line_start = text.rfind("\n", 0, m.start()) + 1
                line_end = text.find("\n", m.end())
                if _CODE.search(text[line_start:line_end if line_end >= 0 else len(text)]):
                    break  # code is never read as a number
                if _HEDGE_NEAR.search(text[max(0, m.start() - 30):m.end() + 30]):
                    break  # "maybe 5 or 6": alternatives, not an answer
                tail_line = text[line_start:]
                if len(_NUMBER.findall(tail_line)) >= 5 and len(re.sub(r"[\d\s,.;-]", "", tail_line)) < 10:
                    break  # a spray of numbers is not an answer
                found = Extracted(m.group().rstrip(","), method)
                end = m.end()
                break
    if found is None:
        return Extracted(None)
    if found.method == "boxed":
        # A committed answer after the last box replaces it (a retracted \boxed{12}, then 13).
        for method in ("final_answer", "answer_is"):
            if method not in order:
                continue
            m = marks.last(_FINAL if method == "final_answer" else _ANSWER_IS)
            if m and m.start() >= end:
                ans, later_end = _line_after(text, m)
                if ans and re.search(r"[\dA-Z\\]", ans):
                    found = Extracted(ans, method)
                    end = later_end
                    break
    if _RETRACT.search(text[end:end + 2000]):
        return Extracted(None)  # the answer was taken back and none replaced it
    return found


def gold_text(gold: str) -> str:
    """The answer inside a reference: after GSM8K's ``####``, the last boxed, a marked answer, or all.

    A reference that is a whole worked solution (the MATH dataset's) is read like a completion.
    """
    if "####" in gold:
        return gold.rsplit("####", 1)[1].strip()
    if "\\boxed" in gold or "\\fbox" in gold:
        boxes = boxed_all(gold)
        if boxes:
            return boxes[-1]
    if len(gold) > 12 and re.search(r"[A-Za-z]{3}", gold):
        ex = extract(gold, ("answer_is", "final_answer"), 20_000)
        if ex.answer:
            return ex.answer
    return gold.strip()
