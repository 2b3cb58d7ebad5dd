"""A lean KV-cached decode step for Llama-family models (Qwen2, Llama, Mistral, Qwen3).

Sampling calls the model once per new token. Through the Hugging Face ``forward`` each call pays
for mask building, output capturing and a growing ``DynamicCache`` (``torch.cat`` of every past
key each step); on a small model that overhead is most of generation time. Here the prompt is
prefilled once by the model's own ``forward`` (so its masks and positions are Hugging Face's), its
keys and values are copied into a preallocated (static) cache, and each later token runs the same
modules (norms, projections, MLP, LM head) directly, with rotary embeddings and scaled dot-product
attention written out. The result is the model's own next-token distribution: the tests compare
the sampled tokens with the generic path.

Shapes: N rows, P prompt tokens (left-padded), L = P + T cache slots, H query heads,
Hkv key/value heads, D head size, V vocabulary.
"""

from __future__ import annotations

from typing import Any

import torch

SUPPORTED = {"qwen2", "llama", "mistral", "qwen3"}


def base_model(model: Any) -> Any:
    """The transformers model under a peft wrapper (LoRA layers stay in place and are called)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def supports(model: Any) -> bool:
    """True when the fast step reproduces ``model``'s forward: a supported architecture with plain RoPE,
    no active sliding window, SDPA-compatible attention and no attention-logit extras."""
    m = base_model(model)
    cfg = getattr(m, "config", None)
    if cfg is None or getattr(cfg, "model_type", None) not in SUPPORTED:
        return False
    rope = getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None) or {}
    if rope.get("rope_type", rope.get("type", "default")) != "default":
        return False
    if getattr(cfg, "use_sliding_window", False) or (cfg.model_type == "mistral" and cfg.sliding_window):
        return False
    inner = getattr(m, "model", None)
    return all(hasattr(inner, a) for a in ("embed_tokens", "layers", "norm", "rotary_emb")) and hasattr(m, "lm_head")


class StaticKVDecoder:
    """Prefill with the model's forward, then one token per :meth:`step` against a static cache.

    ``decoder = StaticKVDecoder(model, prompt_ids, prompt_mask, max_new_tokens, group_size)`` runs the
    prefill on the distinct prompts only (rows come in groups of ``group_size`` identical prompts) and
    ``decoder.first_logits`` predicts the first new token; ``decoder.step(tokens)`` appends one token
    per row and returns the logits for the next.
    """

    @torch.no_grad()
    def __init__(self, model: Any, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, max_new_tokens: int,
                 group_size: int = 1):
        from transformers import DynamicCache

        from .sampling import cache_kwarg

        m = base_model(model)
        self.model, self.inner = m, m.model
        n, P = prompt_ids.shape
        self.P = P
        self.pos = P  # cache slot (and RoPE position: no position_ids, as the scoring forward) of the next token
        G = group_size
        # 1. Prefill each distinct prompt once with the model's own forward (its padding masks and positions).
        cache = DynamicCache()
        out = model(input_ids=prompt_ids[::G], attention_mask=prompt_mask[::G], use_cache=True, logits_to_keep=1,
                    **{cache_kwarg(model): cache})
        self.first_logits = out.logits[:, -1, :].float().repeat_interleave(G, dim=0)  # (N, V)
        # 2. Copy each layer's keys/values into a static cache with room for every new token.
        L = P + max_new_tokens
        self.keys, self.values = [], []
        for layer in cache.layers:
            k, v = layer.keys, layer.values  # (B, Hkv, P, D)
            kc = k.new_zeros(n, k.size(1), L, k.size(3))  # (N, Hkv, L, D)
            vc = v.new_zeros(n, v.size(1), L, v.size(3))
            kc[:, :, :P] = k.repeat_interleave(G, dim=0)
            vc[:, :, :P] = v.repeat_interleave(G, dim=0)
            self.keys.append(kc)
            self.values.append(vc)
        # Padded prompt slots stay masked out; new tokens are always visible (as HF generate).
        self.key_mask = None  # (N, 1, 1, L) bool, None when no prompt is padded
        if bool((prompt_mask == 0).any()):
            km = torch.ones(n, L, dtype=torch.bool, device=prompt_ids.device)
            km[:, :P] = prompt_mask.bool()
            self.key_mask = km[:, None, None, :]
        # RoPE cos/sin for every new position at once.
        positions = torch.arange(P, L, device=prompt_ids.device).unsqueeze(0)  # (1, T)
        self.cos, self.sin = self.inner.rotary_emb(self.keys[0], positions)  # (1, T, D) each

    @torch.no_grad()
    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """Append ``tokens`` (N,) at the next slot; returns next-token logits (N, V) in float32."""
        t, pos = self.pos - self.P, self.pos
        cos, sin = self.cos[:, t:t + 1].unsqueeze(1), self.sin[:, t:t + 1].unsqueeze(1)  # (1, 1, 1, D)
        mask = None if self.key_mask is None else self.key_mask[..., :pos + 1]  # (N, 1, 1, pos+1)
        h = self.inner.embed_tokens(tokens.unsqueeze(1))  # (N, 1, C)
        for i, layer in enumerate(self.inner.layers):
            h = h + self._attention(layer.self_attn, layer.input_layernorm(h), i, cos, sin, mask)
            h = h + layer.mlp(layer.post_attention_layernorm(h))
        h = self.inner.norm(h)
        self.pos += 1
        return self.model.lm_head(h)[:, -1, :].float()  # (N, V)

    def _attention(self, attn: Any, x: torch.Tensor, i: int, cos: torch.Tensor, sin: torch.Tensor,
                   mask: torch.Tensor | None) -> torch.Tensor:
        n, D, pos = x.size(0), attn.head_dim, self.pos
        q = attn.q_proj(x).view(n, 1, -1, D).transpose(1, 2)  # (N, H, 1, D)
        k = attn.k_proj(x).view(n, 1, -1, D).transpose(1, 2)  # (N, Hkv, 1, D)
        v = attn.v_proj(x).view(n, 1, -1, D).transpose(1, 2)  # (N, Hkv, 1, D)
        if hasattr(attn, "q_norm"):  # Qwen3: RMSNorm on each head before RoPE
            q, k = attn.q_norm(q), attn.k_norm(k)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        self.keys[i][:, :, pos:pos + 1] = k
        self.values[i][:, :, pos:pos + 1] = v
        keys, values = self.keys[i][:, :, :pos + 1], self.values[i][:, :, :pos + 1]  # (N, Hkv, pos+1, D)
        # One query attends to every filled slot: no causal mask, only the padding mask. Written out as two
        # batched matmuls: for a single query they beat the CPU SDPA kernel several times over.
        hkv = keys.size(1)
        q = q.view(n, hkv, -1, D)  # (N, Hkv, H/Hkv, D): query heads grouped by their key/value head
        scores = (q @ keys.transpose(2, 3)) * attn.scaling  # (N, Hkv, H/Hkv, pos+1)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        y = scores.softmax(-1) @ values  # (N, Hkv, H/Hkv, D)
        return attn.o_proj(y.reshape(n, 1, -1))  # (N, 1, C), heads in HF's order


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(x1, x2) -> (-x2, x1) on the last dimension (RoPE)."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)
