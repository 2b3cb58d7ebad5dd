"""DDP on CPU: two processes with gloo, one GRPO step; both ranks hold identical weights after it,
and each rank samples whole groups of its own prompts."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import grpo_tiny
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

WORLD = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank: int, port: int, config_path: str, out: str) -> None:
    """One torchrun-like process: the environment torchrun sets, then the trainer's own set-up."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(WORLD))
    torch.set_num_threads(1)
    import rewardkit
    from rewardkit.grpo import TrainConfig, train
    from rewardkit.grpo.distributed import shutdown
    from rewardkit.plugins import registry

    seen: list[str] = []

    class Probe(rewardkit.Reward):
        name = "probe"

        def score(self, prompts, completions, **columns):
            seen.extend(rewardkit.text_of(p) for p in prompts)
            return [float(len(rewardkit.text_of(c)) % 3) for c in completions]

    class Plugin:
        @rewardkit.hookimpl
        def register_rewards(self, register):
            register(Probe)

    registry().register_plugin(Plugin(), name="probe", distribution="probe")
    try:
        result = train(TrainConfig.from_yaml(config_path))
        torch.save({k: v.detach().cpu() for k, v in result.model.state_dict().items()}, Path(out) / f"w{rank}.pt")
        (Path(out) / f"seen{rank}.json").write_text(json.dumps(seen))
    finally:
        shutdown()


@pytest.mark.slow
def test_two_gloo_ranks_hold_identical_weights_after_a_step(tmp_path):
    import torch.multiprocessing as mp
    from transformers import AutoModelForCausalLM

    model_dir = grpo_tiny.make_model(tmp_path / "model")
    G = 4
    config = grpo_tiny.make_config(tmp_path, model_dir, max_steps=1, save_steps=0, plot=False, num_generations=G,
                                   per_device_train_batch_size=4, gradient_accumulation_steps=2,
                                   rewards=[{"use": "probe"}])
    # Spawned children import this module by name: make sure they can find it.
    sys.path.insert(0, str(Path(__file__).parent))
    mp.spawn(worker, args=(free_port(), str(config), str(tmp_path)), nprocs=WORLD, join=True)

    w0, w1 = torch.load(tmp_path / "w0.pt"), torch.load(tmp_path / "w1.pt")
    initial = AutoModelForCausalLM.from_pretrained(model_dir).state_dict()
    assert w0.keys() == w1.keys()
    for k in w0:
        assert torch.equal(w0[k], w1[k]), f"ranks disagree on {k}"
    assert any(not torch.equal(w0[k], initial[k]) for k in w0), "the step changed nothing"

    seen = [json.loads((tmp_path / f"seen{r}.json").read_text()) for r in range(WORLD)]
    for prompts in seen:
        assert len(prompts) == 2 * G  # 2 prompts per rank per step (4 * 2 completions / G)
        groups = [prompts[i:i + G] for i in range(0, len(prompts), G)]
        assert all(len(set(g)) == 1 for g in groups), "a group was split"
    assert not set(seen[0]) & set(seen[1]), "both ranks sampled the same prompt"
