"""Scoring throughput of the ``factuality`` reward (entailment mode) vs a per-sentence ``pipeline``.

Both sides use the same tiny NLI model (built here from a config, saved and loaded back as a
user's model) on the same completions and evidence, in the same run, interleaved round by round.
The peer is the naive loop a user writes: a ``transformers.pipeline("text-classification")``
called once per (evidence, sentence) pair, then the same count of entailed and contradicted
sentences. Prints one JSON line: ``ratio`` = plugin completions/s / pipeline completions/s.
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


def make_rows(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    from rewardkit_factuality.tiny import WORDS

    rng = random.Random(seed)

    def sentence(lo: int, hi: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi))).capitalize() + "."

    # GRPO-like: groups of 8 completions share a prompt's evidence
    evidence, completions = [], []
    for i in range(n):
        if i % 8 == 0:
            ev = " ".join(sentence(8, 20) for _ in range(rng.randint(2, 5)))
        evidence.append(ev)
        completions.append(" ".join(sentence(4, 25) for _ in range(rng.randint(1, 6))))
    return completions, evidence


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=256, help="completions per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=128, help="tiny BERT hidden size")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="64 completions, 3 rounds")
    args = ap.parse_args()
    n, rounds = (64, 3) if args.quick else (args.n, args.rounds)

    import torch
    from rewardkit_factuality import Factuality, split_sentences
    from rewardkit_factuality.tiny import build_nli_model
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(1)
    hf_logging.set_verbosity_error()  # the pipeline's "use a dataset" advice, once per call
    completions, evidence = make_rows(n)
    n_sentences = sum(len(split_sentences(c)) for c in completions)
    with tempfile.TemporaryDirectory() as folder:
        path = str(build_nli_model(folder, hidden_size=args.hidden, num_layers=args.layers))
        ours = Factuality(mode="entailment", model=path, batch_size=args.batch_size)
        clf = pipeline("text-classification", model=path, tokenizer=path, device="cpu")

        def run_ours() -> list[float | None]:
            return ours.score([""] * n, completions, evidence=evidence)

        def run_peer() -> list[float]:
            out = []
            for c, ev in zip(completions, evidence):
                labels = [clf({"text": ev, "text_pair": s})["label"] for s in split_sentences(c)]
                entailed, contradicted = labels.count("ENTAILMENT"), labels.count("CONTRADICTION")
                out.append((entailed - contradicted) / len(labels) if labels else 0.0)
            return out

        a, b = run_ours(), run_peer()  # warm-up, and the two must agree
        agree = sum(abs(x - y) < 1e-9 for x, y in zip(a, b)) / n
        times: dict[str, list[float]] = {"ours": [], "peer": []}
        for _ in range(rounds):
            for name, fn in (("ours", run_ours), ("peer", run_peer)):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    per_s = {k: n / statistics.median(v) for k, v in times.items()}
    print(f"{n} completions ({n_sentences} sentences), {rounds} rounds, batch {args.batch_size}, "
          f"BERT {args.layers}x{args.hidden}; rows where ours == pipeline: {agree:.0%}")
    print(json.dumps({
        "bench": "factuality", "ours_per_s": round(per_s["ours"], 1), "peer_per_s": round(per_s["peer"], 1),
        "ratio": round(per_s["ours"] / per_s["peer"], 2), "unit": "completions",
        "sentences_per_completion": round(n_sentences / n, 2), "agreement": agree, "n": n,
    }))


if __name__ == "__main__":
    main()
