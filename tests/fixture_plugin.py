"""A real, deterministic plugin used by the core tests (registered by conftest.py)."""

from __future__ import annotations

import time

import rewardkit


class Exclaim(rewardkit.Reward):
    """Counts exclamation marks (a deterministic reward for tests)."""

    name = "exclaim"
    per_mark: float = 1.0
    cap: int = 10

    def score(self, prompts, completions, **columns):
        return [self.per_mark * min(rewardkit.text_of(c).count("!"), self.cap) for c in completions]


class Flaky(rewardkit.Reward):
    """Raises on completions containing 'boom', sleeps on 'hang', None on 'n/a'."""

    name = "flaky"

    def score(self, prompts, completions, **columns):
        out = []
        for c in completions:
            text = rewardkit.text_of(c)
            if "boom" in text:
                raise ZeroDivisionError("boom")
            if "hang" in text:
                time.sleep(5)
            out.append(None if "n/a" in text else 1.0)
        return out


class EchoColumn(rewardkit.Reward):
    """Scores the float value of a column; records the trainer kwargs it was given."""

    name = "echo_column"
    column: str = "target"

    def score(self, prompts, completions, trainer_state=None, **columns):
        if self.column not in columns:
            raise rewardkit.DataError(f"column '{self.column}' is missing")
        self.last_trainer_state = trainer_state
        self.last_columns = sorted(columns)
        return [float(v) for v in columns[self.column]]


@rewardkit.hookimpl
def register_rewards(register):
    register(Exclaim)
    register(Flaky)
    register(EchoColumn)
