"""The OpenRLHF adapter, called the way OpenRLHF calls a ``--remote_rm_url`` Python file.

OpenRLHF imports the file with ``spec_from_file_location("reward_func", path)`` and calls its
``reward_func(queries, prompts, labels)``. ``prompts`` is the prompt text given to the model
(chat template applied); ``queries`` is ``tokenizer.decode(prompt_ids + response_ids,
skip_special_tokens=False)``, so it ends with the end-of-sequence token the model produced.
Older releases call it once per batch; newer ones once per sample, in ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

import rewardkit
from rewardkit.integrations import _shared
from rewardkit.integrations.openrlhf import score_queries, split_query

CONFIG = """
rewards:
  - use: length
    weight: 0.5
    with: {mode: shorter, unit: words, max_tokens: 10}
  - use: format
    as: fmt
    weight: 1.0
  - use: echo_column
    as: label_value
    weight: 2.0
    with: {column: answer}
"""

SAMPLES = [  # (question, response, label)
    ("What is 2+2?", "<think>2+2=4</think><answer>4</answer>", "4"),
    ("Name a colour.", "blue, I think, or maybe red", "0.5"),
    ("Say nothing.", "", "0"),
]


@pytest.fixture(autouse=True)
def fresh_cache():
    _shared.clear_cache()
    yield
    _shared.clear_cache()


@pytest.fixture
def config(tmp_path, monkeypatch):
    path = tmp_path / "rewards.yaml"
    path.write_text(CONFIG)
    monkeypatch.setenv("REWARDKIT_CONFIG", str(path))  # OpenRLHF passes no arguments of ours
    return path


def load_reward_func():
    """What OpenRLHF does with ``--remote_rm_url /path/to/file.py``."""
    import rewardkit.integrations.openrlhf as adapter

    spec = importlib.util.spec_from_file_location("reward_func", adapter.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reward_func


@pytest.fixture(scope="module")
def openrlhf_batch():
    """(queries, prompts, labels, responses) built as OpenRLHF builds them, with a real tokenizer."""
    pytest.importorskip("transformers")
    from rewardkit.models import tiny

    tok = tiny.char_tokenizer()
    queries, prompts, labels, responses = [], [], [], []
    for question, response, label in SAMPLES:
        prompt = tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                         add_generation_prompt=True)
        prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        action_ids = tok(response, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]  # the model stopped
        queries.append(tok.decode(prompt_ids + action_ids, skip_special_tokens=False))
        prompts.append(prompt)
        labels.append(label)
        responses.append(response)
    return queries, prompts, labels, responses


def expected(config, prompts, responses, labels):
    return rewardkit.load(config).breakdown(prompts=prompts, completions=responses, answer=labels)


def test_batch_call_returns_tensors_matching_the_composite(config, openrlhf_batch):
    torch = pytest.importorskip("torch")
    queries, prompts, labels, responses = openrlhf_batch
    assert queries[0].endswith("</s>") and queries[0].startswith(prompts[0])
    out = load_reward_func()(queries, prompts, labels)
    want = expected(config, prompts, responses, labels)
    assert set(out) == {"rewards", "scores", "extra_logs"}
    assert out["rewards"].dtype == torch.float32 and out["rewards"].shape == (3,)
    assert out["rewards"].tolist() == pytest.approx(want["total"])
    assert out["scores"].tolist() == pytest.approx(want["total"])
    assert set(out["extra_logs"]) == {"length", "fmt", "label_value"}
    for label in ("length", "fmt", "label_value"):
        assert out["extra_logs"][label].tolist() == pytest.approx(want[label])
    assert out["extra_logs"]["fmt"].tolist() == [1.0, 0.0, 0.0]  # the completion alone was checked


def test_per_sample_calls_in_threads_as_the_newer_executor(config, openrlhf_batch):
    pytest.importorskip("torch")
    queries, prompts, labels, responses = openrlhf_batch
    fn = load_reward_func()

    async def fetch():
        return await asyncio.gather(*[asyncio.to_thread(fn, [q], [p], [lb]) for q, p, lb in zip(queries, prompts, labels)])

    results = asyncio.run(fetch())
    got = [r["rewards"].tolist()[0] for r in results]
    assert got == pytest.approx(expected(config, prompts, responses, labels)["total"])
    assert len(_shared._cache) == 1  # loaded once, shared by the threads


def test_label_field_can_be_renamed(tmp_path, monkeypatch):
    path = tmp_path / "r.yaml"
    path.write_text("rewards:\n  - use: echo_column\n    with: {column: target}\n")
    monkeypatch.setenv("REWARDKIT_CONFIG", str(path))
    monkeypatch.setenv("REWARDKIT_LABEL_FIELD", "target")
    out = load_reward_func()(["p: x"], ["p: "], ["3"])
    assert [float(v) for v in out["rewards"]] == [3.0]


def test_split_query():
    assert split_query("<|user|>hi</s><|assistant|>answer</s>", "<|user|>hi</s><|assistant|>") == "answer"
    assert split_query("Q: hi A: yes<|im_end|><|endoftext|>", "Q: hi A: ") == "yes"
    # a decode round trip that changed the prompt's tail: the common prefix is removed
    assert split_query("Q:  hi A: yes", "Q: hi A: ") == " hi A: yes"
    assert split_query("the whole query", None) == "the whole query"
    assert split_query("text </s> inside</s>", "") == "text </s> inside"


def test_misaligned_lists_are_a_data_error(config):
    composite = rewardkit.load(config)
    with pytest.raises(rewardkit.DataError, match="got 1 prompts for 2 queries"):
        score_queries(composite, ["a", "b"], ["a"], ["1", "2"])
    with pytest.raises(rewardkit.DataError, match="got 3 labels for 2 queries"):
        score_queries(composite, ["a", "b"], ["", ""], ["1", "2", "3"])


def test_no_config_is_a_config_error(monkeypatch):
    monkeypatch.delenv("REWARDKIT_CONFIG", raising=False)
    with pytest.raises(rewardkit.ConfigError, match="rewardkit.integrations.openrlhf: no rewards config"):
        load_reward_func()(["q"], ["q"], [""])
