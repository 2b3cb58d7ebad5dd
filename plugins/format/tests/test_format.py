import pytest
from rewardkit_format import Format

import rewardkit
from rewardkit.testing import RewardContract

GOOD = "<think>\n7 * 6 = 42\n</think>\n<answer>\n42\n</answer>"


class TestFormatContract(RewardContract):
    reward_class = Format
    registered_name = "format"
    examples = [
        {"prompt": "What is 7*6?", "completion": GOOD, "expected": 1.0},
        {"prompt": "What is 7*6?", "completion": "The answer is 42.", "expected": 0.0},
        {"prompt": "What is 7*6?", "completion": "<think>x</think><answer>42</answer> trailing", "expected": 0.0},
    ]


class TestFormatPartialContract(RewardContract):
    reward_class = Format
    options = {"mode": "partial"}
    examples = [
        {"prompt": "q", "completion": GOOD, "expected": 1.0},
        {"prompt": "q", "completion": "<think>only thinking</think>", "expected": 0.5},
        {"prompt": "q", "completion": "no tags", "expected": 0.0},
    ]


@pytest.mark.parametrize(
    "text, want",
    [
        (GOOD, 1.0),
        ("<think>a</think><answer>b</answer>", 1.0),
        ("  <think>a</think>\n\n<answer>b</answer>\n", 1.0),
        ("<think>a</think><answer></answer>", 0.0),  # empty answer
        ("<think>a</think><answer>b</answer><answer>c</answer>", 0.0),  # two answers
        ("<think>a<think>b</think></think><answer>c</answer>", 0.0),  # nested
        ("<answer>b</answer><think>a</think>", 0.0),  # wrong order
        ("prefix <think>a</think><answer>b</answer>", 0.0),
    ],
)
def test_strict_layout(text, want):
    assert Format().score([""], [text]) == [want]


@pytest.mark.parametrize(
    "text, want",
    [
        ("<think>a</think><answer>b</answer> extra", 1.0),  # all four tags once, in order
        ("<think>a</think>", 0.5),
        ("</think><think>", 0.25),  # out of order: only the first counts
        ("<think><think></think>", 0.25),  # repeated opening tag earns nothing
    ],
)
def test_partial_tag_credit(text, want):
    assert Format(mode="partial").score([""], [text]) == [want]


def test_think_in_prompt():
    r = Format(think_in_prompt=True)
    assert r.score([""], ["reasoning</think><answer>5</answer>"]) == [1.0]


def test_custom_pattern_strict_and_partial():
    strict = Format(pattern=r".*\\boxed\{.+\}")
    partial = Format(pattern=r"\\boxed\{\d+\}", mode="partial")
    texts = ["so \\boxed{12}", "no box", "\\boxed{12} and more"]
    assert strict.score([""] * 3, texts) == [1.0, 0.0, 0.0]
    assert partial.score([""] * 3, texts) == [0.5, 0.0, 0.5]


def test_custom_tags():
    r = Format(think_tag="reasoning", answer_tag="final")
    assert r.score([""], ["<reasoning>r</reasoning><final>f</final>"]) == [1.0]


def test_bad_regex_is_a_config_error():
    with pytest.raises(rewardkit.ConfigError, match="option 'pattern'"):
        Format(pattern="(unclosed")
