"""The ``rewardkit`` command line: built-in verbs plus those plugins add (``register_commands``)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .errors import RewardError, RewardkitError, TrainingError

# Modules under rewardkit.commands, each with `add_parser(subparsers)`; missing extras are reported
# when the verb runs, not at start-up, so `rewardkit plugins` stays fast and light.
BUILTIN_COMMANDS = ("plugins", "score", "train", "demo", "pairs", "serve", "annotate", "probe")


def build_parser(with_plugins: bool = True) -> argparse.ArgumentParser:
    """The ``rewardkit`` parser; ``with_plugins=False`` leaves out plugin verbs (no plugin is imported)."""
    parser = argparse.ArgumentParser(
        prog="rewardkit",
        description="Composable rewards for RL fine-tuning of language models.",
        epilog="Plugins can add commands (rewardkit rm ...); `rewardkit plugins` lists them.",
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
    if with_plugins:
        from .plugins import registry

        registry().commands(sub)
    return parser


def _verb(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (the first word that is not an option), if any."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rewardkit`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Plugins are imported only for a verb that is not built in (a plugin's verb): --version,
    # --help and the built-in verbs never pay for a slow or broken plugin import. Built-in verbs
    # that need rewards load plugins when they look a reward up.
    verb = _verb(argv)
    try:
        parser = build_parser(with_plugins=verb is not None and verb not in BUILTIN_COMMANDS)
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
        # A reward failing or a run diverging at run time is not a user input error: status 1, not 2.
        return 1 if isinstance(e, (RewardError, TrainingError)) else 2
    except BrokenPipeError:  # `rewardkit plugins --json | head` is not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("rewardkit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
