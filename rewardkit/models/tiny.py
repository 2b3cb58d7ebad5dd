"""Tiny tokenizers and models built from a config, offline (tests, the demo, benchmarks).

No weights can be downloaded here, and tests must still go through the loading path a user
takes. So these helpers build a real Hugging Face tokenizer and model from a config, and
``save(...)`` writes them to a folder that ``AutoTokenizer.from_pretrained`` /
``AutoModel*.from_pretrained`` load back, exactly as a user's checkpoint.

Needs ``rewardkit[train]`` (torch, transformers).
"""

from __future__ import annotations

import os
import string
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# A minimal chat template in the Hugging Face style (role headers, then the content).
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{{ eos_token }}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def char_tokenizer(extra_chars: str = "", *, chat_template: str | None = CHAT_TEMPLATE) -> Any:
    """A character-level causal-LM tokenizer over printable ASCII (plus ``extra_chars``).

    Special tokens: ``<pad>`` (id 0), ``<s>``, ``</s>``, ``<unk>``, and one token per chat role
    header (``<|user|>``, ``<|assistant|>``, ``<|system|>``). Padding side is left, as for
    generation.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    roles = ["<|system|>", "<|user|>", "<|assistant|>"]
    specials = [PAD, BOS, EOS, UNK, *roles]
    chars = sorted(set(string.printable) - set("\x0b\x0c") | set(extra_chars))
    vocab = {tok: i for i, tok in enumerate(specials + chars)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token=PAD, bos_token=BOS, eos_token=EOS, unk_token=UNK,
        additional_special_tokens=roles, padding_side="left",
    )
    if chat_template:
        fast.chat_template = chat_template
    return fast


def word_tokenizer(texts: Iterable[str] = (), *, style: Literal["bert", "causal"] = "bert",
                   vocab_size: int = 2000) -> Any:
    """A word-level tokenizer learned from ``texts`` (plus ASCII characters as fallback words).

    ``style="bert"`` gives ``[CLS] a b [SEP]`` encodings and BERT's special tokens, for
    encoder classifiers (reward models, NLI, toxicity); ``"causal"`` gives ``<s>``/``</s>``.
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = BERT_SPECIALS if style == "bert" else [PAD, UNK, BOS, EOS]
    unk = "[UNK]" if style == "bert" else UNK
    tok = Tokenizer(models.WordLevel(unk_token=unk))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(vocab_size=vocab_size, special_tokens=specials)
    tok.train_from_iterator(list(texts) + list(string.ascii_lowercase + string.digits + string.punctuation), trainer)
    if style == "bert":
        cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
        )
        return PreTrainedTokenizerFast(
            tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
            sep_token="[SEP]", mask_token="[MASK]", model_max_length=512,
        )
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=PAD, unk_token=UNK, bos_token=BOS,
                                   eos_token=EOS, padding_side="left")
    fast.chat_template = CHAT_TEMPLATE
    return fast


def causal_lm(tokenizer: Any, *, hidden_size: int = 64, num_layers: int = 2, num_heads: int = 4,
              intermediate_size: int | None = None, max_positions: int = 512, seed: int = 0) -> Any:
    """A randomly initialised Qwen2-style causal LM sized for ``tokenizer``."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=hidden_size, num_hidden_layers=num_layers,
        num_attention_heads=num_heads, num_key_value_heads=max(1, num_heads // 2),
        intermediate_size=intermediate_size or 2 * hidden_size, max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config)


def sequence_classifier(tokenizer: Any, *, num_labels: int = 1, id2label: dict[int, str] | None = None,
                        hidden_size: int = 32, num_layers: int = 2, num_heads: int = 2,
                        arch: Literal["bert", "qwen2"] = "bert", seed: int = 0) -> Any:
    """A randomly initialised sequence classifier (BERT or Qwen2 backbone) for ``tokenizer``."""
    import torch
    from transformers import AutoModelForSequenceClassification, BertConfig, Qwen2Config

    labels = {}
    if id2label is not None:
        labels = {"id2label": id2label, "label2id": {v: k for k, v in id2label.items()}}
    if arch == "bert":
        config: Any = BertConfig(
            vocab_size=len(tokenizer), hidden_size=hidden_size, num_hidden_layers=num_layers,
            num_attention_heads=num_heads, intermediate_size=2 * hidden_size, max_position_embeddings=512,
            pad_token_id=tokenizer.pad_token_id, num_labels=num_labels, **labels,
        )
    else:
        config = Qwen2Config(
            vocab_size=len(tokenizer), hidden_size=hidden_size, num_hidden_layers=num_layers,
            num_attention_heads=num_heads, num_key_value_heads=num_heads, intermediate_size=2 * hidden_size,
            pad_token_id=tokenizer.pad_token_id, num_labels=num_labels, **labels,
        )
    torch.manual_seed(seed)
    return AutoModelForSequenceClassification.from_config(config)


def save(folder: str | os.PathLike[str], *, model: Any = None, tokenizer: Any = None) -> Path:
    """Write a model and/or tokenizer in Hugging Face format; returns the folder."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    if model is not None:
        model.save_pretrained(path)
    if tokenizer is not None:
        tokenizer.save_pretrained(path)
    return path
