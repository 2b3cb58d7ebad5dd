import logging
import math
import pickle

import pytest
from fixture_plugin import EchoColumn, Exclaim, Flaky

import rewardkit
from rewardkit.compose import Component, Composite


def test_weighted_sum_and_breakdown():
    c = rewardkit.load({"rewards": [
        {"use": "exclaim", "weight": 2.0, "as": "bang"},
        {"use": "length", "weight": -0.5, "with": {"unit": "chars", "max_tokens": 10}},
    ]})
    completions = ["hi!", "!!!!!!!!!!"]
    b = c.breakdown(prompts=["p", "p"], completions=completions)
    assert b["bang"] == [1.0, 10.0]
    assert b["length"] == [pytest.approx(0.7), 0.0]
    assert b.total == [pytest.approx(2 - 0.35), 20.0]
    assert b.components.keys() == {"bang", "length"}
    assert c(prompts=["p", "p"], completions=completions) == b.total
    assert c.labels == ["bang", "length"] and c.weights == [2.0, -0.5]


def test_none_is_left_out_of_the_sum_like_trl_nansum():
    c = rewardkit.load({"rewards": [{"use": "flaky", "weight": 3.0}, {"use": "exclaim", "weight": 1.0}]})
    b = c.breakdown(prompts=["p"] * 2, completions=["n/a!", "ok!"])
    assert b["flaky"] == [None, 1.0]
    assert b.total == [1.0, 4.0]


def test_all_none_row_is_unscorable():
    # TRL 1.16's rule (docs/rows.md): a row every component gave None has no total, not 0.0.
    c = rewardkit.load({"rewards": [{"use": "flaky"}]})
    assert c(prompts=["p", "p"], completions=["n/a", "ok"]) == [None, 1.0]


def test_prompts_default_and_length_checks():
    c = rewardkit.load({"rewards": ["exclaim"]})
    assert c(completions=["!"]) == [1.0]
    with pytest.raises(ValueError, match="2 prompts for 1 completions"):
        c(prompts=["a", "b"], completions=["!"])
    with pytest.raises(ValueError, match="column 'answer' has 2 values for 1 completions"):
        c(completions=["!"], answer=["1", "2"])
    assert c(prompts=[], completions=[]) == []


def test_chat_messages_reach_rewards_unchanged():
    c = rewardkit.load({"rewards": ["exclaim"]})
    assert c(prompts=[[{"role": "user", "content": "q"}]], completions=[[{"role": "assistant", "content": "yes!!"}]]) == [2.0]


def test_columns_reach_every_reward_and_trainer_kwargs_only_those_that_ask():
    echo = EchoColumn()
    c = Composite([Component("echo", 1.0, echo), Component("bang", 1.0, Exclaim())])
    out = c(prompts=["p"], completions=["!"], target=[2.5], answer=["x"], trainer_state="STATE", completion_ids=[[1]])
    assert out == [3.5]
    assert echo.last_trainer_state == "STATE"
    assert echo.last_columns == ["answer", "target"]  # completion_ids not requested: not passed


@pytest.mark.parametrize("policy, want", [("zero", [1.0, 0.0, 1.0]), ("skip", [1.0, None, 1.0])])
def test_on_error_policy_isolates_the_failing_row(policy, want, caplog):
    c = rewardkit.load({"rewards": [{"use": "flaky", "as": "f"}], "on_error": policy})
    with caplog.at_level(logging.WARNING, logger="rewardkit"):
        b = c.breakdown(prompts=["p"] * 3, completions=["a", "boom", "c"])
    assert b["f"] == want
    assert "reward 'f' (flaky) raised on row 1: ZeroDivisionError: boom" in caplog.text
    assert c.errors["f"] == 1


def test_on_error_raise_names_component_and_row():
    c = rewardkit.load({"rewards": [{"use": "flaky", "as": "f"}]})
    with pytest.raises(rewardkit.RewardError, match=r"reward 'f' \(flaky\) raised on row 2: ZeroDivisionError") as e:
        c(prompts=["p"] * 3, completions=["a", "b", "boom"])
    assert (e.value.label, e.value.row) == ("f", 2)


def test_timeout_applies_policy_to_the_batch_without_hanging():
    c = rewardkit.load({"rewards": [{"use": "flaky", "timeout": 0.2}, {"use": "exclaim"}], "on_error": "skip"})
    b = c.breakdown(completions=["hang", "x!"])
    assert b["flaky"] == [None, None] and b.total == [0.0, 1.0]
    strict = rewardkit.load({"rewards": [{"use": "flaky", "timeout": 0.2}]})
    with pytest.raises(rewardkit.RewardError, match=r"timed out after 0.2s on a batch of 1"):
        strict(completions=["hang"])


class Bad(rewardkit.Reward):
    name = "bad"
    out: str = "short"

    def score(self, prompts, completions, **columns):
        return {
            "short": [1.0] * (len(completions) - 1),
            "text": ["high"] * len(completions),
            "nan": [math.nan] * len(completions),
            "inf": [math.inf] * len(completions),
            "scalar": 1.0,
            "ints": [1] * len(completions),
        }[self.out]


@pytest.mark.parametrize(
    "out, pattern",
    [("short", r"returned 1 scores for 2 completions"), ("text", r"returned 'high' for row 0"),
     ("inf", r"returned inf for row 0"), ("scalar", r"returned float, expected a list of 2 floats")],
)
def test_bad_outputs_are_reward_errors(out, pattern):
    c = Composite([Component("b", 1.0, Bad(out=out), use="bad")])
    with pytest.raises(rewardkit.RewardError, match=pattern):
        c(completions=["x", "y"])


def test_nan_means_none_and_ints_are_floats():
    assert Composite([Component("b", 1.0, Bad(out="nan"))]).breakdown(completions=["x", "y"])["b"] == [None, None]
    assert Composite([Component("b", 1.0, Bad(out="ints"))])(completions=["x", "y"]) == [1.0, 1.0]


def test_composite_pickles():
    c = rewardkit.load({"rewards": [{"use": "exclaim", "weight": 2}, "length"]})
    clone = pickle.loads(pickle.dumps(c))
    assert clone(completions=["a!"]) == c(completions=["a!"])


def test_unknown_reward_did_you_mean():
    with pytest.raises(rewardkit.ConfigError, match=r"<dict>, entry 1: reward 'exclaimm' is not registered; did you mean 'exclaim'\? \(rewardkit plugins lists them\)"):
        rewardkit.load({"rewards": ["exclaimm"]})


def test_dotted_typo_suggests_the_reward():
    with pytest.raises(rewardkit.ConfigError, match=r"reward 'length.acuracy' is not registered; did you mean 'length'\?"):
        rewardkit.load({"rewards": ["length.acuracy"]})


def test_option_errors_name_entry_and_option(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("rewards:\n  - use: length\n  - use: exclaim\n    with: {per_mrk: 2}\n")
    with pytest.raises(rewardkit.ConfigError, match=r"r.yaml, entry 2 \(line 3\) \(exclaim\): reward 'exclaim': unknown option 'per_mrk'; did you mean 'per_mark'\?"):
        rewardkit.load(p)


def test_getitem_by_label():
    c = rewardkit.load({"rewards": [{"use": "exclaim", "as": "e"}]})
    assert isinstance(c["e"].reward, Exclaim)
    with pytest.raises(KeyError):
        c["nope"]


def test_flaky_batch_without_error_is_not_retried_row_by_row():
    calls = []

    class Counting(Flaky):
        name = "counting"

        def score(self, prompts, completions, **columns):
            calls.append(len(completions))
            return super().score(prompts, completions, **columns)

    c = Composite([Component("c", 1.0, Counting(), on_error="zero")])
    c(completions=["a", "b"])
    c(completions=["a", "boom"])
    assert calls == [2, 2, 1, 1]
