"""The ``rewardkit rm train`` configuration: a YAML file validated into :class:`RewardModelTrainConfig`.

Paths in the file (``model``, ``data``, ``eval_data``, ``output_dir``, a tokenizer folder) are
relative to the folder of the config file. Every problem is a :class:`rewardkit.ConfigError` with one
line naming the file, the line and key, and what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import AliasChoices, ConfigDict, Field

from rewardkit import ConfigError


class FromConfig(pydantic.BaseModel):
    """A fresh, randomly initialised classifier built from a config (tests, demos, baselines)."""

    model_config = ConfigDict(extra="forbid")
    arch: Literal["bert", "qwen2"] = "bert"
    tokenizer: str = Field("word", description="word (learned from the data) | char | a tokenizer folder")
    hidden_size: int = Field(64, gt=0)
    num_layers: int = Field(2, gt=0)
    num_heads: int = Field(2, gt=0)
    vocab_size: int = Field(4000, gt=0, description="word tokenizer: the most words it keeps")


class NewModel(pydantic.BaseModel):
    """``model: {from_config: {...}}``: train a fresh model rather than fine-tune a saved one."""

    model_config = ConfigDict(extra="forbid")
    from_config: FromConfig


class RewardModelTrainConfig(pydantic.BaseModel):
    """Everything ``rm train`` needs. Hyper-parameter names follow TRL's ``RewardConfig``."""

    # allow_inf_nan=False: `learning_rate: .inf` is a config error, not a run of NaN weights.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)
    model: str | NewModel
    data: Path
    eval_data: Path | None = None
    eval_split: float = Field(0.1, ge=0.0, lt=1.0, description="held-out share of data when no eval_data")
    output_dir: Path
    max_length: int = Field(512, gt=0, le=1 << 20)
    learning_rate: float = Field(5e-5, gt=0, validation_alias=AliasChoices("learning_rate", "lr"))
    num_train_epochs: int = Field(1, gt=0, le=10**6, validation_alias=AliasChoices("num_train_epochs", "epochs"))
    batch_size: int = Field(8, gt=0, validation_alias=AliasChoices(
        "batch_size", "per_device_train_batch_size"))
    eval_batch_size: int = Field(32, gt=0)
    seed: int = Field(0, ge=0, lt=2**32)
    weight_decay: float = Field(0.0, ge=0)
    warmup_ratio: float = Field(0.0, ge=0, le=1)
    max_grad_norm: float | None = Field(1.0, gt=0)
    center_rewards_coefficient: float | None = Field(None, ge=0)
    eval_steps: int | None = Field(None, gt=0, description="evaluate every N steps (default: each epoch end)")
    save_steps: int | None = Field(None, gt=0, description="also save checkpoint-N every N steps (default: final model only)")
    separator: str = ""
    truncation_side: Literal["left", "right"] = "left"
    device: str = "auto"
    dtype: Literal["float32", "bfloat16"] = "float32"


# The old name, kept one release: it clashed with the GRPO trainer's ``rewardkit.grpo.TrainConfig``.
TrainConfig = RewardModelTrainConfig


def load_train_config(source: str | os.PathLike[str] | Mapping[str, Any]) -> RewardModelTrainConfig:
    """Read and validate a config file (or dict; relative paths are then taken from the cwd)."""
    if isinstance(source, Mapping):
        data, lines, where, base = dict(source), {}, "<dict>", Path.cwd()
    else:
        # File, encoding, syntax and duplicate-key errors, with the line; one parse.
        from rewardkit.config import key_lines, load_yaml

        path = Path(source)
        data, node = load_yaml(path)
        lines = key_lines(node)
        where, base = str(path), path.parent
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of keys (model, data, output_dir, ...), got {type(data).__name__}")
    try:
        cfg = RewardModelTrainConfig.model_validate(data)
    except pydantic.ValidationError as e:
        raise ConfigError(_describe(e, where, lines, data)) from None
    return _resolve_paths(cfg, base)


def _describe(e: pydantic.ValidationError, where: str, lines: dict[str, int], data: dict[str, Any]) -> str:
    errors = e.errors()
    # `model` is a path or a mapping: report the branch that matches what was written.
    branch = "NewModel" if isinstance(data.get("model"), dict) else "str"
    relevant = [x for x in errors if x["loc"][:1] != ("model",) or len(x["loc"]) == 1 or x["loc"][1] == branch]
    err = (relevant or errors)[0]
    loc = [str(p) for p in err["loc"]]
    # A union (model: path or from_config) reports its branch names; drop them from the key path.
    loc = [p for p in loc if p not in ("str", "NewModel")]
    key = ".".join(loc) or "?"
    line = lines.get(loc[0]) if loc else None
    at = f"{where}, line {line}" if line else where
    fields = FromConfig.model_fields if loc[:2] == ["model", "from_config"] else RewardModelTrainConfig.model_fields
    keys = ", ".join(fields)
    if err["type"] == "extra_forbidden":
        import difflib

        close = difflib.get_close_matches(loc[-1], list(fields) + ["lr", "epochs"], 1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"{at}: unknown key '{key}'{hint} (keys: {keys})"
    if err["type"] == "missing":
        return f"{at}: key '{key}' is required (keys: {keys})"
    if loc and loc[0] == "model" and err["type"] in ("string_type", "model_type"):
        return f"{at}: key 'model' must be a model folder or {{from_config: {{arch: bert, ...}}}}, got {err.get('input')!r:.60}"
    return f"{at}: key '{key}': {err['msg'].rstrip('.')} (got {err.get('input')!r:.60})"


def _resolve_paths(cfg: RewardModelTrainConfig, base: Path) -> RewardModelTrainConfig:
    def rel(p: Path | None) -> Path | None:
        return None if p is None or p.is_absolute() else base / p

    updates: dict[str, Any] = {"data": rel(cfg.data) or cfg.data, "output_dir": rel(cfg.output_dir) or cfg.output_dir}
    if cfg.eval_data is not None:
        updates["eval_data"] = rel(cfg.eval_data) or cfg.eval_data
    if isinstance(cfg.model, str) and (base / cfg.model).exists() and not Path(cfg.model).is_absolute():
        updates["model"] = str(base / cfg.model)
    if isinstance(cfg.model, NewModel) and cfg.model.from_config.tokenizer not in ("word", "char"):
        tok = Path(cfg.model.from_config.tokenizer)
        if not tok.is_absolute() and (base / tok).exists():
            spec = cfg.model.from_config.model_copy(update={"tokenizer": str(base / tok)})
            updates["model"] = NewModel(from_config=spec)
    return cfg.model_copy(update=updates)
