"""One error path for plugin failures: named, one line, the same for first- and third-party plugins."""

from __future__ import annotations

import json

import pytest
from test_plugins import make_dist

import rewardkit
from rewardkit.cli import main

SETUP_RAISES = """
import rewardkit

class Flaky(rewardkit.Reward):
    name = "{name}"

    def setup(self):
        raise RuntimeError("cannot reach the judge")

    def score(self, prompts, completions, **columns):
        return [1.0 for _ in completions]

@rewardkit.hookimpl
def register_rewards(register):
    register(Flaky)
"""

SCHEMA_RAISES = """
import rewardkit

class Odd(rewardkit.Reward):
    name = "odd"

    @classmethod
    def options_schema(cls):
        raise ValueError("no schema today")

    def score(self, prompts, completions, **columns):
        return [0.0 for _ in completions]

@rewardkit.hookimpl
def register_rewards(register):
    register(Odd)
"""


@pytest.mark.parametrize("dist", ["rewardkit-flaky", "acme-flaky"])  # first-party name or not: one path
def test_setup_raising_is_a_one_line_error_naming_the_plugin(tmp_path, monkeypatch, capsys, dist):
    monkeypatch.syspath_prepend(str(tmp_path))
    make_dist(tmp_path, dist, "flaky", "rk_flaky", SETUP_RAISES.format(name="flaky"))
    rewardkit.plugins.reset_registry()
    config = tmp_path / "rewards.yaml"
    config.write_text("rewards:\n  - use: length\n  - use: flaky\n")
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"prompt": "p", "completion": "c"}) + "\n")
    assert main(["score", str(config), str(data)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert f"reward 'flaky' from plugin 'flaky' ({dist} 0.3) failed to set up: " \
           "RuntimeError: cannot reach the judge" in err
    assert str(config) in err and "entry 2" in err
    assert main(["plugins"]) == 0  # the rest of the CLI works


def test_options_that_cannot_be_listed_disable_the_plugin_not_the_listing(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(tmp_path))
    make_dist(tmp_path, "acme-odd", "odd", "rk_odd", SCHEMA_RAISES)
    rewardkit.plugins.reset_registry()
    assert main(["plugins", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert "length" in rows and "options" in rows["length"]
    assert rows["odd"]["distribution"] == "acme-odd"
    assert "options cannot be listed: ValueError: no schema today" in rows["odd"]["error"]
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "odd  (acme-odd 0.3)  FAILED TO LOAD" in out and "length" in out
