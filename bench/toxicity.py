"""Scoring throughput of the ``toxicity`` reward vs per-text ``Detoxify.predict``.

Both sides load the same tiny Detoxify checkpoint (built here from a config, in Detoxify's
format) and score the same texts of mixed length in the same run, interleaved round by round.
The peer is the naive loop a user writes: ``[d.predict(t)["toxicity"] for t in texts]``. Also
reported: one ``d.predict(texts)`` call over the whole list, in chunks of the same batch size
(batched, but padded to each chunk's longest text, unsorted). Prints one JSON line: ``ratio`` =
plugin texts/s / per-text texts/s.
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


def make_texts(n: int, seed: int = 0) -> list[str]:
    from rewardkit_toxicity.tiny import WORDS

    rng = random.Random(seed)
    # lengths like chat completions: mostly short, some long
    return [" ".join(rng.choice(WORDS) for _ in range(min(200, int(rng.expovariate(1 / 40)) + 3)))
            for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=512, help="texts per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=128, help="tiny BERT hidden size")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="128 texts, 3 rounds")
    args = ap.parse_args()
    n, rounds = (128, 3) if args.quick else (args.n, args.rounds)

    import torch
    from detoxify import Detoxify
    from rewardkit_toxicity import Toxicity
    from rewardkit_toxicity.tiny import build_checkpoint

    torch.set_num_threads(1)
    texts = make_texts(n)
    with tempfile.TemporaryDirectory() as folder:
        ckpt, hf = build_checkpoint(folder, hidden_size=args.hidden, num_layers=args.layers)
        ours = Toxicity(checkpoint=str(ckpt), huggingface_config_path=str(hf), batch_size=args.batch_size)
        peer = Detoxify(checkpoint=str(ckpt), huggingface_config_path=str(hf))

        def run_ours() -> list[float]:
            return ours.score([""] * len(texts), texts)

        def run_peer() -> list[float]:
            return [peer.predict(t)["toxicity"] for t in texts]

        def run_chunked() -> list[float]:
            out: list[float] = []
            for i in range(0, len(texts), args.batch_size):
                out.extend(peer.predict(texts[i : i + args.batch_size])["toxicity"])
            return out

        a, b = run_ours(), run_peer()  # warm-up, and the two must agree
        max_diff = max(abs(x - y) for x, y in zip(a, b))
        times: dict[str, list[float]] = {"ours": [], "peer": [], "chunked": []}
        for _ in range(rounds):
            for name, fn in (("ours", run_ours), ("peer", run_peer), ("chunked", run_chunked)):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    per_s = {k: n / statistics.median(v) for k, v in times.items()}
    print(f"{n} texts, {rounds} rounds, batch {args.batch_size}, BERT {args.layers}x{args.hidden}; "
          f"max |ours - Detoxify| = {max_diff:.2e}")
    print(json.dumps({
        "bench": "toxicity", "ours_per_s": round(per_s["ours"], 1), "peer_per_s": round(per_s["peer"], 1),
        "ratio": round(per_s["ours"] / per_s["peer"], 2),
        "chunked_predict_per_s": round(per_s["chunked"], 1),
        "ratio_vs_chunked": round(per_s["ours"] / per_s["chunked"], 2),
        "max_abs_diff": max_diff, "n": n,
    }))


if __name__ == "__main__":
    main()
