"""An example third-party rewardkit plugin: the SPEC.md example, packaged."""

import rewardkit


class Shouting(rewardkit.Reward):
    """1.0 (times `factor`) for a completion written entirely in capitals."""

    name = "shouting"
    factor: float = 1.0

    def score(self, prompts, completions, **columns):
        # one float (or None: "does not apply") per completion
        return [self.factor * float(rewardkit.text_of(c).isupper()) for c in completions]


@rewardkit.hookimpl
def register_rewards(register):
    register(Shouting)
