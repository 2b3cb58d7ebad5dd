import pickle

import pytest

import rewardkit
from rewardkit.integrations.trl import reward_funcs

CONFIG = {
    "rewards": [
        {"use": "exclaim", "weight": 1.0, "as": "excitement"},
        {"use": "length", "weight": 0.25, "with": {"max_tokens": 8}},
        {"use": "flaky", "weight": 2.0, "as": "sometimes"},
    ],
    "on_error": "skip",
}


def test_reward_funcs_names_weights_and_scores():
    funcs, weights = reward_funcs(CONFIG)
    assert [f.__name__ for f in funcs] == ["excitement", "length", "sometimes"]
    assert weights == [1.0, 0.25, 2.0]
    kwargs = {"prompts": ["p", "p"], "completions": ["a!", "n/a"], "completion_ids": [[1, 2], [3]], "trainer_state": None}
    assert funcs[0](**kwargs) == [1.0, 0.0]
    assert funcs[1](**kwargs) == [pytest.approx(1 - 2 / 8), pytest.approx(1 - 1 / 8)]  # completion_ids used
    assert funcs[2](**kwargs) == [1.0, None]  # None: TRL leaves it out of its nansum
    composite = rewardkit.load(CONFIG)
    assert reward_funcs(composite)[1] == weights


def test_reward_funcs_pickle_and_apply_policy():
    funcs, _ = reward_funcs(CONFIG)
    clone = pickle.loads(pickle.dumps(funcs[2]))
    assert clone.__name__ == "sometimes"
    assert clone(prompts=["p", "p"], completions=["boom", "ok"]) == [None, 1.0]


@pytest.mark.slow
def test_grpo_trainer_logs_each_component_under_its_label(tmp_path):
    pytest.importorskip("trl")
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from rewardkit.models import tiny

    torch.manual_seed(0)
    tok = tiny.char_tokenizer()
    tiny.save(tmp_path / "model", model=tiny.causal_lm(tok, hidden_size=32, num_layers=1), tokenizer=tok)
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "model")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "model")

    funcs, weights = reward_funcs(CONFIG)
    data = Dataset.from_list([{"prompt": f"say {i}!"} for i in range(4)])
    args = GRPOConfig(
        output_dir=str(tmp_path / "out"), use_cpu=True, bf16=False, report_to=[], max_steps=2,
        per_device_train_batch_size=4, num_generations=4, max_completion_length=8, logging_steps=1,
        reward_weights=weights, save_strategy="no", seed=0,
    )
    trainer = GRPOTrainer(model=model, reward_funcs=funcs, args=args, train_dataset=data, processing_class=tokenizer)
    trainer.train()
    logged = [h for h in trainer.state.log_history if "reward" in h]
    assert logged, trainer.state.log_history
    for label in ("excitement", "length", "sometimes"):
        assert f"rewards/{label}/mean" in logged[0], sorted(logged[0])
