"""Answer matching as the SQuAD evaluation script does it (normalization, exact match, token F1)."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable

_PUNCT = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(s: str) -> str:
    """Lower case, drop punctuation, drop the articles a/an/the, collapse white space (SQuAD)."""
    s = "".join(ch for ch in s.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", s).split())


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when the normalized strings are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(reference))


def token_f1(prediction: str, reference: str) -> float:
    """Harmonic mean of token precision and recall over normalized tokens (SQuAD v2 rules:
    when either side has no tokens, 1.0 if both are empty, else 0.0)."""
    pred, gold = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not gold:
        return float(pred == gold)
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def best_over_aliases(prediction: str, references: Iterable[str], metric: str = "f1") -> float:
    """The best score of ``prediction`` over every accepted answer (``metric``: f1 or exact)."""
    fn = token_f1 if metric == "f1" else exact_match
    return max((fn(prediction, r) for r in references), default=0.0)
