"""``TrainConfig``: the GRPO hyper-parameters, named as TRL's ``GRPOConfig`` where the meaning is the same.

Only pydantic and PyYAML are imported here, so a config can be validated without torch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import ConfigError

MAX_TOKENS = 1 << 20  # a prompt or completion length beyond any model's context: a typo, not a plan


class TrainConfig(BaseModel):
    """Everything a GRPO run needs; unknown keys are refused.

    Batch sizes follow TRL: ``per_device_train_batch_size`` counts *completions* per micro-batch
    on one process, and one optimizer step consumes ``per_device_train_batch_size *
    gradient_accumulation_steps`` completions per process, i.e. that number divided by
    ``num_generations`` prompts (it must divide evenly: groups are never split).
    """

    # No float option may be inf or NaN (`learning_rate: .inf` would train non-finite weights).
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    # What to train, on what, against which rewards.
    model: str | None = Field(None, description="local folder or hub id of a causal LM")
    tokenizer: str | None = Field(None, description="tokenizer folder or id (default: model)")
    dataset: str | None = Field(None, description="JSONL with 'prompt' and the columns rewards need")
    rewards: list[Any] | str | None = Field(None, description="inline rewards list or a rewards YAML path")
    on_error: Literal["raise", "zero", "skip"] = "raise"
    output_dir: str = "runs/grpo"

    # Sampling.
    num_generations: int = Field(8, ge=2, le=10**6)
    max_prompt_length: int | None = Field(512, ge=1, le=MAX_TOKENS)
    max_completion_length: int = Field(256, ge=1, le=MAX_TOKENS)
    temperature: float = Field(1.0, gt=0)
    top_p: float = Field(1.0, gt=0, le=1)
    top_k: int = Field(0, ge=0, le=2**31 - 1)
    min_p: float | None = Field(None, ge=0, le=1)
    repetition_penalty: float = Field(1.0, gt=0)
    generation_kwargs: dict[Literal["suppress_tokens", "min_new_tokens"], Any] | None = Field(
        None, description="extra sampling options: suppress_tokens (ids never sampled), min_new_tokens")

    # The objective.
    beta: float = Field(0.0, ge=0)
    epsilon: float = Field(0.2, ge=0)
    epsilon_high: float | None = Field(None, ge=0)
    delta: float | None = Field(None, gt=1)
    use_bias_correction_kl: bool = True
    loss_type: Literal["grpo", "bnpo", "dr_grpo", "dapo", "cispo", "sapo", "luspo", "vespo"] = Field(
        "dapo", description="how per-token losses are formed and normalised (TRL's loss_type)")
    importance_sampling_level: Literal["token", "sequence"] = Field(
        "token", description="one ratio per token, or the mean log-ratio per sequence (GSPO)")
    sapo_temperature_pos: float = Field(1.0, gt=0, description="sapo: gate temperature, positive advantages")
    sapo_temperature_neg: float = Field(1.05, gt=0, description="sapo: gate temperature, other advantages")
    vespo_k_pos: float = Field(2.0, description="vespo: gamma weight power, advantages >= 0")
    vespo_lambda_pos: float = Field(3.0, description="vespo: gamma weight decay, advantages >= 0")
    vespo_k_neg: float = Field(3.0, description="vespo: gamma weight power, advantages < 0")
    vespo_lambda_neg: float = Field(2.0, description="vespo: gamma weight decay, advantages < 0")
    scale_rewards: Literal["group", "batch", "none"] = "group"
    multi_objective_aggregation: Literal["sum_then_normalize", "normalize_then_sum"] = Field(
        "sum_then_normalize", description="weighted sum then normalise, or normalise each component per "
        "group first (GDPO)")
    num_iterations: int = Field(1, ge=1, le=10**6)
    steps_per_generation: int | None = Field(
        None, ge=1, le=10**6, description="micro-batches one generation feeds (default gradient_accumulation_steps); "
        "a multiple of it")
    generation_batch_size: int | None = Field(
        None, ge=1, le=10**9, description="completions per generation over all processes (or steps_per_generation)")
    mask_truncated_completions: bool = False
    off_policy_mask_threshold: float | None = Field(
        None, ge=0, description="drop negative-advantage sequences whose mean KL to the sampler exceeds this")
    top_entropy_quantile: float = Field(1.0, ge=0, le=1, description="train only on this top fraction of "
                                        "tokens by entropy (1: all)")
    entropy_coef: float = Field(0.0, description="entropy bonus coefficient: loss - coef * mean entropy")
    use_adaptive_entropy: bool = Field(False, description="Skywork-OR1's adaptive entropy_coef")
    entropy_coef_min: float = Field(0.0, description="adaptive entropy: lower bound of the coefficient")
    entropy_coef_max: float = Field(1.0, description="adaptive entropy: upper bound of the coefficient")
    entropy_coef_delta: float = Field(0.005, ge=0, description="adaptive entropy: change per step")
    entropy_target: float = Field(0.2, description="adaptive entropy: the bonus applies at or below this "
                                  "mean entropy (nats)")
    sync_ref_model: bool = Field(False, description="move the reference toward the policy every "
                                 "ref_model_sync_steps (TR-DPO)")
    ref_model_mixup_alpha: float = Field(0.6, ge=0, le=1, description="sync: ref = alpha*policy + "
                                         "(1-alpha)*ref")
    ref_model_sync_steps: int = Field(512, ge=1, le=10**9, description="sync: every this many optimizer steps")
    disable_dropout: bool = Field(False, description="set every dropout module of the policy (and reference) "
                                  "to p=0")
    gradient_checkpointing: bool = Field(False, description="recompute activations in the backward (less "
                                         "memory, slower)")

    # Optimisation.
    learning_rate: float = Field(1e-6, ge=0)
    lr_scheduler_type: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "linear"
    warmup_ratio: float = Field(0.0, ge=0, le=1)
    warmup_steps: int = Field(0, ge=0, le=10**9)
    weight_decay: float = Field(0.0, ge=0)
    adam_beta1: float = Field(0.9, ge=0, lt=1)
    adam_beta2: float = Field(0.999, ge=0, lt=1)
    adam_epsilon: float = Field(1e-8, gt=0)
    max_grad_norm: float | None = Field(1.0, ge=0)
    per_device_train_batch_size: int = Field(8, ge=1, le=10**6)
    gradient_accumulation_steps: int = Field(1, ge=1, le=10**6)
    max_steps: int = Field(-1, ge=-1, le=10**9)
    num_train_epochs: float = Field(1.0, gt=0, le=10**6)
    shuffle_dataset: bool = True
    seed: int = Field(42, ge=0, lt=2**32, description="0 <= seed < 2**32 (numpy's range)")

    # Precision and device.
    dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    device: str | None = Field(None, description="cpu, cuda, cuda:1 ... (default: cuda when available)")

    # LoRA through peft.
    use_peft: bool = False
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    lora_target_modules: list[str] | str | None = None

    # Logging and checkpoints.
    logging_steps: int = Field(1, ge=1, le=10**9)
    save_steps: int = Field(500, ge=0, le=10**9)
    save_total_limit: int | None = Field(None, ge=1)
    report_to: list[Literal["tensorboard", "wandb", "trackio"]] | None = Field(
        None, description="tensorboard, wandb and/or trackio (a name or a list; none: only metrics.jsonl)")
    plot: bool = True
    # Every completion with its rewards to completions.jsonl (rows as `rewardkit score` writes them,
    # plus `step`), ready for `rewardkit annotate` and `rewardkit pairs`. TRL's name; TRL logs a sample.
    log_completions: bool = True
    disable_tqdm: bool = False

    # Where the config was read (for messages about an inline `rewards:` list): file, entry -> line.
    _source: str = PrivateAttr("train config")
    _reward_lines: dict[int, int] = PrivateAttr(default_factory=dict)

    @field_validator("scale_rewards", mode="before")
    @classmethod
    def _scale_rewards_bool(cls, v: Any) -> Any:
        # TRL accepts True/False (older releases): True is "group", False is "none".
        if v is True:
            return "group"
        if v is False:
            return "none"
        return v

    @field_validator("report_to", mode="before")
    @classmethod
    def _report_to_list(cls, v: Any) -> Any:
        if v in (None, "none", []):
            return None
        if v == "all":  # TRL's "all": every tracker rewardkit reports to
            return ["tensorboard", "wandb", "trackio"]
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _batch_divides(self) -> TrainConfig:
        if self.steps_per_generation is not None and self.generation_batch_size is not None:
            raise ValueError("generation_batch_size and steps_per_generation can not both be set (as TRL)")
        global_batch = self.per_device_train_batch_size * _world_size()
        if self.generation_batch_size is not None and self.generation_batch_size % global_batch:
            raise ValueError(f"generation_batch_size ({self.generation_batch_size}) must be divisible by the global "
                             f"batch size ({global_batch})")
        spg = self.generations_steps
        if spg % self.gradient_accumulation_steps:
            raise ValueError(
                f"steps_per_generation ({spg}) must be a multiple of gradient_accumulation_steps "
                f"({self.gradient_accumulation_steps}): a generation starts on an optimizer step")
        per_gen = self.per_device_train_batch_size * spg
        if per_gen % self.num_generations:
            what = ("per_device_train_batch_size * gradient_accumulation_steps" if spg ==
                    self.gradient_accumulation_steps else "per_device_train_batch_size * steps_per_generation")
            raise ValueError(
                f"{what} ({per_gen}) must be a multiple "
                f"of num_generations ({self.num_generations}): groups are never split"
            )
        if self.sync_ref_model and self.beta == 0:
            raise ValueError("sync_ref_model needs beta > 0: with beta 0 there is no reference model (as TRL)")
        if self.sync_ref_model and self.use_peft:
            raise ValueError("sync_ref_model does not work with use_peft: the reference is the base model (as TRL)")
        if self.entropy_coef_min > self.entropy_coef_max:
            raise ValueError(f"entropy_coef_min ({self.entropy_coef_min}) must not exceed entropy_coef_max "
                             f"({self.entropy_coef_max})")
        return self

    def warnings(self) -> list[str]:
        """Combinations TRL accepts with a warning: the same warnings, one line each."""
        out = []
        if self.loss_type == "luspo" and self.importance_sampling_level != "sequence":
            out.append("loss_type luspo: set importance_sampling_level to sequence to mirror the paper's setup")
        if self.loss_type == "vespo" and self.importance_sampling_level != "token":
            out.append("loss_type vespo computes sequence-level weights itself: importance_sampling_level "
                       "should be token")
        if self.importance_sampling_level == "sequence" and self.loss_type in ("bnpo", "dr_grpo", "dapo", "cispo"):
            out.append(f"importance_sampling_level sequence with loss_type {self.loss_type} weights each "
                       "sequence by its length; GSPO's setup is loss_type grpo")
        return out

    # Derived values.
    @property
    def generations_steps(self) -> int:
        """Micro-batches one generation feeds: ``steps_per_generation`` as TRL derives it (default: the
        accumulation steps; from ``generation_batch_size`` over ``WORLD_SIZE`` processes when that is set)."""
        if self.steps_per_generation is not None:
            return self.steps_per_generation
        if self.generation_batch_size is not None:
            return max(self.generation_batch_size // (self.per_device_train_batch_size * _world_size()), 1)
        return self.gradient_accumulation_steps

    @property
    def prompts_per_step(self) -> int:
        """Prompts one process samples per generation (one optimizer step unless steps_per_generation says
        more)."""
        return self.per_device_train_batch_size * self.generations_steps // self.num_generations

    @property
    def steps_per_rollout(self) -> int:
        """Optimizer steps one generation serves: ``num_iterations`` passes over ``steps_per_generation``."""
        return self.num_iterations * self.generations_steps // self.gradient_accumulation_steps

    def rewards_source(self) -> tuple[str, dict[int, int]]:
        """How messages about an inline ``rewards:`` list name it: the file, and entry -> line."""
        return self._source, self._reward_lines

    @property
    def epsilon_low(self) -> float:
        return self.epsilon

    @property
    def epsilon_hi(self) -> float:
        """``epsilon_high`` or, when unset, ``epsilon`` (as TRL)."""
        return self.epsilon if self.epsilon_high is None else self.epsilon_high

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>", lines: dict[str, int] | None = None) -> TrainConfig:
        """Validate a mapping; any problem is a one-line :class:`ConfigError` naming ``source``, the key
        and (with ``lines``, key -> line) its line."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping of training options, got {type(data).__name__}")
        try:
            return cls(**{str(k): v for k, v in data.items()})
        except ValidationError as e:
            raise ConfigError(_one_line(e, source, lines or {})) from None

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> TrainConfig:
        """Read a YAML file; relative ``model``/``dataset``/``rewards``/``output_dir`` paths that exist
        next to the file are resolved against its folder."""
        from ..config import entry_lines, key_lines, load_yaml

        data, node = load_yaml(path)
        if data is None:
            data = {}
        config = cls.from_dict(data, str(path), key_lines(node))
        config._source, config._reward_lines = str(path), entry_lines(node)
        base = Path(path).resolve().parent
        for key in ("model", "tokenizer", "dataset", "rewards"):
            value = getattr(config, key)
            if isinstance(value, str) and not Path(value).is_absolute() and (base / value).exists():
                setattr(config, key, str(base / value))
        return config


def options_table() -> str:
    """Every training key with its default and description, one per line (``rewardkit train --help``)."""
    lines = []
    for name, field in TrainConfig.model_fields.items():
        default = "required" if name in ("model", "dataset", "rewards") else repr(field.default)
        desc = f"  {field.description}" if field.description else ""
        lines.append(f"  {name} = {default}{desc}")
    return "options (TRL GRPOConfig names; see docs/training.md):\n" + "\n".join(lines)


def _world_size() -> int:
    # torchrun sets WORLD_SIZE before the config is read; TRL's sizes that span processes use it.
    try:
        return max(int(os.environ.get("WORLD_SIZE", "1")), 1)
    except ValueError:
        return 1


def _one_line(e: ValidationError, source: str, lines: dict[str, int] | None = None) -> str:
    err = e.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = err["msg"]
    line = (lines or {}).get(str(err["loc"][0])) if err["loc"] else None
    at = f"{source}, line {line}" if line else source
    if err["type"] == "extra_forbidden":
        import difflib

        close = difflib.get_close_matches(loc, list(TrainConfig.model_fields), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"{at}: unknown key '{loc:.60}'{hint}"
    if not loc:  # a model-level check
        return f"{source}: {msg.removeprefix('Value error, ')}"
    return f"{at}, key '{loc}': {msg.removeprefix('Value error, ')}, got {_shown(err.get('input'))}"


def _shown(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"an integer of {len(str(abs(value)))} digits"
    return f"{value!r:.60}"
