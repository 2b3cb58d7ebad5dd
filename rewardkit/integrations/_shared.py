"""What the framework adapters share: the composite cached per process, and batch scoring.

The adapters (verl, OpenRLHF) are often loaded by *file path* (``spec_from_file_location``), so
they import this module absolutely; the cache then lives here once per process, however many
times a framework re-imports the adapter file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from rewardkit.compose import Composite, load
from rewardkit.errors import ConfigError
from rewardkit.rows import as_number, score_rows

CONFIG_ENV = "REWARDKIT_CONFIG"

_cache: dict[str, Composite] = {}
_lock = threading.Lock()


def config_path(config: str | os.PathLike[str] | None, who: str) -> str:
    """The rewards YAML to use: ``config`` if given, else ``$REWARDKIT_CONFIG``; absolute."""
    path = config if config is not None else os.environ.get(CONFIG_ENV)
    if not path:
        raise ConfigError(f"{who}: no rewards config: pass config=PATH or set {CONFIG_ENV}=PATH")
    return os.path.abspath(os.fspath(path))


def cached_composite(config: str | os.PathLike[str] | None, who: str) -> Composite:
    """The composite for ``config`` (see :func:`config_path`), loaded once per process and path."""
    path = config_path(config, who)
    composite = _cache.get(path)
    if composite is None:
        with _lock:  # reward models are loaded once even when several threads ask at the same time
            composite = _cache.get(path)
            if composite is None:
                composite = _cache[path] = load(path)
    return composite


def clear_cache() -> None:
    """Forget every cached composite (tests; a long-lived process that edited its YAML)."""
    with _lock:
        _cache.clear()


def score_batch(composite: Composite, rows: Sequence[Mapping[str, Any]]
                ) -> tuple[list[float], dict[str, list[float]]]:
    """``(totals, {label: scores})`` of ``rows`` by the core's contract, as numbers for engines
    that take no None (:func:`rewardkit.rows.as_number`: see docs/rows.md)."""
    scored = score_rows(composite, rows)
    totals = [as_number(r["reward"]) for r in scored]
    return totals, {label: [as_number(r["rewards"][label]) for r in scored] for label in composite.labels}
