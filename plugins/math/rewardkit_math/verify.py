"""One verdict: does an extracted answer match the reference (or solve the equation)?

:func:`quick` is the cheap path (string and exact-number equality, no sympy) the reward runs in
its own process; :func:`check` is the full path a worker process runs under a deadline.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache
from typing import Any

from .equiv import Settings, canonical, equal
from .extract import words_to_digits
from .normalize import clean, compact, is_hedged, strip_outer, text_answer
from .parse import MAX_CHARS, ParseError, Rel, Text, TooBig, Unordered, parse

_OR = re.compile(r"\\(?:text|mbox|textrm)\s*\{\s*or\s*\}|(?<![a-zA-Z\\])or(?![a-zA-Z])")
_SIMPLE = re.compile(r"^(-?)(?:(\d+(?:\.\d*)?|\.\d+)|\\frac\{(\d+)\}\{(\d+)\}|(\d+)/(\d+))(\\%)?$")


_AND = re.compile(r"\\(?:text|mbox|textrm)\s*\{\s*and\s*\}|(?<![a-zA-Z\\])and(?![a-zA-Z])")
_CODE = re.compile(r"__|\b(?:import|lambda|def|return|eval|exec|getattr)\b|[A-Za-z]\(\)|==|&&")
_MATH_SPAN = re.compile(r"\$\$([^$]+)\$\$|\$([^$]+)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_TASK = re.compile(r"(?:compute|evaluate|simplify|calculate|expand|factor|rationali[sz]e|find(?:\s+the\s+value\s+of)?|determine|work\s+out"
                   r"|what\s+is)\s*:?\s*(\$\$?[^$]{1,300}\$\$?)", re.IGNORECASE)
_PLAIN_TASK = re.compile(r"(?:compute|evaluate|simplify|calculate|what\s+is)\s+([-+*/^()\d. ]{3,200}?)\s*[?.]?\s*$",
                         re.IGNORECASE | re.MULTILINE)
# A prompt line that is the expression itself, then "=" ("12+7=", "3 * (4 - 1) = ?").
_EQUALS_TASK = re.compile(r"^\s*([-+*/^()\d. ]{3,200}?)\s*=\s*\??\s*$", re.MULTILINE)
_OPERATION = re.compile(r"[+*/^!]|(?<=.)-|\\(?:frac|sqrt|cdot|times|div|binom|sum|prod|int|log|ln|sin|cos|tan)")
_MAX_PROMPT = 20_000  # characters of a prompt searched for the expression it asks about


@lru_cache(maxsize=4096)
def is_multi(gold: str) -> bool:
    """Whether a reference has several parts: a list, a set, a tuple or point, ``x = 1 or x = 2``."""
    c = prepared(gold)[0]
    return "," in c or ";" in c or "\\pm" in c or "\\mp" in c or is_hedged(gold) or bool(_AND.search(gold))


@lru_cache(maxsize=4096)
def is_list(gold: str) -> bool:
    """Whether a reference is several answers (a list or set, ``\\pm``, "or"), not one tuple or interval."""
    c = prepared(gold)[0]
    if "\\pm" in c or "\\mp" in c or "\\cup" in c or is_hedged(gold) or _AND.search(gold) or c.startswith("\\{"):
        return True
    depth = 0
    for ch in c:  # a comma outside every bracket separates answers
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch in ",;" and depth <= 0:
            return True
    return False


def _as_list(answer: str) -> str:
    """``x = 1 or x = 2``, ``(5, 8) and (8, 5)``: the connectives of a list become commas."""
    return _AND.sub(",", _OR.sub(",", answer))


def _spans(text: str) -> list[str]:
    return [next(g for g in m.groups() if g is not None) for m in _MATH_SPAN.finditer(text)]


def echoes(pred: str, gold: str, prompt: str, completion: str) -> bool:
    """Whether ``pred`` only repeats, unevaluated, the expression the task asked to compute.

    The expression is any math span of the prompt, or one stated as the task in the completion
    ("We need to compute $...$"); a plain value (a number, a fraction in lowest terms, a name)
    is never an echo, nor is an answer written exactly as the reference.
    """
    pc = prepared(pred)[0]
    if not pc or pc == prepared(gold)[0]:
        return False
    if not _OPERATION.search(pc):
        return False  # a number or a name
    if simple_number(pc) is not None:  # a fraction: an echo only when not in lowest terms (\frac{6}{8})
        m = re.search(r"(\d+)\}?\{?/?(\d+)", pc)
        if m and int(m.group(2)) > 1 and math.gcd(int(m.group(1)), int(m.group(2))) == 1:
            return False
    head = prompt[:_MAX_PROMPT]
    sources = _spans(head) + [m.group(1) for m in _PLAIN_TASK.finditer(head)] + [
        m.group(1) for m in _EQUALS_TASK.finditer(head)] + [
        inner for m in _TASK.finditer(completion) for inner in _spans(m.group(1))]
    for span in sources:
        for side in {span, *span.split("=")}:
            if side.strip() and compact(clean(side)) == pc:
                return True
    return False


def _restated(answer: str) -> str:
    """``\\frac{1}{4} or 25\\%``: one value said twice is that value; real alternatives stay hedged."""
    parts = [p.strip() for p in _OR.split(answer)]
    nums = [prepared(p)[1] for p in parts]
    if len(parts) < 2 or any(n is None for n in nums):
        return answer
    first = nums[0]
    # Equal under a strict percent reading: 25% restates 1/4 only as the fraction 0.25.
    strict = Settings(percent="fraction")
    if all(_num_equal(first, n, strict) for n in nums[1:]):
        return parts[0]
    return answer


def _number_words(answer: str) -> str:
    """``three`` or ``\\text{twelve apples}`` -> the number; other text unchanged."""
    bare = re.fullmatch(r"\s*(?:\\text\s*\{)?\s*([A-Za-z][A-Za-z -]{2,40}?)\s*\}?\s*", answer)
    if not bare:
        return answer
    digits = words_to_digits(bare.group(1))
    return digits if re.match(r"\d+(?:\s+[A-Za-z]+)?$", digits) else answer


def candidate(gold: str, answer: str, others: tuple[str, ...], boxes: tuple[str, ...], prompt: str = "",
              completion: str = "") -> tuple[str, str, tuple[str, ...]] | None:
    """(gold, answer, others) to verify, or None when the answer gets no credit whatever it is.

    Several boxes count as one list when the reference has several parts (one box per part);
    ``or`` and ``and`` then separate items of a list instead of hedging. Code-like text and an
    echo of the task's own expression are refused here.
    """
    if _CODE.search(answer):
        return None
    answer, gold = _number_words(answer), _number_words(gold)
    if is_hedged(answer) and not is_list(gold):
        answer = _restated(answer)
    if is_multi(gold) and others and len(boxes) > 1 and not is_multi(answer):
        answer, others = ", ".join(boxes), ()  # one box per part
    if is_list(gold):  # "or" and "and" separate answers; elsewhere "or" is a hedge
        gold, answer = _as_list(gold), _as_list(answer)
    elif is_multi(gold):  # a tuple: "x = 2 and y = 3" lists its coordinates
        answer = _AND.sub(",", answer)
    if (prompt or completion) and echoes(answer, gold, prompt, completion):
        return None
    return gold, answer, others


def simple_number(s: str) -> tuple[Fraction, int | None, bool] | None:
    """(value, decimal places or None, has_percent) for a cleaned, compact plain number, else None."""
    m = _SIMPLE.match(s)
    if not m or len(s) > 60:
        return None
    sign, dec, fn, fd, sn, sd, pct = m.groups()
    if dec is not None:
        v = Fraction(dec)
    else:
        num, den = (fn, fd) if fn is not None else (sn, sd)
        if int(den) == 0:
            return None
        v = Fraction(int(num), int(den))
    places = len(dec.split(".", 1)[1]) if dec is not None and "." in dec else None
    return (-v if sign else v), places, pct is not None


def _num_equal(g: tuple, p: tuple, s: Settings) -> bool:
    """Two plain numbers are equal: exactly, or a decimal within the relative tolerance of the other.

    A decimal against an exact value must also be that value rounded to the decimal's places:
    1000000.4 is not 1000000, though it is within 1e-6 of it.
    """
    (gv, gdec, gpct), (pv, pdec, ppct) = g, p

    def variants(v: Fraction, places: int | None, pct: bool) -> list[tuple[Fraction, int | None]]:
        if not pct:
            return [(v, places)]
        shifted = None if places is None else places + 2
        return {"either": [(v / 100, shifted), (v, places)], "fraction": [(v / 100, shifted)],
                "number": [(v, places)]}[s.percent]

    for a, ad in variants(gv, gdec, gpct):
        for b, bd in variants(pv, pdec, ppct):
            if a == b:
                return True
            if ad is None and bd is None:
                continue
            if abs(a - b) > Fraction(s.tolerance) * max(abs(a), abs(b)):
                continue
            if (ad is None) != (bd is None):  # one side exact: the decimal is it, rounded
                places = ad if ad is not None else bd
                if abs(a - b) > Fraction(1, 2 * 10 ** places):
                    continue
            return True
    return False


@lru_cache(maxsize=4096)
def prepared(raw: str) -> tuple[str, Any]:
    """(compact cleaned string, simple number or None) for a raw answer; cached for gold answers."""
    if len(raw) > MAX_CHARS:
        return compact(raw[:MAX_CHARS]), None
    c = compact(clean(raw))
    return c, simple_number(c)


def quick(gold: str, pred: str, others: tuple[str, ...], s: Settings) -> bool | None:
    """A verdict without sympy where one is certain, else None (the full check decides)."""
    if is_hedged(pred) and not is_hedged(gold):
        return False
    if len(pred) > MAX_CHARS:
        return None  # the full path raises TooBig and counts it
    gc, gn = prepared(gold)
    pc, pn = prepared(pred)
    verdict: bool | None = None
    if gc == pc and gc:
        verdict = True
    elif gn is not None and pn is not None:
        verdict = _num_equal(gn, pn, s)
    if verdict is None or not others:
        return verdict
    for o in others:  # every other boxed answer must be the same value
        oc, on = prepared(o)
        if oc == pc:
            continue
        if on is not None and pn is not None:
            if not _num_equal(pn, on, s):
                return False
            continue
        return None
    return verdict


@lru_cache(maxsize=2048)
def parse_answer(raw: str) -> tuple[Any, bool]:
    """(value, inexact) of an answer string; raises ParseError or TooBig. Cached (gold answers)."""
    if len(raw) > MAX_CHARS:
        raise TooBig(f"answer of {len(raw)} characters")
    s0 = strip_outer(raw)
    t = text_answer(s0)
    if t is not None:
        return Text(*t), False
    cleaned = clean(s0)
    if not cleaned:
        raise ParseError("empty answer")
    value, inexact = parse(cleaned)
    return canonical(value), inexact


def _math_or_none(raw: str) -> tuple[Any, bool] | None:
    """A short run of letters (``ab``) read as math, not as a word; None if it is not math."""
    s0 = strip_outer(raw)
    if len(s0) > 6 or not re.fullmatch(r"[A-Za-z]+", s0):
        return None
    try:
        value, inexact = parse(clean(s0))
    except ParseError:
        return None
    return canonical(value), inexact


def _parse_or_none(raw: str) -> tuple[Any, bool] | None:
    try:
        return parse_answer(raw)
    except ParseError:
        return None


def check(gold: str, pred: str, others: tuple[str, ...], s: Settings) -> bool:
    """Full verdict of ``pred`` against ``gold``. Raises TooBig on a size cap."""
    q = quick(gold, pred, others, s)
    if q is not None:
        return q
    g = _parse_or_none(gold)
    p = _parse_or_none(pred)
    if g is not None and p is not None and isinstance(g[0], Text) != isinstance(p[0], Text):
        # "ab" read as a word on one side and as a product on the other: read both as math.
        g, p = (_math_or_none(gold), p) if isinstance(g[0], Text) else (g, _math_or_none(pred))
    if g is None or p is None:
        # An unparseable reference is compared as text; an unparseable answer gets no credit.
        return g is None and p is None and prepared(gold)[0].lower() == prepared(pred)[0].lower()
    inexact = g[1] or p[1]
    if not equal(g[0], p[0], s, inexact):
        return False
    for o in others:
        ov = _parse_or_none(o)
        if ov is None or not equal(p[0], ov[0], s, p[1] or ov[1]):
            return False
    return True


# -- solver mode ------------------------------------------------------------------------------


def _equations(problem: str) -> list[Any]:
    value, _ = parse_answer(problem)
    eqs = list(value.items) if isinstance(value, Unordered) else [value]
    out = []
    for e in eqs:
        if not (isinstance(e, Rel) and e.ops == ("=",)):
            raise ParseError("solver mode needs equations")
        out.append(e.terms[0] - e.terms[1])
    return out


def _assignments(value: Any, symbols: list) -> list[dict] | None:
    """The candidate solutions of a predicted answer, as symbol -> value maps."""
    import sympy as sp

    from .parse import Seq

    items = list(value.items) if isinstance(value, Unordered) else [value]
    if all(isinstance(i, Rel) and i.ops == ("=",) and isinstance(i.terms[0], sp.Symbol) for i in items):
        named = {i.terms[0]: i.terms[1] for i in items}
        if set(named) == set(symbols) and len(items) == len(symbols):
            return [named]
        if len(symbols) == 1 and all(i.terms[0] == symbols[0] for i in items):
            return [{symbols[0]: i.terms[1]} for i in items]
        return None
    out = []
    for i in items:
        if len(symbols) == 1 and isinstance(i, sp.Expr):
            out.append({symbols[0]: i})
        elif isinstance(i, Seq) and len(i.items) == len(symbols) and i.left == "(":
            out.append(dict(zip(symbols, i.items)))
        else:
            return None
    return out


def check_solver(problem: str, pred: str, others: tuple[str, ...], s: Settings,
                 accept: str = "solution_set", domain: str = "real") -> bool:
    """Reference-free verdict: ``pred`` is the solution set of ``problem`` (or satisfies it)."""
    import sympy as sp

    if others:
        return False
    # A solution set may be spelt with "or" ("x = 2 or x = 3"): here that is a list, not a hedge.
    pred = _OR.sub(",", pred)
    exprs = _equations(problem)
    symbols = sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
    p = _parse_or_none(pred)
    if p is None or not symbols:
        return False
    cands = _assignments(p[0], symbols)
    if not cands:
        return False
    dom = sp.S.Reals if domain == "real" else sp.S.Complexes

    def satisfies(c: dict) -> bool:
        if any(not isinstance(v, sp.Expr) or v.free_symbols for v in c.values()):
            return False
        for e in exprs:
            r = e.xreplace(c)
            v = sp.N(r, 30)
            if not v.is_number or v.has(sp.nan, sp.zoo) or abs(v) > 1e-12 * (1 + max(abs(sp.N(x, 30)) for x in c.values())):
                return False
        return True

    if not all(satisfies(c) for c in cands):
        return False
    if accept == "substitution":
        return True
    if len(symbols) == 1 and len(exprs) == 1:
        sol = sp.solveset(exprs[0], symbols[0], domain=dom)
        if not isinstance(sol, sp.FiniteSet):
            return False  # infinitely many solutions: a finite list is never the whole set
        return equal(Unordered(tuple(sol)), Unordered(tuple(c[symbols[0]] for c in cands)), s, p[1])
    sols = sp.solve(exprs, symbols, dict=True)
    if domain == "real":
        sols = [d for d in sols if all(v.is_real is not False for v in d.values())]
    if any(set(d) != set(symbols) for d in sols):
        return False  # a family of solutions
    want = Unordered(tuple(Unordered(tuple(d[x] for x in symbols)) for d in sols))
    got = Unordered(tuple(Unordered(tuple(c[x] for x in symbols)) for c in cands))
    return len(sols) == len(cands) and equal(want, got, s, p[1])


__all__ = ["TooBig", "check", "check_solver", "parse_answer", "quick"]


def clear_caches() -> None:
    """Forget cached parses in this process (benchmarks; a changed answer format)."""
    prepared.cache_clear()
    parse_answer.cache_clear()
    is_multi.cache_clear()
    is_list.cache_clear()
