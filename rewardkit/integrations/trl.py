"""TRL adapter: one reward function per component, with the weights, for ``GRPOTrainer``.

::

    funcs, weights = rewardkit.integrations.trl.reward_funcs("rewards.yaml")
    trainer = GRPOTrainer(model=..., reward_funcs=funcs,
                          args=GRPOConfig(reward_weights=weights, ...), train_dataset=...)

TRL logs each function under its ``__name__``: ``rewards/<label>/mean``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ..compose import Component, Composite, load


class ComponentRewardFunc:
    """A TRL reward function for one component; picklable, named by the component's label."""

    def __init__(self, component: Component):
        self.component = component
        self.__name__ = component.label

    def __call__(self, prompts: Any = None, completions: Any = None, **kwargs: Any) -> list[float | None]:
        # The single-component composite applies the same validation and on_error policy.
        return Composite([self.component]).score_components(prompts, completions, **kwargs)[
            self.component.label
        ]

    def __repr__(self) -> str:
        return f"<rewardkit reward function {self.__name__!r}>"


def reward_funcs(
    config: str | os.PathLike[str] | Mapping[str, Any] | Composite,
) -> tuple[list[Callable[..., list[float | None]]], list[float]]:
    """``(funcs, weights)`` for ``GRPOTrainer(reward_funcs=funcs, args=GRPOConfig(reward_weights=weights))``.

    A component that returns None for a row ("does not apply") is left out of TRL's weighted
    sum for that row, exactly as rewardkit's own composite does.
    """
    composite = config if isinstance(config, Composite) else load(config)
    funcs: list[Callable[..., list[float | None]]] = [ComponentRewardFunc(c) for c in composite.components]
    return funcs, list(composite.weights)
