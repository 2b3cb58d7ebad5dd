"""The factuality reward: SQuAD matching by hand-checked cases; entailment on tiny NLI models."""

from __future__ import annotations

import atexit
import pickle
import shutil
import tempfile
from functools import cache
from typing import Any, ClassVar

import pytest
import torch
from rewardkit_factuality import Factuality, split_sentences
from rewardkit_factuality.squad import exact_match, normalize_answer, token_f1
from rewardkit_factuality.tiny import build_nli_model

import rewardkit
from rewardkit import ConfigError, DataError
from rewardkit.testing import RewardContract

torch.set_num_threads(1)


@cache
def nli_model(force: str | None = None, id2label: tuple | None = None) -> str:
    """A tiny NLI model folder, built once per test process and removed at exit."""
    folder = tempfile.mkdtemp(prefix="rk-nli-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return str(build_nli_model(folder, force=force, id2label=dict(id2label) if id2label else None))


# -- reference mode ------------------------------------------------------------------------------

@pytest.mark.parametrize("pred, ref, em, f1", [
    # "eiffel tower" both sides after lower case, punctuation and article removal
    ("The Eiffel Tower!", "eiffel tower", 1.0, 1.0),
    # "in paris france" vs "paris": 1 common token; P = 1/3, R = 1, F1 = 2(1/3)/(4/3) = 0.5
    ("in Paris, France", "Paris", 0.0, 0.5),
    # "cat sat on mat" vs "cat on mat": 3 common; P = 3/4, R = 1, F1 = 1.5/1.75 = 6/7
    ("the cat sat on the mat", "a cat on a mat", 0.0, 6 / 7),
    # "cat cat" vs "cat": counts clip to 1 common; P = 1/2, R = 1, F1 = 2/3
    ("the the cat cat", "cat", 0.0, 2 / 3),
    # no common token
    ("London", "Paris", 0.0, 0.0),
    # an empty prediction against a real answer; both empty after normalization (SQuAD v2 rule)
    ("", "Paris", 0.0, 0.0),
    ("...", "the", 1.0, 1.0),
])
def test_squad_metrics_by_hand(pred, ref, em, f1):
    assert exact_match(pred, ref) == em
    assert token_f1(pred, ref) == pytest.approx(f1)


def test_normalization_is_squads():
    assert normalize_answer("  The  Quick, brown-fox: an ANSWER!  ") == "quick brownfox answer"
    assert normalize_answer("theater anthem") == "theater anthem"  # articles only as whole words


class TestReferenceContract(RewardContract):
    reward_class = Factuality
    registered_name = "factuality"
    options: ClassVar[Any] = {"mode": "reference", "reference_field": "answer"}
    examples: ClassVar[Any] = [
        {"prompt": "Capital of France?", "completion": "Paris.", "answer": "Paris", "expected": 1.0},
        # aliases: best over "New York City" (P = 1, R = 2/3, F1 = 0.8) and "NYC" (0)
        {"prompt": "q", "completion": "New York", "answer": ["New York City", "NYC"], "expected": 0.8},
        # SQuAD-style dict: "broncos" equals the second alias
        {"prompt": "q", "completion": "The Broncos", "answer": {"text": ["Denver Broncos", "Broncos"]},
         "expected": 1.0},
        {"prompt": "q", "completion": "no idea", "answer": None, "expected": None},
    ]


def test_exact_metric_over_aliases():
    r = Factuality(metric="exact")
    got = r.score(["q"] * 3, ["the Big Apple", "New York", "NYC!"],
                  answer=[["New York City", "Big Apple"], ["New York City"], ["nyc"]])
    assert got == [1.0, 0.0, 1.0]


def test_extract_picks_the_answer_span():
    r = Factuality(extract=r"<answer>(.*?)</answer>")
    got = r.score(["q"] * 3, ["I think... <answer>Paris</answer>", "Paris, no tags", "<answer>Lyon</answer>"],
                  answer=["Paris"] * 3)
    assert got == [1.0, 0.0, 0.0]


def test_missing_reference_column_names_column_and_option():
    with pytest.raises(DataError) as e:
        Factuality(reference_field="gold").score(["q"], ["Paris"], answer=["Paris"])
    assert "column 'gold'" in str(e.value) and "reference_field" in str(e.value) and "answer" in str(e.value)


# -- entailment mode -----------------------------------------------------------------------------

EVIDENCE = "Paris is the capital of France. The Seine flows through Paris."
COMPLETIONS = [
    "Paris is the capital of France. It is on the Seine! Is it big?\nYes",  # 4 sentences
    "The capital of France is Rome.",  # 1
    "",  # 0 sentences -> 0.0
    "Water boils at 100.5 degrees. The moon is green. The sky is blue.",  # 3
]


def test_split_sentences():
    assert split_sentences(COMPLETIONS[0]) == ["Paris is the capital of France.", "It is on the Seine!",
                                               "Is it big?", "Yes"]
    assert split_sentences("Water boils at 100.5 degrees.") == ["Water boils at 100.5 degrees."]
    assert split_sentences('"Stop." She left.  ...  \n\n') == ['"Stop."', "She left."]
    assert split_sentences("") == [] and split_sentences(" ?! ") == []


@pytest.mark.parametrize("force, penalty, want", [
    # every sentence labelled as forced: the share entailed is 1, the share contradicted is 1
    ("ENTAILMENT", 1.0, [1.0, 1.0, 0.0, 1.0]),
    ("CONTRADICTION", 0.5, [-0.5, -0.5, 0.0, -0.5]),
    ("NEUTRAL", 1.0, [0.0, 0.0, 0.0, 0.0]),
])
def test_labels_are_read_from_id2label(force, penalty, want):
    # ID2LABEL puts CONTRADICTION at 0 and ENTAILMENT at 2; a plugin that assumed MNLI's usual
    # order (entailment first) would flip the first two cases.
    r = Factuality(mode="entailment", model=nli_model(force), contradiction_penalty=penalty, batch_size=3)
    assert r.score([""] * 4, COMPLETIONS, evidence=[EVIDENCE] * 4) == want


def test_entailment_matches_a_per_sentence_pipeline():
    from transformers import pipeline

    path = nli_model()
    clf = pipeline("text-classification", model=path, tokenizer=path, device="cpu")
    evidence = [EVIDENCE, EVIDENCE, "The sky is blue.", "Water boils at 100 degrees celsius."]
    seen = set()
    want = []
    for ev, completion in zip(evidence, COMPLETIONS):
        labels = [clf({"text": ev, "text_pair": s})["label"] for s in split_sentences(completion)]
        seen.update(labels)
        n = len(labels)
        want.append((labels.count("ENTAILMENT") - 0.5 * labels.count("CONTRADICTION")) / n if n else 0.0)
    assert len(seen) >= 2, "the tiny model should give more than one label, or this test proves little"
    for bs in (1, 2, 64):
        r = Factuality(mode="entailment", model=path, contradiction_penalty=0.5, batch_size=bs)
        assert r.score([""] * 4, COMPLETIONS, evidence=evidence) == pytest.approx(want)


def test_rows_without_evidence_do_not_apply():
    r = Factuality(mode="entailment", model=nli_model("ENTAILMENT"))
    assert r.score(["", ""], ["A claim.", "A claim."], evidence=[None, ["Some", "evidence."]]) == [None, 1.0]


def test_model_loads_once_and_survives_pickle():
    config = {"rewards": [{"use": "factuality", "weight": 1.0,
                           "with": {"mode": "entailment", "model": nli_model("ENTAILMENT")}}]}
    a, b = rewardkit.load(config), rewardkit.load(config)
    ra, rb = a["factuality"].reward, b["factuality"].reward
    assert ra.loaded is rb.loaded
    clone = pickle.loads(pickle.dumps(ra))
    assert clone.loaded is ra.loaded
    assert a(prompts=["p"], completions=["Paris. France."], evidence=[EVIDENCE]) == [1.0]


class TestEntailmentContract(RewardContract):
    reward_class = Factuality
    examples: ClassVar[Any] = [
        {"prompt": "p", "completion": COMPLETIONS[0], "evidence": EVIDENCE, "expected": -1.0},
        {"prompt": "p", "completion": COMPLETIONS[2], "evidence": EVIDENCE, "expected": 0.0},
        {"prompt": "p", "completion": COMPLETIONS[3], "evidence": None, "expected": None},
    ]

    @property
    def options(self):
        return {"mode": "entailment", "model": nli_model("CONTRADICTION"), "batch_size": 2}


# -- errors at config load -----------------------------------------------------------------------

def test_labels_not_found_fail_at_config_load(tmp_path):
    plain = ((0, "LABEL_0"), (1, "LABEL_1"), (2, "LABEL_2"))
    with pytest.raises(ConfigError, match="option 'entailment_label'.*LABEL_0"):
        Factuality(mode="entailment", model=nli_model(None, plain))
    # naming the labels by hand makes the same model usable
    r = Factuality(mode="entailment", model=nli_model(None, plain), entailment_label="label_2",
                   contradiction_label="LABEL_0")
    assert (r._entail, r._contra) == (2, 0)
    with pytest.raises(ConfigError, match="option 'contradiction_label': 'refuted'"):
        Factuality(mode="entailment", model=nli_model("ENTAILMENT"), contradiction_label="refuted")


@pytest.mark.parametrize("options, needle", [
    ({"mode": "entailment"}, "option 'model' is required"),
    ({"mode": "entailment", "model": "/no/such/model"}, "option 'model': cannot load"),
    ({"mode": "reference", "model": "/some/model"}, "option 'model' applies to mode: entailment"),
    ({"extract": "<answer>(.*"}, "option 'extract'"),
    ({"metric": "bleu"}, "metric"),
    ({"mode": "guess"}, "mode"),
    ({"contradiction_penalty": -1}, "contradiction_penalty"),
    ({"mode": "entailment", "model": "MODEL", "device": "gpu0"}, "option 'device'"),
])
def test_bad_options_fail_in_one_line(options, needle):
    if options.get("model") == "MODEL":
        options = {**options, "model": nli_model("ENTAILMENT")}
    with pytest.raises(ConfigError) as e:
        Factuality(**options)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_missing_evidence_column():
    r = Factuality(mode="entailment", model=nli_model("ENTAILMENT"), evidence_field="context")
    with pytest.raises(DataError, match="column 'context' \\(option evidence_field\\) is missing"):
        r.score(["p"], ["A claim."], evidence=[EVIDENCE])



def test_reference_mode_needs_no_torch():
    # `rewardkit plugins` imports every plugin, and reference mode runs without a model.
    import subprocess
    import sys

    code = ("import sys, rewardkit_factuality as f; f.Factuality().score(['q'], ['Paris'], answer=['paris']); "
            "print('torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_entailment_batches_are_sorted_longest_first_and_deduplicated():
    r = Factuality(mode="entailment", model=nli_model("ENTAILMENT"), batch_size=2)
    seen: list[list[int]] = []  # the real token count of each (evidence, sentence) pair, per forward pass

    def spy(module, args, kwargs):
        seen.append(kwargs["attention_mask"].sum(dim=1).tolist())

    handle = r.loaded.model.register_forward_pre_hook(spy, with_kwargs=True)
    try:
        # 4 sentences, "Paris." twice with the same evidence: 3 distinct pairs, so batches of 2 and 1.
        r.score([""] * 2, ["Paris. The capital of France is Paris in France.", "Paris. Rome."],
                evidence=[EVIDENCE, EVIDENCE])
    finally:
        handle.remove()
    assert [len(b) for b in seen] == [2, 1]
    flat = [n for b in seen for n in b]
    assert flat == sorted(flat, reverse=True) and flat[0] > flat[-1]
