"""`bench/grpo.py --phases` (the command the README's phase table comes from) runs and reports every phase
for both trainers. Speed itself is the bench's business, not a test's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("trl")

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("generation", "reward", "logps", "forward+backward", "optimizer", "other", "step")


@pytest.mark.slow
@pytest.mark.parametrize("reward", ["math"])
def test_bench_phases_smoke(reward):
    cmd = [sys.executable, str(ROOT / "bench" / "grpo.py"), "--sizes", "small", "--rounds", "1", "--steps", "3",
           "--no-memory", "--phases", "--reward", reward]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["reward"] == reward
    for side in ("ours", "trl"):
        for phase in PHASES:
            assert result[f"phase_{side}_{phase}_small"] >= 0 or phase == "other", (side, phase)
        assert result[f"phase_{side}_generation_small"] > 0 and result[f"phase_{side}_forward+backward_small"] > 0
        assert 0 <= result[f"outside_share_{side}_small"] < 1
    assert "| forward+backward |" in done.stdout
