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


# The regex the layout scanner replaced (quadratic on an unclosed <answer>): same verdicts on short texts.
# One fix: its `\S` was not guarded, so it could eat the `<` of a second `<answer>` and accept
# `<think></think><answer>x<answer></answer>`, against the documented "no repeated tags".
_OLD_LAYOUT = (r"\s*<think>(?:(?!</?think>).)*</think>\s*<answer>(?:(?!</?answer>).)*?(?!</?answer>)\S"
               r"(?:(?!</?answer>).)*</answer>\s*")


def test_layout_scanner_agrees_with_the_regex_it_replaced():
    import random
    import re

    old = re.compile(_OLD_LAYOUT, re.DOTALL)
    pieces = ["<think>", "</think>", "<answer>", "</answer>", " ", "\n", "x", "<", ">", "/"]
    rng = random.Random(0)
    r = Format()
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 9))) for _ in range(20000)]
    texts += ["<think>" + a + "</think>" + b + "<answer>" + c + "</answer>" + d
              for a in ("", "t", "<think>") for b in ("", " ", "x") for c in ("", " ", "y", "</answer>") for d in ("", "\n", "z")]
    for t in texts:
        assert r.score([""], [t]) == [1.0 if old.fullmatch(t) else 0.0], t


def test_an_unclosed_tag_on_a_long_completion_and_a_nested_quantifier_are_linear():
    long = "<think>a</think><answer>" + "x" * 400_000
    assert Format().score([""], [long]) == [0.0]
    assert Format(mode="partial").score([""], [long]) == [0.75]
    assert Format(pattern=r"(a+)+$").score([""], ["a" * 300_000 + "b"]) == [0.0]


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=a)a", r"(?<!x)y"])
def test_a_pattern_the_linear_engine_refuses_is_a_config_error(pattern):
    with pytest.raises(rewardkit.ConfigError, match="option 'pattern'.*RE2"):
        Format(pattern=pattern)


def test_the_call_budget_raises_a_reward_error(monkeypatch):
    import rewardkit_format

    clock = iter(range(0, 1000, 5))  # every reading of the clock is 5 s later
    monkeypatch.setattr(rewardkit_format.time, "monotonic", lambda: next(clock))
    with pytest.raises(rewardkit.RewardError, match="budget_s=10"):
        Format(budget_s=10).score([""] * 5, ["a"] * 5)


def test_flags_apply_to_the_pattern():
    assert Format(pattern="abc", flags=["IGNORECASE"]).score([""], ["ABC"]) == [1.0]
    assert Format(pattern="a.c", flags=[]).score([""], ["a\nc"]) == [0.0]
    assert Format(pattern="a.c").score([""], ["a\nc"]) == [1.0]
