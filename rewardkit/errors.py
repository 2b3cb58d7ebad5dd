"""Exceptions with one-line messages that name what was wrong and where."""

from __future__ import annotations


class RewardkitError(Exception):
    """Base class of rewardkit's own errors."""


class ConfigError(RewardkitError, ValueError):
    """A reward configuration is wrong: bad YAML, unknown reward, bad option or weight.

    The message is one line: the file (or ``<dict>``), the entry or key, what was found and
    what was expected. The CLI prints it and exits with status 2.
    """


class DataError(RewardkitError, ValueError):
    """An input data file is wrong: a malformed JSONL line, a missing field or column."""


class PluginLoadError(RewardkitError, ImportError):
    """A plugin's entry point could not be imported; the message carries the fix."""


class RewardError(RewardkitError, RuntimeError):
    """A reward raised, timed out or returned something other than one float/None per input.

    ``label`` names the component, ``row`` the failing row in the batch where it is known.
    """

    def __init__(self, message: str, *, label: str | None = None, row: int | None = None):
        super().__init__(message)
        self.label = label
        self.row = row


class TrainingError(RewardkitError, RuntimeError):
    """A training run cannot go on: its loss, gradient norm or weights became inf/NaN.

    The config was valid, so this is a run-time failure (the CLI exits 1, as for a reward that
    fails); checkpoints saved before the failing step are kept and nothing non-finite is saved.
    """


class OutputError(RewardkitError, OSError):
    """An output could not be written (a full disk, a file where a folder should be).

    The message names the path and says what survived (the last complete checkpoint); exit 2.
    """
