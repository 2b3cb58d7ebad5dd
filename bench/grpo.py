"""Time per GRPO step: rewardkit's trainer against TRL's ``GRPOTrainer`` on identical work.

Both sides get the same tiny Qwen2-style model (built from a config, saved to a temporary folder
and loaded back through ``from_pretrained``), the same local character tokenizer, the same prompts
and the same rewardkit reward: 4 prompts x 8 generations per step, 32 completion tokens forced to
full length (EOS suppressed), fp32, one torch thread, beta 0, TRL's default loss. Rounds alternate
between the two sides in one process; a round builds a fresh trainer and times the gaps between
consecutive optimizer-step ends (the first step of a round is warm-up and is dropped). The median
step counts. Without a KL term our trainer skips the backward of groups whose rewards are all equal
(advantage 0, gradient exactly 0), as happens often in real runs; on this untrained model most groups
are such (``zero_std_groups_<size>`` in the JSON), so the ratio depends on that fraction.

Peak memory is measured in separate subprocesses, one per side and size: after imports and a first
model load the kernel's peak-RSS mark is reset (``/proc/self/clear_refs``), and after training
``peak_rss_mb`` is the process's peak resident set size during training (``VmHWM``; where the reset
is refused, ``ru_maxrss`` since start) and ``train_rss_mb`` that peak minus the resident size just
before training, i.e. what the trainer itself adds.

    .venv/bin/python bench/grpo.py [--quick] [--rounds N] [--steps N] [--sizes small,large]
        [--reward format|dense|math] [--phases]

``--phases`` adds a per-phase table (generation, reward, reference/old log-probs, forward+backward,
optimizer, other = logging, checkpoint, advantages and the loop) for both sides: ours from the
trainer's own ``time/*`` metrics, TRL's by timing its methods on the trainer instance
(``_generate``, ``_calculate_rewards``, ``_get_per_token_logps_and_entropies`` under no_grad,
``training_step`` minus ``_generate_and_score_completions``, the optimizer-step callbacks).

The last line of stdout is one JSON object; ``ratio`` is ours / TRL steps per second on the
larger model (above 1: faster), ``time_ratio_<size>`` ours / TRL seconds per step.
"""

from __future__ import annotations

import sys

# Run as a script, this folder comes first on sys.path, where sibling benchmarks (bench/math.py)
# would shadow standard modules: drop it (the project root is added below).
if sys.path and sys.path[0].rstrip("/").endswith("bench"):
    sys.path.pop(0)

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Model sizes (Qwen2 layout, tied embeddings, ~107-token character vocabulary).
SIZES: dict[str, dict[str, int]] = {
    "small": {"hidden_size": 80, "num_layers": 2, "num_heads": 4},  # ~124K parameters
    "large": {"hidden_size": 256, "num_layers": 7, "num_heads": 4, "intermediate_size": 576},  # ~4.5M parameters
}
PROMPTS_PER_STEP, GENERATIONS, COMPLETION_TOKENS = 4, 8, 32
# --reward format (default): a cheap first-party reward with some spread; on the untrained model
# most groups still score alike. --reward dense: a bench-local reward (below) that differs for
# nearly every completion, so almost no group has advantage 0 and every row goes through backward.
REWARD_CONFIGS = {
    "format": {"rewards": [{"use": "format", "with": {"pattern": "[0-9]", "mode": "partial"}}]},
    "dense": {"rewards": [{"use": "char_variety"}]},
    # --reward math: the math reward on examples/arithmetic.jsonl (its answers) plus char_variety, so the
    # untrained model, which never gets an answer right, still has nearly no group with equal rewards.
    "math": {"rewards": [{"use": "math"}, {"use": "char_variety", "weight": 0.5}]},
}
REWARDS = REWARD_CONFIGS["format"]
REWARD_NAME = "format"


def register_dense_reward() -> None:
    """Register ``char_variety`` (distinct characters / length) in this process, as a plugin would."""
    import rewardkit

    class CharVariety(rewardkit.Reward):
        name = "char_variety"

        def score(self, prompts, completions, **columns):
            texts = [rewardkit.text_of(c) for c in completions]
            return [len(set(t)) / max(len(t), 1) for t in texts]

    class Plugin:
        @rewardkit.hookimpl
        def register_rewards(self, register):
            register(CharVariety)

    rewardkit.registry().register_plugin(Plugin(), name="bench_char_variety")


def prompts(n: int = 64) -> list[dict[str, str]]:
    if REWARD_NAME == "math":
        with open(ROOT / "examples" / "arithmetic.jsonl", encoding="utf-8") as f:
            return [json.loads(line) for line in itertools.islice(f, n)]
    return [{"prompt": f"Q{i}: what is {i} + {i % 7}? A:"} for i in range(n)]


def build(folder: Path, size: str) -> int:
    """Save the tokenizer and a seeded model of ``size`` to ``folder``; returns the parameter count."""
    from rewardkit.models import tiny

    tok = tiny.char_tokenizer()
    model = tiny.causal_lm(tok, **SIZES[size], seed=0)
    tiny.save(folder, model=model, tokenizer=tok)
    return sum(p.numel() for p in model.parameters())


def load(folder: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)


# --- one round of each side: returns the seconds of each optimizer step after the first --------------


PHASES = ("generation", "reward", "logps", "forward+backward", "optimizer", "other")


def run_ours(folder: Path, steps: int, out: str, phases: list[dict[str, float]] | None = None) -> list[float]:
    from rewardkit import load as load_rewards
    from rewardkit.grpo import TrainConfig, train

    model, tok = load(folder)
    config = TrainConfig(
        output_dir=out, num_generations=GENERATIONS, per_device_train_batch_size=PROMPTS_PER_STEP * GENERATIONS,
        max_completion_length=COMPLETION_TOKENS, max_prompt_length=None, learning_rate=1e-5, max_steps=steps,
        generation_kwargs={"suppress_tokens": [tok.eos_token_id]}, plot=False, save_steps=0,
        disable_tqdm=True, device="cpu", seed=0,
    )
    ends: list[float] = []
    result = train(config, model=model, tokenizer=tok, dataset=prompts(), reward=load_rewards(REWARDS),
                   callbacks=[lambda step, row: ends.append(time.perf_counter())])
    ZERO_STD.extend(row["frac_reward_zero_std"] for row in result.metrics)
    gaps = [b - a for a, b in itertools.pairwise(ends)]
    if phases is not None:
        # The trainer's own timers; "other" is the rest of the gap between two step ends (advantages,
        # metrics, logging, checkpoint, the loop itself).
        for gap, row in zip(gaps, result.metrics[1:]):
            ph = {"generation": row["time/generation"], "reward": row["time/reward"], "logps": row["time/logps"],
                  "forward+backward": row["time/backward"], "optimizer": row["time/optimizer"]}
            phases.append({**ph, "other": gap - sum(ph.values()), "step": gap})
    return gaps


# Fraction of groups whose rewards are all equal, per step of our runs: those groups have advantage 0,
# and without a KL term (beta 0, as here) our trainer skips their backward (their gradient is exactly 0).
ZERO_STD: list[float] = []


def trl_trainer(folder: Path, steps: int, out: str, ends: list[float]) -> Any:
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from rewardkit.integrations.trl import reward_funcs

    class StepEnd(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            ends.append(time.perf_counter())

    model, tok = load(folder)
    funcs, weights = reward_funcs(REWARDS)
    args = GRPOConfig(
        output_dir=out, use_cpu=True, bf16=False, num_generations=GENERATIONS,
        per_device_train_batch_size=PROMPTS_PER_STEP * GENERATIONS, max_completion_length=COMPLETION_TOKENS,
        generation_kwargs={"suppress_tokens": [tok.eos_token_id]}, learning_rate=1e-5, max_steps=steps,
        reward_weights=weights, report_to=[], save_strategy="no", logging_steps=10**6, disable_tqdm=True,
        dataloader_num_workers=0, seed=0,
    )
    return GRPOTrainer(model=model, reward_funcs=funcs, args=args, train_dataset=Dataset.from_list(prompts()),
                       processing_class=tok, callbacks=[StepEnd()])


def run_trl(folder: Path, steps: int, out: str, phases: list[dict[str, float]] | None = None) -> list[float]:
    ends: list[float] = []
    trainer = trl_trainer(folder, steps, out, ends)
    per_step: list[dict[str, float]] = []
    if phases is not None:
        per_step = instrument_trl(trainer, ends)
    trainer.train()
    gaps = [b - a for a, b in itertools.pairwise(ends)]
    if phases is not None:
        for gap, ph in zip(gaps, per_step[1:]):
            ph = dict(ph)
            # training_step holds the scoring (generation, reward, log-probs) and the forward and backward.
            ph["forward+backward"] = ph.pop("training_step", 0.0) - ph.pop("scoring", 0.0)
            ph = {k: ph.get(k, 0.0) for k in PHASES[:-1]}
            phases.append({**ph, "other": gap - sum(ph.values()), "step": gap})
    return gaps


def instrument_trl(trainer: Any, ends: list[float]) -> list[dict[str, float]]:
    """Wrap TRL's phase methods on this trainer instance with timers; one dict of seconds per step."""
    import torch
    from transformers import TrainerCallback

    per_step: list[dict[str, float]] = [{}]

    def timed(name: str, fn: Any, when: Any = None) -> Any:
        def wrapper(*a: Any, **kw: Any) -> Any:
            if when is not None and not when():
                return fn(*a, **kw)
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                cur = per_step[-1]
                cur[name] = cur.get(name, 0.0) + time.perf_counter() - t0
        return wrapper

    trainer._generate = timed("generation", trainer._generate)
    trainer._calculate_rewards = timed("reward", trainer._calculate_rewards)
    # Under no_grad: the old and reference log-probs of the scoring phase (the loss's forward has grad).
    trainer._get_per_token_logps_and_entropies = timed("logps", trainer._get_per_token_logps_and_entropies,
                                                       when=lambda: not torch.is_grad_enabled())
    trainer._generate_and_score_completions = timed("scoring", trainer._generate_and_score_completions)
    trainer.training_step = timed("training_step", trainer.training_step)

    class Optim(TrainerCallback):
        def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.t0 = time.perf_counter()

        def on_optimizer_step(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            per_step[-1]["optimizer"] = time.perf_counter() - self.t0

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            per_step.append({})

    trainer.add_callback(Optim())
    return per_step


def phase_table(phases: dict[str, list[dict[str, float]]]) -> tuple[str, dict[str, Any]]:
    """Markdown table of the median seconds per step of each phase, both sides; and the JSON numbers."""
    # Medians: the shared machine stalls some steps; a median per phase is robust to that (the phases
    # then need not add up exactly to the median step).
    mean = {side: {k: statistics.median(p[k] for p in rows) for k in (*PHASES, "step")}
            for side, rows in phases.items()}
    lines = ["| phase | rewardkit s/step | share | TRL s/step | share |", "| --- | ---: | ---: | ---: | ---: |"]
    for k in (*PHASES, "step"):
        o, t = mean["ours"][k], mean["trl"][k]
        lines.append(f"| {k} | {o:.4f} | {o / mean['ours']['step']:.0%} | {t:.4f} | {t / mean['trl']['step']:.0%} |")
    model_work = ("generation", "reward", "logps", "forward+backward")
    # Per step, then the median: the share of the step outside the model's forward, backward, generation
    # and reward (optimizer, advantages, logging, checkpoint, the loop).
    outside = {side: statistics.median(1 - sum(p[k] for k in model_work) / p["step"] for p in rows)
               for side, rows in phases.items()}
    numbers = {f"phase_{side}_{k}": round(v, 4) for side, m in mean.items() for k, v in m.items()}
    numbers.update({f"outside_share_{side}": round(v, 3) for side, v in outside.items()})
    lines.append("| outside model work | | " + f"{outside['ours']:.1%} | | {outside['trl']:.1%} |")
    return "\n".join(lines), numbers


# --- peak memory, one subprocess per side and size ------------------------------------------------------


def status_mb(field: str) -> float:
    """A ``/proc/self/status`` memory field (VmRSS: now, VmHWM: peak) in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0), so the peak covers training only."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def worker(side: str, folder: Path, steps: int) -> None:
    """Run one side only and print its memory as JSON (called in a fresh process)."""
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as out:
        if side == "trl":
            import trl  # noqa: F401  (imports before the baseline, as the other side's)
        else:
            import rewardkit.grpo.trainer  # noqa: F401
        load(folder)  # tokenizer and model files warm, the same module set loaded
        base = status_mb("VmRSS")
        reset = reset_peak()
        (run_trl if side == "trl" else run_ours)(folder, steps, out)
    peak = status_mb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_rss_mb": round(peak, 1), "train_rss_mb": round(peak - base, 1)}))


def measure_memory(side: str, folder: Path, steps: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker", side, "--folder", str(folder), "--steps", str(steps),
           "--reward", REWARD_NAME]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, "TQDM_DISABLE": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds and steps (a smoke run)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds per side and size (default 3, quick 1)")
    ap.add_argument("--steps", type=int, default=None, help="optimizer steps per round (default 6, quick 3)")
    ap.add_argument("--sizes", default="small,large", help="comma-separated: small (~124K), large (~4.5M)")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    ap.add_argument("--reward", choices=sorted(REWARD_CONFIGS), default="format",
                    help="format (default): most groups of the untrained model score alike; dense: nearly none do")
    ap.add_argument("--phases", action="store_true",
                    help="also time each phase of a step on both sides (one table per size)")
    ap.add_argument("--worker", choices=["ours", "trl"], help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    steps = args.steps or (3 if args.quick else 6)

    import logging
    import warnings

    import torch
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(1)  # two threads stall at random on the shared machine
    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore")
    logging.getLogger("rewardkit.grpo").setLevel(logging.ERROR)
    global REWARDS, REWARD_NAME
    REWARD_NAME, REWARDS = args.reward, REWARD_CONFIGS[args.reward]
    if args.reward in ("dense", "math"):
        register_dense_reward()
    if args.worker:
        worker(args.worker, Path(args.folder), steps)
        return

    result: dict[str, Any] = {"bench": "grpo", "reward": args.reward}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            folder = Path(tmp) / size
            n_params = build(folder, size)
            times: dict[str, list[float]] = {"ours": [], "trl": []}
            phases: dict[str, list[dict[str, float]]] = {"ours": [], "trl": []}
            ZERO_STD.clear()
            for r in range(rounds):
                order = ["ours", "trl"] if r % 2 == 0 else ["trl", "ours"]  # interleaved
                for side in order:
                    fn = run_ours if side == "ours" else run_trl
                    times[side] += fn(folder, steps, str(Path(tmp) / f"out-{side}"),
                                      phases[side] if args.phases else None)
            ours, peer = statistics.median(times["ours"]), statistics.median(times["trl"])
            print(f"{size}: {n_params / 1e6:.3f}M params  ours {ours:.4f} s/step  TRL {peer:.4f} s/step  "
                  f"ours/TRL time {ours / peer:.2f}x  ({len(times['ours'])} + {len(times['trl'])} steps; "
                  f"{statistics.mean(ZERO_STD):.0%} of groups with equal rewards)",
                  flush=True)
            result.update({f"params_{size}": n_params, f"ours_s_per_step_{size}": round(ours, 4),
                           f"trl_s_per_step_{size}": round(peer, 4), f"time_ratio_{size}": round(ours / peer, 3),
                           f"zero_std_groups_{size}": round(statistics.mean(ZERO_STD), 3)})
            if args.phases:
                table, numbers = phase_table(phases)
                print(f"{size}: median seconds per step by phase\n{table}", flush=True)
                result.update({f"{k}_{size}": v for k, v in numbers.items()})
            if not args.no_memory:
                mem = {side: measure_memory(side, folder, max(steps, 3)) for side in ("ours", "trl")}
                print(f"{size}: peak RSS ours {mem['ours']['peak_rss_mb']} MB (+{mem['ours']['train_rss_mb']} in "
                      f"training), TRL {mem['trl']['peak_rss_mb']} MB (+{mem['trl']['train_rss_mb']})", flush=True)
                for side in ("ours", "trl"):
                    for key, value in mem[side].items():
                        result[f"{side}_{key}_{size}"] = value
            result["ours_per_s"], result["peer_per_s"] = round(1 / ours, 3), round(1 / peer, 3)
            result["ratio"] = round(peer / ours, 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
