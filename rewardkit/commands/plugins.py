"""``rewardkit plugins [--json]``: every registered reward, and plugins that failed to load."""

from __future__ import annotations

import argparse
import json
import sys

from ..plugins import registry


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list registered rewards and their options")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=run)


def plugin_commands() -> list[str]:
    """The verbs plugins add to ``rewardkit`` (their ``register_commands`` run on a scratch parser)."""
    scratch = argparse.ArgumentParser(prog="rewardkit", add_help=False)
    return registry().commands(scratch.add_subparsers())


def run(args: argparse.Namespace) -> int:
    reg = registry()
    rewards = reg.rewards()
    commands = plugin_commands()
    failed = reg.failed()
    if args.json:
        rows = [info.as_dict() for info in rewards.values()] + [f.as_dict() for f in failed]
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not rewards and not failed:
        print("no rewards registered (install a plugin: pip install rewardkit-length)")
        return 0
    for info in rewards.values():
        print(f"{info.name}  ({info.distribution} {info.version})")
        doc = info.as_dict()["doc"]
        if doc:
            print(f"  {doc}")
        for opt, meta in info.cls.options_schema().items():
            default = "required" if meta["required"] else f"= {meta['default']!r}"
            desc = f"  {meta['description']}" if meta["description"] else ""
            print(f"    {opt}: {meta['type']} {default}{desc}")
    if commands:
        print(f"commands added by plugins: {', '.join(commands)}")
    for f in failed:
        print(f"{f.name}  ({f.distribution} {f.version})  FAILED TO LOAD")
        print(f"  {f.error}")
        print(f"  fix: {f.fix}")
    return 0
