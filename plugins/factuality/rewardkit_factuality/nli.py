"""Natural-language inference for the entailment mode: loading, label lookup, batched pairs.

The label indices come from the model's ``config.id2label`` (MNLI checkpoints disagree on the
order: roberta-large-mnli has CONTRADICTION at 0, others put entailment first).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rewardkit.model_reward import ModelLoadError, padded_batches
from rewardkit.textcap import cap_for_tokens, keep_side

# A sentence ends at . ! or ? (with closing quotes/brackets) followed by white space, or at a
# line break. Decimals ("3.5") and abbreviations without a following space stay whole.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"')\]])\s+|\s*\n\s*")
_HAS_WORD = re.compile(r"\w")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``: stripped, in order, pieces without a letter or digit dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and _HAS_WORD.search(s)]


@dataclass(frozen=True)
class Loaded:
    """An NLI model ready for inference."""

    model: Any  # AutoModelForSequenceClassification, eval mode
    tokenizer: Any
    id2label: dict[int, str]


LoadError = ModelLoadError  # the model could not be loaded; ``option`` names the option to fix


def model_key(path: str, device: str) -> tuple[str, str]:
    """What identifies a loaded model: a local folder by its absolute path (else the hub id), the device."""
    local = os.path.expanduser(path)
    return (os.path.abspath(local) if os.path.exists(local) else path, device)


def load(path: str, device: str) -> Loaded:
    """The NLI model at ``path`` on ``device``; raises :class:`LoadError` naming option ``model``."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForSequenceClassification.from_pretrained(path)
    except Exception as e:  # noqa: BLE001 - a missing folder, no network, a bad config: same fix
        msg = " ".join(str(e).split())[:200]
        raise LoadError("model", f"cannot load {path!r} as a sequence classifier ({type(e).__name__}: {msg})") from None
    model.to(device).eval()
    return Loaded(model=model, tokenizer=tokenizer, id2label={int(k): str(v) for k, v in model.config.id2label.items()})


def find_label(id2label: dict[int, str], wanted: str | None, prefix: str, option: str) -> int:
    """The index of the label named ``wanted`` (any case), or, when None, the one starting with ``prefix``."""
    names = ", ".join(f"{i}: {v}" for i, v in sorted(id2label.items()))
    if wanted is not None:
        hits = [i for i, v in id2label.items() if v.lower() == wanted.lower()]
        if not hits:
            raise LoadError(option, f"{wanted!r} is not a label of the model (id2label: {names})")
        return hits[0]
    hits = [i for i, v in id2label.items() if v.lower().startswith(prefix)]
    if len(hits) != 1:
        raise LoadError(option, (
            f"the model's id2label ({names}) has {'no' if not hits else 'several'} label starting with "
            f"{prefix!r}; is it an NLI model? Set {option} to the label's name"
        ))
    return hits[0]


def classify_pairs(loaded: Loaded, premises: Sequence[str], hypotheses: Sequence[str], *,
                   batch_size: int, max_length: int) -> list[int]:
    """The predicted label index (argmax) of each (premise, hypothesis) pair.

    Pairs are tokenized once, sorted by length and padded per batch (longest first, so memory
    runs out on the first batch if at all), under ``torch.inference_mode``. A pair over
    ``max_length`` tokens loses tokens from its longer side (usually the evidence).
    """
    import torch

    n = len(premises)
    if n == 0:
        return []
    tok = loaded.tokenizer
    # Cut before tokenizing (rewardkit.textcap): each side keeps at least max_length tokens, so
    # longest_first truncation keeps the same tokens; a huge text is never tokenized whole.
    side = keep_side(tok)
    premises = cap_for_tokens(premises, tok, max_length, side)
    hypotheses = cap_for_tokens(hypotheses, tok, max_length, side)
    enc = tok(list(premises), list(hypotheses), truncation="longest_first", max_length=max_length)
    labels = [0] * n
    with torch.inference_mode():
        for idx, batch in padded_batches(tok, enc, batch_size):
            logits = loaded.model(**batch.to(loaded.model.device)).logits  # (b, num_labels)
            for i, label in zip(idx, logits.argmax(dim=-1).tolist()):
                labels[i] = label
    return labels
