"""Pairs a Bradley-Terry model cannot learn from are dropped (with counts) or refused."""

from __future__ import annotations

import json
import logging

import pytest
from rewardkit_reward_model.data import Cleaning, Pair, clean
from rewardkit_reward_model.train import usable_pairs
from rewardkit_reward_model.train_config import load_train_config

import rewardkit


def test_clean_drops_ties_contradictions_and_repeats_in_order():
    a, b = Pair("p", "good", "bad"), Pair("p", "bad", "good")
    chat = Pair("p", [{"role": "assistant", "content": " "}], "")
    stats = Cleaning()
    kept = clean([Pair("q", "x", "y"), a, Pair("q", "x", "y"), Pair("r", "s", "s"), b, chat, Pair("z", "1", "2")], stats)
    assert kept == [Pair("q", "x", "y"), Pair("z", "1", "2")]
    assert (stats.ties, stats.contradictory, stats.duplicates, stats.kept) == (2, 2, 1, 2)


def _write(tmp_path, name, rows):
    (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_eval_pairs_seen_in_training_are_dropped_with_a_warning(tmp_path, caplog):
    train = [{"prompt": f"q{i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(4)]
    _write(tmp_path, "train.jsonl", train)
    _write(tmp_path, "eval.jsonl", [train[0], {"prompt": "e", "chosen": "fine", "rejected": "poor"}])
    cfg = load_train_config({"model": {"from_config": {}}, "data": str(tmp_path / "train.jsonl"),
                             "eval_data": str(tmp_path / "eval.jsonl"), "output_dir": str(tmp_path / "out")})
    with caplog.at_level(logging.WARNING, logger="rewardkit"):
        train_pairs, eval_pairs = usable_pairs(cfg)
    assert len(train_pairs) == 4 and eval_pairs == [Pair("e", "fine", "poor")]
    assert "dropped 1 of 6 pairs" in caplog.text and "1 duplicate(s)" in caplog.text


def test_only_leaked_eval_pairs_are_refused(tmp_path):
    train = [{"prompt": "q", "chosen": "good", "rejected": "bad"}]
    _write(tmp_path, "train.jsonl", train)
    _write(tmp_path, "eval.jsonl", train * 3)
    cfg = load_train_config({"model": {"from_config": {}}, "data": str(tmp_path / "train.jsonl"),
                             "eval_data": str(tmp_path / "eval.jsonl"), "output_dir": str(tmp_path / "out")})
    with pytest.raises(rewardkit.DataError, match=r"eval.jsonl: no usable eval pair .* 3 duplicate\(s\)"):
        usable_pairs(cfg)
