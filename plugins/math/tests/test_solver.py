"""Solver mode: the column holds the equation; the answer must be its solution set (or satisfy it)."""

from __future__ import annotations

import pytest
from rewardkit_math import Math

SET = Math(workers=0, mode="solver", answer_field="equation")
SUBST = Math(workers=0, mode="solver", answer_field="equation", solver_accept="substitution")
COMPLEX = Math(workers=0, mode="solver", answer_field="equation", domain="complex")


def solved(answer: str) -> str:
    return f"Factoring and solving, we find the solutions: $\\boxed{{{answer}}}$."


@pytest.mark.parametrize("equation,answer,want", [
    ("x^2 - 5x + 6 = 0", "2, 3", 1.0),
    ("x^2 - 5x + 6 = 0", "3, 2", 1.0),
    ("x^2 - 5x + 6 = 0", "x = 2 \\text{ or } x = 3", 1.0),
    ("x^2 - 5x + 6 = 0", "\\{2, 3\\}", 1.0),
    ("x^2 - 5x + 6 = 0", "2", 0.0),  # half the solution set
    ("x^2 - 5x + 6 = 0", "2, 3, 4", 0.0),
    ("x^2 - 5x + 6 = 0", "1, 6", 0.0),
    ("2x + 1 = 7", "x = 3", 1.0),
    ("x^2 = 2", "\\pm\\sqrt{2}", 1.0),
    ("x + y = 3, x - y = 1", "(2, 1)", 1.0),
    ("x + y = 3, x - y = 1", "x = 2, y = 1", 1.0),
    ("x + y = 3, x - y = 1", "(1, 2)", 0.0),
    ("x^2 + 1 = 0", "i, -i", 0.0),  # no real solution
    ("\\sin(x) = 0", "0", 0.0),  # infinitely many solutions: no finite list is the set
])
def test_solution_set(equation: str, answer: str, want: float) -> None:
    assert SET.score([""], [solved(answer)], equation=[equation]) == [want]


def test_substitution_accepts_any_root() -> None:
    assert SUBST.score([""], [solved("2")], equation=["x^2 - 5x + 6 = 0"]) == [1.0]
    assert SUBST.score([""], [solved("0")], equation=["\\sin(x) = 0"]) == [1.0]
    assert SUBST.score([""], [solved("4")], equation=["x^2 - 5x + 6 = 0"]) == [0.0]


def test_complex_domain() -> None:
    assert COMPLEX.score([""], [solved("i, -i")], equation=["x^2 + 1 = 0"]) == [1.0]
    assert COMPLEX.score([""], [solved("i")], equation=["x^2 + 1 = 0"]) == [0.0]


def test_not_an_equation_scores_zero() -> None:
    assert SET.score([""], [solved("3")], equation=["x^2 + 1"]) == [0.0]


def test_through_worker_pool() -> None:
    pooled = Math(workers=1, mode="solver", answer_field="equation")
    assert pooled.score(["", ""], [solved("2, 3"), solved("2")], equation=["x^2-5x+6=0"] * 2) == [1.0, 0.0]
