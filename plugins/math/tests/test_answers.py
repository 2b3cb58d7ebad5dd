"""Answers as models write them: several parts, labels, relations, headings, choices, notation, tricks."""

from __future__ import annotations

import pytest
from rewardkit_math import Math

INLINE = Math(workers=0)


def score(gold: str, completion: str, prompt: str = "", reward: Math = INLINE) -> float | None:
    return reward.score([prompt], [completion], answer=[gold])[0]


# (category, gold, completion, verdict)
CASES = [
    # -- several answers vs hedging ------------------------------------------------------------
    ("several", "1, 2", "Factoring, $(x-1)(x-2)=0$, so the roots are $\\boxed{1}$ and $\\boxed{2}$.", 1.0),
    ("several", "-3, 4", "Both check out: $x=\\boxed{4}$ and $x=\\boxed{-3}$.", 1.0),
    ("several", "1, 2", "The roots are $\\boxed{1}$ and $\\boxed{5}$.", 0.0),
    ("several", "\\{1, 2\\}", "Hence the solution set is $\\boxed{\\{2, 1\\}}$.", 1.0),
    ("several", "1, 2", "Checking both roots in the original equation:\n\nFinal answer: x = 1 or x = 2", 1.0),
    ("several", "(5, 8), (8, 5)", "By symmetry both orders work.\n\n**Answer:** $(8, 5)$ and $(5, 8)$", 1.0),
    ("several", "(5, 8), (8, 5)", "By symmetry both orders work.\n\n**Answer:** $(5, 8)$ and $(5, 8)$", 0.0),
    ("several", "(3, -1)", "The intersection has $x=\\boxed{3}$ and $y=\\boxed{-1}$.", 1.0),
    ("several", "(3, -1)", "The intersection has $y=\\boxed{-1}$ and $x=\\boxed{3}$.", 0.0),
    ("hedge", "3", "It is either $3$ or $4$, so the answer is 3 or 4.", 0.0),
    ("hedge", "3", "I am not sure which: $\\boxed{3}$, $\\boxed{4}$.", 0.0),
    ("hedge", "B", "Options: $\\boxed{A}$ $\\boxed{B}$ $\\boxed{C}$ $\\boxed{D}$", 0.0),
    ("hedge", "7", "The value is \\boxed{7 \\text{ or } 8}.", 0.0),
    # -- labelled answers and equations ---------------------------------------------------------
    ("label", "x = 5", "Subtracting 3 from both sides, $2x = 10$, so $\\boxed{5}$.", 1.0),
    ("label", "5", "Subtracting 3 from both sides gives $\\boxed{x = 5}$.", 1.0),
    ("label", "1", "Plugging in, $\\boxed{f(x) = 1}$ for every $x$.", 1.0),
    ("label", "1", "By the distance formula, $\\boxed{|AB| = 1}$.", 1.0),
    ("label", "11:21", "Dividing the volumes, $\\boxed{V_1:V_2 = 11:21}$.", 1.0),
    ("label", "11:21", "Dividing the volumes, $\\boxed{V_1:V_2 = 21:11}$.", 0.0),
    ("label", "(5, 2)", "Solving the system gives $\\boxed{p=5, q=2}$.", 1.0),
    ("label", "(5, 2)", "Solving the system gives $\\boxed{p=2, q=5}$.", 0.0),
    ("label", "2", "Simplifying the radical, $\\boxed{\\sqrt{4} = 2}$.", 1.0),
    ("label", "5", "Adding, $\\boxed{x = 2 + 3 = 5}$.", 1.0),
    ("label", "6", "So it must be $\\boxed{2 + 2 = 6}$.", 0.0),  # a false chain states nothing
    ("equation", "y = 2x + 1", "The line is $\\boxed{2y = 4x + 2}$.", 1.0),
    ("equation", "y = 2x + 1", "The line is $\\boxed{y = 2x + 2}$.", 0.0),
    ("label", "x=1, y=2", "So $\\boxed{y=2, x=1}$.", 1.0),
    ("label", "x=1, y=2", "So $\\boxed{1, 2}$.", 1.0),
    ("label", "x=1, y=2", "So $\\boxed{2, 1}$.", 0.0),  # without names, the order is the names'
    # -- relations ------------------------------------------------------------------------------
    ("relation", "5 < x", "Hence every solution satisfies $\\boxed{x > 5}$.", 1.0),
    ("relation", "x < 1", "Multiplying out: $\\boxed{-x > -1}$.", 1.0),
    ("relation", "x < 1", "Multiplying out: $\\boxed{-x < -1}$.", 0.0),
    ("relation", "x \\geq 2", "So the domain is $x >= 2$.\n\nFinal Answer: x >= 2", 1.0),
    ("relation", "x \\neq 3", "The function is defined for $\\boxed{x \\ne 3}$.", 1.0),
    ("relation", "x \\neq 3", "The function is defined for $\\boxed{x != 3}$.", 1.0),
    ("relation", "(0, 1)", "So $\\boxed{0 < y < 1}$.", 1.0),
    ("relation", "(0, 1]", "So $\\boxed{0 < y < 1}$.", 0.0),
    ("relation", "x \\lt 4", "Thus $\\boxed{4 \\gt x}$.", 1.0),
    # -- matrices and vectors -------------------------------------------------------------------
    ("matrix", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
     "The product is $\\boxed{\\left[\\begin{array}{cc} 1 & 2 \\\\ 3 & 4 \\end{array}\\right]}$.", 1.0),
    ("matrix", "\\begin{pmatrix} 2 & 4 \\\\ 6 & 8 \\end{pmatrix}",
     "So $2A = \\boxed{2\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}}$.", 1.0),
    ("matrix", "\\begin{pmatrix} 0.5 \\\\ 1 \\end{pmatrix}",
     "The unit solution is $\\boxed{\\begin{pmatrix} \\frac{1}{2} \\\\ 1 \\end{pmatrix}}$.", 1.0),
    ("matrix", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}",
     "The vector is $\\boxed{\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}}$.", 0.0),
    # -- headings and whole solutions -----------------------------------------------------------
    ("heading", "34", "We check each $n$ up to the bound.\n\n# Answer\n\n34", 1.0),
    ("heading", "\\frac{3}{4}", "Dividing, we are done.\n\n## Final Answer\n$\\frac{3}{4}$", 1.0),
    ("heading", "12", "So the count is twelve.\n\n**Answer:**\n\\boxed{12}", 1.0),
    ("heading", "34", "Testing all cases.\n\nFinal Answer: The largest $n$ is 34.", 1.0),
    ("heading", "(2,5)", "Substituting $x=2$ into the first line gives $y=5$.\nThe intersection point is (2,5).", 1.0),
    ("heading", "220", "Interest is 20 dollars.\nFinal answer: She will pay 220 $ in 12 months.", 1.0),
    ("heading", "\\sqrt{3}", "Final Answer: The final answer is $\\sqrt{3}$. I hope it is correct.", 1.0),
    ("gold", "The sum is $2 + 3 = \\boxed{5}$.", "Adding gives 5.\n\nThe answer is 5.", 1.0),
    ("gold", "so the answer is 0.6666667", "Dividing, $\\boxed{\\frac{2}{3}}$.", 1.0),
    # -- multiple choice in several languages ----------------------------------------------------
    ("choice", "B", "Comparing the options carefully.\n\n**Answer: B**", 1.0),
    ("choice", "D", "The answer is D. It can't be A or B, since both are negative.", 1.0),
    ("choice", "B", "Answer: B. Not A, because the sign is wrong.", 1.0),
    ("choice", "A", "Answer: B. Not A, because the sign is wrong.", 0.0),
    ("choice", "C", "Answer: A or C", 0.0),
    ("choice", "C", "Après calcul, la réponse est C.", 1.0),
    ("choice", "C", "Nach der Rechnung: Die Antwort ist (C).", 1.0),
    ("choice", "C", "Por lo tanto, la respuesta es C.", 1.0),
    ("choice", "C", "计算得 x = 2，故选C", 1.0),
    ("choice", "C", "Ответ: C", 1.0),
    ("marker", "12", "On additionne les deux.\nRéponse : 12", 1.0),
    ("marker", "12", "所以 3 × 4 = 12。\n答案：12", 1.0),
    ("marker", "12", "Складываем.\nОтвет: 12", 1.0),
    ("marker", "12", "Wir addieren.\nAntwort: 12", 1.0),
    ("marker", "12", "Sumamos.\nRespuesta: 12", 1.0),
    # -- notation -------------------------------------------------------------------------------
    ("notation", "\\frac{1}{2}", "So $\\boxed{\\cfrac{1}{2}}$.", 1.0),
    ("notation", "33.5\\%", "The share is $\\boxed{0.335}$.", 1.0),
    ("notation", "0.335", "The share is 33.5 percent.\n\nThe answer is 33.5 percent", 1.0),
    ("notation", "0.335", "The answer is 33.5 pct", 1.0),
    ("notation", "\\frac{\\sqrt{3}}{3}", "So $\\boxed{\\frac{\\sqrt{3}}{3} \\approx 0.577}$.", 1.0),
    ("notation", "\\frac{\\sqrt{3}}{3}", "So $\\boxed{x \\approx 0.577}$.", 0.0),
    ("notation", "e", "The limit is $\\boxed{\\mathrm{e}}$.", 1.0),
    ("notation", "e", "The limit is $\\boxed{\\text{e}}$.", 1.0),
    ("notation", "\\sqrt{3} - 1", "The answer is sqrt(3) - 1", 1.0),
    ("notation", "3\\sqrt{2}", "The answer is 3sqrt(2)", 1.0),
    ("notation", "2\\pi", "The answer is 2pi", 1.0),
    ("notation", "[0, \\infty)", "The answer is [0, infinity)", 1.0),
    ("notation", "(-\\infty, 1) \\cup (2, \\infty)", "The answer is (-inf, 1) U (2, inf)", 1.0),
    ("notation", "10", "She keeps the rest.\nThe answer is ten marbles.", 1.0),
    ("notation", "25", "The answer is twenty-five.", 1.0),
    ("notation", "7425000", "The answer is 7,425,000", 1.0),
    ("notation", "1000", "The answer is 1 000", 1.0),
    ("notation", "0", "The answer is 1 000", 0.0),  # not 1 * 000
    ("notation", "5000", "So $\\boxed{5\\,000}$.", 1.0),
    ("notation", "30^\\circ", "The angle is $\\boxed{30°}$.", 1.0),
    ("notation", "18", "The total is $\\boxed{18 €}$.", 1.0),
    ("notation", "18", "The total is $\\boxed{£18}$.", 1.0),
    ("notation", "2", "Taking the integer part, $\\boxed{\\lfloor 2.5 \\rfloor}$.", 1.0),
    ("notation", "3", "Rounding up, $\\boxed{\\lceil 2.5 \\rceil}$.", 1.0),
    ("notation", "\\frac{1}{3}", "As a decimal, $\\boxed{0.\\overline{3}}$.", 1.0),
    ("notation", "\\frac{7}{6}", "As a decimal, $\\boxed{1.1\\overline{6}}$.", 1.0),
    ("notation", "50", "The speed is $\\boxed{50\\text{ m/s}}$.", 1.0),
    ("notation", "ab", "The area is $\\boxed{a \\cdot b}$.", 1.0),
    ("several", "\\pm\\frac12", "So $\\boxed{\\frac{1}{2} \\text{ or } -\\frac{1}{2}}$.", 1.0),
    ("several", "(2, 3)", "The solution set is $\\boxed{\\{2, 3\\}}$.", 0.0),  # a set is not a point
    ("relation", "(-\\infty,-2]\\cup[2,\\infty)", "So $\\boxed{x \\le -2 \\text{ or } x \\ge 2}$.", 1.0),
    ("relation", "(-\\infty,-2]\\cup[2,\\infty)", "So $\\boxed{x \\le -2 \\text{ or } x > 2}$.", 0.0),
    ("several", "\\{1, 2\\}", "Either part works: $\\boxed{\\{1\\} \\cup \\{2\\}}$.", 1.0),
    ("heading", "\\frac{\\sqrt{3}}{2}", "Thus $\\sin 60^\\circ = \\frac{\\sqrt{3}}{2}$.", 1.0),
    ("heading", "3", "Answer: 3 (since 1 + 2 = 3)", 1.0),
    ("heading", "12", "Answer: $12$ (a dozen)", 1.0),
    ("restated", "0.25", "Final answer: $\\frac{1}{4}$ or 25%", 1.0),
    ("restated", "0.25", "Final answer: $\\frac{1}{4}$ or 30%", 0.0),
    ("notation", "3", "Counting them, $\\boxed{three}$.", 1.0),
    ("notation", "12", "So $\\boxed{\\text{twelve apples}}$.", 1.0),
    ("notation", "15", "The low was $\\boxed{15^\\circ C}$.", 1.0),
    ("several", "\\{a, b\\}", "The two names are $\\boxed{\\{\\text{a}, \\text{b}\\}}$.", 1.0),
    ("notation", "5", "The side is $\\boxed{5\\text{m}}$.", 1.0),
    ("several", "(2, 3)", "Solving both equations.\nThe answer is x=2 and y=3", 1.0),
    ("hedge", "(2, 3)", "Solving both equations.\nThe answer is x=2 or y=3", 0.0),
    ("notation", "\\frac{9}{5}", "The answer is 1 4/5", 1.0),
    ("notation", "2.75", "The answer is 2 3/4 cups", 1.0),
    ("restated", "0.25", "Each draw is independent.\nThe probability is $\\frac{1}{4}$ or 25%.", 1.0),
    ("restated", "0.25", "Each draw is independent.\nThe probability is $\\frac{1}{4}$ or 30%.", 0.0),
    ("matrix", "\\begin{pmatrix} 1 & 2 \\\\ 6 & 8 \\end{pmatrix}",
     "So $DM = \\boxed{\\begin{pmatrix}1&0\\\\0&2\\end{pmatrix}\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}}$.", 1.0),
    ("relation", "(-\\infty, \\infty)", "Every $x$ works, so the domain is $\\boxed{\\mathbb{R}}$.", 1.0),
    ("relation", "(-\\infty, \\infty)", "Every $x$ works.\nThe answer is all real numbers", 1.0),
    ("relation", "[0, \\infty)", "Every $x$ works, so the domain is $\\boxed{\\mathbb{R}}$.", 0.0),
    ("rounding", "1000000", "The total is $\\boxed{1000000.4}$.", 0.0),  # within 1e-6, yet not 1000000
    ("rounding", "1", "The limit is $\\boxed{0.99999999}$.", 0.0),
    ("rounding", "\\frac{2}{3}", "The ratio is $\\boxed{0.6666667}$.", 1.0),
    # -- not fooled -----------------------------------------------------------------------------
    ("retract", "13", "So $\\boxed{12}$. Wait, that's wrong: $6+7=13$.\n\nFinal answer: 13", 1.0),
    ("retract", "12", "So $\\boxed{12}$. Wait, that's wrong: $6+7=13$.\n\nFinal answer: 13", 0.0),
    ("retract", "12", "So $\\boxed{12}$. Hmm, I made a mistake somewhere above.", 0.0),
    ("think", "5", "<think>2+3=5, so \\boxed{5}</think>I can't help with that request.", 0.0),
    ("think", "5", "<think>2+3=5, so \\boxed{5}", 0.0),  # the reasoning never ended
    ("think", "5", "<think>2+3 is 5.</think>The answer is $\\boxed{5}$.", 1.0),
    ("think", "5", "<think>Maybe 4?</think>\n\nAdding gives 5.\n\n#### 5", 1.0),
    ("think", "5", "<|begin_of_thought|>2+3=5, \\boxed{5}<|end_of_thought|>I will not answer.", 0.0),
    ("think", "5", "<|begin_of_thought|>2+3<|end_of_thought|><|begin_of_solution|>\\boxed{5}", 1.0),
    ("hedge", "6", "I could not finish the count; it is maybe 5 or 6", 0.0),
    ("hedge", "5", "So $\\boxed{5}$. I am not confident; it could also be 6.", 0.0),
    ("hedge", "5", "So $\\boxed{5}$, or perhaps 6.", 0.0),
    ("hedge", "11", "She has 5 apples and buys 6 more, 11 in total", 1.0),
    ("hedge", "(1, 2)", "The point is 1 or 2", 0.0),  # "or" separates answers only in a list
    ("spray", "100", " ".join(str(i) for i in range(1, 101)), 0.0),
    ("retract", "5", "The answer is $\\boxed{5}$. Just kidding, it is 6.", 0.0),
    ("code", "5", "```python\nanswer = 5\n```", 0.0),
    ("code", "5", "```python\nprint(2 + 3)\n```\nThe output is 5, so the answer is 5.", 1.0),
    ("code", "0", "The answer is result or 0", 0.0),
    ("code", "1", "The answer is __import__('os').getpid() and 1", 0.0),
    ("code", "7", "value = compute()\nprint(value or 7)", 0.0),
]


@pytest.mark.parametrize("category,gold,completion,want", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_answer(category: str, gold: str, completion: str, want: float) -> None:
    assert score(gold, completion) == want


@pytest.mark.parametrize("prompt,completion,want", [
    ("Compute $\\frac{1}{2} + \\frac{1}{3}$.", "The answer is $\\boxed{\\frac{1}{2} + \\frac{1}{3}}$.", 0.0),
    ("Compute $\\frac{1}{2} + \\frac{1}{3}$.", "Common denominator 6: $\\boxed{\\frac{5}{6}}$.", 1.0),
    ("Simplify $\\frac{10}{12}$.", "It is already done: $\\boxed{\\frac{10}{12}}$.", 0.0),
    ("Simplify $\\frac{10}{12}$.", "Dividing by 2, $\\boxed{\\frac{5}{6}}$.", 1.0),
    ("", "We need to compute $\\frac{1}{2}+\\frac{1}{3}$.\n\nSo $\\boxed{\\frac{1}{2}+\\frac{1}{3}}$.", 0.0),
    ("Which is larger, $\\frac{5}{6}$ or $\\frac{4}{5}$?", "$\\boxed{\\frac{5}{6}}$", 1.0),
])
def test_echo_of_the_task_gets_nothing(prompt: str, completion: str, want: float) -> None:
    assert score("\\frac{5}{6}", completion, prompt) == want


def test_echo_of_a_task_stated_in_the_completion() -> None:
    stated = "To find $2^{10} - 24$, we write it out, so $\\boxed{2^{10}-24}$."
    assert score("1000", stated) == 0.0
    assert score("1000", "To find $2^{10} - 24$: $1024 - 24 = \\boxed{1000}$.") == 1.0


def test_echo_of_a_plain_prompt() -> None:
    assert score("5", "The answer is $\\boxed{10/2}$", "What is 10/2?") == 0.0
    assert score("5", "The answer is $\\boxed{5}$", "What is 10/2?") == 1.0


def test_echo_of_a_prompt_that_is_the_expression_then_equals() -> None:
    assert score("17", "<answer>\\boxed{7+10}</answer>", "7+10=") == 0.0
    assert score("17", "<answer>\\boxed{17}</answer>", "7+10=") == 1.0
    assert score("9", "So $\\boxed{3 * (4 - 1)}$", "Solve:\n3 * (4 - 1) = ?") == 0.0
    assert score("9", "So $\\boxed{9}$", "Solve:\n3 * (4 - 1) = ?") == 1.0


def test_echo_of_an_unsimplified_power() -> None:
    prompt = "What is $2^{10} - 24$?"
    assert score("1000", "Easy: $\\boxed{2^{10} - 24}$.", prompt) == 0.0
    assert score("1000", "Since $2^{10} = 1024$, $\\boxed{1000}$.", prompt) == 1.0
    assert score("2^{10} - 24", "Easy: $\\boxed{2^{10} - 24}$.", prompt) == 1.0  # written as the reference


def test_percent_policy_applies_to_words() -> None:
    as_fraction = Math(workers=0, percent="fraction")
    assert score("0.335", "The answer is 33.5 percent", reward=as_fraction) == 1.0
    assert score("33.5", "The answer is 33.5 percent", reward=as_fraction) == 0.0


@pytest.mark.parametrize("category,gold,completion,want", CASES[::9], ids=[c[0] for c in CASES[::9]])
def test_answer_through_worker_pool(category: str, gold: str, completion: str, want: float) -> None:
    assert score(gold, completion, reward=Math(workers=1)) == want


def test_missing_prompts_still_score_every_item() -> None:
    # The prompt serves only the echo rule; a caller that passes none still gets every verdict.
    assert INLINE.score([], ["\\boxed{4}", "\\boxed{5}"], answer=["4", "4"]) == [1.0, 0.0]
