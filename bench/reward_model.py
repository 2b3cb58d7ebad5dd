"""Scoring throughput of the ``reward_model`` reward against the naive way: one
``transformers.pipeline("text-classification")`` call per text.

Same tiny model (saved to a temporary folder, loaded by both sides through ``from_pretrained``),
same texts, same process; the rounds alternate between the two sides and each side's median
round counts. The last line of stdout is one JSON object; ratio = ours / peer texts per second.

    .venv/bin/python bench/reward_model.py [--quick] [--texts N] [--threads N]
"""

from __future__ import annotations

import os
import sys

# Run as a script, this folder comes first on sys.path, and bench/math.py would shadow the
# standard library's math (imported by random, statistics, torch...): drop the folder.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import json
import random
import statistics
import tempfile
import time


def make_texts(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """Prompts and completions of varied length (5 to 120 words), as a policy's samples vary."""
    from rewardkit_reward_model.synthetic import FILLER, TOPICS

    rng = random.Random(seed)
    prompts = [f"write a short note about {rng.choice(TOPICS)}" for _ in range(n)]
    completions = [" " + " ".join(rng.choice(FILLER) for _ in range(rng.randint(5, 120))) for _ in range(n)]
    return prompts, completions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer texts and rounds (a smoke run)")
    ap.add_argument("--texts", type=int, default=None, help="texts per round (default 512, quick 96)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds per side (default 3, quick 1)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: a shared machine)")
    ap.add_argument("--batch-size", type=int, default=16, help="the reward's batch_size (default 16: on a CPU "
                    "small batches are faster; on a GPU use 64 or more)")
    ap.add_argument("--device", default="cpu", help="cpu (default), cuda, mps")
    args = ap.parse_args()
    n = args.texts or (96 if args.quick else 512)
    rounds = args.rounds or (1 if args.quick else 3)

    import torch
    from rewardkit_reward_model import RewardModel
    from rewardkit_reward_model.synthetic import save_tiny_reward_model
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(args.threads)
    hf_logging.set_verbosity_error()
    prompts, completions = make_texts(n)
    texts = [p + c for p, c in zip(prompts, completions)]  # the reward's format (separator "")

    with tempfile.TemporaryDirectory() as folder:
        save_tiny_reward_model(folder, hidden_size=128, num_layers=2, num_heads=4)
        ours = RewardModel(model=folder, device=args.device, dtype="float32", batch_size=args.batch_size)
        pipe = pipeline("text-classification", model=folder, tokenizer=folder, device=args.device,
                        function_to_apply="none")

        def run_ours() -> list[float]:
            return [float(x) for x in ours.score(prompts, completions)]

        def run_peer() -> list[float]:
            return [pipe(t)[0]["score"] for t in texts]

        # Warm-up, and a check that both sides compute the same rewards.
        a, b = run_ours(), run_peer()
        max_diff = max(abs(x - y) for x, y in zip(a, b))
        t_ours, t_peer = [], []
        for _ in range(rounds):
            for fn, sink in ((run_ours, t_ours), (run_peer, t_peer)):
                start = time.perf_counter()
                fn()
                sink.append(time.perf_counter() - start)

    ours_per_s = n / statistics.median(t_ours)
    peer_per_s = n / statistics.median(t_peer)
    print(f"texts={n} rounds={rounds} threads={args.threads} device={args.device} batch_size={args.batch_size} ours={ours_per_s:.1f}/s "
          f"pipeline-per-text={peer_per_s:.1f}/s max|diff|={max_diff:.2e}")
    print(json.dumps({"bench": "reward_model", "texts": n, "device": args.device,
                      "batch_size": args.batch_size, "ours_per_s": round(ours_per_s, 1),
                      "peer_per_s": round(peer_per_s, 1), "ratio": round(ours_per_s / peer_per_s, 2),
                      "max_abs_diff": float(f"{max_diff:.3g}")}))


if __name__ == "__main__":
    main()
