import pickle
from typing import Literal

import pytest
from fixture_plugin import EchoColumn, Exclaim
from pydantic import Field

import rewardkit
from rewardkit.reward import Reward
from rewardkit.testing import RewardContract


class TestExclaimContract(RewardContract):
    reward_class = Exclaim
    options = {"per_mark": 0.5}
    examples = [
        {"prompt": "p", "completion": "wow!!", "expected": 1.0},
        {"prompt": "p", "completion": "calm", "expected": 0.0},
    ]


class TestEchoContract(RewardContract):
    reward_class = EchoColumn
    examples = [
        {"prompt": "p", "completion": "a", "target": 0.25, "expected": 0.25},
        {"prompt": "p", "completion": "b", "target": "3", "expected": 3.0},
    ]


class Base(Reward):
    name = "base"
    alpha: float = 1.0
    mode: Literal["a", "b"] = "a"


class Child(Base):
    name = "child"
    beta: int = Field(2, ge=0, description="a count")

    def score(self, prompts, completions, **columns):
        return [self.alpha * self.beta] * len(completions)


def test_options_inherit_validate_and_coerce():
    r = Child(alpha="0.5", beta="3")
    assert (r.alpha, r.beta, r.mode) == (0.5, 3, "a")
    assert r.options == {"alpha": 0.5, "mode": "a", "beta": 3}
    assert Child().score(["p"], ["c"]) == [2.0]


def test_name_is_not_an_option():
    assert "name" not in Child.Options.model_fields


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"alpah": 1}, r"unknown option 'alpah'; did you mean 'alpha'\? \(options: alpha, mode, beta\)"),
        ({"beta": "many"}, r"option 'beta': .*integer.*got 'many'"),
        ({"beta": -1}, r"option 'beta': .*greater than or equal to 0"),
        ({"mode": "c"}, r"option 'mode': .*'a' or 'b'"),
    ],
)
def test_bad_options_one_line(kwargs, pattern):
    with pytest.raises(rewardkit.ConfigError, match=pattern) as e:
        Child(**kwargs)
    assert "\n" not in str(e.value)
    assert str(e.value).startswith("reward 'child': ")


def test_required_option():
    class Needs(Reward):
        name = "needs"
        path: str

    with pytest.raises(rewardkit.ConfigError, match="option 'path' is required"):
        Needs()
    assert Needs(path="x").path == "x"
    assert Needs.options_schema()["path"]["required"] is True


def test_options_schema():
    schema = Child.options_schema()
    assert schema["beta"] == {"type": "int", "default": 2, "required": False, "description": "a count"}
    assert schema["mode"]["default"] == "a"


def test_trainer_kwargs_are_opt_in():
    assert EchoColumn.accepted_trainer_kwargs() == {"trainer_state"}
    assert Exclaim.accepted_trainer_kwargs() == frozenset()


def test_setup_runs_at_construction_and_can_refuse():
    class Checked(Reward):
        name = "checked"
        limit: int = 1

        def setup(self):
            if self.limit > 5:
                raise rewardkit.ConfigError("option 'limit' must be at most 5")

    with pytest.raises(rewardkit.ConfigError, match="limit"):
        Checked(limit=6)


def test_unimplemented_score_says_which_class():
    with pytest.raises(NotImplementedError, match="Base.score"):
        Base().score([], [])


def test_instances_pickle_with_options():
    r = pickle.loads(pickle.dumps(Exclaim(per_mark=2.0)))
    assert r.per_mark == 2.0 and r.score(["p"], ["!!"]) == [4.0]
