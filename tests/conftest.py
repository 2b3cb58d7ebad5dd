"""Shared fixtures: a fresh registry per test, with a real deterministic plugin registered."""

from __future__ import annotations

from pathlib import Path

import fixture_plugin
import pytest

from rewardkit.plugins import reset_registry

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def fresh_registry():
    """Every test sees the installed entry points plus the test plugin, and nothing else."""
    reg = reset_registry()
    reg.register_plugin(fixture_plugin, name="testplugin", distribution="rewardkit-testplugin", version="0.0")
    yield reg
    reset_registry()
