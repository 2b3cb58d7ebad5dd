"""Equivalence of two parsed answers, the way a careful human grader decides it.

Cheap checks come first (structural equality, exact rationals); algebraic expressions are probed
numerically at a few fixed random points before any symbolic simplification.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import sympy as sp

from .parse import PCT, PM, Rel, Seq, Text, TooBig, Union, Unordered

_PROBES = 4


@dataclass(frozen=True)
class Settings:
    tolerance: float = 1e-6  # relative, used where a decimal is compared with an exact value
    percent: str = "either"  # either | fraction | number


def _expand_pm(v: Any) -> Any:
    """A value with ``\\pm`` becomes the unordered pair of its two signs."""
    if isinstance(v, sp.Basic) and not isinstance(v, sp.MatrixBase) and PM in v.free_symbols:
        return Unordered((v.xreplace({PM: sp.Integer(1)}), v.xreplace({PM: sp.Integer(-1)})))
    if isinstance(v, Unordered):
        out: list[Any] = []
        for x in v.items:
            x = _expand_pm(x)
            out.extend(x.items if isinstance(x, Unordered) else [x])
        return Unordered(tuple(out), v.braced)
    if isinstance(v, Rel) and len(v.terms) == 2 and v.ops == ("=",):
        rhs = _expand_pm(v.terms[1])
        if isinstance(rhs, Unordered):
            return Unordered(tuple(Rel(v.ops, (v.terms[0], r)) for r in rhs.items))
    return v


def canonical(v: Any) -> Any:
    """Resolve parser markers that change the shape of a value (``\\pm``)."""
    return _expand_pm(v)


def _percent_variants(e: Any, percent: str) -> list[Any]:
    if not isinstance(e, sp.Basic) or isinstance(e, sp.MatrixBase) or PCT not in e.free_symbols:
        return [e]
    scales = {"either": [sp.Rational(1, 100), sp.Integer(1)], "fraction": [sp.Rational(1, 100)],
              "number": [sp.Integer(1)]}[percent]
    return [e.xreplace({PCT: s}) for s in scales]


def _num_close(a: Any, b: Any, rel: float) -> bool | None:
    """Numeric closeness of two constant expressions, or None where they do not evaluate."""
    va, vb = sp.N(a, 30), sp.N(b, 30)
    if not (va.is_number and vb.is_number) or va.has(sp.nan, sp.zoo) or vb.has(sp.nan, sp.zoo):
        return None
    if va.has(sp.oo, -sp.oo) or vb.has(sp.oo, -sp.oo):
        return bool(va == vb)
    diff = abs(va - vb)
    scale = max(abs(va), abs(vb))
    if not (diff.is_number and scale.is_number):
        return None
    return bool(diff <= rel * scale + sp.Float("1e-25"))


def _probe_points(symbols: list[sp.Symbol]) -> list[dict]:
    rng = random.Random(20240601)  # fixed: verdicts must be deterministic
    return [{s: sp.Float(rng.uniform(0.31, 2.7), 30) for s in symbols} for _ in range(_PROBES)]


def expr_equal(a: Any, b: Any, s: Settings, inexact: bool) -> bool:
    """Two scalar sympy expressions (numbers or algebraic) denote the same value."""
    for x in _percent_variants(a, s.percent):
        for y in _percent_variants(b, s.percent):
            if _expr_equal(x, y, s, inexact):
                return True
    return False


def _expr_equal(a: Any, b: Any, s: Settings, inexact: bool) -> bool:
    if a == b:
        return True
    if isinstance(a, sp.Rational) and isinstance(b, sp.Rational) and not inexact:
        return False
    rel = s.tolerance if inexact else 1e-12
    free = sorted((a.free_symbols | b.free_symbols) - {PM, PCT}, key=str)
    if not free:
        close = _num_close(a, b, rel)
        if close is not None:
            return close
        return sp.simplify(a - b) == 0
    agree = 0
    for point in _probe_points(free):
        close = _num_close(a.xreplace(point), b.xreplace(point), 1e-9)
        if close is False:
            return False
        agree += close is True
    if agree >= 2:
        return True
    return sp.simplify(a - b) == 0


def _rel_equal(a: Rel, b: Rel, s: Settings, inexact: bool) -> bool:
    if len(a.terms) != len(b.terms):
        return False
    if a.ops == ("=",) and b.ops == ("=",):
        (al, ar), (bl, br) = a.terms, b.terms
        if equal(al, bl, s, inexact) and equal(ar, br, s, inexact):
            return True
        if equal(al, br, s, inexact) and equal(ar, bl, s, inexact):
            return True
        if all(isinstance(t, sp.Expr) for t in (al, ar, bl, br)):
            # The same equation scaled: (al - ar) / (bl - br) is a nonzero constant.
            da, db = al - ar, bl - br
            if db == 0:
                return False
            ratio = sp.simplify(da / db)
            return bool(ratio.is_number and ratio != 0 and not ratio.has(sp.zoo, sp.nan))
        return False
    flip = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}
    if a.ops == b.ops:
        return all(equal(x, y, s, inexact) for x, y in zip(a.terms, b.terms))
    if a.ops == tuple(flip[o] for o in reversed(b.ops)):
        return all(equal(x, y, s, inexact) for x, y in zip(a.terms, reversed(b.terms)))
    return False


def _is_label(t: Any) -> bool:
    """A name on the left of ``=``: ``x``, ``x_1``, ``f(x)`` (parsed f*x), ``|AB|``, ``V_1/V_2``."""
    if isinstance(t, sp.Symbol):
        return t not in (PM, PCT)
    if isinstance(t, sp.Abs):
        return _is_label(t.args[0])
    if isinstance(t, sp.Mul):
        return all(_is_label(a) for a in t.args)
    if isinstance(t, sp.Pow):
        return _is_label(t.base) and t.exp == -1
    return False


def _is_const(t: Any) -> bool:
    return isinstance(t, sp.Expr) and not (t.free_symbols - {PCT})


def rel_value(r: Rel) -> Any:
    """The value a labelled answer or a final chain states, or None.

    ``x = 5`` and ``f(x) = 1`` state their right side; ``\\sqrt{4} = 2`` and ``x = 2 + 3 = 5``
    state their last term, only when every constant term of the chain is the same number.
    """
    if any(op != "=" for op in r.ops):
        return None
    first, rest = r.terms[0], r.terms[1:]
    if _is_label(first) and len(rest) == 1:
        return rest[0]
    consts = list(rest) if _is_label(first) else list(r.terms)
    if len(consts) < 2 or not all(_is_const(t) for t in consts):
        return None
    last = consts[-1]
    for t in consts[:-1]:
        close = _num_close(t, last, 1e-9)
        if close is not True:
            return None
    return last


def _linear(r: Rel) -> Rel | None:
    """``-x > -1`` -> ``x < 1``: a one-variable linear inequality solved for its variable."""
    if len(r.terms) != 2 or r.ops[0] not in ("<", ">", "<=", ">="):
        return None
    l, rr = r.terms
    if not (isinstance(l, sp.Expr) and isinstance(rr, sp.Expr)):
        return None
    d = l - rr
    free = d.free_symbols - {PM, PCT}
    if len(free) != 1:
        return None
    v = next(iter(free))
    a = d.coeff(v, 1)
    b = d.subs(v, 0)
    if not (a.is_number and b.is_number) or a == 0 or sp.expand(d - a * v - b) != 0:
        return None
    op = r.ops[0]
    if a.is_negative:
        op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}[op]
    return Rel((op,), (v, sp.nsimplify(-b / a) if isinstance(-b / a, sp.Float) else -b / a))


def _as_interval(r: Rel) -> Any:
    """``x > 2`` -> ``Seq((2, oo), '(', ')')``; ``1 <= x < 3`` -> ``[1, 3)``; else None."""
    def var(t: Any) -> bool:
        return isinstance(t, sp.Symbol) and t not in (PM, PCT)

    if len(r.terms) == 2 and not (var(r.terms[0]) or var(r.terms[1])):
        solved = _linear(r)
        if solved is None:
            return None
        r = solved
    if len(r.terms) == 2:
        (l, rr), op = r.terms, r.ops[0]
        if var(rr) and not var(l):
            l, rr = rr, l
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
        if not var(l) or op not in ("<", ">", "<=", ">="):
            return None
        if op in ("<", "<="):
            return Seq((-sp.oo, rr), "(", ")" if op == "<" else "]")
        return Seq((rr, sp.oo), "(" if op == ">" else "[", ")")
    if len(r.terms) == 3 and var(r.terms[1]):
        lo, _, hi = r.terms
        ops = r.ops
        if ops[0] in (">", ">=") and ops[1] in (">", ">="):
            lo, hi = hi, lo
            ops = ({">": "<", ">=": "<="}[ops[1]], {">": "<", ">=": "<="}[ops[0]])
        if ops[0] in ("<", "<=") and ops[1] in ("<", "<="):
            return Seq((lo, hi), "(" if ops[0] == "<" else "[", ")" if ops[1] == "<" else "]")
    return None


def _matrix_entries(v: Any) -> list[Any] | None:
    if isinstance(v, sp.MatrixBase) and 1 in v.shape:
        return list(v)
    if isinstance(v, Seq) and v.left == "(" and v.right == ")":
        return list(v.items)
    return None


def _unordered_equal(a: tuple, b: tuple, s: Settings, inexact: bool) -> bool:
    if len(a) != len(b):
        return False
    left = list(b)
    for x in a:
        for j, y in enumerate(left):
            if equal(x, y, s, inexact):
                del left[j]
                break
        else:
            return False
    return True


def _finite_union(v: Any) -> Any:
    """``\\{1\\} \\cup \\{2\\}`` -> ``\\{1, 2\\}``; anything else unchanged."""
    if isinstance(v, Union) and all(isinstance(i, Unordered) for i in v.items):
        return Unordered(tuple(x for i in v.items for x in i.items), braced=True)
    return v


def _as_union(v: Any) -> Union | None:
    """A union, or ``x \\le -2, x \\ge 2`` (from "or") as the union of its intervals."""
    if isinstance(v, Union):
        if all(isinstance(i, Unordered) for i in v.items):  # \\{1\\} \\cup \\{2\\}: one finite set
            return None
        return v
    if isinstance(v, Unordered) and v.items and all(isinstance(i, Rel) for i in v.items):
        parts = [_as_interval(i) for i in v.items]
        if all(p is not None for p in parts):
            return Union(tuple(parts))
    return None


def _shorten(r: Rel) -> Rel:
    """``x = 2 + 3 = 5`` -> ``x = 5``; other relations unchanged."""
    if len(r.terms) > 2 and _is_label(r.terms[0]):
        value = rel_value(r)
        if value is not None:
            return Rel(("=",), (r.terms[0], value))
    return r


def _as_tuple(gold: Any, pred: Any, s: Settings, inexact: bool) -> bool | None:
    """A tuple against a list of its parts, in order: ``(5, 2)`` vs ``p=5, q=2`` or one box per part.

    None where the pair is not of that shape.
    """
    seq, other = (gold, pred) if isinstance(gold, Seq) else (pred, gold)
    if not (isinstance(seq, Seq) and seq.left == "(" and seq.right == ")" and isinstance(other, Unordered)):
        return None
    if other.braced:
        return False  # a set is not a tuple
    if len(seq.items) != len(other.items):
        return None
    parts = []
    for item in other.items:
        if isinstance(item, Rel):
            value = rel_value(item)
            if value is None:
                return None
            item = value
        parts.append(item)
    return all(equal(a, b, s, inexact) for a, b in zip(seq.items, parts))


def equal(gold: Any, pred: Any, s: Settings, inexact: bool = False) -> bool:
    """Whether ``pred`` answers what ``gold`` asks (both parsed and canonical)."""
    if isinstance(gold, Text) or isinstance(pred, Text):
        return isinstance(gold, Text) and isinstance(pred, Text) and gold == pred
    gold, pred = _finite_union(gold), _finite_union(pred)
    ordered = _as_tuple(gold, pred, s, inexact)
    if ordered is not None:
        return ordered
    if isinstance(gold, Union) or isinstance(pred, Union):
        gu, pu = _as_union(gold), _as_union(pred)
        if gu is not None and pu is not None:
            return _unordered_equal(gu.items, pu.items, s, inexact)
        return False
    if isinstance(gold, Unordered) or isinstance(pred, Unordered):
        ga = gold.items if isinstance(gold, Unordered) else (gold,)
        pa = pred.items if isinstance(pred, Unordered) else (pred,)
        if len(ga) == 1 and len(pa) == 1:
            return equal(ga[0], pa[0], s, inexact)
        named = [all(isinstance(i, Rel) and rel_value(i) is not None for i in side) for side in (ga, pa)]
        if len(ga) == len(pa) and named[0] != named[1] and not any(isinstance(i, Rel) for i in (pa if named[0] else ga)):
            # "x = 1, y = 2" against bare values "1, 2": without their names the values keep their order.
            return all(equal(x, y, s, inexact) for x, y in zip(ga, pa))
        return _unordered_equal(ga, pa, s, inexact)
    if isinstance(gold, Rel) or isinstance(pred, Rel):
        if isinstance(gold, Rel) and isinstance(pred, Rel):
            if _rel_equal(gold, pred, s, inexact):
                return True
            gs, ps = _shorten(gold), _shorten(pred)
            if (gs, ps) != (gold, pred) and _rel_equal(gs, ps, s, inexact):
                return True
            gi, pi = _as_interval(gold), _as_interval(pred)
            return gi is not None and pi is not None and equal(gi, pi, s, inexact)
        rel, other = (gold, pred) if isinstance(gold, Rel) else (pred, gold)
        value = rel_value(rel)
        if value is not None:
            return equal(value, other, s, inexact) if rel is pred else equal(other, value, s, inexact)
        iv = _as_interval(rel)
        if iv is not None and isinstance(other, Seq):
            return equal(iv, other, s, inexact)
        return False
    if isinstance(gold, sp.MatrixBase) or isinstance(pred, sp.MatrixBase):
        if isinstance(gold, sp.MatrixBase) and isinstance(pred, sp.MatrixBase) and gold.shape == pred.shape:
            return all(equal(x, y, s, inexact) for x, y in zip(gold, pred))
        ge, pe = _matrix_entries(gold), _matrix_entries(pred)
        if ge is None or pe is None or len(ge) != len(pe):
            return False
        return all(equal(x, y, s, inexact) for x, y in zip(ge, pe))
    if isinstance(gold, Seq) or isinstance(pred, Seq):
        if not (isinstance(gold, Seq) and isinstance(pred, Seq)):
            return False
        if (gold.left, gold.right) != (pred.left, pred.right) or len(gold.items) != len(pred.items):
            return False
        return all(equal(x, y, s, inexact) for x, y in zip(gold.items, pred.items))
    if isinstance(gold, sp.Basic) and isinstance(pred, sp.Basic):
        return expr_equal(gold, pred, s, inexact)
    return False


__all__ = ["Settings", "TooBig", "canonical", "equal", "expr_equal"]
