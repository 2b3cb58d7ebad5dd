"""rewardkit's GRPO trainer: TRL's loss, readable top to bottom, faster on the same work.

API (stable)::

    from rewardkit.grpo import TrainConfig, train, TrainResult

    config = TrainConfig.from_yaml("train.yaml")        # or TrainConfig(model=..., ...)
    result = train(config, model=None, tokenizer=None, dataset=None, reward=None, callbacks=None)

- ``TrainConfig``: pydantic model, unknown keys refused, TRL ``GRPOConfig`` names (``num_generations``,
  ``max_completion_length``, ``temperature``, ``top_p``, ``top_k``, ``beta``, ``epsilon``, ``epsilon_high``,
  ``delta``, ``loss_type`` grpo|bnpo|dr_grpo|dapo|cispo|sapo|luspo|vespo, ``importance_sampling_level``,
  ``multi_objective_aggregation``, the entropy, off-policy and reference options (docs/training.md),
  ``scale_rewards`` group|batch|none, ``num_iterations``,
  ``mask_truncated_completions``, ``learning_rate``, ``lr_scheduler_type``, ``warmup_ratio``,
  ``max_grad_norm``, ``per_device_train_batch_size`` (completions per micro-batch, TRL's meaning),
  ``gradient_accumulation_steps``, ``max_steps``, ``num_train_epochs``, ``seed``, ``logging_steps``,
  ``save_steps``, ``report_to``, ``use_peft``/``lora_*``) plus ``model``, ``dataset`` (JSONL path),
  ``rewards`` (inline list or YAML path), ``on_error``, ``output_dir``. ``from_yaml`` raises
  :class:`rewardkit.ConfigError` with a one-line message naming the file and key.
  One generation uses ``per_device_train_batch_size * steps_per_generation // num_generations`` prompts
  (``config.prompts_per_step``; ``steps_per_generation`` defaults to ``gradient_accumulation_steps``).
- ``train(config, *, model, tokenizer, dataset, reward, callbacks)``: objects passed in override the
  config's paths: ``model`` a transformers causal LM, ``tokenizer`` its tokenizer, ``dataset`` a list of
  dicts with ``prompt`` (string or chat messages) and reward columns, ``reward`` a
  :class:`rewardkit.Composite`. ``callbacks``: callables ``cb(step: int, metrics: dict)`` called after
  every optimizer step. Returns :class:`TrainResult` with ``metrics`` (one dict per step), ``output_dir``
  (a Path), ``model`` and ``tokenizer`` (the trained objects).
- Metrics per step (TRL names): ``step``, ``reward``, ``reward_std``, ``rewards/<label>/mean``,
  ``rewards/<label>/std``, ``kl`` (when beta > 0), ``entropy``, ``clip_ratio/low_mean``,
  ``clip_ratio/high_mean``, ``clip_ratio/region_mean``, ``completions/mean_length``,
  ``completions/clipped_ratio``, ``frac_reward_zero_std``, ``loss``, ``grad_norm``, ``learning_rate``,
  ``tokens_per_s``, ``time/generation``, ``time/reward``, ``time/backward``, ``time/step``. Written to
  ``output_dir/metrics.jsonl``; ``output_dir/rewards.png`` at the end; checkpoints in
  ``output_dir/checkpoint-<step>/``; the final model in ``output_dir/final/``.
"""

from __future__ import annotations

from typing import Any

from .config import TrainConfig

__all__ = ["TrainConfig", "TrainResult", "train"]


def __getattr__(name: str) -> Any:
    # torch and transformers load only when training is asked for.
    if name in ("train", "TrainResult"):
        from . import trainer

        return getattr(trainer, name)
    raise AttributeError(name)
