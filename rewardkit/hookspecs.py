"""The hooks a rewardkit plugin can implement (the only hookspec module).

A plugin is a module named by an entry point of group ``rewardkit``::

    [project.entry-points.rewardkit]
    shouting = "rewardkit_shouting"

and holds functions marked with :data:`rewardkit.hookimpl`. New arguments may be added to a hook
later; pluggy passes a hook implementation only the arguments it names, so old plugins keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "rewardkit"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_rewards(register: Callable[[type], None]) -> None:
    """Register reward classes: call ``register(RewardClass)`` once per reward.

    Each class is a subclass of :class:`rewardkit.Reward` with a plain ``name`` class attribute.
    The host validates the class and refuses a name that another distribution already registered.
    """


@hookspec
def register_commands(subparsers: Any) -> None:
    """Add sub-commands to the ``rewardkit`` command line.

    ``subparsers`` is the :mod:`argparse` sub-parser action of the ``rewardkit`` parser. Each
    parser added must set a handler: ``parser.set_defaults(func=handler)`` where
    ``handler(args) -> int`` returns the exit status.
    """


@hookspec
def register_attacks(register: Callable[..., None]) -> None:
    """Register red-team attacks for this plugin's own rewards (used by ``rewardkit probe``).

    Call ``register(make, name=..., expect="wrong", description=..., family=...)`` once per
    attack (``family`` groups it in the report; default ``"plugin"``). ``make``
    takes a :class:`rewardkit.probe.Case` (one dataset row: prompt, gold answer, a correct and a
    wrong completion, the layout) and returns the attacked completion, or None where the attack
    does not apply. ``expect`` is ``"wrong"`` (the completion does not answer correctly: it
    should score no better than a wrong answer) or ``"flawed"`` (it answers correctly with a
    defect: it should score below a clean correct answer). The probe runs a plugin's attacks
    only on composites that use one of that plugin's rewards.
    """
