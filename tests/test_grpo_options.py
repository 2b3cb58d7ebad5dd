"""TRL 1.16's GRPO options in the loop: each one learns on the tiny arithmetic prompts, changes what it
should, is validated at load, and a killed-and-resumed run with it equals the uninterrupted one."""

from __future__ import annotations

import json

import grpo_tiny
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from rewardkit.grpo import TrainConfig, train
from rewardkit.grpo.config import ConfigError

# Each option as a user would paste it from a TRL GRPOConfig.
OPTIONS = {
    "cispo": {"loss_type": "cispo", "epsilon_high": 5.0},
    "sapo": {"loss_type": "sapo", "sapo_temperature_pos": 1.0, "sapo_temperature_neg": 1.05},
    "luspo": {"loss_type": "luspo", "importance_sampling_level": "sequence"},
    "vespo": {"loss_type": "vespo"},
    "gspo": {"loss_type": "grpo", "importance_sampling_level": "sequence"},
    "gdpo": {"multi_objective_aggregation": "normalize_then_sum"},
    "top_entropy": {"top_entropy_quantile": 0.5},
    "entropy_coef": {"entropy_coef": 0.01},
    "adaptive_entropy": {"use_adaptive_entropy": True, "entropy_coef": 0.01, "entropy_target": 10.0},
    # A rollout serves two steps, so the second is off-policy; 20 steps: 10 generations.
    "off_policy_mask": {"off_policy_mask_threshold": 0.001, "steps_per_generation": 2,
                        "per_device_train_batch_size": 4, "max_steps": 20},
    "steps_per_generation": {"steps_per_generation": 2, "per_device_train_batch_size": 4},
    "sync_ref_model": {"beta": 0.05, "sync_ref_model": True, "ref_model_sync_steps": 2,
                       "ref_model_mixup_alpha": 0.5},
    "disable_dropout": {"disable_dropout": True},
    "gradient_checkpointing": {"gradient_checkpointing": True},
}
BASE = {"max_steps": 10, "save_steps": 0, "plot": False, "log_completions": False, "learning_rate": 3e-2}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return grpo_tiny.make_model(tmp_path_factory.mktemp("policy") / "model")


def run(tmp_path, model_dir, name, **opts):
    return train(TrainConfig.from_yaml(grpo_tiny.make_config(tmp_path / name, model_dir, **opts)))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(OPTIONS))
def test_option_learns(tmp_path, model_dir, name):
    """The reward rises over ten steps with the option on (shorter, exclaiming answers)."""
    opts = {**BASE, **OPTIONS[name]}
    rewards = [r["reward"] for r in run(tmp_path, model_dir, name, **opts).metrics]
    assert len(rewards) == opts["max_steps"]
    first, last = sum(rewards[:3]) / 3, sum(rewards[-3:]) / 3
    assert last > first + 0.1, rewards


# What each option must visibly do to a 3-step run (same seed) compared with the default run.
@pytest.mark.slow
def test_options_change_the_run_and_log_trl_metrics(tmp_path, model_dir):
    short = {**BASE, "max_steps": 3}
    base = run(tmp_path, model_dir, "base", **short).metrics
    for name in ("cispo", "sapo", "luspo", "vespo", "gspo", "gdpo", "top_entropy", "entropy_coef"):
        got = run(tmp_path, model_dir, name, **short, **OPTIONS[name]).metrics
        assert [r["loss"] for r in got] != [r["loss"] for r in base], name
    # The off-policy mask against the same off-policy run without it.
    reuse = {**short, "num_iterations": 2, "epsilon": 0.05}
    unmasked = run(tmp_path, model_dir, "reuse", **reuse).metrics
    masked = run(tmp_path, model_dir, "masked", **reuse, off_policy_mask_threshold=1e-4).metrics
    assert masked[0]["loss"] == unmasked[0]["loss"]  # on-policy step: the KL is 0, nothing dropped
    assert masked[1]["loss"] != unmasked[1]["loss"]
    ent = run(tmp_path, model_dir, "ent", **short, **OPTIONS["adaptive_entropy"]).metrics
    # The entropy is far below the target of 10, so the coefficient grows by delta each step.
    assert [r["entropy_coef"] for r in ent] == pytest.approx([0.015, 0.02, 0.025])
    assert all("policy_loss" in r for r in ent)
    # Gradient checkpointing recomputes the same activations: the same run up to float order.
    ckpt = run(tmp_path, model_dir, "gc", **short, **OPTIONS["gradient_checkpointing"]).metrics
    for a, b in zip(ckpt, base):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-4, abs=1e-6)
        assert a["reward"] == b["reward"]


def test_sync_ref_model_mixes_the_policy_into_the_reference():
    from rewardkit import tiny
    from rewardkit.grpo.reference import disable_dropout, mix_into_reference

    tok = tiny.char_tokenizer()
    policy, ref = tiny.causal_lm(tok, hidden_size=16, num_layers=1, num_heads=2, seed=0), \
        tiny.causal_lm(tok, hidden_size=16, num_layers=1, num_heads=2, seed=1)
    want = {n: 0.25 * p.detach() + 0.75 * q.detach() for (n, p), q in zip(policy.named_parameters(), ref.parameters())}
    mix_into_reference(policy, ref, 0.25)
    for n, q in ref.named_parameters():
        torch.testing.assert_close(q.detach(), want[n])
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.3))
    disable_dropout(net)
    assert net[1].p == 0.0


@pytest.mark.parametrize("change, expected", [
    ({"loss_type": "ppo"}, "'sapo', 'luspo' or 'vespo'"),
    ({"importance_sampling_level": "seq"}, "Input should be 'token' or 'sequence'"),
    ({"multi_objective_aggregation": "mean"}, "'sum_then_normalize' or 'normalize_then_sum'"),
    ({"steps_per_generation": 3, "gradient_accumulation_steps": 2, "per_device_train_batch_size": 4},
     "steps_per_generation (3) must be a multiple of gradient_accumulation_steps (2)"),
    ({"steps_per_generation": 2, "generation_batch_size": 16}, "can not both be set"),
    ({"generation_batch_size": 12}, "generation_batch_size (12) must be divisible by the global batch size (8)"),
    ({"sync_ref_model": True}, "sync_ref_model needs beta > 0"),
    ({"sync_ref_model": True, "beta": 0.1, "use_peft": True}, "sync_ref_model does not work with use_peft"),
    ({"top_entropy_quantile": 1.5}, "key 'top_entropy_quantile'"),
    ({"entropy_coef_min": 0.5, "entropy_coef_max": 0.1}, "entropy_coef_min (0.5) must not exceed"),
    ({"off_policy_mask_threshold": -1}, "key 'off_policy_mask_threshold'"),
])
def test_bad_option_is_one_line(tmp_path, model_dir, change, expected):
    with pytest.raises(ConfigError) as e:
        TrainConfig.from_yaml(grpo_tiny.make_config(tmp_path, model_dir, **change))
    msg = str(e.value)
    assert len(msg.splitlines()) == 1 and expected in msg and "train.yaml" in msg, msg


def test_trl_warnings_are_kept():
    assert TrainConfig(loss_type="luspo").warnings()[0].startswith("loss_type luspo")
    assert "GSPO" in TrainConfig(loss_type="dapo", importance_sampling_level="sequence").warnings()[0]
    assert TrainConfig(loss_type="luspo", importance_sampling_level="sequence").warnings() == []


def test_generation_batch_size_sets_steps_per_generation():
    c = TrainConfig(generation_batch_size=32, per_device_train_batch_size=8)
    assert c.generations_steps == 4 and c.prompts_per_step == 4 and c.steps_per_rollout == 4


# --- resume: killed after step 3 (checkpoint at 2), resumed, equals the uninterrupted run ---------------

RESUME = {
    "loss_menu": {"loss_type": "sapo", "importance_sampling_level": "sequence",
                  "multi_objective_aggregation": "normalize_then_sum"},
    "vespo_cispo": {"loss_type": "vespo", "off_policy_mask_threshold": 0.01, "num_iterations": 2},
    "entropy": {"use_adaptive_entropy": True, "entropy_coef": 0.01, "entropy_target": 10.0,
                "top_entropy_quantile": 0.5, "loss_type": "cispo"},
    "steps_per_generation": {"steps_per_generation": 4, "per_device_train_batch_size": 4,
                             "gradient_accumulation_steps": 2, "loss_type": "luspo"},
    "sync_ref": {"beta": 0.05, "sync_ref_model": True, "ref_model_sync_steps": 1, "disable_dropout": True,
                 "gradient_checkpointing": True},
}
EXACT = ("reward", "loss", "entropy", "kl", "grad_norm", "entropy_coef", "policy_loss", "completions/mean_length")


class Killed(Exception):
    pass


@pytest.mark.slow
@pytest.mark.parametrize("name", list(RESUME))
def test_resume_is_exact_with_option(tmp_path, model_dir, name):
    opts = {"max_steps": 4, "save_steps": 3, "plot": False, **RESUME[name]}
    full = run(tmp_path, model_dir, "a", **opts)
    config_b = grpo_tiny.make_config(tmp_path / "b", model_dir, **opts)

    def kill_at_4(step, row):
        if step == 4:
            raise Killed

    with pytest.raises(Killed):
        train(TrainConfig.from_yaml(config_b), callbacks=[kill_at_4])
    train(TrainConfig.from_yaml(config_b), resume=True)
    resumed = [json.loads(line) for line in (tmp_path / "b" / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in resumed] == [1, 2, 3, 4]
    for got, want in zip(resumed, full.metrics):
        for key in EXACT:
            if key in want:
                assert got[key] == pytest.approx(want[key], rel=1e-6, abs=1e-9), (got["step"], key)


def test_train_help_lists_every_option(capsys):
    from rewardkit.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for name in TrainConfig.model_fields:
        assert f"\n  {name} = " in out, name


def test_docs_trl_section_loads_and_trains(tmp_path, model_dir):
    """The GRPOConfig section shown in docs/training.md, pasted into a config, trains a step."""
    import re
    from pathlib import Path

    import yaml

    doc = (Path(__file__).resolve().parents[1] / "docs" / "training.md").read_text()
    section = doc.split("### TRL 1.16's algorithm options", 1)[1]
    snippet = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1))
    assert snippet["loss_type"] == "grpo" and snippet["sync_ref_model"] is True
    result = run(tmp_path, model_dir, "doc", **{**snippet, "max_steps": 2, "save_steps": 0, "plot": False})
    assert [r["step"] for r in result.metrics] == [1, 2] and "kl" in result.metrics[0]


def test_entropy_pool_gathers_every_rank_without_padding():
    """The quantile pool holds the masked tokens of every process (ranks with unequal token counts)."""
    from rewardkit.grpo.entropy import entropy_pool

    ranks = [(torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([[1, 1, 0]])),
             (torch.tensor([[4.0, 5.0, 6.0]]), torch.tensor([[1, 1, 1]]))]

    class TwoRanks:  # rank 0's view of an all_gather over both ranks
        enabled = True

        def __init__(self):
            self.calls = 0

        def all_gather(self, x):
            self.calls += 1
            if self.calls == 1:  # the token counts
                return torch.tensor([2, 3])
            other = torch.full_like(x, -1e9)
            other[:3] = ranks[1][0][ranks[1][1].bool()]
            return torch.cat([x, other])

    pool = entropy_pool(TwoRanks(), *ranks[0])
    assert sorted(pool.tolist()) == [1.0, 2.0, 4.0, 5.0, 6.0]
