"""Shared set-up for the GRPO trainer tests: a tiny policy saved in Hugging Face format, a small
JSONL dataset of chat prompts, and a training YAML that points at them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

REWARDS = [
    {"use": "length", "weight": 1.0, "as": "short", "with": {"mode": "shorter", "unit": "chars", "max_tokens": 6}},
    {"use": "exclaim", "weight": 0.5, "with": {"cap": 2}},
]


def make_model(folder: Path, seed: int = 0) -> Path:
    """A 1-layer Qwen2-style model and a character tokenizer, saved to ``folder``."""
    from rewardkit.models import tiny

    tok = tiny.char_tokenizer()
    model = tiny.causal_lm(tok, hidden_size=32, num_layers=1, num_heads=4, max_positions=128, seed=seed)
    return tiny.save(folder, model=model, tokenizer=tok)


def make_dataset(path: Path, n: int = 8, chat: bool = True) -> Path:
    rows = []
    for i in range(n):
        text = f"{i}+{i + 1}="
        prompt: Any = [{"role": "user", "content": text}] if chat else text
        rows.append({"prompt": prompt, "answer": str(2 * i + 1)})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def make_config(folder: Path, model_path: Path, /, **overrides: Any) -> Path:
    """A training YAML in ``folder`` (dataset written beside it); ``overrides`` replace keys."""
    folder.mkdir(parents=True, exist_ok=True)
    data = make_dataset(folder / "data.jsonl")
    config: dict[str, Any] = {
        "model": str(model_path), "dataset": data.name, "rewards": REWARDS, "output_dir": str(folder / "run"),
        "num_generations": 4, "per_device_train_batch_size": 8, "gradient_accumulation_steps": 1,
        "max_completion_length": 6, "max_steps": 3, "learning_rate": 1e-2, "seed": 3,
        "save_steps": 2, "disable_tqdm": True, "device": "cpu",
    }
    config.update(overrides)
    path = folder / "train.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path
