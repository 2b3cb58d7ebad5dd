"""Reference-model and dropout options of TRL's GRPO: ``sync_ref_model`` (TR-DPO's mixup) and
``disable_dropout``."""

from __future__ import annotations

from typing import Any

import torch


@torch.no_grad()
def mix_into_reference(policy: Any, ref_model: Any, alpha: float) -> None:
    """``ref = alpha * policy + (1 - alpha) * ref``, parameter by parameter (TRL's ``SyncRefModelCallback``)."""
    for ref_p, p in zip(ref_model.parameters(), policy.parameters(), strict=True):
        ref_p.mul_(1.0 - alpha).add_(p.detach(), alpha=alpha)


def disable_dropout(model: Any) -> None:
    """Every ``nn.Dropout`` to p=0, as TRL's ``disable_dropout_in_model``."""
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
