"""String clean-up of an answer before parsing: LaTeX spacing, units, money, degrees, text.

Everything here is plain string work (regular expressions with no nested quantifiers, so it is
linear in the input), safe to run in the caller's process on untrusted text.
"""

from __future__ import annotations

import re

# Commands that only size or space things.
_SIZING = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)(?![a-zA-Z])")
_SPACES = re.compile(r"\\(?:[,;:! ]|quad|qquad|displaystyle|textstyle|limits|nolimits)(?![a-zA-Z])|~")
_DEGREES = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree(?:s)?(?![a-zA-Z])|\^\s*\{\s*\\text\{\s*o\s*\}\s*\}")
_TEXT_CMD = re.compile(r"\\(?:text|textbf|textit|textrm|mbox|mathrm|mathbf|mathit|textnormal|operatorname)\s*\{([^{}]*)\}")
_UNICODE = str.maketrans({"−": "-", "–": "-", "×": "*", "·": "*", "÷": "/", "π": "\\pi ", "∞": "\\infty ",
                          "√": "\\sqrt ", "≤": "<=", "≥": ">=", "≠": "!=", "∪": "\\cup ", "\u00a0": " ",
                          "≈": "\\approx ", "€": " ", "£": " ", "¥": " ", "\u2009": " ", "\u202f": " "})
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_SPACED_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?: \d{3})+(?:\.\d+)?$")
# Plain-text spellings of LaTeX: sqrt(3), 3pi, infinity, ln(2); whole words only.
_PLAIN_NAMES = re.compile(r"(?<![A-Za-z\\])(sqrt|pi|infinity|infty|inf|arcsin|arccos|arctan|sin|cos|tan|cot|sec|csc|ln|log|exp)"
                          r"(?![A-Za-z])")
_PLAIN_UNION = re.compile(r"(?<=[)\]])\s*U\s*(?=[(\[])")
_EULER = re.compile(r"(?<![\d.])\\(?:mathrm|text|textrm|mathit|operatorname|rm)\s*\{\s*([ei])\s*\}")
_TEMPERATURE = re.compile(r"(?:\^\s*\{?\s*\\circ\s*\}?|°)\s*(?:\\text\s*\{\s*)?[CF](?:\s*\})?(?![A-Za-z])")
_REALS = re.compile(r"\\mathbb\s*\{\s*R\s*\}|^\\?(?:text\s*\{)?\s*all\s+real\s+numbers\s*\}?$|ℝ", re.IGNORECASE)
_PLAIN_MIXED = re.compile(r"(?<![\d.,/])(\d+)\s+(\d+)/(\d+)(?![\d/.])")
_PERCENT_WORD = re.compile(r"(\d)\s*(?:percent|per\s+cent|pct)\b\.?", re.IGNORECASE)
# One word naming a unit or an object counted, at the end ("18 dollars", "5 cm^2"). The
# look-behind anchors a match to the start of a word, so a search is linear (no backtracking
# over the ways to split a long run of letters into words).
_TRAILING_WORD = re.compile(r"(?<![A-Za-z\\])[a-zA-Z]{2,}\.?(?:\^\{?\d\}?)?\s*$")
_CONNECTIVES = {"and": ",", "or": " \\or ", "": " "}
_HEDGE = re.compile(r"(?<![a-zA-Z])or(?![a-zA-Z])|\\or(?![a-zA-Z])", re.IGNORECASE)
_CHOICE = re.compile(r"^\(?\s*([A-Ea-e])\s*\)?$")
_WORDS = re.compile(r"^[A-Za-z][A-Za-z' \-]*$")


def is_hedged(answer: str) -> bool:
    """True for an answer that offers alternatives: ``3 or 4``, ``x=1 \\text{ or } x=2``."""
    return bool(_HEDGE.search(_TEXT_CMD.sub(lambda m: " " + m.group(1) + " ", answer)))


def strip_outer(answer: str) -> str:
    """Drop math delimiters, sizing, spacing and a trailing full stop."""
    s = answer.translate(_UNICODE).strip()
    for a, b in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if s.startswith(a) and s.endswith(b) and len(s) >= len(a) + len(b):
            s = s[len(a):len(s) - len(b)].strip()
    s = s.replace("\\$", "").replace("$", "")
    s = _SIZING.sub("", s)
    s = s.replace("\\\\", "\x00")  # protect matrix row breaks from the spacing rule
    s = _SPACES.sub(" ", s).replace("\x00", "\\\\")
    s = re.sub(r"\\[dtc]frac(?![a-zA-Z])", r"\\frac", s)
    s = _EULER.sub(r"\1", s)  # \mathrm{e}, \text{e}: Euler's number (\mathrm{i}: the unit)
    s = s.rstrip(" .")
    return s.strip()


def text_answer(s: str) -> tuple[str, str] | None:
    """('choice', 'B') or ('text', 'even') when the cleaned answer is words, else None."""
    m = re.fullmatch(r"\\(?:text|textbf|mathrm|mbox|textrm|mathbf)\s*\{([^{}]*)\}", s)
    inner = m.group(1).strip() if m else s
    c = _CHOICE.match(inner)
    if c and (m or inner.startswith("(") or inner.isupper()):
        return ("choice", c.group(1).upper())
    if _WORDS.match(inner) and (m or re.search(r"[A-Za-z]{2,}", inner)):
        words = re.sub(r"[^a-z0-9 ]", " ", inner.lower()).split()
        words = [w for w in words if w not in ("the", "a", "an")]
        return ("text", " ".join(words))
    return None


def _strip_trailing_words(s: str) -> str:
    """Drop unit words after a number: ``18 dollars`` -> ``18``; ``5 cm^2`` -> ``5``."""
    out = s
    while True:
        m = _TRAILING_WORD.search(out)
        if m is None or m.start() == 0:
            break
        before = out[:m.start()]
        if before[-1] not in "0123456789} \t\n":
            break
        out = before.rstrip()
    return out if out and out[-1] not in "\\^_" else s


def clean(answer: str) -> str:
    """A canonical spelling of a math answer for string comparison and for the parser.

    Removes delimiters, sizing and spacing commands, degrees, money signs, thousands separators,
    ``\\text{}`` units and unit words after a number; keeps percent signs (as ``\\%``) for the
    comparison to decide.
    """
    s = strip_outer(answer)
    s = _exact_part(s)
    s = _REALS.sub(lambda _: "(-\\infty, \\infty)", s)
    s = _REPEATING.sub(_repeating, s)
    s = _PLAIN_MIXED.sub(r"\1\\frac{\2}{\3}", s)  # 1 4/5 is one and four fifths
    s = _PERCENT_WORD.sub(r"\1\\%", s)
    s = _TEMPERATURE.sub("", s)
    s = _DEGREES.sub("", s)
    s = s.replace("\\$", "").replace("\\euro", "")
    s = re.sub(r"(\d)\{,\}(\d)", r"\1\2", s)
    s = re.sub(r"\\%|%", r"\\% ", s).strip()

    def _text(m: re.Match) -> str:
        inner = m.group(1).strip()
        if inner.lower() in _CONNECTIVES:
            return _CONNECTIVES[inner.lower()]
        if len(inner) == 1 and inner.isalpha() and not re.search(r"[\d}]\s*$", m.string[:m.start()]):
            return inner  # \{\text{a}, \text{b}\}: a name, not a unit (5\text{m} stays a unit)
        if re.fullmatch(r"[A-Za-z .]*(?:/[A-Za-z .]*(?:\^\d)?)?", inner):  # a unit: cm, inches, m/s
            return "\x01"
        return inner

    whole = re.fullmatch(r"\\(?:text|textbf|mathrm|mbox|textrm|mathbf)\s*\{([^{}]*)\}", s)
    if whole and re.search(r"\d", whole.group(1)):
        s = whole.group(1).strip()  # \text{256}: a number in text mode
    elif not whole:
        s = _TEXT_CMD.sub(_text, s)
        # A removed unit takes its power with it: 20\text{ cm}^2 -> 20.
        s = re.sub(r"\x01\s*(?:\^\s*(?:\{\s*\d\s*\}|\d))?", " ", s)
    s = re.sub(r"\^\s*\{?\s*\}?$", "", s.strip())  # a dangling ^ left by a removed unit
    s = _PLAIN_NAMES.sub(lambda m: "\\" + {"infinity": "infty", "inf": "infty"}.get(m.group(1), m.group(1)) + " ", s)
    if re.search(r"\d", s):
        s = _strip_trailing_words(s)
    s = re.sub(r"\s+", " ", s).strip().rstrip(".").strip()
    if _THOUSANDS.match(s.replace(" ", "")) or _SPACED_THOUSANDS.match(s):
        s = s.replace(",", "").replace(" ", "")
    s = _PLAIN_UNION.sub(lambda _: " \\cup ", s)
    return re.sub(r"\s+", " ", s).strip()


_REPEATING = re.compile(r"(?<![\d.])(\d*)\.(\d*)\\(?:overline|bar|dot)\s*\{(\d{1,12})\}")


def _repeating(m: re.Match) -> str:
    """``0.\\overline{3}`` -> ``\\frac{1}{3}``; ``1.1\\overline{6}`` -> ``\\frac{7}{6}``."""
    whole, fixed, rep = m.group(1) or "0", m.group(2)[:12], m.group(3)
    den = 10 ** len(fixed) * (10 ** len(rep) - 1)
    num = int(whole) * den + int(fixed + rep) - int(fixed or "0")
    return f"\\frac{{{num}}}{{{den}}}"


def _exact_part(s: str) -> str:
    """``\\frac{\\sqrt3}{3} \\approx 0.577`` -> the exact part; ``x \\approx 0.577`` -> ``0.577``."""
    if "\\approx" not in s:
        return s
    parts = s.split("\\approx")
    left = parts[0].strip()
    if re.fullmatch(r"[A-Za-z](?:_\{?\w+\}?)?|", left):
        return parts[-1].strip()
    return left


def compact(s: str) -> str:
    """``clean`` with all white space removed: the key for the exact-string fast path."""
    return re.sub(r"\s+", "", s)
