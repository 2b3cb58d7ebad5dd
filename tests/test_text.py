import pytest

from rewardkit import text_of
from rewardkit.text import is_chat, texts_of


@pytest.mark.parametrize(
    "x, want",
    [
        ("plain", "plain"),
        (None, ""),
        ([], ""),
        ([{"role": "assistant", "content": "hi"}], "hi"),
        ([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "a"),
        ([{"role": "assistant", "content": [{"type": "text", "text": "x"}, {"type": "text", "text": "y"}]}], "xy"),
        ({"role": "assistant", "content": "single"}, "single"),
        ([{"role": "assistant", "content": None}], ""),
    ],
)
def test_text_of(x, want):
    assert text_of(x) == want


def test_text_of_rejects_other_types_with_the_value():
    with pytest.raises(TypeError, match="int"):
        text_of(3)


def test_texts_of_and_is_chat():
    assert texts_of(["a", [{"role": "assistant", "content": "b"}]]) == ["a", "b"]
    assert is_chat([{"role": "user", "content": ""}]) and not is_chat("x")
