"""A tiny Detoxify checkpoint built from a config, offline (tests, benchmarks, smoke runs).

It has Detoxify's own format (the dict with ``config`` and ``state_dict`` that
``detoxify.detoxify.load_checkpoint`` reads) around a small randomly initialised BERT, with the
tokenizer and Hugging Face config saved next to it for ``huggingface_config_path``. Its scores
mean nothing; they only differ from text to text.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

# Detoxify's 'original' classes, as its checkpoints spell them (renamed on load).
ORIGINAL_CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
WORDS = [
    "you", "are", "a", "nice", "kind", "good", "bad", "idiot", "stupid", "person", "I",
    "hate", "love", "this", "thank", "for", "the", "help", "what", "an", "awful",
    "terrible", "wonderful", "day", "go", "away", "please", "stop", "shut", "up",
]


def build_checkpoint(folder: str | os.PathLike[str], *, texts: Iterable[str] = (), hidden_size: int = 32,
                     num_layers: int = 2, model_type: str | None = None, seed: int = 0) -> tuple[Path, Path]:
    """Write ``folder/tiny.ckpt`` and its Hugging Face folder ``folder/hf``; returns both paths.

    ``model_type`` is the name stored in the checkpoint's ``config.arch.args.model_type``; a real
    checkpoint has a hub name there (``"bert-base-uncased"``), which only resolves with network.
    By default the ``hf`` folder is stored instead, so plain ``Detoxify(checkpoint=...,
    huggingface_config_path=...)`` loads it offline too.
    """
    import torch

    from rewardkit.models import tiny

    folder = Path(folder)
    hf = folder / "hf"
    tok = tiny.word_tokenizer([*WORDS, *texts])
    model = tiny.sequence_classifier(tok, num_labels=len(ORIGINAL_CLASSES), hidden_size=hidden_size,
                                     num_layers=num_layers, num_heads=2, seed=seed)
    with torch.no_grad():
        # BERT's init (std 0.02) gives nearly the same output for every text; a wide one does not.
        for p in model.parameters():
            if p.dim() >= 2:
                p.mul_(20.0)
    # Config and tokenizer only, as a user's offline folder: the weights come from the checkpoint.
    model.config.save_pretrained(hf)
    tok.save_pretrained(hf)
    ckpt = {
        "config": {
            "arch": {"args": {"model_type": model_type or str(hf), "model_name": "BertForSequenceClassification",
                              "tokenizer_name": "AutoTokenizer", "num_classes": len(ORIGINAL_CLASSES)}},
            "dataset": {"args": {"classes": list(ORIGINAL_CLASSES)}},
        },
        "state_dict": model.state_dict(),
    }
    path = folder / "tiny.ckpt"
    torch.save(ckpt, path)
    return path, hf
