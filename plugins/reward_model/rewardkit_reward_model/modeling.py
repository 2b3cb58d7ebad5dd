"""Loading a reward model once per process, and scoring token ids in length-sorted batches.

Shapes: B texts in a batch, T tokens (the longest text of the batch).
Torch and transformers are imported inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rewardkit import ModelLoadError
from rewardkit.devices import resolve_device
from rewardkit.model_reward import ModelCache, length_sorted_batches
from rewardkit.textcap import cap_for_tokens, keep_side

DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass(frozen=True)
class Loaded:
    """A reward model and its tokenizer, ready for inference on ``device``."""

    model: Any
    tokenizer: Any
    device: str
    max_positions: int | None  # the model's position limit, where the config states one


# Networks by (path, device, dtype), tokenizers by (path, truncation side): a reward with another
# truncation side shares the network; the rewards' own cache holds the assembled Loaded.
_models = ModelCache()
_tokenizers = ModelCache()
LOADED = ModelCache()


def resolve_dtype(dtype: str, device: str) -> Any:
    """``auto`` -> bfloat16 on a CUDA device that supports it, else float32."""
    import torch

    if dtype == "auto":
        if device.startswith("cuda") and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    return getattr(torch, dtype)


def key_path(model: str) -> str:
    # A local folder is keyed by its absolute path, so "./rm" and "rm" share one load.
    return os.path.abspath(model) if os.path.isdir(model) else model


def _short(e: BaseException) -> str:
    return f"{type(e).__name__}: {' '.join(str(e).split())[:200]}"


def load(model: str, *, device: str = "auto", dtype: str = "auto", truncation_side: str = "left") -> Loaded:
    """The reward model at ``model`` (a local folder or hub id), loaded once per process per options.

    Raises :class:`rewardkit.ModelLoadError` naming the option (``model``, ``device``) when it
    does not load or is not a one-output sequence classifier.
    """
    dev = resolve_device(device)
    path = key_path(model)
    tok = _tokenizers.get((path, truncation_side), lambda _: _load_tokenizer(model, truncation_side))
    net = _models.get((path, dev, dtype), lambda _: _load_model(model, dev, dtype, tok))
    return Loaded(net, tok, dev, _max_positions(net.config))


def _load_tokenizer(model: str, truncation_side: str) -> Any:
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(model)
    except Exception as e:  # noqa: BLE001 - any load failure is a config problem
        raise ModelLoadError("model", f"cannot load a tokenizer from {model!r} ({_short(e)})") from None
    tok.truncation_side = truncation_side
    if tok.pad_token is None:
        if tok.eos_token is None:
            raise ModelLoadError("model", f"the tokenizer of {model!r} has neither a pad nor an eos token")
        tok.pad_token = tok.eos_token  # as TRL does for reward models
    return tok


def _load_model(model: str, device: str, dtype: str, tok: Any) -> Any:
    from transformers import AutoModelForSequenceClassification

    try:
        net = AutoModelForSequenceClassification.from_pretrained(model, dtype=resolve_dtype(dtype, device))
    except Exception as e:  # noqa: BLE001
        raise ModelLoadError("model", f"cannot load a sequence classifier from {model!r} ({_short(e)})") from None
    if net.config.num_labels != 1:
        raise ModelLoadError(
            "model", f"{model!r} has {net.config.num_labels} outputs; a reward model has exactly 1"
        )
    if getattr(net.config, "pad_token_id", None) is None:
        net.config.pad_token_id = tok.pad_token_id  # last-token pooling (Qwen, Llama) needs it
    try:
        net.to(device)
    except Exception as e:  # noqa: BLE001
        raise ModelLoadError("device", f"cannot move the model to {device!r} ({_short(e)})") from None
    net.eval()
    return net


def _max_positions(config: Any) -> int | None:
    n = getattr(config, "max_position_embeddings", None)
    return int(n) if isinstance(n, int) and n > 0 else None


def clear_cache() -> None:
    """Forget every loaded model (tests, or to free memory)."""
    for cache in (_models, _tokenizers, LOADED):
        cache.clear()


def encode(tokenizer: Any, items: Sequence[tuple[str, bool]], max_length: int) -> list[list[int]]:
    """Token ids of each ``(text, add_special_tokens)`` item, truncated to ``max_length``."""
    out: list[list[int]] = [[] for _ in items]
    for special in (True, False):
        idx = [i for i, (_, s) in enumerate(items) if s is special]
        if not idx:
            continue
        # Cut before tokenizing, on the side truncation keeps (rewardkit.textcap): bounded memory.
        texts = cap_for_tokens([items[i][0] for i in idx], tokenizer, max_length, keep_side(tokenizer))
        enc = tokenizer(texts, add_special_tokens=special, truncation=True, max_length=max_length)["input_ids"]
        for i, ids in zip(idx, enc):
            out[i] = list(ids)
    fill = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.pad_token_id
    return [ids or [fill] for ids in out]  # an empty text still gets one position to pool


def pad_batch(ids: Sequence[Sequence[int]], pad_id: int, device: Any = "cpu") -> tuple[Any, Any]:
    """Right-padded ``input_ids`` and ``attention_mask``, both ``(B, T)``."""
    import torch

    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)  # (B, T)
    mask = torch.zeros((len(ids), width), dtype=torch.long)  # (B, T)
    for row, x in enumerate(ids):
        input_ids[row, : len(x)] = torch.tensor(x, dtype=torch.long)
        mask[row, : len(x)] = 1
    return input_ids.to(device), mask.to(device)


def rewards_of(model: Any, input_ids: Any, attention_mask: Any) -> Any:
    """The scalar reward of each row: the classifier's single logit, ``(B,)``."""
    return model(input_ids=input_ids, attention_mask=attention_mask).logits[:, 0]  # (B,)


def score_ids(model: Any, ids: Sequence[Sequence[int]], *, pad_id: int, batch_size: int, device: Any) -> list[float]:
    """Rewards for token id lists, in input order; batches are formed longest first.

    Sorting by length keeps padding small (similar lengths share a batch) and puts the largest
    batch first, so an out-of-memory error shows at once rather than at the end.
    """
    import torch

    out = [0.0] * len(ids)
    with torch.inference_mode():
        for chunk in length_sorted_batches([len(x) for x in ids], batch_size):
            input_ids, mask = pad_batch([ids[i] for i in chunk], pad_id, device)  # (B, T), (B, T)
            values = rewards_of(model, input_ids, mask).float().tolist()  # (B,)
            for i, v in zip(chunk, values):
                out[i] = float(v)
    return out
