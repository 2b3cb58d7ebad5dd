"""A tiny NLI model built from a config, offline (tests, benchmarks, smoke runs).

A small randomly initialised BERT pair classifier with a word-level tokenizer, saved in Hugging
Face format so ``AutoModelForSequenceClassification.from_pretrained`` loads it as a user's model.
Its judgements mean nothing unless ``force`` pins them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

# Deliberately not the common MNLI order (entailment, neutral, contradiction): the plugin must
# read the order from id2label.
ID2LABEL = {0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}
WORDS = [
    "the", "a", "an", "is", "was", "are", "of", "in", "on", "at", "to", "and", "it", "its",
    "by", "from", "with", "capital", "city", "river", "sky", "blue", "green", "paris",
    "france", "london", "england", "rome", "italy", "water", "boils", "at", "degrees",
    "celsius", "moon", "earth",
]


def build_nli_model(folder: str | os.PathLike[str], *, texts: Iterable[str] = (),
                    id2label: dict[int, str] | None = None, force: str | None = None,
                    hidden_size: int = 32, num_layers: int = 2, seed: int = 0) -> Path:
    """Write a tiny NLI model and tokenizer to ``folder``; returns it.

    ``force`` (a label name) zeroes the classifier's weights and sets its bias so that every
    pair gets that label: the outcome is then known in advance. Without it, the weights are
    widened (BERT's init gives the same output for every input) so labels vary between pairs.
    """
    import torch

    from rewardkit.models import tiny

    id2label = dict(id2label or ID2LABEL)
    tok = tiny.word_tokenizer([*WORDS, *texts])
    model = tiny.sequence_classifier(tok, num_labels=len(id2label), id2label=id2label,
                                     hidden_size=hidden_size, num_layers=num_layers, seed=seed)
    with torch.no_grad():
        if force is not None:
            index = {v: k for k, v in id2label.items()}[force]
            model.classifier.weight.zero_()
            model.classifier.bias.fill_(-5.0)
            model.classifier.bias[index] = 5.0
        else:
            for p in model.parameters():
                if p.dim() >= 2:
                    p.mul_(20.0)
    return tiny.save(folder, model=model, tokenizer=tok)
