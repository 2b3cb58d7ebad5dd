"""``rewardkit train CONFIG.yaml [--resume [CHECKPOINT]]``: GRPO from a YAML config.

The config holds the model, the dataset, the rewards and TRL-named hyper-parameters (see
docs/training.md); command-line overrides are ``--output-dir``, ``--max-steps`` and ``--resume``.
Under ``torchrun --nproc_per_node N -m rewardkit train CONFIG`` every process trains its share.
"""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from ..errors import ConfigError, RewardkitError


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..grpo.config import options_table

    p = sub.add_parser(
        "train", help="GRPO training from a YAML config (model, dataset, rewards, hyper-parameters)",
        description=textwrap.fill("Runs GRPO as CONFIG says. Writes metrics.jsonl, rewards.png, checkpoint-<step>/ "
        "folders (Hugging Face format plus optimizer, scheduler and RNG state) and final/ into output_dir. "
        "Under torchrun each process generates and scores its own prompts (DDP).", 78),
        epilog=options_table(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", help="training YAML (keys: model, dataset, rewards, TRL GRPOConfig names)")
    p.add_argument("--resume", nargs="?", const=True, default=False, metavar="CHECKPOINT",
                   help="continue from the latest checkpoint in output_dir, or from CHECKPOINT")
    p.add_argument("-o", "--output-dir", help="overrides the config's output_dir")
    p.add_argument("--overwrite-output-dir", action="store_true",
                   help="start afresh in an output_dir that holds checkpoints of an earlier run (they are deleted)")
    p.add_argument("--max-steps", type=int, help="overrides the config's max_steps")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate everything cheap first (config, overrides, output_dir, --resume), then train."""
    # Validate the config before importing torch: a typo fails in a fraction of a second.
    config = _load_config(args)
    _check_output_dir(config.output_dir, resume=bool(args.resume), overwrite=args.overwrite_output_dir)
    _check_resume(args.resume)
    _check_runtime(config, args.config)
    from ..grpo.distributed import is_main_process

    result = _train(config, args.resume)
    last = result.metrics[-1] if result.metrics else {}
    if is_main_process():
        reward = last.get("reward")
        shown = f"{reward:.4f}" if isinstance(reward, float) else "n/a"
        print(f"trained {last.get('step', 0)} steps; last reward {shown}; "
              f"model {result.output_dir / 'final'}, metrics {result.output_dir / 'metrics.jsonl'}")
    return 0


def _load_config(args: argparse.Namespace) -> Any:
    """The training config with the command-line overrides applied and its rewards checked."""
    from ..grpo.config import TrainConfig

    config = TrainConfig.from_yaml(args.config)
    overrides: dict[str, Any] = {}
    if args.output_dir:
        overrides["output_dir"] = args.output_dir
    if args.max_steps is not None:
        overrides["max_steps"] = args.max_steps
    for key, value in overrides.items():
        try:
            setattr(config, key, value)
        except ValueError as e:  # pydantic's ValidationError
            msg = e.errors()[0]["msg"] if hasattr(e, "errors") else str(e)
            raise ConfigError(f"--{key.replace('_', '-')}: {msg}, got {value!r:.60}") from None
    for key in ("model", "dataset", "rewards"):
        if getattr(config, key) is None:
            raise ConfigError(f"{args.config}: key '{key}' is required")
    if isinstance(config.rewards, list):  # the rewards' structure and weights, before torch loads
        from ..config import parse

        source, lines = config.rewards_source()
        parse({"rewards": config.rewards, "on_error": config.on_error}, source=source, lines=lines)
    return config


def _check_resume(resume: bool | str) -> None:
    """``--resume PATH`` must name a complete checkpoint folder."""
    if isinstance(resume, str):
        from pathlib import Path

        from ..grpo.layout import is_complete

        if not is_complete(Path(resume)):
            raise ConfigError(f"--resume {resume}: not a complete checkpoint folder "
                              "(expected output_dir/checkpoint-<step> with trainer_state.json)")


def _check_runtime(config: Any, source: str) -> None:
    """torch and transformers are installed, and the configured device exists (one line if not)."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:
        raise ConfigError(f"rewardkit train needs torch and transformers ({e.name} is missing): "
                          "pip install 'rewardkit[train]'") from None
    if config.device is not None:  # `device: tpu`, or cuda without CUDA: one line, before any loading
        from ..devices import resolve_device

        dev = config.device.strip()
        config.device = "auto" if dev == "auto" else resolve_device(dev, f"{source}, key 'device'")


def _train(config: Any, resume: bool | str) -> Any:
    """Run the trainer; a full disk or read-only output_dir becomes one line naming the folder."""
    from ..grpo.distributed import shutdown
    from ..grpo.trainer import train
    from ..models.hf import quiet_transformers

    quiet_transformers()
    try:
        return train(config, resume=resume)
    except OSError as e:  # a full disk or a read-only output_dir, in a log, the plot or final/
        if isinstance(e, RewardkitError):
            raise
        from pathlib import Path

        from ..grpo.checkpoint import write_failure

        raise write_failure(Path(config.output_dir), "the run's output", e) from None
    finally:
        shutdown()


def _check_output_dir(output_dir: str, *, resume: bool, overwrite: bool) -> None:
    """A fresh run must not mix with an earlier run's checkpoints: a later --resume would pick theirs."""
    import shutil
    from pathlib import Path

    from ..grpo.distributed import is_main_process

    # A file where the folder (or one above it) should be: say so before any work is done.
    for p in (Path(output_dir), *Path(output_dir).parents):
        if p.exists():
            if not p.is_dir():
                raise ConfigError(f"output_dir '{output_dir}': {p} is a file, not a folder; "
                                  "pass another -o or move the file")
            break
    from ..grpo.layout import checkpoints

    old = checkpoints(Path(output_dir), complete=False)
    if resume or not old:
        return
    if not overwrite:
        raise ConfigError(f"output_dir '{output_dir}' holds checkpoints of an earlier run ({old[-1].name}): "
                          "pass --resume to continue it, --overwrite-output-dir to start afresh, or another -o")
    if is_main_process():
        for path in old:
            shutil.rmtree(path)
