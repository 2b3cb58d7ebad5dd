"""rewardkit-reward-model: the ``reward_model`` reward and the ``rewardkit rm train`` command.

Torch and transformers are imported only when a model is loaded or trained, so listing plugins
(``rewardkit plugins``) stays fast.
"""

from __future__ import annotations

from typing import Any

import rewardkit

from .reward import RewardModel

__all__ = ["RewardModel"]


@rewardkit.hookimpl
def register_rewards(register):
    register(RewardModel)


@rewardkit.hookimpl
def register_commands(subparsers: Any) -> None:
    from .cli import add_parser

    add_parser(subparsers)
