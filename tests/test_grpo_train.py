"""`rewardkit train CONFIG.yaml`: outputs, config errors, reward-error policy, chat prompts, LoRA."""

from __future__ import annotations

import json

import grpo_tiny
import pytest
import yaml

pytest.importorskip("torch")
pytest.importorskip("transformers")

from rewardkit.cli import main

STEP_KEYS = {
    "step", "reward", "reward_std", "rewards/short/mean", "rewards/short/std", "rewards/exclaim/mean",
    "rewards/exclaim/std", "entropy", "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean",
    "completions/mean_length", "loss", "grad_norm", "learning_rate", "tokens_per_s", "time/generation",
    "time/reward", "time/backward",
}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return grpo_tiny.make_model(tmp_path_factory.mktemp("policy") / "model")


def read_metrics(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_train_writes_metrics_plot_checkpoint_and_model(tmp_path, model_dir, capsys):
    config = grpo_tiny.make_config(tmp_path, model_dir, beta=0.05, report_to="tensorboard")
    assert main(["train", str(config)]) == 0
    run = tmp_path / "run"
    rows = read_metrics(run)
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert STEP_KEYS | {"kl"} <= set(rows[0])
    for r in rows:
        assert r["kl"] >= 0 and r["tokens_per_s"] > 0 and 0 < r["completions/mean_length"] <= 6
    assert (run / "rewards.png").read_bytes()[:4] == b"\x89PNG"
    assert list((run / "runs").glob("events.out.tfevents.*")), "TensorBoard events were not written"
    # One checkpoint (save_steps 2, the last step is covered by final/), complete, no temp folders.
    assert sorted(p.name for p in run.iterdir() if "checkpoint" in p.name) == ["checkpoint-2"]
    ckpt = run / "checkpoint-2"
    for name in ("model.safetensors", "config.json", "tokenizer.json", "optimizer.pt", "scheduler.pt",
                 "rng_state_0.pt", "trainer_state.json"):
        assert (ckpt / name).exists(), name
    assert json.loads((ckpt / "trainer_state.json").read_text())["global_step"] == 2
    from transformers import AutoModelForCausalLM, AutoTokenizer

    AutoModelForCausalLM.from_pretrained(run / "final")
    AutoTokenizer.from_pretrained(run / "final")
    assert "trained 3 steps" in capsys.readouterr().out

    # completions.jsonl: every completion of every step, rows as `rewardkit score` writes them.
    logged = [json.loads(line) for line in (run / "completions.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == [s for s in (1, 2, 3) for _ in range(8)]
    import rewardkit

    composite = rewardkit.load({"rewards": grpo_tiny.REWARDS})
    rescored = composite.breakdown(prompts=[r["prompt"] for r in logged],
                                   completions=[r["completion"] for r in logged])
    for i, r in enumerate(logged):
        assert r["answer"] and r["prompt"][0]["role"] == "user"  # the dataset row's columns travel along
        assert r["rewards"] == {k: pytest.approx(rescored[k][i]) for k in ("short", "exclaim")}
        assert r["reward"] == pytest.approx(rescored["total"][i])
    # ... and `rewardkit annotate` reads them as they are, grouped by prompt.
    from rewardkit.annotate.pairing import read_groups

    groups = read_groups(run / "completions.jsonl")
    assert {g.key for g in groups} == {json.dumps(r["prompt"], sort_keys=True, separators=(",", ":"))
                                       for r in logged}


@pytest.mark.parametrize("change, expected", [
    ({"num_generation": 4}, "unknown key 'num_generation'; did you mean 'num_generations'?"),
    ({"loss_type": "ppo"}, "key 'loss_type'"),
    ({"per_device_train_batch_size": 6}, "must be a multiple of num_generations (4)"),
    ({"model": None}, "key 'model' is required"),
    ({"rewards": [{"use": "lenght"}]}, "did you mean 'length'?"),
    ({"model": "/no/such/model-folder"}, "key 'model': cannot load '/no/such/model-folder'"),
    ({"dataset": "missing.jsonl"}, "missing.jsonl: no such data file"),
])
def test_bad_config_exits_2_with_one_line(tmp_path, model_dir, capsys, change, expected):
    config = grpo_tiny.make_config(tmp_path, model_dir, **change)
    assert main(["train", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err, err
    assert not (tmp_path / "run" / "final").exists()


def test_bad_data_row_names_the_line(tmp_path, model_dir, capsys):
    config = grpo_tiny.make_config(tmp_path, model_dir)
    with open(tmp_path / "data.jsonl", "a") as f:
        f.write('{"answer": "3"}\n')
    assert main(["train", str(config)]) == 2
    err = capsys.readouterr().err
    assert "data.jsonl, line 9: row has no 'prompt' field" in err


# `echo_column` (tests/fixture_plugin.py) raises DataError when its column is missing: a reward
# that fails on every call.
BROKEN = [{"use": "exclaim"}, {"use": "echo_column", "with": {"column": "nope"}}]


def test_reward_error_follows_on_error(tmp_path, model_dir, capsys):
    # With on_error=zero the run goes on and the failing component is 0 on every step.
    config = grpo_tiny.make_config(tmp_path, model_dir, max_steps=1, save_steps=0, plot=False,
                                   rewards=BROKEN, on_error="zero")
    assert main(["train", str(config)]) == 0
    rows = read_metrics(tmp_path / "run")
    assert len(rows) == 1 and rows[0]["rewards/echo_column/mean"] == 0.0
    assert (tmp_path / "run" / "final" / "model.safetensors").exists()


def test_reward_error_with_raise_stops_with_one_line(tmp_path, model_dir, capsys):
    config = grpo_tiny.make_config(tmp_path, model_dir, save_steps=0, rewards=BROKEN,
                                   on_error="raise")
    status = main(["train", str(config)])
    err = capsys.readouterr().err.strip()
    # The reward's complaint is about its input (a missing column): bad data, exit 2.
    assert status == 2 and "reward 'echo_column'" in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "run" / "final").exists()


def test_chat_prompts_go_through_the_template_and_rewards_see_messages(tmp_path, model_dir):
    import rewardkit
    from rewardkit.grpo import TrainConfig, train

    seen = {}

    class Probe(rewardkit.Reward):
        name = "probe"

        def score(self, prompts, completions, **columns):
            seen.update(prompt=prompts[0], completion=completions[0], answer=columns["answer"][0])
            return [float(len(rewardkit.text_of(c))) for c in completions]

    from rewardkit.plugins import registry

    class Plugin:
        @rewardkit.hookimpl
        def register_rewards(self, register):
            register(Probe)

    registry().register_plugin(Plugin(), name="probe", distribution="probe")
    path = grpo_tiny.make_config(tmp_path, model_dir, max_steps=1, save_steps=0, plot=False,
                                 rewards=[{"use": "probe"}])
    config = TrainConfig.from_yaml(path)
    assert config.dataset == str(tmp_path / "data.jsonl")  # resolved beside the YAML
    result = train(config)
    assert seen["prompt"][0]["role"] == "user" and seen["completion"][0]["role"] == "assistant"
    assert seen["answer"].isdigit()
    assert len(result.metrics) == 1


@pytest.mark.slow
def test_lora_trains_only_the_adapter(tmp_path, model_dir):
    import torch
    from transformers import AutoModelForCausalLM

    from rewardkit.grpo import TrainConfig, train

    path = grpo_tiny.make_config(tmp_path, model_dir, max_steps=2, save_steps=0, plot=False, use_peft=True,
                                 lora_r=4, lora_alpha=8, lora_dropout=0.0, beta=0.05, learning_rate=5e-2)
    result = train(TrainConfig.from_yaml(path))
    base = AutoModelForCausalLM.from_pretrained(model_dir).state_dict()
    changed_lora = 0
    for name, p in result.model.named_parameters():
        if "lora_" in name:
            assert p.requires_grad
            changed_lora += bool(name.endswith("lora_B.default.weight") and p.detach().abs().sum() > 0)
        else:
            assert not p.requires_grad, name
            key = name.replace("base_model.model.", "").replace(".base_layer", "")
            assert torch.equal(p.detach(), base[key]), f"{name} changed"
    assert changed_lora > 0, "no adapter weight moved"
    final = tmp_path / "run" / "final"
    assert (final / "adapter_model.safetensors").exists() and not (final / "model.safetensors").exists()
    assert "kl" in result.metrics[-1]


def test_example_config_is_valid():
    from pathlib import Path

    from rewardkit.grpo import TrainConfig

    path = Path(__file__).resolve().parents[1] / "examples" / "train.yaml"
    config = TrainConfig.from_yaml(path)
    assert config.dataset and Path(config.dataset).exists()
    assert yaml.safe_load(path.read_text())["rewards"]


def test_a_crashing_reward_with_raise_stops_with_status_1(tmp_path, model_dir, capsys):
    import rewardkit
    from rewardkit.plugins import registry

    class Crash(rewardkit.Reward):
        name = "crash"

        def score(self, prompts, completions, **columns):
            raise RuntimeError("model server went away")

    class Plugin:
        @rewardkit.hookimpl
        def register_rewards(self, register):
            register(Crash)

    registry().register_plugin(Plugin(), name="crash", distribution="crash")
    config = grpo_tiny.make_config(tmp_path, model_dir, save_steps=0, rewards=[{"use": "crash"}], on_error="raise")
    assert main(["train", str(config)]) == 1
    err = capsys.readouterr().err.strip()
    assert "reward 'crash'" in err and "model server went away" in err and len(err.splitlines()) == 1, err
