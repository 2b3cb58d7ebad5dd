"""Agreement and throughput of the ``math`` reward vs Hugging Face's Math-Verify, same inputs, one run.

Three sets, each scored by both verifiers:

- ``math500``: MATH-500 reference solutions (ending in ``\\boxed{...}``) against their ``answer``:
  every verdict should be "correct".
- ``shuffled``: the same solutions against another problem's answer (pairs whose answers are the
  same string are left out): every verdict should be "wrong"; an acceptance is a false positive.
- ``gsm8k``: GSM8K rationales (calculator annotations removed) ending in one of three answer
  styles (``#### N``, ``The answer is N.``, ``\\boxed{N}``) against ``N``: all "correct".
- ``gsm8k_models``: OpenAI's published GSM8K solutions of 6B and 175B models (four per problem,
  as written, calculator annotations kept), each against the text after the last ``A:`` of the
  problem's ``ground_truth``; the expected verdict is each solution's ``is_correct`` label.

Math-Verify runs single-process as users run it (``verify(parse(gold), parse(completion))``, the
gold wrapped in ``\\boxed{}``); ours is ``Math().score`` in batches, with its process pool (one
worker per core). Before each set our in-process caches are cleared and the workers restarted
(then warmed on an unrelated item), so no set profits from another's parse cache. Prints one JSON
object on the last line; ``ratio`` = ours / Math-Verify verdicts per second over all sets.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# standard library's ``math`` for every later import: drop that folder first.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import json
import logging
import random
import re
import time
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def load(name: str) -> list[dict]:
    path = DATA / name
    if not path.exists():
        sys.exit(f"bench/math.py: {path} not found (the shared data folder is needed)")
    return [json.loads(line) for line in path.open()]


MODELS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")


def model_solutions(n: int | None) -> tuple[list[str], list[str], list[bool]]:
    """Labelled model solutions: (completions, golds, is_correct labels), four per problem."""
    comps, golds, labels = [], [], []
    for r in load("gsm8k_model_solutions.jsonl")[:n]:
        gold = r["ground_truth"].rsplit("A:", 1)[1].strip()
        for key in MODELS:
            comps.append(r[key]["solution"])
            golds.append(gold)
            labels.append(bool(r[key]["is_correct"]))
    return comps, golds, labels


def make_sets(n_math: int | None, n_gsm: int | None) -> dict[str, tuple[list[str], list[str], Any]]:
    """name -> (completions, golds, expected verdict: one for the set or one per item)."""
    math_rows = load("math500.jsonl")[:n_math]
    sols = [r["solution"] for r in math_rows]
    answers = [r["answer"] for r in math_rows]
    rng = random.Random(0)
    perm = list(range(len(math_rows)))
    rng.shuffle(perm)
    key = [re.sub(r"\s+", "", a) for a in answers]
    pairs = [(i, perm[i]) for i in range(len(perm)) if key[i] != key[perm[i]]]
    gsm_rows = load("gsm8k_test.jsonl")[:n_gsm]
    gsm_c, gsm_g = [], []
    styles = ("\n#### {}", "\nThe answer is {}.", "\nSo the final answer is $\\boxed{{{}}}$.")
    for k, r in enumerate(gsm_rows):
        rationale, n = r["answer"].rsplit("####", 1)
        rationale = re.sub(r"<<[^>]*>>", "", rationale).rstrip()
        gsm_c.append(rationale + styles[k % 3].format(n.strip()))
        gsm_g.append(n.strip())
    return {
        "math500": (sols, answers, True),
        "shuffled": ([sols[i] for i, _ in pairs], [answers[j] for _, j in pairs], False),
        "gsm8k": (gsm_c, gsm_g, True),
        "gsm8k_models": model_solutions(n_gsm and n_gsm // 3),
    }


def run_peer(completions: list[str], golds: list[str]) -> list[bool]:
    from math_verify import parse, verify

    return [bool(verify(parse("\\boxed{" + g + "}"), parse(c))) for c, g in zip(completions, golds)]


def run_ours(reward, completions: list[str], golds: list[str], batch: int) -> list[bool]:
    out: list[bool] = []
    for k in range(0, len(completions), batch):
        scores = reward.score([""] * len(completions[k:k + batch]), completions[k:k + batch],
                              answer=golds[k:k + batch])
        out += [s == 1.0 for s in scores]
    return out


def fresh(reward) -> None:
    """Clear our caches and restart the workers, warmed on an item no set contains."""
    from rewardkit_math import pool, verify

    verify.clear_caches()
    pool.shutdown()
    reward.score(["", ""], ["\\boxed{\\sqrt{2}+1}", "\\boxed{17}"], answer=["1+\\sqrt2", "17"])
    verify.clear_caches()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="100 MATH-500 and 300 GSM8K items")
    ap.add_argument("--batch", type=int, default=256, help="completions per score() call")
    ap.add_argument("--show", type=int, default=15, help="disagreements printed per set")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    sets = make_sets(100, 300) if args.quick else make_sets(None, None)

    from math_verify import parse, verify
    from rewardkit_math import Math

    verify(parse("$1$"), parse("$1$"))  # warm Math-Verify's grammar
    reward = Math()
    report: dict = {"bench": "math", "sets": {}}
    t_ours = t_peer = 0.0
    n_all = 0
    for name, (comps, golds, expected) in sets.items():
        t0 = time.perf_counter()
        peer = run_peer(comps, golds)
        t1 = time.perf_counter()
        fresh(reward)
        t2 = time.perf_counter()
        ours = run_ours(reward, comps, golds, args.batch)
        t3 = time.perf_counter()
        t_peer += t1 - t0
        t_ours += t3 - t2
        n = len(comps)
        n_all += n
        want = expected if isinstance(expected, list) else [expected] * n
        row = {
            "n": n,
            "ours_agree": round(sum(v == w for v, w in zip(ours, want)) / n, 4),
            "peer_agree": round(sum(v == w for v, w in zip(peer, want)) / n, 4),
            "ours_per_s": round(n / (t3 - t2), 1),
            "peer_per_s": round(n / (t1 - t0), 1),
        }
        if not any(want):
            row["ours_false_pos"] = sum(ours)
            row["peer_false_pos"] = sum(peer)
        report["sets"][name] = row
        print(f"{name:9} n={n:5}  agreement ours {row['ours_agree']:.4f}  math-verify {row['peer_agree']:.4f}  "
              f"| {row['ours_per_s']:8.1f}/s vs {row['peer_per_s']:7.1f}/s")
        shown = 0
        for i, (o, p) in enumerate(zip(ours, peer)):
            if (o != want[i] or p != want[i]) and shown < args.show:
                shown += 1
                tail = comps[i][-80:].replace("\n", " ")
                print(f"   [{i}] gold={golds[i]!r:.50} expected={want[i]} ours={o} math-verify={p}  ...{tail!r}")
    report["limits_hit"] = reward.stats["limits"]
    report["ours_per_s"] = round(n_all / t_ours, 1)
    report["peer_per_s"] = round(n_all / t_peer, 1)
    report["ratio"] = round(t_peer / t_ours, 2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
