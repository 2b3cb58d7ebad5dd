"""Sampling completions: a lean KV-cached decoding loop, and the prompt/completion plumbing.

``generate`` does what ``model.generate(do_sample=True, ...)`` does for GRPO (temperature, top-k,
top-p, min-p, EOS handling) without its per-token dispatch overhead. Positions follow the
attention-mask-free convention the scoring forward uses (no ``position_ids``), so the sampled
distribution is the one the loss scores.

Shapes: N completions, P prompt tokens (left-padded), T completion tokens, V vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..textcap import cap_for_tokens


@dataclass
class Samples:
    """Completions for a batch of (repeated) prompts."""

    completion_ids: torch.Tensor  # (N, T) right-padded with pad_id
    completion_mask: torch.Tensor  # (N, T) 1 up to and including EOS
    truncated: torch.Tensor  # (N,) bool: no EOS within max_new_tokens


def filter_logits(logits: torch.Tensor, *, top_k: int = 0, top_p: float = 1.0,
                  min_p: float | None = None) -> torch.Tensor:
    """Mask logits outside top-k / top-p / min-p with -inf (in HF's order).

    logits  # (N, V) already divided by temperature;  returns  # (N, V)
    """
    if top_k and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # (N, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=False, dim=-1)  # (N, V)
        cum = sorted_logits.softmax(-1).cumsum(-1)  # (N, V)
        drop_sorted = cum <= 1 - top_p
        drop_sorted[:, -1] = False  # always keep the most likely token
        drop = drop_sorted.scatter(1, order, drop_sorted)  # (N, V)
        logits = logits.masked_fill(drop, float("-inf"))
    if min_p is not None and min_p > 0:
        probs = logits.softmax(-1)  # (N, V)
        threshold = min_p * probs.max(dim=-1, keepdim=True).values  # (N, 1)
        logits = logits.masked_fill(probs < threshold, float("-inf"))
    return logits


@torch.no_grad()
def generate(model: Any, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, *, max_new_tokens: int,
             eos_ids: Sequence[int], pad_id: int, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
             min_p: float | None = None, repetition_penalty: float = 1.0,
             suppress_ids: Sequence[int] = (), min_new_tokens: int = 0, group_size: int = 1,
             fast: bool = True) -> Samples:
    """Sample ``max_new_tokens`` at most per row with a KV cache; stops early when every row ended.

    prompt_ids, prompt_mask  # (N, P) left-padded
    group_size: rows come in groups of this many identical prompts (GRPO's ``num_generations``);
        the fast path prefills each distinct prompt once.
    fast: use :class:`.decoder.StaticKVDecoder` where it supports the model (else the model's forward).
    """
    n, device = prompt_ids.size(0), prompt_ids.device
    eos = torch.tensor(list(eos_ids), device=device, dtype=torch.long)
    suppress = torch.tensor(list(suppress_ids), device=device, dtype=torch.long)
    next_logits = _decoding_steps(model, prompt_ids, prompt_mask, max_new_tokens, group_size, fast)
    out_ids = torch.full((n, max_new_tokens), pad_id, dtype=torch.long, device=device)  # (N, T)
    done = torch.zeros(n, dtype=torch.bool, device=device)  # (N,)
    seen = prompt_ids.clone()  # for repetition_penalty
    token = None
    length = 0
    for t in range(max_new_tokens):
        logits = next_logits(token)  # (N, V) float32
        if repetition_penalty != 1.0:
            prev = logits.gather(1, seen)
            logits = logits.scatter(1, seen, torch.where(prev < 0, prev * repetition_penalty,
                                                         prev / repetition_penalty))
        logits = logits / temperature
        if suppress.numel():
            logits[:, suppress] = float("-inf")
        if t < min_new_tokens and eos.numel():
            logits[:, eos] = float("-inf")
        logits = filter_logits(logits, top_k=top_k, top_p=top_p, min_p=min_p)
        token = torch.multinomial(logits.softmax(-1), 1).squeeze(1)  # (N,)
        token = torch.where(done, torch.full_like(token, pad_id), token)
        out_ids[:, t] = token
        length = t + 1
        done = done | torch.isin(token, eos)
        if bool(done.all()):
            break
        if repetition_penalty != 1.0:
            seen = torch.cat([seen, token.unsqueeze(1)], dim=1)
    completion_ids = out_ids[:, :length]  # (N, T)
    completion_mask = completion_mask_from(completion_ids, eos)
    # Truncated as TRL: the last token is neither EOS nor the pad token.
    last = completion_ids[:, -1]
    truncated = ~torch.isin(completion_ids, eos).any(dim=1) & (last != pad_id)  # (N,)
    return Samples(completion_ids, completion_mask, truncated)


def _decoding_steps(model: Any, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, max_new_tokens: int,
                    group_size: int, fast: bool) -> Callable[[torch.Tensor | None], torch.Tensor]:
    """``next_logits(tokens)``: appends the last sampled ``tokens`` (N,) (None at first) and returns the
    next-token logits (N, V) in float32."""
    from . import decoder

    G = group_size if group_size > 1 and prompt_ids.size(0) % group_size == 0 else 1
    if G > 1 and not torch.equal(prompt_ids[::G].repeat_interleave(G, dim=0), prompt_ids):
        G = 1  # rows are not grouped after all
    if fast and decoder.supports(model):
        dec = decoder.StaticKVDecoder(model, prompt_ids, prompt_mask, max_new_tokens, group_size=G)
        return lambda tokens: dec.first_logits if tokens is None else dec.step(tokens)

    # Generic path: the model's own forward with a growing DynamicCache.
    from transformers import DynamicCache

    state = {"cache": DynamicCache(), "mask": prompt_mask.clone() if bool((prompt_mask == 0).any()) else None}
    kw = cache_kwarg(model)

    def next_logits(tokens: torch.Tensor | None) -> torch.Tensor:
        if tokens is None:
            inputs = prompt_ids  # (N, P)
        else:
            inputs = tokens.unsqueeze(1)  # (N, 1)
            if state["mask"] is not None:
                state["mask"] = torch.cat([state["mask"], torch.ones_like(inputs)], dim=1)
        # A mask only when some prompt is padded; without one attention takes the causal fast path.
        out = model(input_ids=inputs, attention_mask=state["mask"], use_cache=True, logits_to_keep=1,
                    **{kw: state["cache"]})
        return out.logits[:, -1, :].float()  # (N, V)

    return next_logits


def cache_kwarg(model: Any) -> str:
    """The forward's cache argument: transformers 5.x renamed ``past_key_values`` to ``cache``."""
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    params = inspect.signature(type(base).forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def completion_mask_from(completion_ids: torch.Tensor, eos: torch.Tensor) -> torch.Tensor:
    """1 up to and including the first EOS, 0 after (TRL's completion mask).

    completion_ids  # (N, T);  returns  # (N, T) long
    """
    is_eos = torch.isin(completion_ids, eos)  # (N, T)
    # Tokens strictly after the first EOS: a cumulative count of EOS before this position.
    before = torch.cumsum(is_eos.long(), dim=1) - is_eos.long()  # (N, T)
    return (before == 0).long()


def render_prompts(prompts: Sequence[Any], tokenizer: Any) -> list[str]:
    """Prompt strings as the model sees them: chat message lists go through the chat template."""
    out = []
    for p in prompts:
        if isinstance(p, str):
            out.append(p)
        else:
            out.append(tokenizer.apply_chat_template(list(p), tokenize=False, add_generation_prompt=True))
    return out


def tokenize_prompts(texts: Sequence[str], tokenizer: Any, max_prompt_length: int | None, device: Any
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-padded prompt ids and mask; prompts longer than ``max_prompt_length`` keep their end.

    returns  (ids  # (B, P),  mask  # (B, P))
    """
    # Cut first, keeping the end as the token truncation below does: a 100 MB prompt must not be
    # tokenized whole (rewardkit.textcap).
    texts = cap_for_tokens(texts, tokenizer, max_prompt_length, keep="end")
    rows = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    if max_prompt_length:
        rows = [r[-max_prompt_length:] for r in rows]
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            ids[i, width - len(r):] = torch.tensor(r)
            mask[i, width - len(r):] = 1
    return ids.to(device), mask.to(device)


def decode_completions(completion_ids: torch.Tensor, completion_mask: torch.Tensor, tokenizer: Any,
                       chat: bool) -> tuple[list[Any], list[list[int]]]:
    """Completion texts (chat: one assistant message, as TRL) and their token id lists."""
    ids = [row[: int(m.sum())].tolist() for row, m in zip(completion_ids, completion_mask)]
    texts = tokenizer.batch_decode(ids, skip_special_tokens=True)
    if chat:
        return [[{"role": "assistant", "content": t}] for t in texts], ids
    return texts, ids
