"""Parity with TRL's GRPOTrainer: advantages, loss and gradients to 1e-6 on identical inputs.

TRL's generation is stubbed with fixed completions; both sides get the same weights, prompts,
completions, rewards, old (perturbed: off-policy, so clipping is active) and reference log-probs.
"""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
trl = pytest.importorskip("trl")

from rewardkit.grpo import losses as L
from rewardkit.models import tiny

G = 4
PROMPTS = ["1+1=", "2+3=", "hello world", "abc"]
# Per completion: (length, ends with EOS). Mixed lengths exercise padding; some are truncated.
SHAPES = [(5, True), (7, False), (3, True), (7, False)] * 4
# Two reward functions; one row unscorable (both None), one group with identical totals (std 0).
R1 = [1.0, 0.0, 0.5, None, 0.2, 0.9, 0.1, 0.4, 0.3, 0.3, 0.3, 0.3, -1.0, 2.0, 0.0, 1.5]
R2 = [0.5, None, 0.0, None, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.3, None, 0.1, 0.2]
WEIGHTS = [1.0, 0.5]
TEMPERATURE = 0.7
MAX_LEN = 7


def _r1(prompts, completions, **kw):
    return list(R1)


def _r2(prompts, completions, **kw):
    return list(R2)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    torch.manual_seed(0)
    tok = tiny.char_tokenizer()
    folder = tiny.save(tmp_path_factory.mktemp("m"), model=tiny.causal_lm(tok, hidden_size=32, num_layers=2,
                                                                          num_heads=4), tokenizer=tok)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    gen = torch.Generator().manual_seed(1)
    eos = tok.eos_token_id
    completion_ids = []
    for length, ends in SHAPES:
        ids = torch.randint(10, len(tok), (length,), generator=gen).tolist()
        if ends:
            ids[-1] = eos
        completion_ids.append(ids)
    return folder, tok, completion_ids, AutoModelForCausalLM


def make_trainer(folder, tok, model_cls, completion_ids, beta, tmp_path):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    model = model_cls.from_pretrained(folder)
    args = GRPOConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False, num_generations=G,
                      per_device_train_batch_size=len(PROMPTS) * G, max_completion_length=MAX_LEN,
                      temperature=TEMPERATURE, beta=beta, reward_weights=WEIGHTS, report_to=[],
                      epsilon=0.2, epsilon_high=0.28, seed=0)
    ds = Dataset.from_list([{"prompt": p} for p in PROMPTS])
    trainer = GRPOTrainer(model=model, reward_funcs=[_r1, _r2], args=args, train_dataset=ds, processing_class=tok)
    prompt_ids = [tok(p, add_special_tokens=False)["input_ids"] for p in PROMPTS for _ in range(G)]
    completions = tok.batch_decode(completion_ids, skip_special_tokens=True)

    def fake_generate(prompts):
        return prompt_ids, completion_ids, None, completions, None, {}, None, None

    trainer._generate = fake_generate
    trainer.current_gradient_accumulation_steps = 1
    return trainer


def trl_scored(trainer, scale_rewards, loss_type):
    trainer.scale_rewards = scale_rewards
    trainer.loss_type = loss_type
    trainer.model.train()
    inputs = [{"prompt": p} for p in PROMPTS for _ in range(G)]
    return trainer._generate_and_score_completions(inputs)


@pytest.mark.slow
@pytest.mark.parametrize("beta", [0.0, 0.04])
def test_parity_with_trl(setup, beta, tmp_path):
    folder, tok, completion_ids, model_cls = setup
    trainer = make_trainer(folder, tok, model_cls, completion_ids, beta, tmp_path)
    ours_model = model_cls.from_pretrained(folder).train()
    weights = torch.tensor(WEIGHTS)
    per_func = torch.tensor([[math.nan if a is None else a, math.nan if b is None else b] for a, b in zip(R1, R2)])
    checked = 0
    for scale in ("group", "batch", "none"):
        scored = trl_scored(trainer, scale, "grpo")
        for loss_type in ("grpo", "bnpo", "dr_grpo", "dapo"):
            trainer.loss_type = loss_type
            variants = [(None, True), (1.1, True)] if loss_type == "grpo" else [(None, True)]
            if beta:
                variants.append((None, False))
            for delta, bias_kl in variants:
                trainer.args.delta = delta
                trainer.args.use_bias_correction_kl = bias_kl
                inputs = dict(scored)
                # Advantages.
                adv, _ = L.group_advantages(L.total_rewards(per_func, weights), G, scale)
                torch.testing.assert_close(adv, inputs["advantages"], atol=1e-6, rtol=0)
                assert adv[3] == 0.0  # the unscorable row
                # Same padded tensors on both sides; off-policy old log-probs, perturbed reference.
                ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], dim=1)
                attn = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
                T = inputs["completion_ids"].size(1)
                mask = inputs["completion_mask"]
                with torch.no_grad():
                    base = L.token_logps(L.completion_logits(ours_model, ids, attn, T, TEMPERATURE),
                                         inputs["completion_ids"])
                g = torch.Generator().manual_seed(2)
                old = base + 0.3 * torch.randn(base.shape, generator=g)
                ref = base + 0.2 * torch.randn(base.shape, generator=g)
                inputs["old_per_token_logps"] = old
                if beta:
                    inputs["ref_per_token_logps"] = ref
                # TRL's loss and gradients.
                trainer.model.zero_grad(set_to_none=True)
                trl_loss = trainer._compute_loss(trainer.model, inputs)
                trl_loss.backward()
                trl_grads = {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
                # Ours.
                ours_model.zero_grad(set_to_none=True)
                # The trainer's path: each group's prompt runs once (shared_prompt_logits).
                logps = L.token_logps(L.completion_logits(ours_model, ids, attn, T, TEMPERATURE, group_size=G),
                                      inputs["completion_ids"])
                out = L.policy_loss(logps, old, adv, mask, loss_type=loss_type, epsilon_low=0.2, epsilon_high=0.28,
                                    delta=delta, beta=beta, ref_logps=ref if beta else None,
                                    max_completion_length=MAX_LEN, num_items=float(mask.sum()),
                                    use_bias_correction_kl=bias_kl)
                out.loss.backward()
                torch.testing.assert_close(out.loss, trl_loss.detach(), atol=1e-6, rtol=0)
                ours_grads = {n: p.grad for n, p in ours_model.named_parameters() if p.grad is not None}
                assert ours_grads.keys() == trl_grads.keys()
                for n, grad in ours_grads.items():
                    torch.testing.assert_close(grad, trl_grads[n], atol=1e-6, rtol=1e-5, msg=n)
                # Clipping is active: the test compares the clipped branch, not just the ratio-1 case.
                low_high = L.clip_fractions(out.ratio.detach(), adv, mask, 0.2, 0.28)
                assert low_high["clip_ratio/region_mean"][0] > 0
                assert abs(float(trl_loss.detach())) > 1e-3
                checked += 1
    assert checked == (27 if beta else 15)


def grouped_batch(tok, completion_ids):
    """PROMPTS, each G times, left-padded, followed by the right-padded completions.

    returns  (ids  # (N, P+T),  attention mask  # (N, P+T),  P,  T)
    """
    prompt_ids = [tok(p, add_special_tokens=False)["input_ids"] for p in PROMPTS for _ in range(G)]
    P, T = max(map(len, prompt_ids)), max(map(len, completion_ids))
    ids = torch.zeros(len(prompt_ids), P + T, dtype=torch.long)
    attn = torch.zeros_like(ids)
    for i, (p, c) in enumerate(zip(prompt_ids, completion_ids)):
        ids[i, P - len(p):P], attn[i, P - len(p):P] = torch.tensor(p), 1
        ids[i, P:P + len(c)], attn[i, P:P + len(c)] = torch.tensor(c), 1
    return ids, attn, P, T


def test_shared_prompt_forward_matches_single_forward(setup):
    """Running each group's prompt once gives the single forward's log-probs and gradients."""
    folder, tok, completion_ids, model_cls = setup
    model = model_cls.from_pretrained(folder).train()
    ids, attn, P, T = grouped_batch(tok, completion_ids)
    attn[1, P:] = 0  # a masked (truncated) completion
    mask = attn[:, P:].float()
    results = []
    for group_size in (1, G):
        model.zero_grad(set_to_none=True)
        logps = L.token_logps(L.completion_logits(model, ids, attn, T, TEMPERATURE, group_size=group_size), ids[:, P:])
        (logps * mask).sum().backward()
        results.append((logps.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}))
    (single, single_grads), (shared, shared_grads) = results
    torch.testing.assert_close(shared * mask, single * mask, atol=1e-6, rtol=0)
    for n in single_grads:
        torch.testing.assert_close(shared_grads[n], single_grads[n], atol=1e-5, rtol=1e-5, msg=n)


@pytest.mark.parametrize("padded", [True, False])
def test_static_kv_decoder_samples_as_the_model(setup, padded):
    """The fast decode step draws the same tokens as the model's own forward under the same seed."""
    from rewardkit.grpo import decoder
    from rewardkit.grpo.sampling import generate, tokenize_prompts

    folder, tok, _, model_cls = setup
    model = model_cls.from_pretrained(folder).eval()
    assert decoder.supports(model)
    prompts = PROMPTS if padded else ["abcd", "efgh"]
    ids, mask = tokenize_prompts(prompts, tok, None, "cpu")
    ids, mask = ids.repeat_interleave(G, 0), mask.repeat_interleave(G, 0)
    assert bool((mask == 0).any()) == padded
    out = []
    for fast in (True, False):
        torch.manual_seed(3)
        s = generate(model, ids, mask, max_new_tokens=12, eos_ids=[tok.eos_token_id], pad_id=tok.pad_token_id,
                     temperature=TEMPERATURE, top_k=40, group_size=G, fast=fast)
        out.append(s)
    assert out[0].completion_ids.size(1) > 1
    assert torch.equal(out[0].completion_ids, out[1].completion_ids)
    assert torch.equal(out[0].truncated, out[1].truncated)


@pytest.mark.parametrize("loss_type", ["grpo", "dapo", "bnpo"])
def test_zero_advantage_rows_skip_the_backward_exactly(setup, loss_type):
    """With beta 0, giving only groups with some nonzero advantage a graph leaves logits, loss and
    gradients as the full computation's (off-policy old log-probs, so the ratio is not 1)."""
    folder, tok, completion_ids, model_cls = setup
    model = model_cls.from_pretrained(folder).train()
    ids, attn, P, T = grouped_batch(tok, completion_ids)
    mask = attn[:, P:]
    adv = torch.tensor([0.5, -1.0, 0.0, 0.5] + [0.0] * 4 + [1.0, 0.0, 0.0, -1.0] + [0.0] * 4)  # groups 1, 3 zero
    live = L.signal_rows(adv, G)
    assert live.tolist() == [True] * 4 + [False] * 4 + [True] * 4 + [False] * 4
    old = None
    results = []
    for split in (False, True):
        model.zero_grad(set_to_none=True)
        logits = (L.completion_logits_live(model, ids, attn, T, TEMPERATURE, G, live) if split
                  else L.completion_logits(model, ids, attn, T, TEMPERATURE, group_size=G))
        logps = L.token_logps(logits, ids[:, P:])
        if old is None:
            old = logps.detach() + 0.3 * torch.randn(logps.shape, generator=torch.Generator().manual_seed(0))
        out = L.policy_loss(logps, old, adv, mask, loss_type=loss_type, epsilon_low=0.2, epsilon_high=0.28)
        out.loss.backward()
        results.append((logits.detach(), out.loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}))
    (full_logits, full_loss, full_grads), (logits, loss, grads) = results
    assert abs(float(full_loss)) > 1e-3  # clipping active, a real loss
    torch.testing.assert_close(logits, full_logits, atol=1e-6, rtol=0)
    torch.testing.assert_close(loss, full_loss, atol=1e-7, rtol=1e-6)
    for n in full_grads:
        torch.testing.assert_close(grads[n], full_grads[n], atol=1e-6, rtol=1e-5, msg=n)


def test_all_zero_advantages_keep_one_block():
    """Every parameter still gets a (zero) gradient when no row carries signal: one block is kept."""
    assert L.signal_rows(torch.zeros(8), 4).tolist() == [True] * 4 + [False] * 4
    assert L.signal_rows(torch.tensor([0.0, 0.0, 0.0, 1.0]), 1).tolist() == [False, False, False, True]
