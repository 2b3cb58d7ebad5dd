import pickle

import pytest
from rewardkit_length import Length

import rewardkit
from rewardkit.testing import RewardContract


class TestLengthContract(RewardContract):
    reward_class = Length
    registered_name = "length"
    options = {"mode": "shorter", "unit": "words", "max_tokens": 4}
    examples = [
        {"prompt": "p", "completion": "", "expected": 1.0},
        {"prompt": "p", "completion": "one", "expected": 0.75},
        {"prompt": "p", "completion": "one two three four five", "expected": 0.0},
    ]


@pytest.mark.parametrize(
    "unit, text, n",
    [("chars", "hello world", 11), ("words", "hello  big\nworld", 3), ("tokens", "x = 3, y!", 6)],
)
def test_units(unit, text, n):
    assert Length(unit=unit).measure(text) == n


@pytest.mark.parametrize(
    "length, want",
    [(0, 0.0), (1, 0.0), (2, 0.5), (3, 1.0), (5, 1.0), (6, 0.5), (7, 0.0), (20, 0.0)],
)
def test_band_decays_linearly_over_buffer(length, want):
    r = Length(mode="band", min_tokens=3, max_tokens=5, buffer=2)
    assert r.value(length) == pytest.approx(want)


def test_band_without_buffer_is_a_hard_edge():
    r = Length(mode="band", min_tokens=3, max_tokens=5)
    assert [r.value(n) for n in (2, 3, 5, 6)] == [0.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize("length, want", [(10, 0.0), (12, 0.0), (14, -0.5), (16, -1.0), (30, -1.0)])
def test_overlong_matches_dapo(length, want):
    # DAPO eq. 13 with L_max = 16, L_cache = 4: zero up to 12, linear to -1 at 16.
    assert Length(mode="overlong", max_tokens=16, buffer=4).value(length) == pytest.approx(want)


def test_completion_ids_give_the_policy_token_count():
    r = Length(mode="shorter", max_tokens=10)
    out = r.score(["p", "p"], ["a b c d e f g h i j k", "x"], completion_ids=[[1, 2], [1] * 10])
    assert out == [pytest.approx(0.8), 0.0]


def test_tokenizer_counts_with_a_real_tokenizer(tmp_path):
    from rewardkit.models import tiny

    tiny.save(tmp_path / "tok", tokenizer=tiny.char_tokenizer())
    r = Length(unit="tokens", max_tokens=10, tokenizer=str(tmp_path / "tok"))
    assert r.measure("abc 12") == 6  # one token per character
    clone = pickle.loads(pickle.dumps(r))
    assert clone.measure("abc 12") == 6


@pytest.mark.parametrize(
    "options, needle",
    [
        ({"mode": "band", "min_tokens": 9, "max_tokens": 3}, "min_tokens"),
        ({"mode": "sideways"}, "mode"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"tokenizer": "/nonexistent/tokenizer"}, "tokenizer"),
        ({"unit": "words", "tokenizer": "x"}, "tokenizer"),
    ],
)
def test_bad_options_name_the_option(options, needle):
    with pytest.raises(rewardkit.ConfigError, match=needle):
        Length(**options)


def test_options_are_coerced_where_safe():
    assert Length(max_tokens="12").max_tokens == 12
