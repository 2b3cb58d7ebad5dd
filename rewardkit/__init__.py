"""rewardkit: composable, trustworthy rewards for RL fine-tuning of language models.

>>> import rewardkit
>>> composite = rewardkit.load("rewards.yaml")            # doctest: +SKIP
>>> composite(prompts=[...], completions=[...], answer=[...])  # doctest: +SKIP
"""

from .compose import Breakdown, Composite, load
from .errors import ConfigError, DataError, PluginLoadError, RewardError, RewardkitError
from .hookspecs import hookimpl
from .model_reward import ModelLoadError, ModelReward
from .plugins import registry
from .reward import Reward
from .text import text_of

__version__ = "0.1.0"

__all__ = [
    "Breakdown",
    "Composite",
    "ConfigError",
    "DataError",
    "ModelLoadError",
    "ModelReward",
    "PluginLoadError",
    "Reward",
    "RewardError",
    "RewardkitError",
    "__version__",
    "hookimpl",
    "load",
    "registry",
    "text_of",
]
