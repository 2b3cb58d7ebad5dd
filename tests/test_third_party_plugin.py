"""Smoke test: a plugin distribution installed with pip is listed and composes with `length`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("rewardkit")


def test_installed_third_party_plugin_is_listed_and_composes(tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(ROOT / "examples" / "third_party_plugin")],
        check=True, capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}

    listed = subprocess.run([str(EXE), "plugins", "--json"], env=env, capture_output=True, text=True, check=True)
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["shouting"]["distribution"] == "rewardkit-shouting"
    assert rows["shouting"]["version"] == "1.2.0"
    assert rows["shouting"]["options"]["factor"]["default"] == 1.0

    cfg = tmp_path / "rewards.yaml"
    cfg.write_text("rewards:\n  - use: shouting\n    weight: 2\n    with: {factor: 1.5}\n"
                   "  - use: length\n    weight: 0.5\n    with: {unit: words, max_tokens: 4}\n")
    data = tmp_path / "data.jsonl"
    data.write_text('{"prompt": "p", "completion": "HELLO THERE"}\n{"prompt": "p", "completion": "hello"}\n')
    out = tmp_path / "out.jsonl"
    subprocess.run([str(EXE), "score", str(cfg), str(data), "-o", str(out)], env=env, check=True, capture_output=True)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0]["rewards"] == {"shouting": 1.5, "length": 0.5}
    assert rows[0]["reward"] == pytest.approx(2 * 1.5 + 0.5 * 0.5)
    assert rows[1]["reward"] == pytest.approx(0.5 * 0.75)
