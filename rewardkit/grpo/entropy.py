"""Entropy controls of TRL's GRPO: the high-entropy token pool across processes and the adaptive
entropy coefficient (Skywork-OR1), whose state travels in checkpoints so a resumed run is exact."""

from __future__ import annotations

import math
from typing import Any

import torch

# Entropies are >= 0, so a negative pad can never collide with a real value (TRL's sentinel).
_PAD = -1e9


def entropy_pool(d: Any, entropies: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Every process's masked-token entropies, for the ``top_entropy_quantile`` threshold.

    entropies, mask  # (n, T);  returns  # (M,) M = masked tokens on all processes
    """
    local = entropies[mask.bool()].float()  # (m,)
    if not d.enabled:
        return local
    size = int(d.all_gather(torch.tensor([local.numel()], device=local.device)).max())
    padded = torch.full((size,), _PAD, device=local.device)
    padded[:local.numel()] = local
    gathered = d.all_gather(padded)  # (world * size,)
    return gathered[gathered != _PAD]


class EntropyController:
    """TRL's entropy bonus coefficient: constant, or adapted once per optimizer step.

    Adaptive: the coefficient applies only while the last step's mean entropy is at or below
    ``entropy_target``; after each step it moves by ``entropy_coef_delta`` toward more bonus when the
    entropy was at or below the target and toward less otherwise, within [min, max].
    """

    def __init__(self, config: Any) -> None:
        self.config = config
        self.coef = float(config.entropy_coef)
        self.last_entropy = math.inf
        self.enabled = self.coef != 0.0 or config.use_adaptive_entropy

    def apply_coef(self) -> float:
        """The coefficient every micro-batch of the current step uses."""
        if self.config.use_adaptive_entropy:
            return self.coef if self.last_entropy <= self.config.entropy_target else 0.0
        return self.coef

    def end_step(self, entropy_sum: float, token_count: float) -> None:
        """Update from the step's entropy over the trained tokens (summed over micro-batches and processes)."""
        if not self.config.use_adaptive_entropy:
            return
        c = self.config
        entropy = entropy_sum / max(token_count, 1.0)
        if entropy <= c.entropy_target:
            self.coef = min(self.coef + c.entropy_coef_delta, c.entropy_coef_max)
        else:
            self.coef = max(self.coef - c.entropy_coef_delta, c.entropy_coef_min)
        self.last_entropy = entropy

    def state_dict(self) -> dict[str, float]:
        return {"entropy_coef": self.coef, "last_world_entropy": self.last_entropy}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.coef, self.last_entropy = float(state["entropy_coef"]), float(state["last_world_entropy"])
