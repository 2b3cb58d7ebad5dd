"""The GRPO loop: ``train(config)`` reads top to bottom, one numbered phase after another.

The tensor math lives in :mod:`.losses` (tested against TRL), sampling in :mod:`.sampling`,
checkpoints in :mod:`.checkpoint`. Shapes: B prompts, G generations, N = B*G completions,
K reward components, P prompt tokens, T completion tokens.
"""

from __future__ import annotations

import copy
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..atomic import replace_dir
from ..errors import ConfigError, DataError, RewardError, TrainingError
from ..rows import as_nan, score_rows
from . import checkpoint as ckpt
from . import losses as L
from .config import TrainConfig
from .distributed import Dist, setup
from .entropy import EntropyController, entropy_pool
from .metrics import CompletionsLog, MetricsLog, nan_stats
from .plot import plot_rewards
from .reference import disable_dropout, mix_into_reference
from .sampling import decode_completions, generate, render_prompts, tokenize_prompts
from .trackers import Trackers, completions_table

log = logging.getLogger("rewardkit.grpo")

Callback = Callable[[int, dict], Any]


@dataclass
class TrainResult:
    """What a run produced: per-step metrics, where it wrote, and the trained objects."""

    metrics: list[dict[str, Any]]
    output_dir: Path
    model: Any
    tokenizer: Any
    checkpoints: list[Path] = field(default_factory=list)


def train(config: TrainConfig, *, model: Any = None, tokenizer: Any = None,
          dataset: Sequence[dict[str, Any]] | None = None, reward: Any = None,
          callbacks: Sequence[Callback] | None = None, resume: bool | str = False) -> TrainResult:
    """Run GRPO as ``config`` says. Objects passed in replace the config's ``model``, ``tokenizer``,
    ``dataset`` and ``rewards``. ``resume``: True (latest checkpoint in ``output_dir``) or a path."""
    d = setup(_device(config.device))
    seed_everything(config.seed + d.rank)  # each rank samples differently; DDP syncs the weights
    out_dir = Path(config.output_dir)
    if d.main:
        out_dir.mkdir(parents=True, exist_ok=True)
    d.barrier()

    tokenizer = tokenizer if tokenizer is not None else load_tokenizer(config)
    policy = model if model is not None else load_model(config)
    policy.to(d.device)
    if config.use_peft:
        policy = add_lora(policy, config)
    prepare_model(policy, config)
    for warning in config.warnings():
        log.warning("%s", warning)
    rows, lines = (list(dataset), []) if dataset is not None else read_dataset(config)
    row_lines = {id(r): ln for r, ln in zip(rows, lines)}  # so a reward's row error names the file line
    composite = reward if reward is not None else load_reward(config)
    # No reference model at all when beta == 0; with LoRA the reference is the adapter switched off.
    ref_model = None
    if config.beta > 0 and not config.use_peft:
        ref_model = copy.deepcopy(policy).eval().requires_grad_(False)
    ddp_model = d.wrap(policy)

    params = [p for p in policy.parameters() if p.requires_grad]
    # The fused kernel (CPU and CUDA, float params) updates every tensor in one call: 3x faster than the
    # per-parameter loop on a small model; the same update up to float rounding.
    fused = all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in params) or None
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, betas=(config.adam_beta1, config.adam_beta2),
                                  eps=config.adam_epsilon, weight_decay=config.weight_decay, fused=fused)
    pps, G, accum = config.prompts_per_step, config.num_generations, config.gradient_accumulation_steps
    # One rollout (a generation of pps prompts) serves `spr` optimizer steps: num_iterations passes over
    # its steps_per_generation micro-batches, accum per step.
    spg, spr = config.generations_steps, config.steps_per_rollout
    rounds = math.ceil(config.num_train_epochs * len(rows) / (pps * d.world))
    total_steps = config.max_steps if config.max_steps > 0 else rounds * spr
    scheduler = make_scheduler(optimizer, config, total_steps)
    eos_ids = eos_token_ids(policy, tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_ids[0]
    gen_kwargs = config.generation_kwargs or {}
    weights = torch.tensor(composite.weights, dtype=torch.float32)  # (K,)
    loss_opts = L.loss_options(config)
    entropy_ctl = EntropyController(config)

    step, rollout = 0, None
    if resume:
        path = Path(resume) if isinstance(resume, (str, Path)) and not isinstance(resume, bool) else ckpt.latest(out_dir)
        if path is None:
            raise ConfigError(f"{out_dir}: no checkpoint to resume from (expected checkpoint-<step>/ folders)")
        step, extra = ckpt.load(path, model=policy, optimizer=optimizer, scheduler=scheduler, rank=d.rank)
        rollout = extra.get("rollout")
        restore_extra(extra, entropy_ctl, ref_model)
        ckpt.set_rng_state(extra["rng"])
    metrics_log = MetricsLog(out_dir, resume_step=step, enabled=d.main,
                             tensorboard=bool(config.report_to and "tensorboard" in config.report_to))
    completions_log = CompletionsLog(out_dir, resume_step=step, enabled=d.main and config.log_completions)
    if resume:  # once the logs are rewritten: a full disk fails before this line, with one line
        log.info("resumed from %s at step %d", path, step)
    bar = progress_bar(total_steps, step, enabled=d.main and not config.disable_tqdm)
    trackers = Trackers(config.report_to, out_dir, config.model_dump(mode="json"), enabled=d.main,
                        log_completions=config.log_completions)
    table = None

    while step < total_steps:
        t_step = time.perf_counter()
        # 1. Sample: every num_iterations steps, G completions for each of this rank's prompts.
        t0 = time.perf_counter()
        if step % spr == 0 or rollout is None:
            batch = rows_for_round(rows, step // spr, pps, d, config)
            prompts = [r["prompt"] for r in batch]
            chat = not isinstance(prompts[0], str)
            prompt_ids, prompt_mask = tokenize_prompts(render_prompts(prompts, tokenizer), tokenizer,
                                                       config.max_prompt_length, d.device)  # (B, P)
            prompt_ids = prompt_ids.repeat_interleave(G, dim=0)  # (N, P)
            prompt_mask = prompt_mask.repeat_interleave(G, dim=0)  # (N, P)
            policy.eval()
            try:
                samples = generate(policy, prompt_ids, prompt_mask, max_new_tokens=config.max_completion_length,
                                   eos_ids=eos_ids, pad_id=pad_id, temperature=config.temperature,
                                   top_k=config.top_k, top_p=config.top_p, min_p=config.min_p,
                                   repetition_penalty=config.repetition_penalty,
                                   suppress_ids=gen_kwargs.get("suppress_tokens", ()),
                                   min_new_tokens=gen_kwargs.get("min_new_tokens", 0), group_size=G)
            except RuntimeError as e:  # torch.multinomial on inf/NaN probabilities: the weights diverged
                if "inf" not in str(e) and "nan" not in str(e):
                    raise
                raise TrainingError(f"step {step + 1}: sampling got inf/NaN probabilities (the weights diverged; "
                                    f"learning_rate {config.learning_rate:g}); the last good checkpoint is "
                                    f"{_last_checkpoint(out_dir)}") from None
            completion_ids, completion_mask = samples.completion_ids, samples.completion_mask  # (N, T)
            lengths = completion_mask.sum(1)  # (N,)
            if config.mask_truncated_completions:
                completion_mask = completion_mask * (~samples.truncated).unsqueeze(1).long()  # (N, T)
            t_gen = time.perf_counter() - t0

            # 2. Score: the composite's components on the decoded completions, None as NaN.
            t0 = time.perf_counter()
            completions, id_lists = decode_completions(completion_ids, samples.completion_mask, tokenizer, chat)
            try:  # the core's row contract: these rows are what completions.jsonl gets
                scored = score_rows(composite, [{**batch[i // G], "completion": c} for i, c in enumerate(completions)],
                                    completion_ids=id_lists)
            except (RewardError, DataError) as e:
                raise _at_dataset_line(e, step + 1, batch, G, row_lines, config.dataset) from None
            per_func = torch.tensor([[as_nan(r["rewards"][lbl]) for lbl in composite.labels] for r in scored],
                                    dtype=torch.float32)  # (N, K)
            t_reward = time.perf_counter() - t0

            # 3. Advantages: on every rank's rewards (groups never split; "batch" needs them all).
            all_per_func = d.all_gather(per_func.to(d.device)).cpu()  # (world*N, K)
            all_rewards, all_adv, all_std = L.aggregate_advantages(
                all_per_func, weights, G, config.scale_rewards, config.multi_objective_aggregation)  # (world*N,)
            if bool(torch.isinf(all_rewards).any()):  # NaN is "no score"; inf is a float32 overflow
                raise TrainingError(f"step {step + 1}: the weighted reward total overflows float32 "
                                    f"(components {composite.labels}, weights {composite.weights}); "
                                    "scale the weights or rewards down")
            unscorable = int(torch.isnan(all_rewards).sum())
            if unscorable:
                log.warning("step %d: %d completions got None from every reward; their advantage is 0",
                            step + 1, unscorable)
            n_local = per_func.size(0)
            local = slice(d.rank * n_local, (d.rank + 1) * n_local)
            advantages = all_adv[local].to(d.device)  # (N,)
            if config.log_completions and d.main:
                completions_log.write(step + 1, scored)
            if trackers.wants_table:
                table = completions_table(step + 1, [r.get("prompt", "") for r in scored], completions,
                                          {lbl: [r["rewards"][lbl] for r in scored] for lbl in composite.labels},
                                          advantages.tolist())

            input_ids = torch.cat([prompt_ids, completion_ids], dim=1)  # (N, P+T)
            attention_mask = torch.cat([prompt_mask, completion_mask], dim=1)  # (N, P+T)
            T = completion_ids.size(1)
            t0 = time.perf_counter()
            with torch.no_grad():
                # Old log-probs only matter when a rollout serves more than one step; else the
                # policy has not moved yet and the detached current log-probs are exact.
                old_logps = (micro_logps(policy, input_ids, attention_mask, completion_ids, T, config)
                             if spr > 1 else None)  # (N, T)
                ref_logps = None
                if config.beta > 0:
                    with (policy.disable_adapter() if config.use_peft else nullcontext()):
                        ref_logps = micro_logps(ref_model or policy, input_ids, attention_mask,
                                                completion_ids, T, config)  # (N, T)
            t_logps = time.perf_counter() - t0
            # dapo/cispo/vespo's normaliser: the tokens of one step's micro-batches (TRL's
            # num_items_in_batch / processes * accum / steps_per_generation).
            num_items = float(d.all_sum(completion_mask.sum().float())) / d.world * accum / spg
            rewards_logged = reward_metrics(all_per_func, all_rewards, all_std, composite.labels)
            all_lengths = d.all_gather(lengths.float()).cpu()  # (world*N,)
            all_trunc = d.all_gather(samples.truncated.float()).cpu()  # (world*N,)
            rollout = {
                "input_ids": input_ids, "attention_mask": attention_mask, "completion_ids": completion_ids,
                "completion_mask": completion_mask, "advantages": advantages, "old_logps": old_logps,
                "ref_logps": ref_logps, "num_items": num_items, "rewards_logged": rewards_logged,
                "completions/mean_length": float(all_lengths.mean()),
                "completions/clipped_ratio": float(all_trunc.mean()),
                "tokens": float(all_lengths.sum()), "t_gen": t_gen, "t_reward": t_reward, "t_logps": t_logps,
            }
        else:
            t_gen = t_reward = t_logps = 0.0

        # 4. Loss: per micro-batch, the clipped surrogate (+ beta * KL), gradients accumulated.
        t0 = time.perf_counter()
        policy.train()
        r = rollout
        sums = {"loss": 0.0, "entropy": [0.0, 0.0], "kl": [0.0, 0.0],
                **{key: [0.0, 0.0] for key in L.ratio_metric_keys(config.loss_type)},
                "policy_loss": [0.0, 0.0], "entropy_window": [0.0, 0.0]}
        T = r["completion_ids"].size(1)
        mb = config.per_device_train_batch_size
        # Each group's prompt runs once per micro-batch (exact up to float order); single process only, as
        # DDP expects one forward per backward.
        # Gradient checkpointing turns the KV cache off in training mode, so the prompt cannot be shared.
        share = 1 if d.world > 1 or config.gradient_checkpointing else math.gcd(mb, G)
        # Without a KL term or an entropy bonus, rows with advantage 0 have zero gradient: only the others get
        # a graph and a backward (single process: DDP expects the same forwards on every rank).
        skip_zero = config.beta == 0 and not entropy_ctl.enabled and d.world == 1
        coef = entropy_ctl.apply_coef()
        for k in range(accum):
            mi = ((step % spr) * accum + k) % spg  # this micro-batch's slice of the rollout (TRL's order)
            s = slice(mi * mb, (mi + 1) * mb)
            mask = r["completion_mask"][s]  # (n, T)
            with d.no_sync(ddp_model, sync=k == accum - 1):
                if skip_zero:
                    live = L.signal_rows(r["advantages"][s], share)  # (n,)
                    logits = L.completion_logits_live(ddp_model, r["input_ids"][s], r["attention_mask"][s], T,
                                                      config.temperature, share, live)  # (n, T, V)
                else:
                    logits = L.completion_logits(ddp_model, r["input_ids"][s], r["attention_mask"][s], T,
                                                 config.temperature, group_size=share)  # (n, T, V)
                logps = L.token_logps(logits, r["completion_ids"][s])  # (n, T)
                old = r["old_logps"][s] if r["old_logps"] is not None else logps.detach()  # (n, T)
                ref = r["ref_logps"][s] if r["ref_logps"] is not None else None
                entropies, emask = entropy_terms(logits, mask, config, entropy_ctl.enabled, d)  # (n, T)
                out = L.policy_loss(logps, old, r["advantages"][s], mask, options=loss_opts, ref_logps=ref,
                                    num_items=r["num_items"], accumulation_steps=accum, entropy_mask=emask,
                                    entropies=entropies if entropy_ctl.enabled else None, entropy_coef=coef)
                out.loss.backward()
            m = mask.float()
            sums["loss"] += float(out.loss.detach())
            add_masked(sums["entropy"], entropies.detach(), m)
            if entropy_ctl.enabled:
                add_masked(sums["entropy_window"], entropies.detach(), m if emask is None else m * emask)
                sums["policy_loss"][0] += float(out.policy_loss)
                sums["policy_loss"][1] += 1.0
            if out.kl is not None:
                add_masked(sums["kl"], out.kl.detach(), m)
            for key, (num, den) in L.ratio_metrics(out, r["advantages"][s], mask, loss_opts).items():
                sums[key][0] += num
                sums[key][1] += den
            del logits, logps, out
        t_backward = time.perf_counter() - t0

        # 5. Step: clip, AdamW, schedule.
        t0 = time.perf_counter()
        lr = scheduler.get_last_lr()[0]
        max_norm = config.max_grad_norm if config.max_grad_norm else float("inf")
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
        if not (math.isfinite(sums["loss"]) and math.isfinite(grad_norm)):
            # Stop before the optimizer applies it: the weights and every saved checkpoint stay finite.
            raise TrainingError(
                f"step {step + 1}: loss {sums['loss']:.4g}, grad_norm {grad_norm:.4g} is not finite; stopped "
                f"before updating the weights (learning_rate {config.learning_rate:g}); the last good "
                f"checkpoint is {_last_checkpoint(out_dir)}")
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        if config.sync_ref_model and ref_model is not None and step % config.ref_model_sync_steps == 0:
            mix_into_reference(policy, ref_model, config.ref_model_mixup_alpha)
        t_optimizer = time.perf_counter() - t0

        # 6. Log: token-weighted means over micro-batches and ranks, TRL's names.
        totals = d.all_sum(torch.tensor([sums["loss"]] + [x for key in sums if key != "loss" for x in sums[key]],
                                        dtype=torch.float64, device=d.device)).cpu().tolist()
        row: dict[str, Any] = {"step": step, **r["rewards_logged"]}
        row["loss"] = totals[0] / d.world
        for i, key in enumerate(k for k in sums if k != "loss"):
            num, den = totals[1 + 2 * i], totals[2 + 2 * i]
            if (key == "kl" and config.beta == 0) or (key in ("policy_loss", "entropy_window")
                                                      and not entropy_ctl.enabled):
                continue
            if key == "entropy_window":
                entropy_ctl.end_step(num, den)
                row["entropy_coef"] = entropy_ctl.coef
                continue
            row[key] = num / den if den else 0.0
        elapsed = time.perf_counter() - t_step
        row.update({
            "completions/mean_length": r["completions/mean_length"],
            "completions/clipped_ratio": r["completions/clipped_ratio"],
            "grad_norm": grad_norm, "learning_rate": lr,
            "tokens_per_s": r["tokens"] / elapsed if t_gen else 0.0,
            "time/generation": t_gen, "time/reward": t_reward, "time/logps": t_logps, "time/backward": t_backward,
            "time/optimizer": t_optimizer, "time/step": elapsed,
            "epoch": step / spr * pps * d.world / max(len(rows), 1),
        })
        if step % config.logging_steps == 0 or step == total_steps:
            metrics_log.write(row)
            trackers.log(row, table)
        else:
            metrics_log.rows.append(row)
        for cb in callbacks or ():
            cb(step, row)
        bar.update(1)
        bar.set_postfix(reward=f"{row['reward']:.3f}")

        # 7. Checkpoint: atomically, with what --resume needs to continue exactly.
        if config.save_steps and step % config.save_steps == 0 and step < total_steps:
            _check_finite_weights(params, step, out_dir)
            ckpt.save(out_dir, step, model=policy, tokenizer=tokenizer, optimizer=optimizer, scheduler=scheduler,
                      rank=d.rank, world=d.world, barrier=d.barrier, save_total_limit=config.save_total_limit,
                      extra=checkpoint_extra(rollout if spr > 1 else None, entropy_ctl, ref_model, config))

    bar.close()
    trackers.close()
    metrics_log.close()
    completions_log.close()
    metrics = metrics_log.rows
    _check_finite_weights(params, step, out_dir)
    if d.main:
        save_final(out_dir / "final", policy, tokenizer)
        if config.plot and metrics:
            plot_rewards(metrics, out_dir / "rewards.png")
    d.barrier()
    return TrainResult(metrics, out_dir, policy, tokenizer, ckpt.checkpoints(out_dir))


# --- helpers: loading, data order, metrics -----------------------------------------------------


def _device(device: str | None) -> str | None:
    """The config's ``device`` checked (see :func:`rewardkit.devices.resolve_device`); ``auto`` or
    unset: None, for :func:`.distributed.setup` to pick cuda:LOCAL_RANK or cpu."""
    if device is None or device.strip() == "auto":
        return None
    from ..devices import resolve_device

    return resolve_device(device, "train config, key 'device'")


def _last_checkpoint(out_dir: Path) -> str:
    last = ckpt.latest(out_dir)
    return str(last) if last is not None else "none (no checkpoint was saved)"


def _check_finite_weights(params: Sequence[torch.Tensor], step: int, out_dir: Path) -> None:
    """Refuse to save weights holding inf/NaN (a learning rate so large one update overflows)."""
    if not all(bool(torch.isfinite(p).all()) for p in params):
        raise TrainingError(f"step {step}: the weights hold inf/NaN after the update; nothing saved; the last "
                            f"good checkpoint is {_last_checkpoint(out_dir)}; lower learning_rate")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # pragma: no cover
        pass


def micro_logps(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, completion_ids: torch.Tensor,
                T: int, config: TrainConfig) -> torch.Tensor:
    """Log-probs of the completion tokens in micro-batches (no grad). returns  # (N, T)"""
    mb = config.per_device_train_batch_size
    share = math.gcd(mb, config.num_generations)  # each group's prompt runs once
    parts = []
    for s in range(0, input_ids.size(0), mb):
        logits = L.completion_logits(model, input_ids[s:s + mb], attention_mask[s:s + mb], T, config.temperature,
                                     group_size=share)
        parts.append(L.token_logps(logits, completion_ids[s:s + mb]))  # (n, T)
    return torch.cat(parts)


def prepare_model(policy: Any, config: TrainConfig) -> None:
    """``disable_dropout`` and ``gradient_checkpointing`` on the policy (the reference is copied after)."""
    if config.disable_dropout:
        disable_dropout(policy)
    if config.gradient_checkpointing:
        policy.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if config.use_peft:
            policy.enable_input_require_grads()


def entropy_terms(logits: torch.Tensor, mask: torch.Tensor, config: TrainConfig, with_grad: bool, d: Dist
                  ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-token entropies (with a graph when the entropy bonus needs one) and the high-entropy mask.

    logits  # (n, T, V);  mask  # (n, T);  returns  (entropies  # (n, T),  mask  # (n, T) bool | None)
    """
    entropies = L.differentiable_entropy(logits) if with_grad else L.token_entropy(logits.detach())  # (n, T)
    if config.top_entropy_quantile >= 1.0:
        return entropies, None
    pool = entropy_pool(d, entropies.detach(), mask)  # (M,)
    return entropies, L.high_entropy_mask(entropies.detach(), mask, 1 - config.top_entropy_quantile, pool)


def checkpoint_extra(rollout: dict[str, Any] | None, entropy_ctl: EntropyController, ref_model: Any,
                     config: TrainConfig) -> dict[str, Any] | None:
    """What a checkpoint needs beyond weights and optimizer for an exact resume: a rollout still in use,
    the adaptive entropy state, a reference model that sync_ref_model moves."""
    extra: dict[str, Any] = {}
    if rollout is not None:
        extra["rollout"] = to_cpu(rollout)
    if config.use_adaptive_entropy:
        extra["entropy_ctrl"] = entropy_ctl.state_dict()
    if config.sync_ref_model and ref_model is not None:
        extra["ref_model"] = to_cpu(dict(ref_model.state_dict()))
    return extra or None


def restore_extra(extra: dict[str, Any], entropy_ctl: EntropyController, ref_model: Any) -> None:
    """The inverse of :func:`checkpoint_extra` for the entropy state and the reference weights."""
    if "entropy_ctrl" in extra:
        entropy_ctl.load_state_dict(extra["entropy_ctrl"])
    if "ref_model" in extra and ref_model is not None:
        ref_model.load_state_dict(extra["ref_model"])


def add_masked(acc: list[float], x: torch.Tensor, mask: torch.Tensor) -> None:
    acc[0] += float((x * mask).sum())
    acc[1] += float(mask.sum())


def reward_metrics(per_func: torch.Tensor, rewards: torch.Tensor, std: torch.Tensor,
                   labels: Sequence[str]) -> dict[str, float]:
    """TRL's reward metrics: total mean/std, per component mean/std over rows where it applied."""
    out: dict[str, float] = {}
    mean, sd = nan_stats(rewards.tolist())
    out["reward"], out["reward_std"] = mean, sd
    for i, label in enumerate(labels):
        m, s = nan_stats(per_func[:, i].tolist())
        out[f"rewards/{label}/mean"], out[f"rewards/{label}/std"] = m, s
    out["frac_reward_zero_std"] = float(torch.isclose(std, torch.zeros_like(std)).float().mean())
    return out


def rows_for_round(rows: Sequence[dict[str, Any]], round_index: int, pps: int, d: Dist,
                   config: TrainConfig) -> list[dict[str, Any]]:
    """This rank's prompts for a generation round: a seeded permutation per epoch, so the order
    depends only on (seed, round), never on RNG state (resume-safe)."""
    n = len(rows)
    start = (round_index * d.world + d.rank) * pps
    out = []
    cache: dict[int, list[int]] = {}
    for pos in range(start, start + pps):
        epoch, i = divmod(pos, n)
        if epoch not in cache:
            if config.shuffle_dataset:
                g = torch.Generator().manual_seed(config.seed + epoch)
                cache[epoch] = torch.randperm(n, generator=g).tolist()
            else:
                cache[epoch] = list(range(n))
        out.append(rows[cache[epoch][i]])
    return out


def make_scheduler(optimizer: Any, config: TrainConfig, total_steps: int) -> Any:
    from transformers import get_scheduler

    warmup = config.warmup_steps or math.ceil(config.warmup_ratio * total_steps)
    return get_scheduler(config.lr_scheduler_type, optimizer, num_warmup_steps=warmup,
                         num_training_steps=max(total_steps, 1))


def eos_token_ids(model: Any, tokenizer: Any) -> list[int]:
    ids = []
    gen = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for x in ([gen] if isinstance(gen, int) else list(gen or [])) + [tokenizer.eos_token_id]:
        if x is not None and x not in ids:
            ids.append(int(x))
    return ids


def load_tokenizer(config: TrainConfig) -> Any:
    from transformers import AutoTokenizer

    name = config.tokenizer or config.model
    if not name:
        raise ConfigError("train config: key 'model' is required (a local folder or hub id)")
    key = "tokenizer" if config.tokenizer else "model"
    _check_local(name, key)
    try:
        tok = AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError) as e:
        raise ConfigError(f"key '{key}': cannot load tokenizer '{name}': {str(e).splitlines()[0]}") from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def _check_local(name: str, key: str) -> None:
    # A path-looking value that does not exist is a typo, not a hub id to look up online.
    if (name.startswith((".", "/", "~")) or "\\" in name) and not Path(name).expanduser().exists():
        raise ConfigError(f"key '{key}': cannot load '{name}': no such folder (expected a model folder or hub id)")


def load_model(config: TrainConfig) -> Any:
    from transformers import AutoModelForCausalLM

    if not config.model:
        raise ConfigError("train config: key 'model' is required (a local folder or hub id)")
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16,
             "auto": "auto"}[config.dtype]
    try:
        return AutoModelForCausalLM.from_pretrained(config.model, dtype=dtype)
    except (OSError, ValueError) as e:
        raise ConfigError(f"key 'model': cannot load '{config.model}': {str(e).splitlines()[0]}") from None


def add_lora(model: Any, config: TrainConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    targets = config.lora_target_modules or "all-linear"
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=targets, task_type="CAUSAL_LM")
    return get_peft_model(model, lora)


def read_dataset(config: TrainConfig) -> tuple[list[dict[str, Any]], list[int]]:
    """The dataset's rows and their 1-based lines; a prompt that is not a non-empty text or chat
    (or that mixes the two forms across rows) is a DataError naming the line."""
    from ..jsonl import iter_rows

    if not config.dataset:
        raise ConfigError("train config: key 'dataset' is required (a JSONL file with a 'prompt' field)")
    from ..text import text_problem

    rows, lines = [], []
    for line, row in iter_rows(config.dataset, required=("prompt",)):
        problem = text_problem(row["prompt"], allow_empty=False)
        if problem is not None:  # an int, null, "" or a malformed chat: nothing to tokenize
            raise DataError(f"{config.dataset}, line {line}: 'prompt' {problem}")
        if rows and isinstance(row["prompt"], str) != isinstance(rows[0]["prompt"], str):
            raise DataError(f"{config.dataset}, line {line}: 'prompt' mixes plain text and chat messages; "
                            "use one form for every row")
        rows.append(row)
        lines.append(line)
    if not rows:
        raise DataError(f"{config.dataset}: no rows")
    return rows, lines


def _at_dataset_line(e: RewardError | DataError, step: int, batch: Sequence[dict[str, Any]], G: int,
                     row_lines: dict[int, int], dataset: str | None) -> Exception:
    """A reward's error about one completion, naming the dataset line of its prompt and the step."""
    row = getattr(e, "row", None)
    line = row_lines.get(id(batch[row // G])) if row is not None and row // G < len(batch) else None
    if line is None:
        return e
    msg = f"{dataset}, line {line} (step {step}, completion {row % G + 1} of {G}): {getattr(e, 'bare', str(e))}"
    return RewardError(msg, label=e.label, row=row) if isinstance(e, RewardError) else DataError(msg)


def load_reward(config: TrainConfig) -> Any:
    from ..compose import load

    if config.rewards is None:
        raise ConfigError("train config: key 'rewards' is required (a list of {use: NAME} or a rewards YAML)")
    if isinstance(config.rewards, str):
        return load(config.rewards)
    source, lines = config.rewards_source()
    return load({"rewards": config.rewards, "on_error": config.on_error}, source=source, lines=lines)


def to_cpu(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.cpu()
    if isinstance(x, dict):
        return {k: to_cpu(v) for k, v in x.items()}
    return x


def save_final(path: Path, model: Any, tokenizer: Any) -> None:
    """The trained model in Hugging Face format, replaced only once fully written."""
    import shutil

    tmp = path.with_name(".tmp-" + path.name)
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.save_pretrained(tmp)
        if tokenizer is not None:
            tokenizer.save_pretrained(tmp)
    except Exception as e:  # noqa: BLE001 - tokenizers and safetensors raise their own types for ENOSPC
        shutil.rmtree(tmp, ignore_errors=True)
        raise ckpt.write_failure(path.parent, f"{path.name}/", e, tmp) from None
    replace_dir(tmp, path)


class _NoBar:
    def update(self, n: int) -> None: ...
    def set_postfix(self, **kw: Any) -> None: ...
    def close(self) -> None: ...


def progress_bar(total: int, initial: int, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc="grpo", unit="step", dynamic_ncols=True)
