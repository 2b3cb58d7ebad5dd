"""Finding the final answer: methods, their order, nesting, hedging, and what gets no credit."""

from __future__ import annotations

import pytest
from rewardkit_math import Math
from rewardkit_math.extract import extract

from rewardkit import ConfigError

INLINE = Math(workers=0)


def score(gold: str, completion: str, reward: Math = INLINE, prompt: str = "") -> float | None:
    return reward.score([prompt], [completion], answer=[gold])[0]


@pytest.mark.parametrize("completion,answer,method", [
    ("So $x = \\boxed{\\frac{\\sqrt{2}}{2}}$.", "\\frac{\\sqrt{2}}{2}", "boxed"),
    ("We get \\fbox{12}, done.", "12", "boxed"),
    ("Thus \\boxed{\\left\\{ 1, \\frac{1}{2} \\right\\}}.", "\\left\\{ 1, \\frac{1}{2} \\right\\}", "boxed"),
    ("Adding, 3 + 4 = 7. The answer is 7.", "7", "answer_is"),
    ("Adding up.\nFinal answer: $\\frac{5}{2}$", "\\frac{5}{2}", "final_answer"),
    ("She earns 9 * 2 = 18 dollars.\n#### 18", "18", "hashes"),
    ("Q: how many?\nA: 24", "24", "a_colon"),
    ("Half of 50 is 25, plus 10 gives 35 apples", "35", "last_number"),
    ("The total is 1,250 dollars", "1,250", "last_number"),
])
def test_methods(completion: str, answer: str, method: str) -> None:
    got = extract(completion)
    assert (got.answer, got.method) == (answer, method)


def test_last_box_wins_over_earlier_working() -> None:
    text = "Try \\boxed{x} as a placeholder? No: the value is $\\boxed{5}$ since 2 + 3 = 5."
    assert extract(text).answer == "5"
    assert score("5", "First $\\boxed{5}$ and again, to be sure, $\\boxed{5}$.") == 1.0


def test_configurable_order() -> None:
    text = "The answer is 4.\n#### 5"
    assert score("4", text) == 1.0  # default order: answer_is before hashes
    hashes_first = Math(workers=0, extract=["hashes", "answer_is"])
    assert score("5", text, hashes_first) == 1.0
    only_boxed = Math(workers=0, extract=["boxed"])
    assert score("4", text, only_boxed) == 0.0  # no box: no answer


def test_bad_extract_option() -> None:
    with pytest.raises(ConfigError, match="extract"):
        Math(extract=[])
    with pytest.raises(ConfigError, match="twice"):
        Math(extract=["boxed", "boxed"])
    with pytest.raises(ConfigError, match="extract"):
        Math(extract=["boxd"])


def test_prompt_is_never_searched() -> None:
    prompt = "What is 2 + 3? Put the final answer in \\boxed{}. For example \\boxed{5}."
    assert score("5", "I am not sure.", prompt=prompt) == 0.0
    chat_prompt = [{"role": "user", "content": prompt}]
    assert INLINE.score([chat_prompt], ["no idea"], answer=["5"]) == [0.0]


@pytest.mark.parametrize("completion", [
    "It could be $\\boxed{3}$ or maybe $\\boxed{4}$.",  # two different final answers
    "The answer is $\\boxed{3 \\text{ or } 4}$.",
    "The answer is 3 or 4.",
    "The candidates are \\boxed{2, 3, 4}.",  # a list where one value is asked
    "Final answer: \\boxed{}",  # empty box
    "Final answer: \\boxed{ }",
    "The answer is \\boxed{3",  # a truncated box cannot be read
])
def test_hedging_and_empty_get_no_credit(completion: str) -> None:
    assert score("3", completion) == 0.0


def test_repeated_same_answer_is_not_hedging() -> None:
    assert score("\\frac12", "So $\\boxed{\\frac{1}{2}}$, i.e. $\\boxed{0.5}$.") == 1.0


def test_two_part_answer_still_matches_two_part_gold() -> None:
    assert score("3, 4", "The roots are \\boxed{3, 4}.") == 1.0
    assert score("x = 1 \\text{ or } x = 2", "So \\boxed{x=1 \\text{ or } x=2}") == 1.0


def test_long_completion_only_tail_is_read() -> None:
    text = "12 " * 400_000 + "so the answer is \\boxed{7}"  # 1.2 MB
    assert score("7", text) == 1.0
    assert score("12", "\\boxed{12}" + " filler" * 10_000, Math(workers=0, max_completion_chars=1000)) == 0.0


def test_chat_completion() -> None:
    chat = [{"role": "assistant", "content": "2 + 2 = 4, so \\boxed{4}"}]
    assert INLINE.score([""], [chat], answer=["4"]) == [1.0]
