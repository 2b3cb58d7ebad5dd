"""``rewardkit rm train``: the loss, config and data errors, atomic output, and end to end."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from rewardkit_reward_model import RewardModel, outputs
from rewardkit_reward_model import train as train_mod
from rewardkit_reward_model.synthetic import preference_rows, write_jsonl

import rewardkit
from rewardkit.cli import main


def write_config(folder: Path, **overrides) -> Path:
    cfg = {
        "model": {"from_config": {"arch": "bert", "hidden_size": 32, "num_layers": 1, "num_heads": 2}},
        "data": "train.jsonl",
        "eval_split": 0.25,
        "output_dir": "out",
        "max_length": 48,
        "learning_rate": 3e-3,
        "num_train_epochs": 1,
        "batch_size": 8,
        **overrides,
    }
    import yaml

    path = folder / "rm.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


# -- tensor math ----------------------------------------------------------------------------------

def test_bradley_terry_loss_values():
    import torch

    zero = torch.zeros(3)
    assert float(train_mod.bradley_terry_loss(zero, zero)) == pytest.approx(math.log(2))
    r_c, r_r = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 1.0])
    want = (-math.log(1 / (1 + math.exp(-2))) - math.log(1 / (1 + math.exp(1)))) / 2
    assert float(train_mod.bradley_terry_loss(r_c, r_r)) == pytest.approx(want)
    # Centering adds coef * mean((r_c + r_r)^2) = 0.1 * (4 + 1) / 2.
    assert float(train_mod.bradley_terry_loss(r_c, r_r, 0.1)) == pytest.approx(want + 0.25)


def test_pairwise_metrics_count_ties_as_wrong():
    import torch

    m = train_mod.pairwise_metrics(torch.tensor([1.0, 2.0, 0.0, 5.0]), torch.tensor([0.0, 3.0, 0.0, 1.0]))
    assert m == {"accuracy": pytest.approx(0.5), "margin": pytest.approx((1 - 1 + 0 + 4) / 4)}


def test_lr_factor_warms_up_then_decays_to_zero():
    assert [train_mod.lr_factor(s, 10, 2) for s in (0, 1, 2, 6, 10)] == pytest.approx([0.5, 1.0, 1.0, 0.5, 0.0])


# -- user errors: exit 2, one line naming the file and the line or key ----------------------------

@pytest.mark.parametrize(
    "overrides, rows, needle",
    [
        ({"learning_rate": "fast"}, None, r"rm\.yaml, line 11: key 'learning_rate'"),
        ({"num_epochs": 2}, None, r"rm\.yaml, line 14: unknown key 'num_epochs'; did you mean 'num_train_epochs'"),
        ({"model": {"from_config": {"arch": "gpt"}}}, None, r"key 'model\.from_config\.arch'"),
        ({"model": "no/such/model"}, None, r"key 'model': cannot load"),
        ({"max_length": 4096}, None, r"key 'max_length': 4096 is above the model's limit of 512"),
        ({}, ['{"prompt": "p", "chosen": "a", "rejected": "b"}', "{broken"], r"train\.jsonl, line 2: not valid JSON"),
        ({}, ['{"prompt": "p", "chosen": 3, "rejected": "b"}'], r"train\.jsonl, line 1: 'chosen' must be a string"),
        ({}, ['{"prompt": "p", "chosen": "a"}'], r"train\.jsonl, line 1: row has no 'rejected'"),
        ({"data": "missing.jsonl"}, None, r"missing\.jsonl: no such data file"),
    ],
)
def test_bad_config_or_data_exits_2_with_one_line(tmp_path, capsys, overrides, rows, needle):
    lines = rows or [json.dumps(r) for r in preference_rows(8)]
    (tmp_path / "train.jsonl").write_text("\n".join(lines) + "\n")
    assert main(["rm", "train", str(write_config(tmp_path, **overrides))]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert re.search(needle, err), err
    assert not (tmp_path / "out").exists()


def test_failed_run_leaves_previous_output_intact(tmp_path, monkeypatch):
    write_jsonl(preference_rows(12), tmp_path / "train.jsonl")
    previous = tmp_path / "out"
    previous.mkdir()
    (previous / "config.json").write_text("the previous model")

    def broken_plot(rows, path):
        raise RuntimeError("disk full")

    monkeypatch.setattr(train_mod, "plot_metrics", broken_plot)
    with pytest.raises(RuntimeError, match="disk full"):
        main(["rm", "train", str(write_config(tmp_path))])
    assert (previous / "config.json").read_text() == "the previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "rm.yaml", "train.jsonl"]  # no staging left


def test_atomic_dir_replaces_on_success(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with outputs.atomic_dir(target) as staging:
        (staging / "new.txt").write_text("new")
        assert not (target / "new.txt").exists()  # nothing visible until the block succeeds
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_chat_pairs_train_a_qwen2_model_with_its_chat_template(tmp_path):
    from transformers import AutoTokenizer

    write_jsonl(preference_rows(12, chat=True), tmp_path / "train.jsonl")
    config = write_config(tmp_path, model={"from_config": {"arch": "qwen2", "hidden_size": 16, "num_layers": 1,
                                                           "num_heads": 2}}, eval_split=0.0)
    assert main(["rm", "train", str(config)]) == 0
    out = tmp_path / "out"
    assert AutoTokenizer.from_pretrained(out).chat_template  # the template travels with the checkpoint
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]  # 12 pairs / batch 8, no eval rows without eval pairs
    [score] = rewardkit.load({"rewards": [{"use": "reward_model", "with": {"model": str(out)}}]})(
        prompts=[[{"role": "user", "content": "hi"}]], completions=[[{"role": "assistant", "content": "thanks"}]])
    assert math.isfinite(score)


# -- end to end -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny BERT reward model trained by ``rewardkit rm train`` from a config: (folder, held-out rows, stdout)."""
    import torch

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("rm")
    write_jsonl(preference_rows(200, seed=1), folder / "train.jsonl")
    held_out = preference_rows(60, seed=2)
    write_jsonl(held_out, folder / "eval.jsonl")
    config = write_config(folder, eval_data="eval.jsonl", num_train_epochs=2, batch_size=16, eval_steps=5,
                          learning_rate=1e-2, save_steps=13)
    import contextlib
    import io

    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["rm", "train", str(config)]) == 0
    return folder / "out", held_out, stdout.getvalue()


def test_train_from_config_then_score_through_yaml(trained):
    out, held_out, stdout = trained
    assert re.search(r"eval accuracy (0\.9\d\d|1\.000)", stdout), stdout
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in rows if "eval_accuracy" in r]
    assert evals[0]["step"] == 0 and evals[-1]["step"] == 26  # 200 pairs / 16 per batch, 2 epochs
    assert evals[0]["eval_accuracy"] < 0.8  # the untrained baseline is not already good
    assert evals[-1]["eval_accuracy"] >= 0.9 and evals[-1]["eval_margin"] > 0
    assert [r["step"] for r in rows if "loss" in r] == list(range(1, 27))
    assert (out / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / "rm_train_config.json").read_text())["num_train_epochs"] == 2
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["checkpoint-13"]  # the final model is out/ itself
    [mid] = RewardModel(model=str(out / "checkpoint-13")).score([held_out[0]["prompt"]], [held_out[0]["chosen"]])
    assert math.isfinite(mid)

    rewards_yaml = out.parent / "rewards.yaml"
    rewards_yaml.write_text(f"rewards:\n  - use: reward_model\n    with: {{model: {json.dumps(str(out))}, batch_size: 16}}\n")
    composite = rewardkit.load(rewards_yaml)
    prompts = [r["prompt"] for r in held_out]
    chosen = composite(prompts=prompts, completions=[r["chosen"] for r in held_out])
    rejected = composite(prompts=prompts, completions=[r["rejected"] for r in held_out])
    wins = sum(c > r for c, r in zip(chosen, rejected)) / len(held_out)
    assert wins >= 0.9


@pytest.mark.slow
def test_checkpoint_loads_and_trains_on_in_trl_reward_trainer(trained, tmp_path):
    # TRL's path for a reward model given by name: AutoModelForSequenceClassification, num_labels=1,
    # its own tokenization of standard-format pairs (eos appended). Our checkpoint already ranks
    # fresh pairs as TRL formats them: its Bradley-Terry loss there is far below chance (log 2).
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification
    from trl import RewardConfig, RewardTrainer

    out, _, _ = trained
    model = AutoModelForSequenceClassification.from_pretrained(out, num_labels=1)
    assert model.config.num_labels == 1 and model.config.pad_token_id is not None
    args = RewardConfig(output_dir=str(tmp_path / "trl"), max_steps=2, per_device_train_batch_size=8,
                        learning_rate=1e-6, report_to=[], save_strategy="no", use_cpu=True, max_length=48)
    trainer = RewardTrainer(model=str(out), args=args, train_dataset=Dataset.from_list(preference_rows(16, seed=3)))
    assert trainer.model.config.num_labels == 1
    result = trainer.train()
    assert result.metrics["accuracy"] >= 0.9 and result.training_loss < 0.5


def test_the_old_config_name_is_a_one_release_alias():
    from rewardkit_reward_model.train_config import RewardModelTrainConfig, TrainConfig

    from rewardkit.grpo import TrainConfig as GRPOTrainConfig

    assert TrainConfig is RewardModelTrainConfig and RewardModelTrainConfig is not GRPOTrainConfig
