"""``rewardkit demo``: a small GRPO run on CPU that shows the reward rising, with a plot."""

from __future__ import annotations

import argparse

from ..errors import ConfigError
from .score import positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..demo import DemoSettings

    d = DemoSettings()
    p = sub.add_parser(
        "demo", help="train a tiny model on addition with GRPO on CPU and plot the reward",
        description="Builds a tiny Qwen2-style model and a character tokenizer (nothing is downloaded), "
        "warm-starts it with a few seconds of SFT on 'a+b=' problems, then runs GRPO with the math and "
        "format rewards. Prints held-out accuracy and reward before and after, and writes demo.png, "
        "metrics.jsonl, summary.json and the trained model into the output folder.",
    )
    p.add_argument("--steps", type=positive_int, help=f"GRPO steps (default {d.steps})")
    p.add_argument("--quick", action="store_true",
                   help="a seconds-long smoke run of every phase (small SFT, few steps): checks the set-up")
    p.add_argument("--seed", type=int, default=d.seed, help=f"seed of everything (default {d.seed})")
    p.add_argument("-o", "--output-dir", default=d.output_dir, help=f"where to write (default {d.output_dir})")
    p.add_argument("--log-every", type=positive_int,
                   help=f"print a progress line every N steps (default {d.log_every})")
    p.add_argument("--threads", type=positive_int, default=d.threads,
                   help=f"torch CPU threads (default {d.threads}: fastest for a model this small)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:
        raise ConfigError(f"rewardkit demo needs torch and transformers ({e.name} is missing): "
                          "pip install 'rewardkit[train]'") from None
    from ..demo import DemoSettings, run_demo

    changes = {"seed": args.seed, "output_dir": args.output_dir, "threads": args.threads}
    if args.steps is not None:
        changes["steps"] = args.steps
    if args.log_every is not None:
        changes["log_every"] = args.log_every
    settings = DemoSettings.quick(**changes) if args.quick else DemoSettings(**changes)
    run_demo(settings, say=lambda line: print(line, flush=True))
    return 0
