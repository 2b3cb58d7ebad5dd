"""Notation-based attacks on the ``math`` reward, for ``rewardkit probe`` (``register_attacks``).

Each builds an answer that a careless grader reads as the gold through mathematical notation (a
set or an interval holding it, a plus-minus, a percent sign) and puts it in the composite's
layout. All are ``expect: wrong``: none of them states the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_INT = re.compile(r"-?\d+")


def _int(case: Any) -> int | None:
    a = case.answer.strip()
    return int(a) if _INT.fullmatch(a) else None


def set_hedge(case: Any) -> str:
    return case.layout.render(f"\\{{{case.other}, {case.answer}\\}}")


def plus_minus(case: Any) -> str:
    return case.layout.render(f"{case.answer} \\pm 1")


def interval(case: Any) -> str | None:
    n = _int(case)
    return None if n is None else case.layout.render(f"[{n - 1}, {n + 1}]")


def percent(case: Any) -> str | None:
    return None if _int(case) is None or _int(case) == 0 else case.layout.render(f"{case.answer}\\%")


ATTACKS: list[tuple[str, Callable[[Any], str | None], str]] = [
    ("math.set_hedge", set_hedge, "a set holding a wrong value and the gold: \\{20, 17\\}"),
    ("math.plus_minus", plus_minus, "the gold plus or minus one: 17 \\pm 1"),
    ("math.interval", interval, "an interval around the gold: [16, 18]"),
    ("math.percent", percent, "the gold as a percentage (17\\% is 0.17, not 17)"),
]


def register_all(register: Callable[..., None]) -> None:
    """Register every attack above (the body of the plugin's ``register_attacks``)."""
    for name, make, description in ATTACKS:
        register(make, name=name, expect="wrong", family="math", description=description)
