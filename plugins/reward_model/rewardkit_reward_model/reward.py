"""The ``reward_model`` reward: a learned reward model's scalar output for each completion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

import rewardkit
from rewardkit import ConfigError
from rewardkit.devices import resolve_device
from rewardkit.stats import RunningStats
from rewardkit.text import TextOrChat

from . import modeling
from .formatting import render


class RewardModel(rewardkit.ModelReward):
    """Scores completions with a learned reward model (a one-output sequence classifier)."""

    name = "reward_model"
    cache = modeling.LOADED  # modeling.clear_cache() empties it with the networks and tokenizers
    model: str = Field(description="a local folder (or hub id) of an AutoModelForSequenceClassification with 1 output")
    max_length: int | None = Field(None, gt=0, description="truncate to this many tokens (default: the model's limit)")
    truncation_side: Literal["left", "right"] = Field("left", description="left keeps the end of the completion")
    batch_size: int = Field(32, gt=0, description="texts per forward pass")
    device: str = Field("auto", description="auto | cpu | cuda | cuda:N | mps")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="auto: bfloat16 on a CUDA GPU that supports it, else float32")
    separator: str = Field("", description="between prompt and completion when no chat template applies")
    normalize: Literal["none", "running", "fixed"] = Field(
        "none", description="none | running (mean/std of scores seen so far) | fixed ((r - offset) / scale)")
    offset: float = Field(0.0, description="normalize: fixed: subtracted from the raw reward")
    scale: float = Field(1.0, gt=0, description="normalize: fixed: the shifted reward is divided by it")

    def setup(self) -> None:
        if self.normalize != "fixed" and (self.offset != 0.0 or self.scale != 1.0):
            raise ConfigError(f"options 'offset'/'scale' need normalize: fixed, got normalize: {self.normalize}")
        self._stats = RunningStats()  # of every raw score seen, for normalize: running
        self._device = resolve_device(self.device, "reward 'reward_model'")
        super().setup()  # loads the model: a model that does not load fails at config load
        limit = self.loaded.max_positions
        if self.max_length is not None and limit is not None and self.max_length > limit:
            raise ConfigError(f"option 'max_length': {self.max_length} is above the model's limit of {limit} positions")

    def model_key(self) -> tuple[str, str, str, str]:
        return (modeling.key_path(self.model), self._device, self.dtype, self.truncation_side)

    def load_model(self, key: tuple[str, str, str, str]) -> modeling.Loaded:
        return modeling.load(self.model, device=self._device, dtype=self.dtype, truncation_side=self.truncation_side)

    @property
    def effective_max_length(self) -> int:
        """``max_length``, or the model's position limit (capped at 8192), or 1024."""
        if self.max_length is not None:
            return self.max_length
        limit = self.loaded.max_positions
        return min(limit, 8192) if limit else 1024

    def raw_scores(self, prompts: Sequence[TextOrChat], completions: Sequence[TextOrChat]) -> list[float]:
        """The model's rewards before normalization."""
        loaded = self.loaded
        items = [render(p, c, loaded.tokenizer, self.separator) for p, c in zip(prompts, completions)]
        ids = modeling.encode(loaded.tokenizer, items, self.effective_max_length)
        return modeling.score_ids(loaded.model, ids, pad_id=loaded.tokenizer.pad_token_id,
                                  batch_size=self.batch_size, device=loaded.device)

    def score(self, prompts: Sequence[TextOrChat], completions: Sequence[TextOrChat], **columns: Any) -> list[float | None]:
        if not completions:
            return []
        prompts = list(prompts) if prompts else [""] * len(completions)
        raw = self.raw_scores(prompts, completions)
        if self.normalize == "fixed":
            return [(r - self.offset) / self.scale for r in raw]
        if self.normalize == "running":
            return self._running(raw)
        return raw

    def _running(self, raw: list[float]) -> list[float]:
        # The statistics include this batch, so the first batch is standardised by itself.
        stats = self._stats
        for r in raw:
            stats.add(r)
        std = stats.std if stats.n > 1 and stats.std > 1e-8 else 1.0
        return [(r - stats.mean) / std for r in raw]
