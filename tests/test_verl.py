"""The verl adapter, called the way verl calls a custom reward function (verl not needed).

verl's ``get_custom_reward_fn`` imports ``custom_reward_function.path`` by file location as
``custom_module``, takes the function named ``custom_reward_function.name``, and wraps it so
every call also gets ``custom_reward_function.reward_kwargs``. ``NaiveRewardManager`` then calls
it once per response with keyword arguments and, for a dict result, takes ``score`` as the
reward and appends every key to ``reward_extra_info``. ``BatchRewardManager`` calls it once per
batch with ``data_sources=, solution_strs=, ground_truths=, extra_infos=``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import defaultdict

import pytest

import rewardkit
from rewardkit.integrations import _shared

CONFIG = """
rewards:
  - use: length
    weight: 0.5
    with: {mode: shorter, unit: words, max_tokens: 10}
  - use: format
    as: fmt
    weight: 1.0
  - use: echo_column
    as: answer_value
    weight: 2.0
    with: {column: answer}
"""

BATCH = [  # (data_source, response, ground_truth, extra_info) as verl's non_tensor_batch holds them
    ("gsm8k", "<think>2+2</think><answer>4</answer>", "4", {"split": "train", "index": 0}),
    ("gsm8k", "it is five I think", "5", {"split": "train", "index": 1, "prompt": "What is 2+3?"}),
    ("math", "one two three", "0.5", None),
]


@pytest.fixture(autouse=True)
def fresh_cache():
    _shared.clear_cache()  # the registry is fresh per test; so must the cached composite be
    yield
    _shared.clear_cache()


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "rewards.yaml"
    path.write_text(CONFIG)
    return path


def get_custom_reward_fn(path: str, name: str, reward_kwargs: dict):
    """What verl.trainer.ppo.reward.get_custom_reward_fn does with the config section."""
    spec = importlib.util.spec_from_file_location("custom_module", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["custom_module"] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop("custom_module", None)
    raw_fn = getattr(module, name)

    def wrapped_fn(*args, **kwargs):
        return raw_fn(*args, **kwargs, **reward_kwargs)

    return wrapped_fn


def naive_reward_manager(compute_score, batch):
    """NaiveRewardManager.__call__'s scoring loop, minus the tokenizer and tensors."""
    rewards, reward_extra_info = [], defaultdict(list)
    for data_source, response_str, ground_truth, extra_info in batch:
        score = compute_score(data_source=data_source, solution_str=response_str, ground_truth=ground_truth,
                              extra_info=extra_info)
        if isinstance(score, dict):
            reward = score["score"]
            for key, value in score.items():
                reward_extra_info[key].append(value)
        else:
            reward = score
        rewards.append(reward)
    return rewards, dict(reward_extra_info)


def expected(config):
    composite = rewardkit.load(config)
    prompts = [(e or {}).get("prompt", "") for *_, e in BATCH]
    return composite.breakdown(prompts=prompts, completions=[r for _, r, _, _ in BATCH],
                               answer=[g for _, _, g, _ in BATCH])


def adapter_path() -> str:
    from rewardkit.integrations import verl

    return verl.__file__


def test_naive_reward_manager_with_reward_kwargs(config):
    fn = get_custom_reward_fn(adapter_path(), "compute_score", {"config": str(config)})
    rewards, extra = naive_reward_manager(fn, BATCH)
    want = expected(config)
    assert rewards == pytest.approx(want["total"])
    assert set(extra) == {"score", "length", "fmt", "answer_value"}
    for label in ("length", "fmt", "answer_value"):
        assert extra[label] == pytest.approx(want[label])
    assert extra["answer_value"] == [4.0, 5.0, 0.5]  # ground_truth reached the rewards as `answer`


def test_config_from_environment_and_loaded_once(config, monkeypatch):
    monkeypatch.setenv("REWARDKIT_CONFIG", str(config))
    fn = get_custom_reward_fn(adapter_path(), "compute_score", {})
    naive_reward_manager(fn, BATCH)
    naive_reward_manager(fn, BATCH)
    assert len(_shared._cache) == 1  # one composite per process and path, not one per call


def test_batch_reward_manager_form(config):
    fn = get_custom_reward_fn(adapter_path(), "compute_score_batch", {"config": str(config)})
    results = fn(data_sources=[d for d, *_ in BATCH], solution_strs=[r for _, r, _, _ in BATCH],
                 ground_truths=[g for _, _, g, _ in BATCH], extra_infos=[e for *_, e in BATCH])
    assert [r["score"] for r in results] == pytest.approx(expected(config)["total"])


def test_extra_info_fields_and_data_source_are_columns(tmp_path):
    from rewardkit.integrations.verl import compute_score

    cfg = {"rewards": [{"use": "echo_column", "as": "weight_col", "with": {"column": "difficulty"}},
                       {"use": "length", "weight": 0.0}]}
    path = tmp_path / "r.yaml"
    import yaml

    path.write_text(yaml.safe_dump(cfg))
    out = compute_score("src", "x", "gt", {"difficulty": 3}, config=str(path))
    assert out["weight_col"] == 3.0 and out["score"] == 3.0


def test_answer_field_can_be_renamed(tmp_path, monkeypatch):
    from rewardkit.integrations.verl import compute_score

    path = tmp_path / "r.yaml"
    path.write_text("rewards:\n  - use: echo_column\n    with: {column: target}\n")
    monkeypatch.setenv("REWARDKIT_ANSWER_FIELD", "target")
    assert compute_score("src", "x", "7", None, config=str(path))["score"] == 7.0
    monkeypatch.delenv("REWARDKIT_ANSWER_FIELD")
    assert compute_score("src", "x", "8", None, config=str(path), answer_field="target")["score"] == 8.0


def test_none_component_reports_zero(tmp_path):
    from rewardkit.integrations.verl import compute_score

    path = tmp_path / "r.yaml"
    path.write_text("rewards:\n  - use: flaky\n  - use: length\n    with: {unit: words, max_tokens: 4}\n")
    out = compute_score("src", "n/a here", "", None, config=str(path))
    assert out == {"score": pytest.approx(0.5), "flaky": 0.0, "length": pytest.approx(0.5)}


def test_missing_config_is_a_one_line_config_error(monkeypatch):
    from rewardkit.integrations.verl import compute_score

    monkeypatch.delenv("REWARDKIT_CONFIG", raising=False)
    with pytest.raises(rewardkit.ConfigError, match="no rewards config: pass config=PATH or set REWARDKIT_CONFIG"):
        compute_score("src", "x", "1")


def test_label_score_clashes_with_verl_total(tmp_path):
    from rewardkit.integrations.verl import compute_score

    path = tmp_path / "r.yaml"
    path.write_text("rewards:\n  - use: length\n    as: score\n")
    with pytest.raises(rewardkit.ConfigError, match="label 'score' clashes"):
        compute_score("src", "x", "1", config=str(path))

