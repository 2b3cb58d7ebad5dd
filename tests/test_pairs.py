"""``rewardkit pairs`` and rewardkit.pairs: grouping, pairing rules, CLI errors, and TRL's DPOTrainer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rewardkit.cli import main
from rewardkit.pairs import PairStats, group_rows, make_pairs, prompt_key

CONFIG = """
rewards:
  - use: length
    weight: 1.0
    with: {mode: shorter, unit: words, max_tokens: 10}
  - use: format
    as: fmt
    weight: 0.5
"""
CHAT = [{"role": "user", "content": "hi"}]


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def scored(*items):
    return group_rows([({"prompt": p, "completion": c}, r) for p, c, r in items])


def test_prompt_key_ignores_dict_key_order_but_not_content():
    assert prompt_key([{"role": "user", "content": "hi"}]) == prompt_key([{"content": "hi", "role": "user"}])
    assert prompt_key("hi") != prompt_key([{"role": "user", "content": "hi"}])
    assert prompt_key("a") != prompt_key("b")


def test_best_vs_worst_gives_one_pair_per_prompt_with_scores():
    groups = scored(("a", "mid", 0.5), ("a", "best", 0.9), ("a", "worst", 0.1), ("b", "x", 1.0), ("b", "y", 0.0))
    stats = PairStats()
    pairs = list(make_pairs(groups, stats=stats))
    assert pairs == [
        {"prompt": "a", "chosen": "best", "rejected": "worst", "score_chosen": 0.9, "score_rejected": 0.1},
        {"prompt": "b", "chosen": "x", "rejected": "y", "score_chosen": 1.0, "score_rejected": 0.0},
    ]
    assert (stats.rows, stats.prompts, stats.pairs) == (5, 2, 2)


def test_all_mode_keeps_every_pair_above_the_margin():
    groups = scored(("a", "c1", 1.0), ("a", "c2", 0.7), ("a", "c3", 0.0))
    stats = PairStats()
    pairs = list(make_pairs(groups, mode="all", min_margin=0.5, stats=stats))
    assert [(p["chosen"], p["rejected"]) for p in pairs] == [("c1", "c3"), ("c2", "c3")]
    assert stats.below_margin == 1  # c1 vs c2: 0.3


def test_ties_and_single_completions_are_dropped():
    # 0.1 + 0.2 and 0.3 differ in the last bits: still a tie.
    groups = scored(("a", "x", 0.1 + 0.2), ("a", "y", 0.3), ("solo", "z", 1.0))
    stats = PairStats()
    assert list(make_pairs(groups, stats=stats)) == []
    assert (stats.ties, stats.single, stats.pairs) == (1, 1, 0)
    assert "1 ties" in stats.summary() and "1 prompts with one completion" in stats.summary()


def test_min_margin_is_inclusive_despite_float_rounding():
    groups = scored(("a", "x", 0.7), ("a", "y", 0.4))  # 0.7 - 0.4 = 0.29999999999999993
    assert len(list(make_pairs(groups, min_margin=0.3))) == 1
    assert list(make_pairs(groups, min_margin=0.31)) == []


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be one of"):
        list(make_pairs([], mode="sideways"))


@pytest.fixture
def files(tmp_path):
    cfg = tmp_path / "rewards.yaml"
    cfg.write_text(CONFIG)
    data = write_rows(tmp_path / "samples.jsonl", [
        {"prompt": "q1", "completion": "one two three"},
        {"prompt": "q1", "completion": "<think>x</think><answer>1</answer>"},
        {"prompt": "q1", "completion": "one two three four five six"},
        {"prompt": CHAT, "completion": [{"role": "assistant", "content": "a b"}]},
        # the same chat prompt written with its keys in another order: one group
        {"prompt": [{"content": "hi", "role": "user"}], "completion": [{"role": "assistant", "content": "a b c d e"}]},
        {"prompt": "q2", "completion": "same words"},
        {"prompt": "q2", "completion": "other words"},
        {"prompt": "q3", "completion": "alone"},
    ])
    return cfg, data, tmp_path / "pairs.jsonl"


def test_cli_writes_trl_preference_rows(files, capsys):
    cfg, data, out = files
    assert main(["pairs", str(cfg), str(data), "-o", str(out)]) == 0
    rows = read_rows(out)
    assert [(r["prompt"], r["chosen"], r["rejected"]) for r in rows] == [
        ("q1", "<think>x</think><answer>1</answer>", "one two three four five six"),
        (CHAT, [{"role": "assistant", "content": "a b"}], [{"role": "assistant", "content": "a b c d e"}]),
    ]
    # the scores are the composite's totals, as `rewardkit score` computes them
    assert rows[0]["score_chosen"] == pytest.approx(1.0 - 0.1 + 0.5 * 1.0)  # one word: 0.9, strict format: 1
    assert rows[0]["score_rejected"] == pytest.approx(1.0 - 0.6)
    err = capsys.readouterr().err
    assert "8 rows, 4 prompts -> 2 pairs (dropped: 1 ties, 0 below margin, 1 prompts with one completion)" in err


def test_cli_all_mode_and_min_margin(files):
    cfg, data, out = files
    assert main(["pairs", str(cfg), str(data), "-o", str(out), "--mode", "all", "--min-margin", "0.35"]) == 0
    rows = read_rows(out)
    margins = [r["score_chosen"] - r["score_rejected"] for r in rows]
    assert len(rows) == 2 and all(m >= 0.35 for m in margins)  # q1: 1.4-0.7, 1.4-0.4; 0.7-0.4 is under


def test_cli_bad_row_exits_2_and_keeps_the_previous_output(files, capsys):
    cfg, data, out = files
    out.write_text("previous\n")
    bad = write_rows(data.parent / "bad.jsonl", [{"prompt": "q", "completion": "a"}, {"completion": "no prompt"}])
    assert main(["pairs", str(cfg), str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"rewardkit: error: {bad}, line 2: row has no 'prompt' field (fields: completion)"
    assert out.read_text() == "previous\n"


def test_cli_bad_config_exits_2(files, capsys):
    _, data, out = files
    cfg = data.parent / "bad.yaml"
    cfg.write_text("rewards:\n  - use: lenght\n")
    assert main(["pairs", str(cfg), str(data), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "lenght" in err[0] and not out.exists()


@pytest.mark.slow
def test_pairs_train_trl_dpo_for_one_step(files, tmp_path):
    """The output is a dataset TRL's DPOTrainer takes as is (tiny model saved and loaded back)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("trl")
    from datasets import load_dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    from rewardkit.models import tiny

    torch.set_num_threads(1)
    cfg, _, out = files
    # Plain-text prompts, several per prompt, so the dataset has a few pairs.
    data = write_rows(tmp_path / "text.jsonl", [
        {"prompt": f"Q{i}: ", "completion": c}
        for i in range(4) for c in ("a b", "a b c d e f g", "<think>t</think><answer>1</answer>")
    ])
    assert main(["pairs", str(cfg), str(data), "-o", str(out)]) == 0
    model_dir = tiny.save(tmp_path / "tiny", tokenizer=(tok := tiny.char_tokenizer()),
                          model=tiny.causal_lm(tok, hidden_size=32, num_layers=1, num_heads=2))
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    dataset = load_dataset("json", data_files=str(out), split="train")
    assert len(dataset) == 4 and {"prompt", "chosen", "rejected"} <= set(dataset.column_names)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    args = DPOConfig(
        output_dir=str(tmp_path / "dpo"), per_device_train_batch_size=2, max_steps=1, learning_rate=1e-2,
        max_length=64, use_cpu=True, report_to=[], logging_steps=1, save_strategy="no",
        dataloader_num_workers=0, bf16=False,
    )
    trainer = DPOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
    result = trainer.train()
    assert result.global_step == 1
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert losses and all(math.isfinite(loss) for loss in losses)
    assert any(not torch.equal(before[n], p) for n, p in trainer.model.named_parameters())
