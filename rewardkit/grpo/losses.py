"""GRPO tensor math: pure functions, each checked against TRL's ``GRPOTrainer`` in the tests.

Shape legend:
    B  prompts in a batch          G  generations per prompt (``num_generations``)
    N  completions, N = B * G       K  reward components
    T  completion tokens (padded)   P  prompt tokens (left-padded)
    V  vocabulary
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

# A group whose rewards are all equal has std 0: dividing by std + 1e-4 (as TRL) keeps it finite.
STD_EPS = 1e-4


def nanstd(x: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """Unbiased standard deviation ignoring NaNs (TRL's ``nanstd``: Bessel-corrected)."""
    if dim is None:
        x, dim = x.reshape(-1), 0
    mean = torch.nanmean(x, dim=dim, keepdim=True)
    var = torch.nanmean((x - mean) ** 2, dim=dim, keepdim=True)  # biased
    count = (~torch.isnan(x)).sum(dim=dim, keepdim=True)
    return (var * count / (count - 1)).sqrt().squeeze(dim)


def total_rewards(per_func: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted sum over components with None (NaN) left out; rows where all are NaN stay NaN
    (unscorable: the rule of docs/rows.md, :func:`rewardkit.rows.row_total` in tensor form).

    per_func  # (N, K), NaN where a reward gave None
    returns   # (N,)
    """
    total = (per_func * weights.unsqueeze(0)).nansum(dim=1)  # (N,)
    return total.masked_fill(torch.isnan(per_func).all(dim=1), math.nan)  # (N,)


def group_advantages(rewards: torch.Tensor, num_generations: int, scale_rewards: str = "group"
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(r - group mean) / (std + 1e-4)``, std per group, over the batch, or not at all.

    rewards  # (N,) in group order (G consecutive completions per prompt), NaN = unscorable
    returns  (advantages  # (N,), 0 where the reward is NaN;  std  # (N,) the std used / logged)
    """
    grouped = rewards.view(-1, num_generations)  # (B, G)
    mean = torch.nanmean(grouped, dim=1).repeat_interleave(num_generations)  # (N,)
    if scale_rewards in ("group", "none"):
        std = nanstd(grouped, dim=1).repeat_interleave(num_generations)  # (N,)
    elif scale_rewards == "batch":
        std = nanstd(rewards).expand_as(rewards)  # (N,)
    else:
        raise ValueError(f"scale_rewards must be group, batch or none, got {scale_rewards!r}")
    adv = rewards - mean  # (N,)
    if scale_rewards != "none":
        adv = adv / (std + STD_EPS)  # (N,)
    # Unscorable rows carry no signal: advantage 0, as TRL.
    return torch.nan_to_num(adv, nan=0.0), std


def completion_logits(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                      logits_to_keep: int, temperature: float, group_size: int = 1) -> torch.Tensor:
    """Logits predicting each completion token, divided by the sampling temperature.

    input_ids, attention_mask  # (N, P+T), the last T = ``logits_to_keep`` columns the completion
    group_size: rows come in groups of this many identical prompts (GRPO's ``num_generations``);
        then each distinct prompt runs through the model once (see :func:`shared_prompt_logits`).
    returns                    # (N, T, V) float32
    """
    T = logits_to_keep
    G = group_size if group_size > 1 and input_ids.size(0) % group_size == 0 else 1
    if G > 1 and input_ids.size(1) > T:
        prompt = input_ids[:, :-T]  # (N, P)
        if torch.equal(prompt[::G].repeat_interleave(G, dim=0), prompt):
            return shared_prompt_logits(model, input_ids, attention_mask, T, G) / temperature
    # One forward that projects only the last T+1 positions through the LM head (no position_ids,
    # as TRL): the position before each completion token predicts it.
    out = model(input_ids=input_ids, attention_mask=attention_mask, logits_to_keep=T + 1, use_cache=False)
    logits = out.logits[:, :-1, :]  # (N, T, V)
    return logits.float() / temperature  # (N, T, V)


def signal_rows(advantages: torch.Tensor, block: int) -> torch.Tensor:
    """Rows in a block of ``block`` consecutive rows where some advantage is nonzero.

    With ``beta == 0`` a row with advantage 0 has loss ``-min(ratio * 0, clip(ratio) * 0) = 0`` whatever
    the policy, so its gradient is exactly zero (GRPO groups whose rewards are all equal: common, and
    DAPO's reason for dynamic sampling). Whole blocks are kept so shared prompts still run once. At least
    one block is always kept, so the backward still runs and every parameter gets its (zero) gradient,
    as in the full computation (AdamW's moments and weight decay then step the same).

    advantages  # (n,);  returns  # (n,) bool
    """
    live = (advantages != 0).view(-1, block).any(dim=1)  # (n / block,)
    if not bool(live.any()):
        live[0] = True
    return live.repeat_interleave(block)  # (n,)


def completion_logits_live(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                           logits_to_keep: int, temperature: float, group_size: int, live: torch.Tensor
                           ) -> torch.Tensor:
    """:func:`completion_logits` with an autograd graph only for the ``live`` rows.

    The other rows (see :func:`signal_rows`) run without grad: their logits (entropy, log-probs, ratio)
    are the same numbers, but the backward, two thirds of the work, skips them. Gradients equal the
    full computation's up to float summation order.

    input_ids, attention_mask  # (n, P+T);  live  # (n,) bool, whole blocks of ``group_size`` rows
    returns                    # (n, T, V) float32, divided by the temperature
    """
    if bool(live.all()):
        return completion_logits(model, input_ids, attention_mask, logits_to_keep, temperature, group_size)
    on, off = live.nonzero().squeeze(1), (~live).nonzero().squeeze(1)  # (n_on,), (n_off,)
    grad = completion_logits(model, input_ids[on], attention_mask[on], logits_to_keep, temperature,
                             group_size)  # (n_on, T, V)
    with torch.no_grad():
        rest = completion_logits(model, input_ids[off], attention_mask[off], logits_to_keep, temperature,
                                 group_size)  # (n_off, T, V)
    back = torch.argsort(torch.cat([on, off]))  # row i of the batch is row back[i] of the concatenation
    return torch.cat([grad, rest])[back]  # (n, T, V)


def shared_prompt_logits(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, T: int,
                         G: int) -> torch.Tensor:
    """The same logits as one forward over (N, P+T), with each group's prompt computed once.

    The G completions of a prompt share its P tokens, so the prompt runs as (N/G, P) with a KV cache,
    the cache is repeated G times (``repeat_interleave`` sums the G gradient contributions on the way
    back) and the completions run as (N, T-1) on top of it. Positions are the cache offsets, i.e. the
    column indices the single forward uses, and the masks are the same, so only float summation
    order differs (about 1e-7). On a 24-token prompt this removes ~40% of the forward and backward.

    returns  # (N, T, V) float32, not yet divided by the temperature
    """
    from transformers import DynamicCache

    from .sampling import cache_kwarg

    P = input_ids.size(1) - T
    kw = cache_kwarg(model)
    cache = DynamicCache()
    head = model(input_ids=input_ids[::G, :P], attention_mask=attention_mask[::G, :P], use_cache=True,
                 logits_to_keep=1, **{kw: cache})
    first = head.logits[:, -1:, :].repeat_interleave(G, dim=0)  # (N, 1, V): predicts completion token 0
    if T == 1:
        return first.float()
    cache.batch_repeat_interleave(G)  # (N/G, Hkv, P, D) -> (N, Hkv, P, D) per layer, differentiable
    tail = model(input_ids=input_ids[:, P:-1], attention_mask=attention_mask[:, :-1], use_cache=True,
                 **{kw: cache})  # logits (N, T-1, V) for completion tokens 1..T-1
    return torch.cat([first, tail.logits], dim=1).float()  # (N, T, V)


def token_logps(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """log softmax(logits)[ids], computed as gather - logsumexp (no (N, T, V) log-prob tensor kept).

    logits  # (N, T, V);  ids  # (N, T);  returns  # (N, T)
    """
    picked = logits.gather(-1, ids.unsqueeze(-1)).squeeze(-1)  # (N, T)
    return picked - torch.logsumexp(logits, dim=-1)  # (N, T)


@torch.no_grad()
def token_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of each next-token distribution (logged only, so no graph).

    logits  # (N, T, V);  returns  # (N, T)
    """
    logp = torch.log_softmax(logits, dim=-1)  # (N, T, V)
    return -(logp.exp() * logp).sum(-1)  # (N, T)


@dataclass
class LossOut:
    """The loss to backpropagate and the per-token tensors the metrics need."""

    loss: torch.Tensor  # () already normalised for gradient accumulation
    ratio: torch.Tensor  # (N, T) pi / pi_old (before the delta clamp)
    kl: torch.Tensor | None  # (N, T) k3 estimate, or None when beta == 0


def policy_loss(logps: torch.Tensor, old_logps: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor, *,
                loss_type: str = "dapo", epsilon_low: float = 0.2, epsilon_high: float = 0.2,
                delta: float | None = None, beta: float = 0.0, ref_logps: torch.Tensor | None = None,
                max_completion_length: int | None = None, num_items: float | None = None,
                accumulation_steps: int = 1, use_bias_correction_kl: bool = True) -> LossOut:
    """The clipped GRPO surrogate plus ``beta`` times the k3 KL, normalised as TRL's ``loss_type``.

    logps, old_logps, ref_logps, mask  # (N, T)
    advantages                         # (N,)
    use_bias_correction_kl: multiply the KL by the (differentiable) ratio, as TRL >= 1.x by default.
    num_items: completion tokens of the whole step on every process divided by the process count
        (``dapo``'s normaliser; TRL's ``num_items_in_batch / num_processes``).
    """
    adv = advantages.unsqueeze(1)  # (N, 1)
    ratio = torch.exp(logps - old_logps)  # (N, T)
    clipped = torch.clamp(ratio, 1 - epsilon_low, 1 + epsilon_high)  # (N, T)
    unclipped = ratio if delta is None else torch.clamp(ratio, max=delta)  # (N, T) two-sided clipping
    per_token = -torch.min(unclipped * adv, clipped * adv)  # (N, T)
    kl = None
    if beta != 0.0:
        if ref_logps is None:
            raise ValueError("beta > 0 needs ref_logps")
        diff = ref_logps - logps  # (N, T)
        kl = torch.exp(diff) - diff - 1  # (N, T) k3: unbiased, always >= 0
        if use_bias_correction_kl:  # TRL's default: weight by the ratio, for the unbiased reverse-KL gradient
            kl = kl * ratio  # (N, T)
        per_token = per_token + beta * kl  # (N, T)
    mask = mask.to(per_token.dtype)
    if loss_type == "grpo":  # mean over each sequence, then over sequences
        loss = ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean() / accumulation_steps
    elif loss_type == "bnpo":  # mean over the micro-batch's tokens
        loss = (per_token * mask).sum() / mask.sum().clamp(min=1.0) / accumulation_steps
    elif loss_type == "dr_grpo":  # a constant normaliser: no length bias
        if max_completion_length is None:
            raise ValueError("dr_grpo needs max_completion_length")
        loss = (per_token * mask).sum() / (per_token.size(0) * max_completion_length) / accumulation_steps
    elif loss_type == "dapo":  # mean over every token of the step, all micro-batches and processes
        items = mask.sum() * accumulation_steps if num_items is None else num_items
        loss = (per_token * mask).sum() / max(float(items), 1.0)
    else:
        raise ValueError(f"unknown loss_type {loss_type!r} (grpo | bnpo | dr_grpo | dapo)")
    return LossOut(loss, ratio, kl)


def clip_fractions(ratio: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor,
                   epsilon_low: float, epsilon_high: float) -> dict[str, tuple[float, float]]:
    """Clipped-token sums and token count, for TRL's ``clip_ratio/*`` (summed over micro-batches).

    ratio, mask  # (N, T);  advantages  # (N,)
    """
    adv = advantages.unsqueeze(1)  # (N, 1)
    low = (ratio < 1 - epsilon_low) & (adv < 0)  # (N, T)
    high = (ratio > 1 + epsilon_high) & (adv > 0)  # (N, T)
    m = mask.bool()
    n = float(m.sum())
    return {
        "clip_ratio/low_mean": (float((low & m).sum()), n),
        "clip_ratio/high_mean": (float((high & m).sum()), n),
        "clip_ratio/region_mean": (float(((low | high) & m).sum()), n),
    }
