"""Loading Detoxify models once per process, and batched scoring with them.

Loading goes through Detoxify's own code (``detoxify.detoxify``: its download URLs, its checkpoint
format, its ``get_model_and_tokenizer``), with one change: when ``huggingface_config_path`` is
given, it also stands in for the checkpoint's ``model_type`` (``"bert-base-uncased"``, ...).
Detoxify resolves that name on the Hugging Face hub before it discards the result in favour of
``huggingface_config_path``, so an offline load of a real checkpoint fails there without this.

Every reward instance, in every composite, that asks for the same model gets the same
:class:`Loaded` (keyed by :class:`LoadKey` in the reward's :class:`rewardkit.model_reward.ModelCache`):
one load per process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rewardkit.errors import ConfigError
from rewardkit.model_reward import ModelLoadError, padded_batches
from rewardkit.safeload import load_pt
from rewardkit.textcap import cap_for_tokens, keep_side

# Detoxify standardises class names between its models (detoxify.detoxify.load_checkpoint).
_CHANGE_NAMES = {"toxic": "toxicity", "identity_hate": "identity_attack", "severe_toxic": "severe_toxicity"}
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class LoadKey:
    """What identifies a loaded model: two rewards with equal keys share one model."""

    model_type: str
    checkpoint: str | None
    huggingface_config_path: str | None
    device: str


@dataclass(frozen=True)
class Loaded:
    """A Detoxify model ready for inference."""

    model: Any  # transformers *ForSequenceClassification, eval mode, on ``device``
    tokenizer: Any
    class_names: tuple[str, ...]
    device: str


LoadError = ModelLoadError  # a model could not be loaded; ``option`` names the option to fix

#: How many models this process has loaded (tests check that sharing works).
load_count = 0


def offline() -> bool:
    """True when the environment says not to use the network (Hugging Face's switches)."""
    return any(os.environ.get(k, "").strip().lower() in _TRUE for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def default_checkpoint_file(model_type: str) -> str:
    """Where torch.hub caches the default checkpoint of ``model_type`` (it may not exist)."""
    import torch
    from detoxify.detoxify import MODEL_URLS

    return os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(MODEL_URLS[model_type]))


def _short(e: BaseException) -> str:
    return f"{type(e).__name__}: {' '.join(str(e).split())[:200]}"


def _load(key: LoadKey) -> Loaded:
    global load_count
    import torch
    from detoxify.detoxify import MODEL_URLS, get_model_and_tokenizer

    if key.checkpoint is None:
        url = MODEL_URLS[key.model_type]
        name = os.path.basename(url)
        if not os.path.exists(default_checkpoint_file(key.model_type)) and offline():
            raise LoadError("checkpoint", (
                f"the default '{key.model_type}' model ({name}) is not in the torch hub cache and the "
                f"network is off (HF_HUB_OFFLINE); download {url} elsewhere and set checkpoint: "
                "/path/to/it (with huggingface_config_path: a folder with its Hugging Face config and tokenizer)"
            ))
        cached = default_checkpoint_file(key.model_type)
        try:
            if not os.path.exists(cached):  # download only, where torch.hub caches it; read below
                os.makedirs(os.path.dirname(cached), exist_ok=True)
                torch.hub.download_url_to_file(url, cached, progress=False)
        except Exception as e:  # noqa: BLE001 - no network, a proxy, a truncated file: all the same fix
            raise LoadError("checkpoint", (
                f"cannot download the default '{key.model_type}' model ({_short(e)}); download {url} "
                "where there is network and set checkpoint: /path/to/it (and huggingface_config_path for offline use)"
            )) from None
    # Detoxify loads with weights_only=False; its checkpoints hold only a plain config dict beside
    # the tensors, so weights_only=True reads them and a pickle payload is refused (rewardkit.safeload).
    try:
        loaded = load_pt(key.checkpoint or default_checkpoint_file(key.model_type), map_location=key.device)
    except ConfigError as e:
        raise LoadError("checkpoint", str(e)) from None
    try:
        class_names = [_CHANGE_NAMES.get(c, c) for c in loaded["config"]["dataset"]["args"]["classes"]]
        arch = dict(loaded["config"]["arch"]["args"])
        state_dict = loaded["state_dict"]
    except (KeyError, TypeError) as e:
        raise LoadError("checkpoint", (
            f"{key.checkpoint or key.model_type!r} is not a Detoxify checkpoint: it needs "
            f"config.arch.args, config.dataset.args.classes and state_dict (missing {e})"
        )) from None
    if key.huggingface_config_path is not None:
        arch["model_type"] = key.huggingface_config_path  # see the module docstring
    try:
        model, tokenizer = get_model_and_tokenizer(**arch, state_dict=state_dict,
                                                   huggingface_config_path=key.huggingface_config_path)
    except Exception as e:  # noqa: BLE001
        option = "huggingface_config_path" if key.huggingface_config_path else "checkpoint"
        hint = "" if key.huggingface_config_path else (
            f"; offline, set huggingface_config_path to a folder with the config and tokenizer of "
            f"{arch.get('model_type')!r}"
        )
        raise LoadError(option, f"cannot build the model and tokenizer ({_short(e)}){hint}") from None
    model.to(key.device).eval()
    load_count += 1
    return Loaded(model=model, tokenizer=tokenizer, class_names=tuple(class_names), device=key.device)


def predict(loaded: Loaded, texts: Sequence[str], batch_size: int) -> Any:
    """Sigmoid probabilities for every class: a float tensor ``(N, C)`` in ``loaded.class_names`` order.

    The same computation as ``Detoxify.predict`` (truncation at the tokenizer's maximum length,
    sigmoid of the logits), but texts are tokenized once, sorted by token length and padded per
    batch, so short texts do not pay for the longest one, under ``torch.inference_mode``.
    """
    import torch

    n, c = len(texts), len(loaded.class_names)
    probs = torch.empty(n, c)  # (N, C)
    if n == 0:
        return probs
    tok = loaded.tokenizer
    # Cut before tokenizing: a huge completion must not be tokenized whole (rewardkit.textcap).
    texts = cap_for_tokens(texts, tok, tok.model_max_length, keep_side(tok))
    enc = tok(list(texts), truncation=True)  # lists of ids, unpadded
    with torch.inference_mode():
        for idx, batch in padded_batches(tok, enc, batch_size):
            batch = batch.to(loaded.model.device)
            logits = loaded.model(**batch)[0]  # (b, C)
            probs[idx] = torch.sigmoid(logits).float().cpu()
    return probs
