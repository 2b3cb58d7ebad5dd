"""The ``factuality`` reward: agreement with a reference answer, or entailment by evidence.

Two modes:

- ``reference``: the completion against a reference column (one answer or a list of aliases),
  normalized as the SQuAD evaluation does; the score is the token F1 (or exact match) with the
  best alias, in [0, 1].
- ``entailment``: a local NLI model checks each sentence of the completion against an evidence
  column; the score is ``(entailed - contradiction_penalty * contradicted) / sentences``, in
  [-contradiction_penalty, 1] (0.0 for a completion with no sentence).

::

    rewards:
      - use: factuality
        weight: 1.0
        with: {mode: reference, reference_field: answer, metric: f1}
      - use: factuality
        as: grounded
        weight: 0.5
        with: {mode: entailment, model: /models/nli-deberta, evidence_field: context}
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

import rewardkit
from rewardkit import ConfigError, DataError, text_of
from rewardkit.devices import resolve_device

from . import nli, squad


class Factuality(rewardkit.ModelReward):
    """Agreement with a reference answer (SQuAD F1/EM) or sentence entailment by evidence (NLI)."""

    name = "factuality"
    mode: Literal["reference", "entailment"] = Field("reference", description="reference | entailment")
    # reference mode
    reference_field: str = Field("answer", description="reference mode: the column with the answer or aliases")
    metric: Literal["f1", "exact"] = Field("f1", description="reference mode: token f1 or exact match")
    extract: str | None = Field(None, description=(
        "a regex picking the part of the completion to check (group 1 if any); no match scores 0"))
    # entailment mode
    evidence_field: str = Field("evidence", description="entailment mode: the column with the evidence text")
    model: str | None = Field(None, description="entailment mode: an NLI model folder (or hub id)")
    contradiction_penalty: float = Field(1.0, ge=0, description="entailment mode: cost of a contradicted sentence")
    entailment_label: str | None = Field(None, description="the entailment label's name (default: found in id2label)")
    contradiction_label: str | None = Field(None, description="the contradiction label's name (default: found)")
    device: str = Field("cpu", description="cpu, cuda, cuda:1, mps, or auto")
    batch_size: int = Field(32, gt=0, description="sentence pairs per forward pass")
    max_length: int = Field(512, gt=2, description="tokens per (evidence, sentence) pair")

    def setup(self) -> None:
        try:
            self._extract = re.compile(self.extract) if self.extract is not None else None
        except re.error as e:
            raise ConfigError(f"reward 'factuality': option 'extract': bad regex {self.extract!r} ({e})") from None
        if self.mode == "reference":
            if self.model is not None:
                raise ConfigError("reward 'factuality': option 'model' applies to mode: entailment "
                                  "(this one is mode: reference)")
            super().setup()  # no model: model_key() is None
            return
        if self.model is None:
            raise ConfigError("reward 'factuality': option 'model' is required with mode: entailment "
                              "(a local NLI model folder)")
        self._device = resolve_device(self.device, "reward 'factuality'")
        super().setup()  # loads the model: a model that does not load fails at config load
        try:
            self._entail = nli.find_label(self.loaded.id2label, self.entailment_label, "entail", "entailment_label")
            self._contra = nli.find_label(self.loaded.id2label, self.contradiction_label, "contradict",
                                          "contradiction_label")
        except nli.LoadError as e:
            raise ConfigError(f"reward 'factuality': option '{e.option}': {e}") from None

    def model_key(self) -> tuple[str, str] | None:
        """None in reference mode (no model); else the NLI model's path and device."""
        return None if self.mode == "reference" else nli.model_key(str(self.model), self._device)

    def load_model(self, key: tuple[str, str]) -> nli.Loaded:
        return nli.load(*key)

    # -- scoring ------------------------------------------------------------------------------

    def _column(self, columns: dict[str, Any], option: str) -> list[Any]:
        field = getattr(self, option)
        if field not in columns:
            have = ", ".join(sorted(columns)) or "none"
            raise DataError(f"reward 'factuality': column '{field}' (option {option}) is missing; "
                            f"the data has columns: {have}")
        return list(columns[field])

    def _checked_text(self, completion: Any) -> str | None:
        text = text_of(completion)
        if self._extract is None:
            return text
        m = self._extract.search(text)
        if m is None:
            return None
        return m.group(1) if m.groups() else m.group(0)

    def score(self, prompts: list[Any], completions: list[Any], **columns: Any) -> list[float | None]:
        if self.mode == "reference":
            return self._score_reference(completions, self._column(columns, "reference_field"))
        return self._score_entailment(completions, self._column(columns, "evidence_field"))

    def _score_reference(self, completions: list[Any], refs: list[Any]) -> list[float | None]:
        out: list[float | None] = []
        for completion, ref in zip(completions, refs):
            aliases = _aliases(ref)
            text = self._checked_text(completion)
            if not aliases:
                out.append(None)  # no reference: the reward does not apply to this row
            elif text is None:
                out.append(0.0)
            else:
                out.append(squad.best_over_aliases(text, aliases, self.metric))
        return out

    def _score_entailment(self, completions: list[Any], evidence: list[Any]) -> list[float | None]:
        # Flatten every row's sentences into unique (evidence, sentence) pairs, classify them in
        # one batched pass, then count per row.
        rows: list[list[int] | None] = []
        pairs: dict[tuple[str, str], int] = {}
        for completion, ev in zip(completions, evidence):
            premise = _evidence_text(ev)
            text = self._checked_text(completion)
            if premise is None:
                rows.append(None)
                continue
            sentences = split_sentences(text) if text is not None else []
            rows.append([pairs.setdefault((premise, s), len(pairs)) for s in sentences])
        keys = list(pairs)
        labels = nli.classify_pairs(self.loaded, [p for p, _ in keys], [h for _, h in keys],
                                    batch_size=self.batch_size, max_length=self.max_length)
        out: list[float | None] = []
        for row in rows:
            if row is None:
                out.append(None)
            elif not row:
                out.append(0.0)
            else:
                entailed = sum(labels[i] == self._entail for i in row)
                contradicted = sum(labels[i] == self._contra for i in row)
                out.append((entailed - self.contradiction_penalty * contradicted) / len(row))
        return out

split_sentences = nli.split_sentences


def _aliases(ref: Any) -> list[str]:
    """Accepted answers from a reference cell: a string, a list, or SQuAD/TriviaQA-style dicts."""
    if ref is None:
        return []
    if isinstance(ref, dict):  # SQuAD {"text": [...]}, TriviaQA {"aliases": [...], "value": ...}
        items: list[Any] = []
        for key in ("text", "aliases", "value"):
            v = ref.get(key)
            items.extend(v if isinstance(v, (list, tuple)) else [v] if v is not None else [])
        return [str(x) for x in items]
    if isinstance(ref, (list, tuple)):
        return [str(x) for x in ref if x is not None]
    return [str(ref)]


def _evidence_text(ev: Any) -> str | None:
    if ev is None:
        return None
    if isinstance(ev, (list, tuple)):
        ev = " ".join(str(x) for x in ev if x is not None)
    text = str(ev).strip()
    return text or None


@rewardkit.hookimpl
def register_rewards(register):
    register(Factuality)
