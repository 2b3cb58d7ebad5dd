"""``rewardkit demo``: GRPO on small-integer addition with a tiny model, on CPU, in minutes.

>>> from rewardkit.demo import DemoSettings, run_demo
>>> summary = run_demo(DemoSettings(steps=1000, output_dir="runs/demo"))  # doctest: +SKIP
>>> summary["before"]["accuracy"], summary["after"]["accuracy"]  # doctest: +SKIP

Only the standard library is imported here; torch and transformers load when the demo runs.
"""

from .run import DemoSettings, run_demo

__all__ = ["DemoSettings", "run_demo"]
