"""Reading a rewards configuration (YAML file or dict) into validated component specs.

Every problem is a :class:`ConfigError` with one line naming the file, the entry (and its line
in a YAML file), the key, the bad value and what was expected.
"""

from __future__ import annotations

import math
import os
import sys
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
FLOAT32_MAX = 3.4028234663852886e38  # the trainer holds rewards in float32: beyond this is inf there


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


class _DuplicateKey(Exception):
    def __init__(self, key: str, first: int, second: int):
        super().__init__(key)
        self.key, self.first, self.second = key, first, second


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping (PyYAML keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                line = key_node.start_mark.line + 1
                key = f"{key_node.tag}:{key_node.value}"
                if key in seen:
                    raise _DuplicateKey(str(key_node.value), seen[key], line)
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


MAX_YAML_NODES = 1_000_000  # a config is small; more only comes from aliases ("billion laughs")


class _TooLarge(Exception):
    pass


def _check_expanded_size(root: Any) -> None:
    """Refuse a document whose aliases expand it past MAX_YAML_NODES values: PyYAML shares
    aliased objects, but anything that walks or prints the data (an error message) expands them."""
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        sizes[key] = 1  # a node that contains itself (&a [*a]) counts once
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(v) for v in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        if total > MAX_YAML_NODES:
            raise _TooLarge
        sizes[key] = total
        return total

    if root is not None:
        size(root)


def load_yaml(path: str | os.PathLike[str]) -> tuple[Any, Any]:
    """Parse a YAML file strictly; returns ``(data, root node)``.

    Every problem is one :class:`ConfigError` line naming the file (and line where known): a
    missing or unreadable file, bytes that are not UTF-8, a syntax error, a key written twice
    (both lines named), nesting too deep to parse, or a number too long to convert.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{p}: is a folder, expected a YAML config file") from None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read config file ({e.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise ConfigError(f"{p}, line {line}: not UTF-8 (byte 0x{raw[e.start]:02x}); save the file as UTF-8") from None
    loader = None
    try:
        loader = _StrictLoader(text)  # the reader refuses control characters here already
        node = loader.get_single_node()
        _check_expanded_size(node)
        data = loader.construct_document(node) if node is not None else None
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1
        raise ConfigError(f"{p}, line {line}: YAML cannot hold character #x{e.character:04x}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(str(getattr(e, "problem", None) or e).split())
        raise ConfigError(f"{p}{where}: YAML syntax error: {problem}") from None
    except _DuplicateKey as e:
        raise ConfigError(f"{p}, line {e.second}: key '{e.key:.60}' is written twice (lines {e.first} and "
                          f"{e.second}); keep one") from None
    except _TooLarge:
        raise ConfigError(f"{p}: YAML expands to more than {MAX_YAML_NODES:,} values through aliases "
                          "(&anchor/*alias); write the values out") from None
    except RecursionError:
        raise ConfigError(f"{p}: YAML nested too deeply to read") from None
    except ValueError as e:  # int() of a number with thousands of digits
        if "digits" in str(e):
            raise ConfigError(f"{p}: a number has more than {sys.get_int_max_str_digits()} digits") from None
        raise ConfigError(f"{p}: {' '.join(str(e).split())[:120]}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, node


def read_yaml(path: str | os.PathLike[str]) -> tuple[Any, dict[int, int]]:
    """Parse a YAML file (see :func:`load_yaml`); returns the data and ``{entry index: line}`` for ``rewards:``."""
    data, node = load_yaml(path)
    return data, entry_lines(node)


def key_lines(node: Any) -> dict[str, int]:
    """Top-level key -> its 1-based line, for the root mapping node of :func:`load_yaml`."""
    out: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                out[str(key.value)] = key.start_mark.line + 1
    return out


def entry_lines(node: Any) -> dict[int, int]:
    """``{entry index: 1-based line}`` of the ``rewards:`` list (or a bare list) of a YAML root node."""
    lines: dict[int, int] = {}
    if isinstance(node, yaml.SequenceNode):  # a bare list of entries
        return {i: item.start_mark.line + 1 for i, item in enumerate(node.value)}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "rewards" and isinstance(value, yaml.SequenceNode):
                for i, item in enumerate(value.value):
                    lines[i] = item.start_mark.line + 1
    return lines


def parse(config: str | os.PathLike[str] | Mapping[str, Any] | list[Any], *, allow_keys: tuple[str, ...] = (),
          source: str | None = None, lines: dict[int, int] | None = None) -> RewardsSpec:
    """Validate a rewards config given as a YAML path or a dict.

    ``allow_keys`` lists other top-level keys a caller owns (the trainer's ``model:``, ...),
    which are then ignored here rather than refused. For a dict, ``source`` and ``lines``
    (entry index -> line) name where it was read from in messages (default ``<dict>``).
    """
    if isinstance(config, (Mapping, list)):
        data: Any = config
        lines = dict(lines or {})
        source = source or "<dict>"
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
            raise ConfigError(f"{where}: 'weight' must be a number, got {weight!r:.60}") from None
    try:
        weight = float(weight)
    except OverflowError:  # an integer with hundreds of digits
        weight = math.inf
    if not math.isfinite(weight) or abs(weight) > FLOAT32_MAX:
        raise ConfigError(f"{where}: 'weight' must be a finite number within +-{FLOAT32_MAX:.4g} "
                          f"(the trainer sums rewards in float32), got {_short(entry.get('weight'))}")
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
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 10**6:
        raise ConfigError(f"{where}: expected a positive number of seconds (at most 1e6), got {_short(value)}")
    return float(value)


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else f"an integer of {len(str(abs(value)))} digits"
    return text[:60]


def _did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""
