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


AGGREGATIONS = ("sum_then_normalize", "normalize_then_sum")


def aggregate_advantages(per_func: torch.Tensor, weights: torch.Tensor, num_generations: int,
                         scale_rewards: str = "group", aggregation: str = "sum_then_normalize"
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Advantages from the per-component rewards, as TRL's ``multi_objective_aggregation`` says.

    ``sum_then_normalize``: weighted sum, then :func:`group_advantages` (``scale_rewards`` applies).
    ``normalize_then_sum`` (GDPO): each component normalised within its group (NaN-aware), the weighted
    sum of those, then normalised over the whole batch (``scale_rewards`` does not apply, as TRL).

    per_func  # (N, K) in group order, NaN where a component gave None;  weights  # (K,)
    returns   (rewards  # (N,) the weighted total (logged),  advantages  # (N,),  std  # (N,) for
               ``frac_reward_zero_std``)
    """
    rewards = total_rewards(per_func, weights)  # (N,)
    if aggregation == "sum_then_normalize":
        adv, std = group_advantages(rewards, num_generations, scale_rewards)
        return rewards, adv, std
    if aggregation != "normalize_then_sum":
        raise ValueError(f"multi_objective_aggregation must be one of {', '.join(AGGREGATIONS)}, got {aggregation!r}")
    K = per_func.size(1)
    grouped = per_func.view(-1, num_generations, K)  # (B, G, K)
    mean_k = torch.nanmean(grouped, dim=1, keepdim=True)  # (B, 1, K)
    std_k = nanstd(grouped, dim=1).unsqueeze(1)  # (B, 1, K)
    normed = ((grouped - mean_k) / (std_k + STD_EPS)).view(-1, K)  # (N, K)
    summed = total_rewards(normed, weights)  # (N,) NaN where every component was None
    std = nanstd(summed).expand_as(summed)  # (N,)
    adv = (summed - torch.nanmean(summed)) / (std + STD_EPS)  # (N,)
    return rewards, torch.nan_to_num(adv, nan=0.0), std


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


LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo", "cispo", "sapo", "luspo", "vespo")
# Loss types whose per-token loss is the clipped surrogate (PPO's min of clipped and unclipped).
CLIPPED = ("grpo", "bnpo", "dr_grpo", "dapo", "luspo")


@dataclass
class LossOut:
    """The loss to backpropagate and the per-token tensors the metrics need."""

    loss: torch.Tensor  # () already normalised for gradient accumulation (entropy bonus included)
    ratio: torch.Tensor  # (N, T) or (N, 1) at sequence level: pi / pi_old (before the delta clamp)
    kl: torch.Tensor | None  # (N, T) k3 estimate, or None when beta == 0
    policy_loss: torch.Tensor | None = None  # () the loss before the entropy bonus, not accumulation-scaled
    phi: torch.Tensor | None = None  # (N, 1) VESPO's gamma weights


@dataclass(frozen=True)
class LossOptions:
    """TRL's loss-shaping options, under ``GRPOConfig``'s names and defaults."""

    loss_type: str = "dapo"
    epsilon_low: float = 0.2
    epsilon_high: float = 0.2
    delta: float | None = None
    beta: float = 0.0
    use_bias_correction_kl: bool = True
    importance_sampling_level: str = "token"
    sapo_temperature_pos: float = 1.0
    sapo_temperature_neg: float = 1.05
    vespo_k_pos: float = 2.0
    vespo_lambda_pos: float = 3.0
    vespo_k_neg: float = 3.0
    vespo_lambda_neg: float = 2.0
    off_policy_mask_threshold: float | None = None
    max_completion_length: int | None = None


def loss_options(config: Any) -> LossOptions:
    """The :class:`LossOptions` of a ``TrainConfig`` (same names)."""
    names = [f for f in LossOptions.__dataclass_fields__ if f not in ("epsilon_low", "epsilon_high")]
    return LossOptions(epsilon_low=config.epsilon_low, epsilon_high=config.epsilon_hi,
                       **{n: getattr(config, n) for n in names})


def importance_log_weights(log_ratio: torch.Tensor, mask: torch.Tensor, level: str) -> torch.Tensor:
    """Per token (``token``) or the masked mean per sequence (``sequence``, GSPO) of ``log pi - log pi_old``.

    log_ratio, mask  # (N, T);  returns  # (N, T) or (N, 1)
    """
    if level == "token":
        return log_ratio
    if level == "sequence":
        return ((log_ratio * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).unsqueeze(-1)  # (N, 1)
    raise ValueError(f"importance_sampling_level must be token or sequence, got {level!r}")


def off_policy_mask(advantages: torch.Tensor, logps: torch.Tensor, old_logps: torch.Tensor, mask: torch.Tensor,
                    threshold: float) -> torch.Tensor:
    """DeepSeek-V3.2's off-policy sequence mask: drop negative-advantage sequences whose mean KL
    ``log pi_old - log pi`` exceeds ``threshold`` (TRL's ``get_off_policy_mask``).

    advantages  # (N, 1);  logps, old_logps, mask  # (N, T);  returns  # (N, 1), 1 keep / 0 drop
    """
    kl = torch.nan_to_num(old_logps - logps.detach(), nan=0.0)  # (N, T)
    avg = (kl * mask).sum(1, keepdim=True) / mask.sum(1, keepdim=True).clamp(min=1.0)  # (N, 1)
    return ((advantages >= 0) | (avg <= threshold)).to(mask.dtype)  # (N, 1)


@torch.no_grad()
def gamma_weights(advantages: torch.Tensor, log_ratio: torch.Tensor, mask: torch.Tensor, k_pos: float,
                  lambda_pos: float, k_neg: float, lambda_neg: float) -> torch.Tensor:
    """VESPO's detached weight ``phi(w) = exp(lambda + k log w - lambda w)`` of the sequence ratio ``w``.

    advantages  # (N, 1);  log_ratio, mask  # (N, T);  returns  # (N, 1)
    """
    low = math.log(1e-8)
    seq = (torch.clamp(log_ratio, -20.0, 20.0) * mask).sum(-1, keepdim=True)  # (N, 1) a sum, not a mean
    log_w = torch.clamp(seq, low, 20.0)  # (N, 1)
    nonneg = advantages >= 0
    k = torch.where(nonneg, k_pos, k_neg)  # (N, 1)
    lam = torch.where(nonneg, lambda_pos, lambda_neg).clamp(min=1e-4)  # (N, 1)
    phi = torch.exp(lam + k * log_w - lam * torch.exp(log_w))  # (N, 1)
    return phi.nan_to_num(nan=0.0, posinf=0.0, neginf=0.0)


def high_entropy_mask(entropies: torch.Tensor, mask: torch.Tensor, quantile: float,
                      pool: torch.Tensor | None = None) -> torch.Tensor:
    """Tokens whose entropy is at least the ``quantile`` quantile of the pool (TRL's ``get_high_entropy_mask``
    with ``quantile = 1 - top_entropy_quantile``).

    entropies, mask  # (N, T);  pool  # (M,) the entropies of every process's masked tokens (default: these)
    returns          # (N, T) bool
    """
    pool = entropies[mask.bool()].float() if pool is None else pool
    if pool.numel() == 0:
        return torch.zeros_like(entropies, dtype=torch.bool)
    threshold = torch.quantile(pool, quantile)
    return ((entropies * mask.float()) >= threshold) & mask.bool()  # (N, T)


def per_token_objective(logps: torch.Tensor, old_logps: torch.Tensor, advantages: torch.Tensor,
                        mask: torch.Tensor, o: LossOptions, ref_logps: torch.Tensor | None = None
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Each loss type's per-token loss, before masking and normalisation (TRL's ``_compute_loss`` body).

    logps, old_logps, ref_logps, mask  # (N, T);  advantages  # (N,)
    returns  (per_token  # (N, T) or (N, 1),  ratio  # (N, T) or (N, 1),  kl  # (N, T) | None,  phi | None)
    """
    adv = advantages.unsqueeze(1)  # (N, 1)
    log_ratio = logps - old_logps  # (N, T)
    ratio = torch.exp(importance_log_weights(log_ratio, mask, o.importance_sampling_level))  # (N, T) | (N, 1)
    phi = None
    if o.loss_type == "cispo":  # clipped, detached weight times the log-prob (MiniMax-M1)
        per_token = -torch.clamp(ratio, max=o.epsilon_high).detach() * adv * logps
    elif o.loss_type in CLIPPED:
        clipped = torch.clamp(ratio, 1 - o.epsilon_low, 1 + o.epsilon_high)
        unclipped = ratio if o.delta is None else torch.clamp(ratio, max=o.delta)  # two-sided clipping
        per_token = -torch.min(unclipped * adv, clipped * adv)
    elif o.loss_type == "sapo":  # a sigmoid gate instead of the hard clip
        temp = torch.where(adv > 0, o.sapo_temperature_pos, o.sapo_temperature_neg)  # (N, 1)
        per_token = -torch.sigmoid(temp * (ratio - 1)) * 4 / temp * adv
    elif o.loss_type == "vespo":
        phi = gamma_weights(adv, log_ratio, mask, o.vespo_k_pos, o.vespo_lambda_pos, o.vespo_k_neg,
                            o.vespo_lambda_neg)  # (N, 1)
        per_token = -phi * adv * logps
    else:
        raise ValueError(f"unknown loss_type {o.loss_type!r} ({' | '.join(LOSS_TYPES)})")
    if o.off_policy_mask_threshold is not None:
        per_token = per_token * off_policy_mask(adv, logps, old_logps, mask, o.off_policy_mask_threshold)
    kl = None
    if o.beta != 0.0:
        if ref_logps is None:
            raise ValueError("beta > 0 needs ref_logps")
        diff = ref_logps - logps  # (N, T)
        kl = torch.exp(diff) - diff - 1  # (N, T) k3: unbiased, always >= 0
        if o.use_bias_correction_kl:  # TRL's default: weight by the ratio, for the unbiased reverse-KL gradient
            kl = kl * ratio  # (N, T)
    return per_token, ratio, kl, phi


def normalise(per_token: torch.Tensor, mask: torch.Tensor, loss_type: str, max_completion_length: int | None,
              num_items: float | None, accumulation_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Reduce the (masked) per-token loss as ``loss_type`` says.

    per_token  # (N, T) or (N, 1);  mask  # (N, T)
    returns  (loss for backward, accumulation-scaled  # (),  the unscaled policy loss  # ())
    """
    mask = mask.to(per_token.dtype)
    if loss_type in ("grpo", "sapo"):  # mean over each sequence, then over sequences
        loss = ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    elif loss_type == "bnpo":  # mean over the micro-batch's tokens
        loss = (per_token * mask).sum() / mask.sum().clamp(min=1.0)
    elif loss_type == "dr_grpo":  # a constant normaliser: no length bias
        if max_completion_length is None:
            raise ValueError("dr_grpo needs max_completion_length")
        loss = (per_token * mask).sum() / (per_token.size(0) * max_completion_length)
    elif loss_type in ("dapo", "cispo", "vespo"):  # mean over every token of the step, all micro-batches
        items = mask.sum() * accumulation_steps if num_items is None else num_items
        loss = (per_token * mask).sum() / max(float(items), 1.0)
        return loss, loss.detach()
    elif loss_type == "luspo":  # each sequence's summed loss (length-scaled), mean over sequences
        loss = (per_token * mask).sum(-1).mean()
    else:
        raise ValueError(f"unknown loss_type {loss_type!r} ({' | '.join(LOSS_TYPES)})")
    return loss / accumulation_steps, loss.detach()


def policy_loss(logps: torch.Tensor, old_logps: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor, *,
                loss_type: str = "dapo", epsilon_low: float = 0.2, epsilon_high: float = 0.2,
                delta: float | None = None, beta: float = 0.0, ref_logps: torch.Tensor | None = None,
                max_completion_length: int | None = None, num_items: float | None = None,
                accumulation_steps: int = 1, use_bias_correction_kl: bool = True,
                options: LossOptions | None = None, entropy_mask: torch.Tensor | None = None,
                entropies: torch.Tensor | None = None, entropy_coef: float = 0.0) -> LossOut:
    """The GRPO objective of ``loss_type`` plus ``beta`` times the k3 KL, normalised as TRL does.

    logps, old_logps, ref_logps, mask  # (N, T)
    advantages                         # (N,)
    options: every loss option at once (then the loose keyword options above are ignored).
    use_bias_correction_kl: multiply the KL by the (differentiable) ratio, as TRL >= 1.x by default.
    num_items: completion tokens of the step on every process divided by the process count
        (``dapo``/``cispo``/``vespo``'s normaliser; TRL's ``num_items_in_batch / num_processes``).
    entropy_mask  # (N, T) bool: only these tokens train (``top_entropy_quantile``), or None
    entropies     # (N, T) with grad, for the entropy bonus ``- entropy_coef * mean entropy`` (TRL's)
    """
    o = options or LossOptions(loss_type=loss_type, epsilon_low=epsilon_low, epsilon_high=epsilon_high,
                               delta=delta, beta=beta, use_bias_correction_kl=use_bias_correction_kl,
                               max_completion_length=max_completion_length)
    per_token, ratio, kl, phi = per_token_objective(logps, old_logps, advantages, mask, o, ref_logps)
    if entropy_mask is not None:
        per_token = per_token * entropy_mask
    if kl is not None:
        per_token = per_token + o.beta * kl  # (N, T)
    loss, unscaled = normalise(per_token, mask, o.loss_type, o.max_completion_length, num_items,
                               accumulation_steps)
    if entropies is not None and entropy_coef != 0.0:
        loss = loss - entropy_coef * entropy_bonus(entropies, mask, entropy_mask) / accumulation_steps
    return LossOut(loss, ratio, kl, unscaled, phi)


def entropy_bonus(entropies: torch.Tensor, mask: torch.Tensor, entropy_mask: torch.Tensor | None) -> torch.Tensor:
    """Mean entropy over the tokens the policy loss trains on (TRL's: independent of ``loss_type``).

    entropies, mask  # (N, T);  returns  # ()
    """
    m = mask.to(entropies.dtype) if entropy_mask is None else mask * entropy_mask
    return (entropies * m).sum() / m.sum().clamp(min=1.0)


def differentiable_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of each next-token distribution, with a graph (for the entropy bonus).

    logits  # (N, T, V);  returns  # (N, T)
    """
    logp = torch.log_softmax(logits, dim=-1)  # (N, T, V)
    return -(logp.exp() * logp).sum(-1)  # (N, T)


def clip_fractions(ratio: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor,
                   epsilon_low: float, epsilon_high: float) -> dict[str, tuple[float, float]]:
    """Clipped-token sums and token count, for TRL's ``clip_ratio/*`` (summed over micro-batches).

    ratio  # (N, T), or (N, 1) at sequence level (then counted per sequence, as TRL);  mask  # (N, T)
    advantages  # (N,)
    """
    adv = advantages.unsqueeze(1)  # (N, 1)
    low = (ratio < 1 - epsilon_low) & (adv < 0)  # (N, T) | (N, 1)
    high = (ratio > 1 + epsilon_high) & (adv > 0)  # (N, T) | (N, 1)
    m = mask.bool() if ratio.size(1) == mask.size(1) else torch.ones_like(ratio, dtype=torch.bool)
    n = float(m.sum())
    return {
        "clip_ratio/low_mean": (float((low & m).sum()), n),
        "clip_ratio/high_mean": (float((high & m).sum()), n),
        "clip_ratio/region_mean": (float(((low | high) & m).sum()), n),
    }


def ratio_metric_keys(loss_type: str) -> tuple[str, ...]:
    """The ratio metrics TRL logs for ``loss_type`` (none for ``sapo``)."""
    if loss_type in CLIPPED:
        return ("clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean")
    return {"cispo": ("cispo_clip_ratio",), "vespo": ("vespo/phi_seq_mean",)}.get(loss_type, ())


def ratio_metrics(out: LossOut, advantages: torch.Tensor, mask: torch.Tensor, o: LossOptions
                  ) -> dict[str, tuple[float, float]]:
    """(sum, count) of each of :func:`ratio_metric_keys`, summed over micro-batches as TRL's global means.

    advantages  # (N,);  mask  # (N, T)
    """
    ratio = out.ratio.detach()
    if o.loss_type in CLIPPED:
        return clip_fractions(ratio, advantages, mask, o.epsilon_low, o.epsilon_high)
    if o.loss_type == "cispo":
        clipped = (ratio > o.epsilon_high) & (advantages.unsqueeze(1) > 0)  # (N, T) | (N, 1)
        m = mask.bool() if ratio.size(1) == mask.size(1) else torch.ones_like(clipped)
        return {"cispo_clip_ratio": (float((clipped & m).sum()), float(m.sum()))}
    if o.loss_type == "vespo" and out.phi is not None:  # (N, 1): one value per sequence
        return {"vespo/phi_seq_mean": (float(out.phi.sum()), float(out.phi.size(0)))}
    return {}
