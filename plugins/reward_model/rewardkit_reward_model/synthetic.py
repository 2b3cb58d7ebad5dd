"""A synthetic preference task with a known answer, for tests, demos and benchmarks.

The chosen answer contains a target word (``thanks`` by default); the rejected one is the same
answer with that word swapped for a filler word. A reward model that learns the task scores
answers with the word above those without it: pairwise accuracy near 1 on held-out pairs.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

FILLER = [
    "the", "a", "river", "stone", "light", "quiet", "paper", "window", "green", "lamp", "table", "morning",
    "garden", "road", "blue", "small", "old", "city", "cloud", "music", "water", "bread", "coffee", "letter",
    "train", "north", "evening", "field", "story", "silver",
]
TOPICS = ("the weather", "a trip", "dinner", "a book", "the garden", "a meeting", "the news", "a song")


def preference_rows(n: int, *, seed: int = 0, target: str = "thanks", chat: bool = False) -> list[dict[str, Any]]:
    """``n`` rows ``{prompt, chosen, rejected}`` (chat message lists when ``chat``)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        words = [rng.choice(FILLER) for _ in range(rng.randint(4, 12))]
        pos = rng.randint(0, len(words))
        chosen = words[:pos] + [target] + words[pos:]
        rejected = words[:pos] + [rng.choice(FILLER)] + words[pos:]
        prompt = f"write a short note about {rng.choice(TOPICS)}"
        row: dict[str, Any] = {"prompt": prompt, "chosen": " " + " ".join(chosen), "rejected": " " + " ".join(rejected)}
        if chat:
            row = {
                "prompt": [{"role": "user", "content": prompt}],
                "chosen": [{"role": "assistant", "content": " ".join(chosen)}],
                "rejected": [{"role": "assistant", "content": " ".join(rejected)}],
            }
        rows.append(row)
    return rows


def write_jsonl(rows: list[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    """Write ``rows`` as JSONL."""
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)


def save_tiny_reward_model(folder: str | os.PathLike[str], *, arch: str = "bert", hidden_size: int = 32,
                           num_layers: int = 2, num_heads: int = 2, num_labels: int = 1, seed: int = 0) -> str:
    """An untrained tiny reward model (word tokenizer over this task's words) saved to ``folder``.

    ``arch="bert"`` has no chat template (plain concatenation); ``"qwen2"`` uses a causal tokenizer
    with a chat template. Needs torch and transformers.
    """
    from rewardkit.models import tiny

    words = [*FILLER, *TOPICS, "thanks", "write a short note about", "<|system|> <|user|> <|assistant|>"]
    tok = tiny.word_tokenizer(words, style="bert" if arch == "bert" else "causal")
    model = tiny.sequence_classifier(tok, arch=arch, hidden_size=hidden_size, num_layers=num_layers,  # type: ignore[arg-type]
                                     num_heads=num_heads, num_labels=num_labels, seed=seed)
    model.config.pad_token_id = tok.pad_token_id
    tiny.save(folder, model=model, tokenizer=tok)
    return str(folder)
