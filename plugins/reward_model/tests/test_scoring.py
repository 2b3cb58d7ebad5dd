"""The ``reward_model`` reward: loading, formatting, batching, truncation, normalization."""

from __future__ import annotations

import atexit
import pickle
import shutil
import subprocess
import sys
import tempfile
from typing import ClassVar

import pytest
from rewardkit_reward_model import RewardModel, modeling
from rewardkit_reward_model.synthetic import save_tiny_reward_model

import rewardkit
from rewardkit.testing import RewardContract

_built: dict[str, str] = {}


def tiny_model(arch: str = "bert", num_labels: int = 1) -> str:
    """A saved tiny reward model, built once per test process."""
    key = f"{arch}-{num_labels}"
    if key not in _built:
        folder = tempfile.mkdtemp(prefix=f"rk-rm-{key}-")
        atexit.register(shutil.rmtree, folder, True)
        _built[key] = save_tiny_reward_model(folder, arch=arch, num_labels=num_labels)
    return _built[key]


def direct(folder: str, text: str, add_special_tokens: bool = True) -> float:
    """The reward of one text, the plain transformers way (no batching, no padding)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    with torch.inference_mode():
        return float(model(**tok(text, return_tensors="pt", add_special_tokens=add_special_tokens)).logits[0, 0])


class TestRewardModelContract(RewardContract):
    reward_class = RewardModel
    registered_name = "reward_model"
    # The BERT tiny model has no chat template: chat input is the plain concatenation, the same text.
    chat_equivalent = True
    abs_tol = 1e-5
    examples: ClassVar[list[dict[str, str]]] = [
        {"prompt": "write a short note about dinner", "completion": " thanks for the bread"},
        {"prompt": "write a short note about a trip", "completion": " the road north"},
        {"prompt": "hi", "completion": ""},
    ]

    @property
    def options(self):  # the model folder exists only once built
        return {"model": tiny_model(), "batch_size": 2}


def test_scores_equal_unbatched_forward_in_input_order():
    folder = tiny_model()
    prompts = ["write a short note about the news"] * 5
    completions = [" a", " the quiet river and the old stone road", " thanks", " music water bread coffee", ""]
    got = RewardModel(model=folder, batch_size=2).score(prompts, completions)
    want = [direct(folder, p + c) for p, c in zip(prompts, completions)]
    assert got == pytest.approx(want, abs=1e-5)


def test_chat_template_applied_for_conversational_input():
    folder = tiny_model("qwen2")
    r = RewardModel(model=folder)
    tok = r.loaded.tokenizer
    prompt = [{"role": "user", "content": "write a short note about a book"}]
    completion = [{"role": "assistant", "content": "thanks for the letter"}]
    text = tok.apply_chat_template(prompt + completion, tokenize=False)
    assert "<|assistant|>" in text
    [got] = r.score([prompt], [completion])
    assert got == pytest.approx(direct(folder, text, add_special_tokens=False), abs=1e-5)
    # A plain-string prompt becomes a user message when the completion is conversational.
    assert r.score(["write a short note about a book"], [completion]) == pytest.approx([got], abs=1e-6)
    # Plain strings are concatenated with the separator.
    [plain] = RewardModel(model=folder, separator="\n").score(["a b"], ["c"])
    assert plain == pytest.approx(direct(folder, "a b\nc"), abs=1e-5)


@pytest.mark.parametrize("side, keep", [("left", slice(-4, None)), ("right", slice(0, 4))])
def test_truncation_keeps_the_configured_side(side, keep):
    folder = tiny_model()
    words = ["the", "a", "river", "stone", "light", "quiet", "paper", "window", "green", "lamp", "table", "morning"]
    r = RewardModel(model=folder, max_length=6, truncation_side=side)  # [CLS] + 4 words + [SEP]
    [long] = r.score([""], [" ".join(words)])
    [short] = r.score([""], [" ".join(words[keep])])
    assert long == pytest.approx(short, abs=1e-6)
    assert long != pytest.approx(RewardModel(model=folder).score([""], [" ".join(words)])[0], abs=1e-6)


def test_fixed_normalization_is_offset_and_scale():
    folder = tiny_model()
    completions = [" thanks", " the road", " quiet music"]
    raw = RewardModel(model=folder).score([""] * 3, completions)
    got = RewardModel(model=folder, normalize="fixed", offset=0.5, scale=2.0).score([""] * 3, completions)
    assert got == pytest.approx([(x - 0.5) / 2.0 for x in raw])


def test_running_normalization_uses_every_score_seen():
    import statistics

    folder = tiny_model()
    first = [" thanks", " the road", " quiet music", " a"]
    second = [" green lamp", " thanks thanks"]
    raw = RewardModel(model=folder).score([""] * 6, first + second)
    r = RewardModel(model=folder, normalize="running")
    out1 = r.score([""] * 4, first)
    assert statistics.fmean(out1) == pytest.approx(0.0, abs=1e-9)
    assert statistics.stdev(out1) == pytest.approx(1.0)
    out2 = r.score([""] * 2, second)
    mean, std = statistics.fmean(raw), statistics.stdev(raw)
    # Padding to another batch width moves float32 results in the fifth decimal.
    assert out2 == pytest.approx([(x - mean) / std for x in raw[4:]], abs=1e-3)


def test_unpickled_copy_reuses_the_process_cache():
    r = RewardModel(model=tiny_model())
    clone = pickle.loads(pickle.dumps(r))
    assert clone._loaded is None  # the model did not travel in the pickle
    assert clone.loaded.model is r.loaded.model


@pytest.mark.parametrize(
    "options, needle",
    [
        ({"model": "/nonexistent/rm"}, "option 'model'"),
        ({"model": "two-labels"}, "option 'model'.*2 outputs"),
        ({"max_length": 100000}, "option 'max_length'"),
        ({"offset": 1.0}, "'offset'"),
        ({"scale": 0}, "scale"),
        ({"device": "gpu0"}, "option 'device'"),
        ({"dtype": "float8"}, "dtype"),
    ],
)
def test_bad_options_fail_at_config_load_naming_the_option(options, needle):
    options = {"model": tiny_model(), **options}
    if options["model"] == "two-labels":
        options["model"] = tiny_model(num_labels=2)
    with pytest.raises(rewardkit.ConfigError, match=needle) as info:
        rewardkit.load({"rewards": [{"use": "reward_model", "with": options}]})
    assert "\n" not in str(info.value)


def test_yaml_composition_scores_like_the_reward():
    folder = tiny_model()
    composite = rewardkit.load({"rewards": [{"use": "reward_model", "weight": 2.0, "with": {"model": folder}}]})
    raw = RewardModel(model=folder).score(["p", "p"], [" thanks", " the road"])
    assert composite(prompts=["p", "p"], completions=[" thanks", " the road"]) == pytest.approx([2 * x for x in raw])


def test_plugin_import_and_commands_do_not_import_torch():
    code = (
        "import argparse, sys, rewardkit_reward_model as m\n"
        "m.register_rewards(lambda cls: None)\n"
        "m.register_commands(argparse.ArgumentParser().add_subparsers())\n"
        "heavy = [k for k in ('torch', 'transformers') if k in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def teardown_module() -> None:
    modeling.clear_cache()


def test_batches_are_sorted_longest_first():
    r = RewardModel(model=tiny_model(), batch_size=2)
    seen: list[list[int]] = []  # the real token count of each row, per forward pass

    def spy(module, args, kwargs):
        seen.append(kwargs["attention_mask"].sum(dim=1).tolist())

    handle = r.loaded.model.register_forward_pre_hook(spy, with_kwargs=True)
    try:
        r.score(["hi"] * 5, [" a", " the quiet river and the old stone road", " thanks", " music water bread", ""])
    finally:
        handle.remove()
    assert [len(b) for b in seen] == [2, 2, 1]
    flat = [n for b in seen for n in b]
    assert flat == sorted(flat, reverse=True) and flat[0] > flat[-1]
