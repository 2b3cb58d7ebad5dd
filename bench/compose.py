"""Overhead of composition: ``rewardkit.load(...)(...)`` vs calling the same rewards directly.

Both sides score the same 10,000 completions with the same reward objects (length, format and a
regex format); the peer is a hand-written loop that calls each reward's ``score`` and sums with
the weights. Prints one JSON line: ``ratio`` = composite throughput / direct throughput (1.0
means no overhead).
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
import time

import rewardkit

CONFIG = {
    "rewards": [
        {"use": "format", "weight": 0.5, "with": {"mode": "partial"}},
        {"use": "length", "weight": 0.2, "with": {"unit": "words", "max_tokens": 64}},
        {"use": "format", "weight": 1.0, "as": "boxed", "with": {"pattern": r".*\\boxed\{.+\}.*"}},
    ],
}


def make_data(n: int, seed: int = 0) -> tuple[list[str], list[str], list[str]]:
    rng = random.Random(seed)
    prompts, completions, answers = [], [], []
    for i in range(n):
        a, b = rng.randint(1, 99), rng.randint(1, 99)
        words = " ".join(rng.choice(["so", "then", "we", "add", "carry", "the", "sum"]) for _ in range(rng.randint(3, 60)))
        body = rng.choice([
            f"<think>{words}</think><answer>\\boxed{{{a + b}}}</answer>",
            f"{words} the answer is {a + b}",
            f"<think>{words}</think>",
        ])
        prompts.append(f"What is {a} + {b}?")
        completions.append(body)
        answers.append(str(a + b))
    return prompts, completions, answers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    repeats = 3 if args.quick else args.repeats
    prompts, completions, answers = make_data(args.n)
    composite = rewardkit.load(CONFIG)
    parts = [(c.weight, c.reward) for c in composite.components]

    def direct() -> list[float]:
        cols = [(w, r.score(prompts, completions, answer=answers)) for w, r in parts]
        return [sum(w * s[i] for w, s in cols if s[i] is not None) for i in range(len(completions))]

    def composed() -> list[float]:
        return composite(prompts=prompts, completions=completions, answer=answers)

    assert direct() == composed(), "the two sides must compute the same totals"
    ours, peer = [], []
    for _ in range(repeats):  # interleaved, so load on the machine hits both alike
        t = time.perf_counter()
        composed()
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        direct()
        peer.append(time.perf_counter() - t)
    ours_per_s = args.n / statistics.median(ours)
    peer_per_s = args.n / statistics.median(peer)
    print(f"composite: {ours_per_s:,.0f} completions/s   direct calls: {peer_per_s:,.0f} completions/s")
    print(json.dumps({"bench": "compose", "n": args.n, "ours_per_s": round(ours_per_s, 1),
                      "peer_per_s": round(peer_per_s, 1), "ratio": round(ours_per_s / peer_per_s, 3)}))


if __name__ == "__main__":
    main()
