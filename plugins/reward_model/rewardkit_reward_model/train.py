"""``rewardkit rm train``: a Bradley-Terry reward model trained with a plain torch loop.

Shapes: B pairs in a batch; the chosen and rejected texts go through the model together as one
batch of 2B rows, T tokens (the longest of the batch).

Why a plain loop rather than TRL's ``RewardTrainer``: the texts must be formatted exactly as the
``reward_model`` reward formats them at scoring time (:func:`formatting.render`), the output
folder must be replaced atomically, and the metrics/plot are ours; ``RewardTrainer`` would add
``datasets``/``accelerate`` to this plugin and seconds of start-up for runs this small, for a loss
that is one line. The checkpoint is a plain Hugging Face folder, which TRL loads as is.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rewardkit import ConfigError, DataError
from rewardkit.devices import resolve_device

from . import modeling
from .data import Cleaning, Pair, clean, pair_key, read_pairs, split
from .formatting import render
from .outputs import atomic_dir, plot_metrics
from .train_config import NewModel, RewardModelTrainConfig

ROLE_HEADERS = "<|system|> <|user|> <|assistant|>"
log = logging.getLogger("rewardkit")


# -- tensor math (pure, tested directly) --------------------------------------------------------

def bradley_terry_loss(r_chosen: Any, r_rejected: Any, center_rewards_coefficient: float | None = None) -> Any:
    """``-log sigmoid(r_chosen - r_rejected)``, averaged; both ``(B,)``, result ``()``.

    With ``center_rewards_coefficient`` (as TRL, after Eisenstein et al. 2023) the mean squared sum
    of the pair's rewards is added, which keeps rewards centred on zero.
    """
    import torch.nn.functional as F

    loss = -F.logsigmoid(r_chosen - r_rejected).mean()  # ()
    if center_rewards_coefficient:
        loss = loss + center_rewards_coefficient * ((r_chosen + r_rejected) ** 2).mean()
    return loss


def pairwise_metrics(r_chosen: Any, r_rejected: Any) -> dict[str, float]:
    """Pairwise accuracy (share with chosen strictly above rejected) and mean margin."""
    diff = (r_chosen - r_rejected).float()  # (B,)
    return {"accuracy": float((diff > 0).float().mean()), "margin": float(diff.mean())}


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up over ``warmup`` steps, then linear decay to 0 at ``total`` (as TRL's default)."""
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


# -- set-up ---------------------------------------------------------------------------------------

def _plain_texts(pairs: Sequence[Pair]) -> list[str]:
    out = []
    for p in pairs:
        for x in (p.prompt, p.chosen, p.rejected):
            out.extend([x] if isinstance(x, str) else [str(m.get("content") or "") for m in x])
    return out


def build_model(cfg: RewardModelTrainConfig, pairs: Sequence[Pair]) -> tuple[Any, Any]:
    """The model and tokenizer to train: a saved checkpoint, or a fresh one built from a config."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if isinstance(cfg.model, NewModel):
        from rewardkit.models import tiny

        spec = cfg.model.from_config
        if spec.tokenizer == "word":
            style = "bert" if spec.arch == "bert" else "causal"
            tok = tiny.word_tokenizer([*_plain_texts(pairs), ROLE_HEADERS], style=style, vocab_size=spec.vocab_size)
        elif spec.tokenizer == "char":
            tok = tiny.char_tokenizer()
        else:
            try:
                tok = AutoTokenizer.from_pretrained(spec.tokenizer)
            except Exception as e:  # noqa: BLE001
                raise ConfigError(f"key 'model.from_config.tokenizer': cannot load {spec.tokenizer!r} ({modeling._short(e)})") from None
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        if spec.hidden_size % spec.num_heads:
            raise ConfigError(f"key 'model.from_config.hidden_size': {spec.hidden_size} is not a multiple of num_heads={spec.num_heads}")
        model = tiny.sequence_classifier(tok, arch=spec.arch, hidden_size=spec.hidden_size,
                                         num_layers=spec.num_layers, num_heads=spec.num_heads, seed=cfg.seed)
    else:
        try:
            tok = AutoTokenizer.from_pretrained(cfg.model)
        except Exception as e:  # noqa: BLE001
            raise ConfigError(f"key 'model': cannot load a tokenizer from {cfg.model!r} ({modeling._short(e)})") from None
        if tok.pad_token is None:
            if tok.eos_token is None:
                raise ConfigError(f"key 'model': the tokenizer of {cfg.model!r} has neither a pad nor an eos token")
            tok.pad_token = tok.eos_token
        try:
            # A base LM gets a fresh one-output head here, as TRL's RewardTrainer does.
            model = AutoModelForSequenceClassification.from_pretrained(cfg.model, num_labels=1)
        except Exception as e:  # noqa: BLE001
            raise ConfigError(f"key 'model': cannot load {cfg.model!r} as a sequence classifier ({modeling._short(e)})") from None
    model.config.pad_token_id = tok.pad_token_id
    if tok.eos_token is None and tok.sep_token is not None:
        # BERT-style tokenizers have no eos; TRL's RewardTrainer appends eos_token to every text,
        # so without one the saved checkpoint could not be trained further there. Scoring here
        # is unchanged: the tokenizer still adds its own [CLS] ... [SEP].
        tok.eos_token = tok.sep_token
    tok.truncation_side = cfg.truncation_side
    limit = modeling._max_positions(model.config)
    if limit is not None and cfg.max_length > limit:
        raise ConfigError(f"key 'max_length': {cfg.max_length} is above the model's limit of {limit} positions")
    return model, tok


def encode_pairs(pairs: Sequence[Pair], tok: Any, cfg: RewardModelTrainConfig) -> tuple[list[list[int]], list[list[int]]]:
    """Token ids of every chosen and rejected text, formatted as the scorer formats them."""
    chosen = modeling.encode(tok, [render(p.prompt, p.chosen, tok, cfg.separator) for p in pairs], cfg.max_length)
    rejected = modeling.encode(tok, [render(p.prompt, p.rejected, tok, cfg.separator) for p in pairs], cfg.max_length)
    return chosen, rejected


def evaluate(model: Any, chosen: list[list[int]], rejected: list[list[int]], *, pad_id: int,
             batch_size: int, device: str, coef: float | None) -> dict[str, float]:
    """``eval_loss``, ``eval_accuracy`` and ``eval_margin`` over held-out pairs."""
    import torch

    was_training = model.training
    model.eval()
    both = modeling.score_ids(model, chosen + rejected, pad_id=pad_id, batch_size=batch_size, device=device)
    model.train(was_training)
    r_c, r_r = torch.tensor(both[: len(chosen)]), torch.tensor(both[len(chosen):])  # (N,), (N,)
    m = pairwise_metrics(r_c, r_r)
    return {"eval_loss": float(bradley_terry_loss(r_c, r_r, coef)), "eval_accuracy": m["accuracy"],
            "eval_margin": m["margin"]}


def usable_pairs(cfg: RewardModelTrainConfig) -> tuple[list[Pair], list[Pair]]:
    """(train, eval) pairs without ties, contradictions, duplicates or train/eval leaks.

    Refuses (:class:`rewardkit.DataError`, exit 2) when no training pair is left; warns with the
    counts (one line on stderr) when some were dropped.
    """
    stats = Cleaning()
    pairs = clean(read_pairs(cfg.data), stats)  # before the split: a repeated pair cannot land on both sides
    if not pairs:
        raise DataError(f"{cfg.data}: no usable preference pair: {stats.summary()}")
    if cfg.eval_data is not None:
        train_pairs = pairs
        eval_pairs = clean(read_pairs(cfg.eval_data), stats, seen={pair_key(p.prompt, p.chosen, p.rejected) for p in pairs})
        if not eval_pairs:
            raise DataError(f"{cfg.eval_data}: no usable eval pair left once ties, contradictions and pairs "
                            f"also in {cfg.data} are dropped: {stats.summary()}")
    else:
        train_pairs, eval_pairs = split(pairs, cfg.eval_split, cfg.seed, source=str(cfg.data))
    if stats.dropped:
        log.warning("rm train: dropped %d of %d pairs: %s", stats.dropped, stats.dropped + stats.kept,
                    stats.summary())
    return train_pairs, eval_pairs


# -- the loop -------------------------------------------------------------------------------------

@dataclass
class _Run:
    """What one ``rm train`` run holds: the model, the encoded pairs, the optimizer and the log."""

    cfg: RewardModelTrainConfig
    device: Any
    model: Any
    tok: Any
    train_c: list[list[int]]
    train_r: list[list[int]]
    eval_c: list[list[int]]
    eval_r: list[list[int]]
    opt: Any
    sched: Any
    steps_per_epoch: int
    total: int
    log: Any = None  # metrics.jsonl, open while the loop runs
    rows: list[dict[str, Any]] = field(default_factory=list)
    last_eval: dict[str, float] = field(default_factory=dict)

    def record(self, row: dict[str, Any]) -> None:
        """Keep a metrics row (for the plot) and append it to metrics.jsonl at once."""
        self.rows.append(row)
        self.log.write(json.dumps(row) + "\n")
        self.log.flush()

    def evaluate(self, step: int, epoch: float) -> None:
        """Score the held-out pairs (when there are any) and log them."""
        if self.eval_c:
            cfg = self.cfg
            self.last_eval = evaluate(self.model, self.eval_c, self.eval_r, pad_id=self.tok.pad_token_id,
                                      batch_size=cfg.eval_batch_size, device=self.device,
                                      coef=cfg.center_rewards_coefficient)
            self.record({"step": step, "epoch": round(epoch, 4), **self.last_eval})


def _start(cfg: RewardModelTrainConfig, device: Any, train_pairs: list[Pair], eval_pairs: list[Pair]) -> _Run:
    """Build the model on its device, tokenize the pairs once, and set up AdamW and its schedule."""
    import torch

    model, tok = build_model(cfg, train_pairs)
    model.to(device=device, dtype=getattr(torch, cfg.dtype))
    train_c, train_r = encode_pairs(train_pairs, tok, cfg)
    eval_c, eval_r = encode_pairs(eval_pairs, tok, cfg)
    steps_per_epoch = math.ceil(len(train_pairs) / cfg.batch_size)
    total = steps_per_epoch * cfg.num_train_epochs
    warmup = round(cfg.warmup_ratio * total)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, total, warmup))
    return _Run(cfg, device, model, tok, train_c, train_r, eval_c, eval_r, opt, sched, steps_per_epoch, total)


def _train_step(run: _Run, idx: list[int], step: int) -> float:
    """One optimizer step on pairs ``idx``; logs and returns the loss."""
    import torch

    cfg = run.cfg
    # forward chosen and rejected together, one Bradley-Terry loss
    ids = [run.train_c[i] for i in idx] + [run.train_r[i] for i in idx]
    input_ids, mask = modeling.pad_batch(ids, run.tok.pad_token_id, run.device)  # (2B, T), (2B, T)
    rewards = modeling.rewards_of(run.model, input_ids, mask).float()  # (2B,)
    r_c, r_r = rewards[: len(idx)], rewards[len(idx):]  # (B,), (B,)
    loss = bradley_terry_loss(r_c, r_r, cfg.center_rewards_coefficient)

    run.opt.zero_grad(set_to_none=True)
    loss.backward()
    if cfg.max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(run.model.parameters(), cfg.max_grad_norm)
    lr = run.opt.param_groups[0]["lr"]
    run.opt.step()
    run.sched.step()

    m = pairwise_metrics(r_c.detach(), r_r.detach())
    run.record({"step": step, "epoch": round(step / run.steps_per_epoch, 4), "loss": float(loss.detach()),
                "accuracy": m["accuracy"], "margin": m["margin"], "learning_rate": lr})
    return float(loss.detach())


def _after_step(run: _Run, out: Any, step: int, end_of_epoch: bool) -> None:
    """Evaluate every ``eval_steps`` (or at each epoch's end) and save the intermediate checkpoints."""
    cfg = run.cfg
    if (cfg.eval_steps and step % cfg.eval_steps == 0) or (end_of_epoch and not cfg.eval_steps) or step == run.total:
        run.evaluate(step, step / run.steps_per_epoch)
    if cfg.save_steps and step % cfg.save_steps == 0 and step < run.total:
        # An intermediate checkpoint, in the same format as the final one (TRL's naming).
        run.model.save_pretrained(out / f"checkpoint-{step}")
        run.tok.save_pretrained(out / f"checkpoint-{step}")


def _save(run: _Run, out: Any) -> None:
    """The final folder: model + tokenizer in Hugging Face format, the plot, the resolved config."""
    run.model.eval()
    run.model.save_pretrained(out)
    run.tok.save_pretrained(out)
    (out / "rm_train_config.json").write_text(json.dumps(run.cfg.model_dump(mode="json"), indent=2) + "\n")
    plot_metrics(run.rows, out / "plot.png")


def train(cfg: RewardModelTrainConfig, *, progress: bool | None = None) -> dict[str, Any]:
    """Train a reward model as ``cfg`` says and write ``cfg.output_dir``; returns a summary.

    The folder holds the model and tokenizer (Hugging Face format), ``metrics.jsonl``,
    ``plot.png`` and ``rm_train_config.json``; it replaces a previous one only on success.
    """
    import torch
    from tqdm.auto import tqdm

    started = time.perf_counter()
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device, "rm train")  # a missing device fails before any reading
    # 1. data: read, drop unusable pairs, hold out the eval pairs; 2. model, tokens, optimizer
    train_pairs, eval_pairs = usable_pairs(cfg)
    run = _start(cfg, device, train_pairs, eval_pairs)
    gen = torch.Generator().manual_seed(cfg.seed)
    step = 0
    with atomic_dir(cfg.output_dir) as out, open(out / "metrics.jsonl", "w", encoding="utf-8") as run.log:
        run.evaluate(0, 0.0)  # the untrained baseline: the plot starts near chance
        run.model.train()
        bar = tqdm(total=run.total, desc="rm train", unit="step", leave=False,
                   disable=None if progress is None else not progress)
        for _epoch in range(cfg.num_train_epochs):
            order = torch.randperm(len(train_pairs), generator=gen).tolist()
            for start in range(0, len(order), cfg.batch_size):
                # 3. one step, 4. evaluate/save on schedule
                step += 1
                loss = _train_step(run, order[start : start + cfg.batch_size], step)
                _after_step(run, out, step, end_of_epoch=start + cfg.batch_size >= len(order))
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}", eval_acc=f"{run.last_eval.get('eval_accuracy', float('nan')):.2f}")
        bar.close()
        _save(run, out)  # 5. the final checkpoint

    return {"output_dir": str(cfg.output_dir), "train_pairs": len(train_pairs), "eval_pairs": len(eval_pairs),
            "steps": step, "seconds": round(time.perf_counter() - started, 2), **run.last_eval}
