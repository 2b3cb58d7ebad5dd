"""``rewardkit rm train CONFIG``, added to the command line through ``register_commands``.

Only argparse is imported here; the trainer (torch, transformers) loads when the verb runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    """Add ``rm`` (with ``rm train``) to the ``rewardkit`` sub-parsers."""
    rm = sub.add_parser("rm", help="reward models: train one from preference pairs")
    rm_sub = rm.add_subparsers(dest="rm_command", metavar="RM_COMMAND")
    train = rm_sub.add_parser(
        "train", help="train a reward model from preference pairs (prompt, chosen, rejected)",
        description="Train a Bradley-Terry reward model from a YAML config; see the rewardkit-reward-model README.",
    )
    train.add_argument("config", help="rm train YAML (model, data, output_dir, hyper-parameters)")
    train.add_argument("-o", "--output-dir", help="override the config's output_dir")
    train.set_defaults(func=run_train)

    def usage(args: argparse.Namespace) -> int:
        rm.print_help(sys.stderr)
        return 2

    rm.set_defaults(func=usage)


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``rm train``: validate the config, train, print a one-line summary."""
    from pathlib import Path

    from .train import train
    from .train_config import load_train_config

    cfg = load_train_config(args.config)
    if args.output_dir:
        cfg = cfg.model_copy(update={"output_dir": Path(args.output_dir)})
    summary = train(cfg)
    acc = summary.get("eval_accuracy")
    evals = f"; eval accuracy {acc:.3f}, margin {summary['eval_margin']:.3f}" if acc is not None else ""
    print(
        f"rm train: {summary['train_pairs']} pairs, {summary['steps']} steps in {summary['seconds']} s{evals} "
        f"-> {summary['output_dir']} (model, tokenizer, metrics.jsonl, plot.png)"
    )
    return 0
