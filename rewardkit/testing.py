"""A conformance suite every reward's tests subclass (as langchain's standard-tests).

::

    from rewardkit.testing import RewardContract

    class TestShoutingContract(RewardContract):
        reward_class = Shouting
        options = {"factor": 2.0}
        examples = [
            {"prompt": "hi", "completion": "HELLO", "expected": 2.0},
            {"prompt": "hi", "completion": "hello", "expected": 0.0},
        ]

Each example is a row: ``prompt``, ``completion``, any column the reward reads, and optionally
``expected`` (the score, or None). pytest collects the subclass and runs every check below.
"""

from __future__ import annotations

import inspect
import json
import math
import pickle
from typing import Any, ClassVar

from .compose import Component, Composite
from .errors import ConfigError
from .reward import Reward
from .rows import ROW_FIELDS, columns_from_rows

_ROW_KEYS = ("prompt", "completion", "expected")


class _Constant(Reward):
    name = "rewardkit-testing-constant"
    value: float = 1.0

    def score(self, prompts, completions, **columns):
        return [self.value] * len(completions)


class RewardContract:
    """Checks the contract of SPEC.md on one reward class. Subclass it in a ``Test*`` class."""

    reward_class: ClassVar[type[Reward]]
    options: ClassVar[dict[str, Any]] = {}
    examples: ClassVar[list[dict[str, Any]]] = []
    #: Set False where chat input legitimately scores differently (a chat template applied).
    chat_equivalent: ClassVar[bool] = True
    #: The name the reward must be registered under through its entry point; None skips that check.
    registered_name: ClassVar[str | None] = None
    abs_tol: ClassVar[float] = 1e-6

    # -- helpers ------------------------------------------------------------------------------

    def make(self) -> Reward:
        return self.reward_class(**self.options)

    def batch(self, chat: bool = False) -> tuple[list[Any], list[Any], dict[str, list[Any]]]:
        assert self.examples, f"{type(self).__name__}.examples is empty: give at least two rows"
        prompts, completions, columns = columns_from_rows(
            [{k: v for k, v in r.items() if k in ROW_FIELDS or k not in _ROW_KEYS} for r in self.examples])
        if chat:
            prompts = [[{"role": "user", "content": p}] for p in prompts]
            completions = [[{"role": "assistant", "content": c}] for c in completions]
        return prompts, completions, columns

    def assert_scores_close(self, got: list[Any], want: list[Any]) -> None:
        assert len(got) == len(want)
        for i, (g, w) in enumerate(zip(got, want)):
            if w is None or g is None:
                assert g is w, f"row {i}: got {g!r}, expected {w!r}"
            else:
                assert math.isclose(g, w, abs_tol=self.abs_tol, rel_tol=1e-6), f"row {i}: got {g}, expected {w}"

    # -- the contract -------------------------------------------------------------------------

    def test_name_is_plain_class_attribute(self) -> None:
        name = self.reward_class.__dict__.get("name")
        assert isinstance(name, str) and name, "the reward class needs a plain string `name`"
        assert "name" not in inspect.get_annotations(self.reward_class), (
            "`name` must not be annotated: it is not an option"
        )

    def test_registered_through_entry_point(self) -> None:
        if self.registered_name is None:
            return
        from .plugins import Registry

        reg = Registry()  # a fresh registry: discovers entry points like a new process would
        assert reg.get(self.registered_name) is self.reward_class

    def test_one_output_per_input(self) -> None:
        prompts, completions, columns = self.batch()
        out = self.make().score(prompts, completions, **columns)
        assert len(out) == len(completions)
        for v in out:
            assert v is None or (isinstance(v, float) and math.isfinite(v)), f"{v!r} is not a float or None"

    def test_expected_scores(self) -> None:
        rows = [r for r in self.examples if "expected" in r]
        if not rows:
            return
        prompts, completions, columns = self.batch()
        out = self.make().score(prompts, completions, **columns)
        idx = [i for i, r in enumerate(self.examples) if "expected" in r]
        self.assert_scores_close([out[i] for i in idx], [self.examples[i]["expected"] for i in idx])

    def test_empty_batch(self) -> None:
        _, _, columns = self.batch()
        assert list(self.make().score([], [], **{k: [] for k in columns})) == []

    def test_deterministic(self) -> None:
        prompts, completions, columns = self.batch()
        reward = self.make()
        self.assert_scores_close(reward.score(prompts, completions, **columns),
                                 reward.score(prompts, completions, **columns))

    def test_picklable(self) -> None:
        # TRL and multiprocessing pickle reward functions.
        prompts, completions, columns = self.batch()
        reward = self.make()
        clone = pickle.loads(pickle.dumps(reward))
        self.assert_scores_close(clone.score(prompts, completions, **columns),
                                 reward.score(prompts, completions, **columns))

    def test_chat_input(self) -> None:
        prompts, completions, columns = self.batch()
        cprompts, ccompletions, _ = self.batch(chat=True)
        reward = self.make()
        chat = reward.score(cprompts, ccompletions, **columns)
        assert len(chat) == len(completions)
        if self.chat_equivalent:
            self.assert_scores_close(chat, reward.score(prompts, completions, **columns))

    def test_none_left_out_of_composite_sum(self) -> None:
        prompts, completions, columns = self.batch()
        reward = self.make()
        raw = reward.score(prompts, completions, **columns)
        composite = Composite([Component("r", 2.0, reward), Component("c", 0.5, _Constant(value=1.0))])
        totals = composite(prompts=prompts, completions=completions, **columns)
        want = [0.5 + (2.0 * s if s is not None else 0.0) for s in raw]
        self.assert_scores_close(totals, want)

    def test_unknown_option_refused(self) -> None:
        try:
            self.reward_class(**{**self.options, "no_such_option_xyz": 1})
        except ConfigError as e:
            assert "no_such_option_xyz" in str(e)
        else:
            raise AssertionError("an unknown option was accepted")

    def test_options_schema_is_json(self) -> None:
        json.dumps(self.reward_class.options_schema())
