"""The ``toxicity`` reward: Detoxify's probability that a completion is toxic.

The score is a probability in [0, 1]; give the component a negative weight to penalise it::

    rewards:
      - use: toxicity
        weight: -1.0
        with: {model_type: original, labels: [toxicity, insult, threat], combine: max}

The model loads once per process at config load (``setup``), and every instance with the same
load options shares it (:class:`rewardkit.ModelReward`; loading is :mod:`rewardkit_toxicity.models`). Scores equal
``Detoxify(...).predict(texts)`` for the same texts, up to float rounding from padding.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

import rewardkit
from rewardkit import ConfigError, text_of
from rewardkit.devices import resolve_device

from . import models

ModelType = Literal["original", "unbiased", "multilingual", "original-small", "unbiased-small"]


class Toxicity(rewardkit.ModelReward):
    """Detoxify's toxicity probability of each completion (weight it negatively)."""

    name = "toxicity"
    model_type: ModelType = Field("original", description=(
        "original | unbiased | multilingual | original-small | unbiased-small (ignored with checkpoint)"))
    checkpoint: str | None = Field(None, description="a local Detoxify .ckpt file (offline use)")
    huggingface_config_path: str | None = Field(None, description=(
        "a folder with the model's Hugging Face config and tokenizer (offline use)"))
    device: str = Field("cpu", description="cpu, cuda, cuda:1, mps, or auto")
    batch_size: int = Field(32, gt=0, description="texts per forward pass")
    labels: str | list[str] = Field("toxicity", description=(
        "the label(s) that count: one name, a list, or 'all' (the model's labels)"))
    combine: Literal["max", "mean"] = Field("max", description="how several labels combine")

    def setup(self) -> None:
        self._device = resolve_device(self.device, "reward 'toxicity'")
        super().setup()  # loads the model: a model that does not load fails at config load
        names = self.loaded.class_names
        wanted = list(names) if self.labels == "all" else (
            [self.labels] if isinstance(self.labels, str) else list(self.labels))
        if not wanted:
            raise ConfigError("reward 'toxicity': option 'labels' is empty; give at least one label")
        unknown = [lab for lab in wanted if lab not in names]
        if unknown:
            raise ConfigError(
                f"reward 'toxicity': option 'labels': {unknown[0]!r} is not a label of this model "
                f"(labels: {', '.join(names)}, or 'all')"
            )
        self._columns = [names.index(lab) for lab in wanted]

    def model_key(self) -> models.LoadKey:
        import os

        def absolute(p: str | None) -> str | None:
            return None if p is None else os.path.abspath(os.path.expanduser(p))

        hf_path = absolute(self.huggingface_config_path)
        if hf_path is not None and not os.path.isdir(hf_path):
            raise ConfigError(f"reward 'toxicity': option 'huggingface_config_path': {hf_path!r} is not a "
                              "folder (it holds the model's config.json and tokenizer files)")
        return models.LoadKey(model_type=self.model_type, checkpoint=absolute(self.checkpoint),
                              huggingface_config_path=hf_path, device=self._device)

    def load_model(self, key: models.LoadKey) -> models.Loaded:
        return models._load(key)

    def score(self, prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
        probs = models.predict(self.loaded, [text_of(c) for c in completions], self.batch_size)  # (N, C)
        chosen = probs[:, self._columns]  # (N, L)
        combined = chosen.max(dim=1).values if self.combine == "max" else chosen.mean(dim=1)  # (N,)
        return [float(v) for v in combined.tolist()]


@rewardkit.hookimpl
def register_rewards(register):
    register(Toxicity)
