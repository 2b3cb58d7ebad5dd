"""The rewardkit conformance suite on the math reward (in-process and through the worker pool)."""

from __future__ import annotations

from rewardkit_math import Math

from rewardkit.testing import RewardContract

EXAMPLES = [
    {"prompt": "What is 1/2 + 1/4?", "completion": "Adding, $\\frac12+\\frac14=\\boxed{\\frac{3}{4}}$.",
     "answer": "\\frac{3}{4}", "expected": 1.0},
    {"prompt": "How many eggs?", "completion": "16 - 3 - 4 = 9 eggs, sold at $2: 18.\n#### 18",
     "answer": "18", "expected": 1.0},
    {"prompt": "Solve x^2 = 4.", "completion": "So $x = \\boxed{\\pm 2}$.", "answer": "-2, 2", "expected": 1.0},
    {"prompt": "Simplify.", "completion": "The answer is $x^2+2x+1$.", "answer": "(x+1)^2", "expected": 1.0},
    {"prompt": "Which?", "completion": "It is \\boxed{3} or \\boxed{4}.", "answer": "3", "expected": 0.0},
    {"prompt": "What is 2+2?", "completion": "I think \\boxed{5}.", "answer": "4", "expected": 0.0},
    {"prompt": "No reference.", "completion": "\\boxed{1}", "answer": None, "expected": None},
]


class TestMathContract(RewardContract):
    reward_class = Math
    options = {"workers": 0}
    examples = EXAMPLES
    registered_name = "math"


class TestMathPooledContract(RewardContract):
    reward_class = Math
    options = {"workers": 2, "timeout": 10.0}
    examples = EXAMPLES
