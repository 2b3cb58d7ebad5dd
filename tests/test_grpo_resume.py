"""Checkpoints and `--resume`: a run killed after step k and resumed equals the uninterrupted run,
and a run killed while saving never leaves a broken checkpoint."""

from __future__ import annotations

import json
import shutil

import grpo_tiny
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from rewardkit.cli import main
from rewardkit.grpo import checkpoint as ckpt

# Metrics that depend only on the computation (not on wall time).
EXACT = ("reward", "reward_std", "rewards/short/mean", "rewards/exclaim/mean", "loss", "entropy", "kl",
         "clip_ratio/region_mean", "completions/mean_length", "grad_norm", "learning_rate")


class Killed(Exception):
    """Stands in for SIGKILL: raised from a callback, after a step's optimizer update."""


def metrics_of(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.slow
def test_resume_continues_exactly(tmp_path):
    from rewardkit.grpo import TrainConfig, train

    model_dir = grpo_tiny.make_model(tmp_path / "model")
    # num_iterations 2 with a checkpoint at an odd step: the resumed run must reuse the stored
    # rollout (old log-probs included); beta > 0 exercises the reference model too.
    opts = {"max_steps": 4, "save_steps": 3, "num_iterations": 2, "beta": 0.1, "epsilon": 0.05,
            "lr_scheduler_type": "linear", "warmup_steps": 1, "plot": False}
    full = train(TrainConfig.from_yaml(grpo_tiny.make_config(tmp_path / "a", model_dir, **opts)))

    b = tmp_path / "b"
    config_b = grpo_tiny.make_config(b, model_dir, **opts)

    def kill_at_4(step, row):
        if step == 4:
            raise Killed

    with pytest.raises(Killed):
        train(TrainConfig.from_yaml(config_b), callbacks=[kill_at_4])
    assert [p.name for p in ckpt.checkpoints(b / "run")] == ["checkpoint-3"]
    assert [r["step"] for r in metrics_of(b / "run")] == [1, 2, 3, 4]  # step 4 logged, then "killed"

    assert main(["train", str(config_b), "--resume"]) == 0
    resumed = metrics_of(b / "run")
    assert [r["step"] for r in resumed] == [1, 2, 3, 4]  # the redone step 4 replaced, not duplicated
    for got, want in zip(resumed, full.metrics):
        for key in EXACT:
            assert got[key] == pytest.approx(want[key], rel=1e-6, abs=1e-9), (got["step"], key)

    # The completions log is redone the same way: nothing duplicated, nothing lost.
    def completions_of(run):
        return [json.loads(line) for line in (run / "completions.jsonl").read_text().splitlines()]

    assert completions_of(b / "run") == completions_of(tmp_path / "a" / "run")

    from transformers import AutoModelForCausalLM

    final_b = AutoModelForCausalLM.from_pretrained(b / "run" / "final")
    for k, v in weights(full.model).items():
        assert torch.allclose(final_b.state_dict()[k], v, atol=1e-6), k
    assert any(r["clip_ratio/region_mean"] > 0 for r in full.metrics), "the off-policy step never clipped"


def test_resume_without_checkpoint_is_a_config_error(tmp_path, capsys):
    model_dir = grpo_tiny.make_model(tmp_path / "model")
    config = grpo_tiny.make_config(tmp_path, model_dir)
    assert main(["train", str(config), "--resume"]) == 2
    assert "no checkpoint to resume from" in capsys.readouterr().err
    assert main(["train", str(config), "--resume", str(tmp_path / "run" / "checkpoint-9")]) == 2
    assert "checkpoint-9: not a complete checkpoint folder" in capsys.readouterr().err


def test_a_save_killed_midway_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    from rewardkit.models import tiny

    tok = tiny.char_tokenizer()
    model = tiny.causal_lm(tok, hidden_size=16, num_layers=1, num_heads=2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    ckpt.save(tmp_path, 2, model=model, tokenizer=tok, optimizer=opt, scheduler=sched)

    def dies(*args, **kwargs):
        raise KeyboardInterrupt  # killed while writing the optimizer state of step 4

    monkeypatch.setattr(torch, "save", dies)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save(tmp_path, 4, model=model, tokenizer=tok, optimizer=opt, scheduler=sched)
    monkeypatch.undo()
    assert not (tmp_path / "checkpoint-4").exists()
    assert ckpt.latest(tmp_path) == tmp_path / "checkpoint-2"
    # A leftover temporary folder is ignored by --resume and cleared by the next save of that step.
    assert (tmp_path / ".tmp-checkpoint-4").exists()
    ckpt.save(tmp_path, 4, model=model, tokenizer=tok, optimizer=opt, scheduler=sched, save_total_limit=1)
    assert [p.name for p in ckpt.checkpoints(tmp_path)] == ["checkpoint-4"]
    assert not (tmp_path / ".tmp-checkpoint-4").exists()
    step, extra = ckpt.load(tmp_path / "checkpoint-4", model=model, optimizer=opt, scheduler=sched)
    assert step == 4 and "rng" in extra
    shutil.rmtree(tmp_path / "checkpoint-4")
    assert ckpt.latest(tmp_path) is None


def test_a_fresh_run_does_not_mix_with_earlier_checkpoints(tmp_path, capsys):
    model_dir = grpo_tiny.make_model(tmp_path / "model")
    config = grpo_tiny.make_config(tmp_path, model_dir, max_steps=1, save_steps=0, plot=False)
    (tmp_path / "run" / "checkpoint-7").mkdir(parents=True)
    assert main(["train", str(config)]) == 2
    assert "holds checkpoints of an earlier run (checkpoint-7)" in capsys.readouterr().err
    assert main(["train", str(config), "--overwrite-output-dir"]) == 0
    assert not (tmp_path / "run" / "checkpoint-7").exists() and (tmp_path / "run" / "final").exists()
