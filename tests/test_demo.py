"""`rewardkit demo`: the task and its rewards, and a quick end-to-end run through the CLI."""

from __future__ import annotations

import json

import pytest

from rewardkit.demo.task import ExactAnswer, Problem, is_correct, split


def test_split_keeps_evaluation_pairs_out_of_training():
    train, held_out = split(9, 20, seed=1)
    assert len(train) == 80 and len(held_out) == 20
    assert not set(train) & set(held_out)
    assert split(9, 20, seed=1) == (train, held_out)  # seeded
    assert Problem(12, 7).row() == {"prompt": "12+7=", "answer": "19"}


@pytest.mark.parametrize("completion, right", [("19", True), (" 19 ", True), ("19.", False), ("1 9", False),
                                               ("119", False), ("", False), ([{"role": "assistant",
                                                                               "content": "19"}], True)])
def test_is_correct_wants_the_bare_number(completion, right):
    assert is_correct(completion, "19") is right


def test_reward_config_prefers_math_and_falls_back_to_exact_match(monkeypatch):
    from rewardkit import compose
    from rewardkit.demo.run import reward_config
    from rewardkit.errors import ConfigError

    assert reward_config()["rewards"][0]["use"] == "math"
    real_load = compose.load

    def no_math(config, **kw):
        if any(r["use"] == "math" for r in config["rewards"]):
            raise ConfigError("rewards, entry 1: reward 'math' is not registered")
        return real_load(config, **kw)

    monkeypatch.setattr(compose, "load", no_math)
    config = reward_config()
    assert config["rewards"][0]["use"] == ExactAnswer.name
    scores = real_load(config)(prompts=["1+2="] * 3, completions=["3", "4", "three"], answer=["3"] * 3)
    assert scores == pytest.approx([1.1, 0.1, 0.0])  # correct + 0.1 * bare number


@pytest.mark.slow
def test_quick_demo_writes_plot_metrics_summary_and_model(tmp_path, capsys):
    pytest.importorskip("torch")
    from rewardkit.cli import main

    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--steps", "4", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "before GRPO: accuracy" in printed and "after GRPO:  accuracy" in printed
    assert "first tenth of steps" in printed
    summary = json.loads((out / "summary.json").read_text())
    for when in ("before", "after"):
        assert 0.0 <= summary[when]["accuracy"] <= 1.0
        assert 0.0 <= summary[when]["reward"] <= 1.1
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert all("rewards/correct/mean" in r and "rewards/bare_number/mean" in r for r in rows)
    assert (out / "demo.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "final" / "config.json").exists() and (out / "sft" / "config.json").exists()
    assert summary["seconds"]["total"] > 0 and len(summary["examples"]) > 0
