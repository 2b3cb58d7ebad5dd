"""Source of a throw-away third-party plugin whose rewards misbehave on purpose.

Installed per test with :func:`hostile.harness.make_plugin` (module ``rk_hostile``), so the real
``rewardkit`` console script loads it through its entry point, as after ``pip install``.
"""

SOURCE = '''
import rewardkit
from rewardkit import text_of


class Returns(rewardkit.Reward):
    """Returns what `kind` says, whatever the batch."""

    name = "returns"
    kind: str = "ok"

    def score(self, prompts, completions, **columns):
        n = len(completions)
        if self.kind == "dict":
            return {i: 1.0 for i in range(n)}
        if self.kind == "str":
            return "1" * n
        if self.kind == "set":
            return set(range(n))
        if self.kind == "generator":
            return (1.0 for _ in range(n))
        if self.kind == "huge":
            return [1e39] * n
        if self.kind == "complex":
            return [1 + 2j] * n
        if self.kind == "strings":
            return ["0.5"] * n
        if self.kind == "short":
            return [1.0] * (n - 1)
        if self.kind == "numpy":
            import numpy as np

            return np.arange(n, dtype=np.float32)
        if self.kind == "bools":
            return [True] * n
        return [1.0] * n


class Mutator(rewardkit.Reward):
    """Edits every input it is given in place, then scores 0."""

    name = "mutator"

    def score(self, prompts, completions, **columns):
        for i, c in enumerate(completions):
            if isinstance(c, list):
                c[-1]["content"] = "MUTATED"
                c.append({"role": "user", "content": "extra"})
            else:
                completions[i] = "MUTATED"
        for values in columns.values():
            if isinstance(values, list):
                for v in values:
                    if isinstance(v, dict):
                        v["tag"] = "MUTATED"
                values.clear()
        completions.clear()
        return [0.0] * len(prompts)


class Echo(rewardkit.Reward):
    """The length of the completion text plus the length of the row's meta tag."""

    name = "echo"

    def score(self, prompts, completions, meta=None, **columns):
        meta = meta or [{}] * len(completions)
        return [float(len(text_of(c)) + len(str(m.get("tag", "")))) for c, m in zip(completions, meta)]


class Printer(rewardkit.Reward):
    """Prints to stdout while scoring (as a debugging user would)."""

    name = "printer"

    def score(self, prompts, completions, **columns):
        print("HELLO FROM A REWARD")
        return [1.0] * len(completions)


@rewardkit.hookimpl
def register_rewards(register):
    for cls in (Returns, Mutator, Echo, Printer):
        register(cls)
'''
