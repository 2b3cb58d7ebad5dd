"""Every equivalence category of the issue, with completions shaped like model output."""

from __future__ import annotations

import pytest
from rewardkit_math import Math

INLINE = Math(workers=0)  # in-process: these items are all well inside the size caps


def solve(answer: str) -> str:
    return (f"Let me work through this step by step.\n\nFirst we simplify the expression, "
            f"then check the result.\n\nTherefore the final answer is $\\boxed{{{answer}}}$.")


def score(gold: str, completion: str, reward: Math = INLINE) -> float | None:
    return reward.score([""], [completion], answer=[gold])[0]


# (category, gold, the boxed answer of the completion, verdict)
CASES = [
    ("integer", "42", "42", 1.0),
    ("integer", "42", "43", 0.0),
    ("integer", "-7", "- 7", 1.0),
    ("rational", "\\frac{3}{4}", "3/4", 1.0),
    ("rational", "\\frac{3}{4}", "\\frac{6}{8}", 1.0),
    ("rational", "\\frac{3}{4}", "\\frac{4}{3}", 0.0),
    ("dfrac", "\\frac{1}{2}", "\\dfrac{1}{2}", 1.0),
    ("tfrac", "\\frac{1}{2}", "\\tfrac12", 1.0),
    ("decimal", "\\frac{1}{2}", "0.5", 1.0),
    ("decimal", "0.75", "\\frac34", 1.0),
    ("decimal", "\\frac13", "0.333", 0.0),
    ("decimal", "\\frac{\\sqrt{3}}{2}", "0.8660254038", 1.0),
    ("mixed", "1\\frac{1}{2}", "\\frac{3}{2}", 1.0),
    ("mixed", "\\frac{7}{3}", "2\\frac{1}{3}", 1.0),
    ("radical", "2\\sqrt{2}", "\\sqrt{8}", 1.0),
    ("radical", "\\frac{\\sqrt{6}}{3}", "\\sqrt{\\frac{2}{3}}", 1.0),
    ("radical", "\\sqrt[3]{2}", "2^{1/3}", 1.0),
    ("radical", "2\\sqrt{2}", "2\\sqrt{3}", 0.0),
    ("pi", "\\frac{\\pi}{2}", "\\pi/2", 1.0),
    ("pi", "4\\pi", "4 \\pi", 1.0),
    ("pi", "4\\pi", "12.566", 0.0),
    ("percent", "50\\%", "0.5", 1.0),
    ("percent", "50\\%", "50", 1.0),
    ("percent", "25", "25\\%", 1.0),
    ("thousands", "1000000", "1,000,000", 1.0),
    ("thousands", "12{,}500", "12500", 1.0),
    ("units", "5", "5\\text{ cm}", 1.0),
    ("units", "12", "12 \\mbox{ inches}", 1.0),
    ("units", "18", "18 dollars", 1.0),
    ("units", "20\\text{ cm}^2", "20", 1.0),
    ("degrees", "30^\\circ", "30", 1.0),
    ("degrees", "90", "90^{\\circ}", 1.0),
    ("money", "\\$18.50", "18.5", 1.0),
    ("money", "18.50", "\\$18.50", 1.0),
    ("scientific", "1500", "1.5\\times 10^{3}", 1.0),
    ("scientific", "0.00025", "2.5e-4", 1.0),
    ("set", "\\{1, 2, 3\\}", "3, 1, 2", 1.0),
    ("set", "1, -2", "-2, 1", 1.0),
    ("set", "1, -2", "1", 0.0),
    ("set", "1, 2", "1, 2, 3", 0.0),
    ("pm", "\\pm 3", "3, -3", 1.0),
    ("interval", "[2, 5)", "[2,5)", 1.0),
    ("interval", "[2, 5)", "(2, 5)", 0.0),
    ("interval", "(-\\infty, 3)", "x < 3", 1.0),
    ("interval", "[0, \\infty)", "x \\in [0,\\infty)", 1.0),
    ("interval", "(-\\infty, -1) \\cup (1, \\infty)", "(1,\\infty)\\cup(-\\infty,-1)", 1.0),
    ("tuple", "(3, \\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)", 1.0),
    ("tuple", "(1, 2)", "(2, 1)", 0.0),
    ("matrix", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
     "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}", 1.0),
    ("matrix", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
     "\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}", 0.0),
    ("vector", "\\begin{pmatrix} -1 \\\\ 2 \\end{pmatrix}", "(-1, 2)", 1.0),
    ("equation", "3", "x = 3", 1.0),
    ("equation", "x = 3", "3", 1.0),
    ("equation", "y = 2x + 1", "y=1+2x", 1.0),
    ("equation", "y = 2x + 1", "y=2x-1", 0.0),
    ("inequality", "x \\ge 2", "2 \\le x", 1.0),
    ("inequality", "1 < x \\le 4", "(1, 4]", 1.0),
    ("inequality", "x > 2", "x \\ge 2", 0.0),
    ("algebra", "(x+1)^2", "x^2 + 2x + 1", 1.0),
    ("algebra", "\\frac{x^2-1}{x-1}", "x+1", 1.0),
    ("algebra", "\\sin^2 x + \\cos^2 x", "1", 1.0),
    ("algebra", "x^2+2x+1", "x^2+2x+2", 0.0),
    ("algebra", "2\\ln 2", "\\ln 4", 1.0),
    ("complex", "3 + 4i", "4i + 3", 1.0),
    ("complex", "\\frac{1}{1+i}", "\\frac{1-i}{2}", 1.0),
    ("complex", "3 + 4i", "3 - 4i", 0.0),
    ("choice", "\\text{(B)}", "B", 1.0),
    ("choice", "B", "\\textbf{(B)}", 1.0),
    ("choice", "B", "(C)", 0.0),
    ("text", "\\text{Evelyn}", "Evelyn", 1.0),
    ("text", "\\text{odd}", "\\text{Odd}", 1.0),
    ("text", "\\text{odd}", "\\text{even}", 0.0),
    ("constant", "e^{i\\pi}", "-1", 1.0),
    ("power", "2^{10}", "1024", 1.0),
    ("factorial", "6!", "720", 1.0),
    ("binomial", "\\binom{5}{2}", "10", 1.0),
]


@pytest.mark.parametrize("category,gold,answer,want", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_category(category: str, gold: str, answer: str, want: float) -> None:
    assert score(gold, solve(answer)) == want


@pytest.mark.parametrize("category,gold,answer,want", CASES[::7], ids=[c[0] for c in CASES[::7]])
def test_category_through_worker_pool(category: str, gold: str, answer: str, want: float) -> None:
    pooled = Math(workers=1)
    assert score(gold, solve(answer), pooled) == want


def test_decimal_tolerance_option() -> None:
    loose = Math(workers=0, tolerance=1e-2)
    assert score("\\frac{1}{3}", solve("0.333"), loose) == 1.0
    assert score("\\frac{1}{3}", solve("0.34"), loose) == 0.0
    assert score("\\frac{1}{3}", solve("0.333")) == 0.0  # the default is strict


def test_percent_option() -> None:
    as_fraction = Math(workers=0, percent="fraction")
    as_number = Math(workers=0, percent="number")
    assert score("50\\%", solve("0.5"), as_fraction) == 1.0
    assert score("50\\%", solve("50"), as_fraction) == 0.0
    assert score("50\\%", solve("50"), as_number) == 1.0
    assert score("50\\%", solve("0.5"), as_number) == 0.0


def test_numeric_gold_column() -> None:
    # Datasets often store the answer as a number, not a string.
    assert INLINE.score(["", ""], [solve("18"), solve("2.5")], answer=[18, 2.5]) == [1.0, 1.0]


def test_missing_gold_is_none() -> None:
    assert INLINE.score([""], [solve("1")], answer=[None]) == [None]
