"""`report_to: [wandb, trackio]`: metrics and TRL's completions table through the libraries themselves,
wandb offline and Trackio in its local database (nothing leaves the machine)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import grpo_tiny
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
wandb = pytest.importorskip("wandb")
trackio = pytest.importorskip("trackio")

from rewardkit.grpo import TrainConfig

# Two installed rewards (the test plugin is not registered in a subprocess).
REWARDS = [{"use": "length", "as": "short", "with": {"mode": "shorter", "unit": "chars", "max_tokens": 6}},
           {"use": "length", "as": "long", "weight": 0.5, "with": {"mode": "band", "unit": "chars", "min_tokens": 3,
                                                                  "max_tokens": 6}}]


@pytest.mark.slow
def test_wandb_and_trackio_get_metrics_and_the_completions_table(tmp_path):
    # A separate process: Trackio reads TRACKIO_DIR once, at import.
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path / "wandb-home"), "WANDB_SILENT": "true",
           "TRACKIO_DIR": str(tmp_path / "trackio"), "WANDB_PROJECT": "rk-test", "HF_HUB_OFFLINE": "1"}
    model = grpo_tiny.make_model(tmp_path / "model")
    path = grpo_tiny.make_config(tmp_path / "a", model, max_steps=2, save_steps=0, plot=False,
                                 report_to=["wandb", "trackio"], rewards=REWARDS)
    done = subprocess.run([sys.executable, "-m", "rewardkit.cli", "train", str(path)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = [json.loads(line) for line in (tmp_path / "a" / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == 2

    # wandb (offline): the run folder with the metrics history and the completions table files.
    runs = list((tmp_path / "a" / "run" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    tables = sorted(runs[0].glob("files/media/table/completions_*.table.json"))
    assert len(tables) == 2  # one per logged step
    t = json.loads(tables[0].read_text())
    assert t["columns"] == ["step", "prompt", "completion", "short", "long", "advantage"]
    assert len(t["data"]) == 8 and t["data"][0][0] == 1
    shorts = [row[3] for row in t["data"]]
    assert sum(shorts) / len(shorts) == pytest.approx(metrics[0]["rewards/short/mean"])
    assert list(runs[0].glob("run-*.wandb"))  # the metrics stream, for `wandb sync`

    # Trackio: its local SQLite database holds both steps' metrics.
    dbs = list((tmp_path / "trackio").glob("*.db"))
    assert dbs, list((tmp_path / "trackio").iterdir())
    with sqlite3.connect(dbs[0]) as db:
        rows = db.execute("SELECT step, metrics FROM metrics ORDER BY step").fetchall()
    logged = [json.loads(m) for _, m in rows]
    rewards = [m["train/reward"] for m in logged if "train/reward" in m]
    assert rewards == pytest.approx([r["reward"] for r in metrics])
    assert any("completions" in m for m in logged)


def test_report_to_accepts_trl_names():
    assert TrainConfig(report_to="wandb").report_to == ["wandb"]
    assert TrainConfig(report_to=["tensorboard", "trackio"]).report_to == ["tensorboard", "trackio"]
    assert TrainConfig(report_to="none").report_to is None
