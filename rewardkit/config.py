"""Reading a rewards configuration (YAML file or dict) into validated component specs.

Every problem is a :class:`ConfigError` with one line naming the file, the entry (and its line
in a YAML file), the key, the bad value and what was expected.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

ON_ERROR = ("raise", "zero", "skip")
ENTRY_KEYS = ("use", "weight", "as", "with", "on_error", "timeout")
TOP_KEYS = ("rewards", "on_error", "timeout")
RESERVED_LABELS = ("total",)


@dataclass(frozen=True)
class ComponentSpec:
    """One validated ``rewards:`` entry."""

    use: str
    label: str
    weight: float
    options: dict[str, Any]
    on_error: str
    timeout: float | None
    where: str  # "rewards.yaml, entry 2 (line 7)" for messages


@dataclass(frozen=True)
class RewardsSpec:
    """A validated rewards configuration."""

    components: list[ComponentSpec]
    on_error: str = "raise"
    timeout: float | None = None
    source: str = "<dict>"


def read_yaml(path: str | os.PathLike[str]) -> tuple[Any, dict[int, int]]:
    """Parse a YAML file; returns the data and ``{entry index: line}`` for ``rewards:``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file") from None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read config file ({e.strerror})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"{p}{where}: YAML syntax error: {problem}") from None
    return data, _entry_lines(node)


def _entry_lines(node: Any) -> dict[int, int]:
    lines: dict[int, int] = {}
    if isinstance(node, yaml.SequenceNode):  # a bare list of entries
        return {i: item.start_mark.line + 1 for i, item in enumerate(node.value)}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "rewards" and isinstance(value, yaml.SequenceNode):
                for i, item in enumerate(value.value):
                    lines[i] = item.start_mark.line + 1
    return lines


def parse(config: str | os.PathLike[str] | Mapping[str, Any] | list[Any], *, allow_keys: tuple[str, ...] = ()) -> RewardsSpec:
    """Validate a rewards config given as a YAML path or a dict.

    ``allow_keys`` lists other top-level keys a caller owns (the trainer's ``model:``, ...),
    which are then ignored here rather than refused.
    """
    if isinstance(config, (Mapping, list)):
        data: Any = config
        lines: dict[int, int] = {}
        source = "<dict>"
    else:
        data, lines = read_yaml(config)
        source = str(config)
    if isinstance(data, list):  # a bare list of entries is accepted as `rewards:`
        data = {"rewards": data}
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source}: expected a mapping with a 'rewards:' list, got {type(data).__name__}"
        )
    for key in data:
        if key not in TOP_KEYS and key not in allow_keys:
            raise ConfigError(
                f"{source}: unknown top-level key '{key}'{_did_you_mean(str(key), TOP_KEYS)} "
                f"(expected: {', '.join(TOP_KEYS)})"
            )
    on_error = _on_error(data.get("on_error", "raise"), f"{source}, key 'on_error'")
    timeout = _timeout(data.get("timeout"), f"{source}, key 'timeout'")
    entries = data.get("rewards")
    if entries is None:
        raise ConfigError(f"{source}: missing key 'rewards' (a list of {{use: NAME, weight: W}})")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(
            f"{source}, key 'rewards': expected a non-empty list of {{use: NAME, weight: W}}, "
            f"got {entries!r:.60}"
        )
    components = []
    seen: dict[str, str] = {}
    for i, entry in enumerate(entries):
        where = f"{source}, entry {i + 1}" + (f" (line {lines[i]})" if i in lines else "")
        spec = _entry(entry, where, on_error, timeout)
        if spec.label in seen:
            raise ConfigError(
                f"{spec.where}: label '{spec.label}' is already used by {seen[spec.label]}; "
                "give one of them a distinct 'as:'"
            )
        seen[spec.label] = spec.where
        components.append(spec)
    return RewardsSpec(components, on_error, timeout, source)


def _entry(entry: Any, where: str, on_error: str, timeout: float | None) -> ComponentSpec:
    if isinstance(entry, str):  # `- length` is short for `- use: length`
        entry = {"use": entry}
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected a mapping like {{use: NAME, weight: W}}, got {entry!r:.60}")
    for key in entry:
        if key not in ENTRY_KEYS:
            raise ConfigError(
                f"{where}: unknown key '{key}'{_did_you_mean(str(key), ENTRY_KEYS)} "
                f"(expected: {', '.join(ENTRY_KEYS)})"
            )
    use = entry.get("use")
    if not isinstance(use, str) or not use.strip():
        raise ConfigError(f"{where}: key 'use' must name a registered reward, got {use!r}")
    where = f"{where} ({use})"
    weight = entry.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        try:
            weight = float(str(weight).strip())
        except ValueError:
            raise ConfigError(f"{where}: 'weight' must be a number, got {weight!r}") from None
    weight = float(weight)
    if not math.isfinite(weight):
        raise ConfigError(f"{where}: 'weight' must be a finite number, got {weight!r}")
    label = entry.get("as", use)
    if not isinstance(label, str) or not label.strip():
        raise ConfigError(f"{where}: 'as' must be a non-empty label, got {label!r}")
    if label in RESERVED_LABELS:
        raise ConfigError(f"{where}: 'as: {label}' is reserved for the weighted sum; pick another label")
    options = entry.get("with") or {}
    if not isinstance(options, Mapping):
        raise ConfigError(f"{where}: 'with' must be a mapping of options, got {options!r:.60}")
    return ComponentSpec(
        use=use,
        label=label,
        weight=weight,
        options=dict(options),
        on_error=_on_error(entry.get("on_error", on_error), f"{where}, key 'on_error'"),
        timeout=_timeout(entry.get("timeout", timeout), f"{where}, key 'timeout'"),
        where=where,
    )


def _on_error(value: Any, where: str) -> str:
    if value not in ON_ERROR:
        raise ConfigError(f"{where}: expected one of {' | '.join(ON_ERROR)}, got {value!r}")
    return value


def _timeout(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{where}: expected a positive number of seconds, got {value!r}")
    return float(value)


def _did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""
