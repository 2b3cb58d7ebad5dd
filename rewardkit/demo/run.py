"""The demo from end to end: build a tiny policy, warm-start it, GRPO it, measure, plot.

Phases (each prints what it did):

1. Build a character-level tokenizer and a tiny Qwen2-style model from a config, save both in
   Hugging Face format and load them back through ``from_pretrained``, as a user's checkpoint.
2. Warm start: a few hundred SFT steps on the training problems, stopped once greedy decoding
   gets ``sft_target`` of them right, so GRPO starts from a policy that is partly right.
3. Measure greedy accuracy and reward on the held-out problems (before).
4. GRPO with :func:`rewardkit.grpo.train` on the training prompts, rewards from the composite.
5. Measure again (after); write ``demo.png`` and ``summary.json``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..atomic import atomic_file
from .evaluate import Evaluation, evaluate, generate_greedy
from .task import Problem, is_correct, split

log = logging.getLogger("rewardkit.demo")


@dataclass
class DemoSettings:
    """Everything the demo can be asked to change; the defaults are the tuned embedded demo."""

    steps: int = 1000
    seed: int = 0
    output_dir: str = "runs/demo"
    max_operand: int = 19  # problems a+b with 0 <= a, b <= max_operand
    n_eval: int = 100  # held-out problems, never trained on
    hidden_size: int = 64
    num_layers: int = 2
    # Stop the warm start early, at this greedy accuracy on training problems: GRPO needs a policy
    # that is sometimes right (a signal) with plenty left to learn (a visible rise).
    sft_target: float = 0.2
    sft_max_steps: int = 600
    sft_check_every: int = 25
    learning_rate: float = 3e-4  # 1e-3 and above drift: Adam's steps on sparse rewards are mostly noise
    warmup_steps: int = 30  # a fresh AdamW's first steps are large: ramp up, or the warm start is undone
    num_generations: int = 8
    prompts_per_step: int = 32
    log_every: int = 10
    threads: int = 1

    @classmethod
    def quick(cls, **changes: Any) -> DemoSettings:
        """A seconds-long smoke run of every phase (tests, trying the command): numbers mean little."""
        base: dict[str, Any] = {"steps": 6, "sft_max_steps": 25, "sft_check_every": 25, "n_eval": 20,
                                "prompts_per_step": 4, "num_generations": 4, "warmup_steps": 2, "log_every": 2}
        return cls(**{**base, **changes})


def reward_config() -> dict[str, Any]:
    """The rewards: ``math`` (the answer is right) and ``format`` (a bare number), as a YAML would say.

    ``math`` runs in-process (``workers: 0``): the answers are bare integers, so there is no sympy
    work a deadline would need to guard, and no worker start-up on a busy machine.
    """
    from ..compose import load
    from ..errors import ConfigError

    fmt = {"use": "format", "weight": 0.1, "as": "bare_number", "with": {"pattern": r"\s*-?\d+\s*"}}
    config = {"rewards": [{"use": "math", "weight": 1.0, "as": "correct", "with": {"workers": 0}}, fmt]}
    try:
        load(config)  # rewardkit-math is installed and takes these options
        return config
    except ConfigError:
        pass
    return {"rewards": [{"use": _register_exact(), "weight": 1.0, "as": "correct"}, fmt]}


def _register_exact() -> str:
    # Without rewardkit-math the demo still runs: an exact-match reward registered in-process.
    from ..hookspecs import hookimpl
    from ..plugins import registry
    from .task import ExactAnswer

    class _Plugin:
        @hookimpl
        def register_rewards(self, register: Callable[[type], None]) -> None:
            register(ExactAnswer)

    reg = registry()
    if ExactAnswer.name not in reg.rewards():
        reg.register_plugin(_Plugin(), name="rewardkit-demo", distribution="rewardkit (demo)")
    log.warning("rewardkit-math is not installed: scoring answers with the demo's exact-match reward")
    return ExactAnswer.name


def build_policy(folder: Path, settings: DemoSettings) -> tuple[Any, Any]:
    """Phase 1: a fresh tokenizer and model, saved to ``folder`` and loaded back from it."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ..models import tiny

    tokenizer = tiny.char_tokenizer()
    model = tiny.causal_lm(tokenizer, hidden_size=settings.hidden_size, num_layers=settings.num_layers,
                           num_heads=4, max_positions=64, seed=settings.seed)
    tiny.save(folder, model=model, tokenizer=tokenizer)
    return AutoModelForCausalLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)


def greedy_accuracy(model: Any, tokenizer: Any, problems: list[Problem], max_new_tokens: int) -> float:
    completions = generate_greedy(model, tokenizer, [p.prompt for p in problems], max_new_tokens)
    return sum(is_correct(c, p.answer) for c, p in zip(completions, problems)) / len(problems)


def warm_start(model: Any, tokenizer: Any, train: list[Problem], settings: DemoSettings,
               max_new_tokens: int, say: Callable[[str], None]) -> tuple[int, float]:
    """Phase 2: SFT in chunks until greedy accuracy on a probe of training problems reaches the
    target (or the step cap); returns (steps, probe accuracy)."""
    from . import sft

    probe = train[:100]
    steps, acc = 0, 0.0
    while steps < settings.sft_max_steps:
        n = min(settings.sft_check_every, settings.sft_max_steps - steps)
        losses = sft.warm_start(model, tokenizer, train, steps=n, seed=settings.seed + steps)
        steps += n
        acc = greedy_accuracy(model, tokenizer, probe, max_new_tokens)
        if acc >= settings.sft_target:
            break
    say(f"warm start: {steps} SFT steps, loss {losses[-1]:.3f}, training-probe accuracy {acc:.0%}")
    return steps, acc


def run_demo(settings: DemoSettings, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the whole demo; returns the summary also written to ``output_dir/summary.json``."""
    import torch

    from ..compose import load
    from ..grpo import TrainConfig, train
    from ..models.hf import quiet_transformers
    from .plot import plot_demo

    t_start = time.perf_counter()
    quiet_transformers()
    torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    out = Path(settings.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_set, eval_set = split(settings.max_operand, settings.n_eval, seed=settings.seed)
    max_new = len(str(2 * settings.max_operand)) + 2  # digits, EOS, one token of slack
    reward = load(reward_config())
    say(f"task: a+b with 0 <= a, b <= {settings.max_operand}; {len(train_set)} training problems, "
        f"{len(eval_set)} held out; rewards: {reward!r}")

    # 1. Build and reload the policy.
    model, tokenizer = build_policy(out / "init", settings)
    n_params = sum(p.numel() for p in model.parameters())
    say(f"policy: Qwen2-style, {n_params / 1e3:.0f}K parameters, character tokenizer ({len(tokenizer)} tokens)")

    # 2. Warm start, kept in Hugging Face format too (a starting point for `rewardkit train`).
    t0 = time.perf_counter()
    sft_steps, _ = warm_start(model, tokenizer, train_set, settings, max_new, say)
    model.save_pretrained(out / "sft")
    tokenizer.save_pretrained(out / "sft")
    t_sft = time.perf_counter() - t0

    # 3. Before.
    before = evaluate(model, tokenizer, eval_set, reward, max_new)
    say(f"before GRPO: accuracy {before.accuracy:.1%}, mean reward {before.reward:.3f} (held-out, greedy)")

    # 4. GRPO.
    config = TrainConfig(
        output_dir=str(out), seed=settings.seed, max_steps=settings.steps,
        num_generations=settings.num_generations, max_completion_length=max_new, temperature=1.0,
        per_device_train_batch_size=settings.prompts_per_step * settings.num_generations,
        learning_rate=settings.learning_rate, lr_scheduler_type="constant_with_warmup",
        warmup_steps=settings.warmup_steps, beta=0.0, loss_type="dapo",
        scale_rewards="group", save_steps=0, disable_tqdm=True, device="cpu", plot=True,
    )
    say(f"GRPO: {settings.steps} steps x {settings.prompts_per_step} prompts x {settings.num_generations} "
        f"samples, lr {settings.learning_rate:g}")
    t0 = time.perf_counter()
    printer = StepPrinter(settings.steps, settings.log_every, reward.labels, say)
    result = train(config, model=model, tokenizer=tokenizer, dataset=[p.row() for p in train_set],
                   reward=reward, callbacks=[printer])
    t_grpo = time.perf_counter() - t0

    # 5. After.
    after = evaluate(result.model, tokenizer, eval_set, reward, max_new)
    say(f"after GRPO:  accuracy {after.accuracy:.1%}, mean reward {after.reward:.3f} (held-out, greedy)")
    rewards = [m["reward"] for m in result.metrics]
    tenth = max(1, len(rewards) // 10)
    first, last = sum(rewards[:tenth]) / tenth, sum(rewards[-tenth:]) / tenth
    say(f"training reward: {first:.3f} over the first tenth of steps -> {last:.3f} over the last tenth")
    plot = plot_demo(result.metrics, before, after, reward.labels, out / "demo.png")
    examples = [
        {"prompt": p.prompt, "answer": p.answer, "before": b, "after": a}
        for p, b, a in list(zip(eval_set, before.completions, after.completions))[:8]
    ]
    summary = {
        "settings": asdict(settings),
        "parameters": n_params,
        "sft_steps": sft_steps,
        "before": _eval_dict(before),
        "after": _eval_dict(after),
        "train_reward_first_tenth": first,
        "train_reward_last_tenth": last,
        "examples": examples,
        "seconds": {"sft": t_sft, "grpo": t_grpo, "total": time.perf_counter() - t_start},
        "files": {"plot": str(plot), "metrics": str(out / "metrics.jsonl"), "model": str(out / "final")},
    }
    with atomic_file(out / "summary.json") as f:
        f.write(json.dumps(summary, indent=2) + "\n")
    for e in examples[:4]:
        say(f"  {e['prompt']:<7} answer {e['answer']:<3} before {e['before']!r:<6} after {e['after']!r}")
    say(f"done in {summary['seconds']['total']:.0f}s: plot {plot}, metrics {out / 'metrics.jsonl'}, "
        f"model {out / 'final'}")
    return summary


def _eval_dict(e: Evaluation) -> dict[str, float]:
    return {"accuracy": e.accuracy, "reward": e.reward}


class StepPrinter:
    """A GRPO callback: one line every ``every`` steps with the mean reward since the last line."""

    def __init__(self, total: int, every: int, labels: list[str], say: Callable[[str], None]):
        self.total, self.every, self.labels, self.say = total, max(1, every), labels, say
        self.window: list[dict[str, Any]] = []
        self.t0 = time.perf_counter()

    def __call__(self, step: int, metrics: dict[str, Any]) -> None:
        self.window.append(metrics)
        if step % self.every and step != self.total:
            return
        n = len(self.window)
        parts = [f"reward {sum(m['reward'] for m in self.window) / n:.3f}"]
        for label in self.labels:
            vals = [m.get(f"rewards/{label}/mean") for m in self.window]
            vals = [v for v in vals if v is not None]
            if vals:
                parts.append(f"{label} {sum(vals) / len(vals):.3f}")
        elapsed = time.perf_counter() - self.t0
        parts.append(f"{elapsed / step:.2f}s/step")
        self.say(f"  step {step:>4}/{self.total}  " + "  ".join(parts))
        self.window = []
