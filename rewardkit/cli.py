"""The ``rewardkit`` command line: built-in verbs plus those plugins add (``register_commands``)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .errors import RewardError, RewardkitError

# Modules under rewardkit.commands, each with `add_parser(subparsers)`; missing extras are reported
# when the verb runs, not at start-up, so `rewardkit plugins` stays fast and light.
BUILTIN_COMMANDS = ("plugins", "score", "train", "demo", "pairs", "serve", "annotate", "probe")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rewardkit",
        description="Composable rewards for RL fine-tuning of language models.",
    )
    parser.add_argument("--version", action="version", version=f"rewardkit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in BUILTIN_COMMANDS:
        try:
            module = importlib.import_module(f"rewardkit.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"rewardkit.commands.{name}":
                raise
            continue  # a verb still being written
        module.add_parser(sub)
    from .plugins import registry

    registry().commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rewardkit`` console script; returns the exit status."""
    try:
        parser = build_parser()
    except RewardkitError as e:  # a plugin collision is a configuration problem of the install
        print(f"rewardkit: error: {e}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except RewardkitError as e:
        print(f"rewardkit: error: {e}", file=sys.stderr)
        # A reward failing at run time is not a user input error: status 1, not 2.
        return 1 if isinstance(e, RewardError) else 2
    except BrokenPipeError:  # `rewardkit plugins --json | head` is not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("rewardkit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
