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


def perturb(inputs, base, beta, old_scale=0.3):
    """Off-policy old log-probs and a perturbed reference, set into TRL's ``inputs``; returns (old, ref)."""
    g = torch.Generator().manual_seed(2)
    old = base + old_scale * torch.randn(base.shape, generator=g)
    ref = base + 0.2 * torch.randn(base.shape, generator=g)
    inputs["old_per_token_logps"] = old
    if beta:
        inputs["ref_per_token_logps"] = ref
    return old, ref


def trl_loss_and_grads(trainer, inputs):
    """TRL's own ``_compute_loss`` on ``inputs``, backpropagated: (loss, {name: grad})."""
    trainer.model.zero_grad(set_to_none=True)
    loss = trainer._compute_loss(trainer.model, inputs)
    loss.backward()
    return loss, {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}


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
                old, ref = perturb(inputs, base, beta)
                trl_loss, trl_grads = trl_loss_and_grads(trainer, inputs)
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


# --- TRL 1.16's loss menu: every loss type, sequence-level importance sampling, the masks, the bonus ---

LOSS_VARIANTS = [
    # (loss_type, importance_sampling_level, extra options)
    *[(lt, "token", {}) for lt in L.LOSS_TYPES],
    *[(lt, "sequence", {}) for lt in L.LOSS_TYPES],
    ("sapo", "token", {"sapo_temperature_pos": 2.0, "sapo_temperature_neg": 0.5}),
    ("vespo", "token", {"vespo_k_pos": 1.5, "vespo_lambda_pos": 2.5, "vespo_k_neg": 2.0, "vespo_lambda_neg": 1.0}),
    ("cispo", "token", {"epsilon_high": 1.1}),
    *[(lt, "token", {"off_policy_mask_threshold": 0.05}) for lt in ("dapo", "grpo", "cispo")],
    ("grpo", "sequence", {"off_policy_mask_threshold": 0.05}),
    *[(lt, "token", {"top_entropy_quantile": 0.3}) for lt in ("dapo", "grpo", "sapo", "luspo")],
    *[(lt, "token", {"entropy_coef": 0.05}) for lt in ("dapo", "grpo", "vespo")],
    ("bnpo", "token", {"entropy_coef": 0.05, "top_entropy_quantile": 0.5}),
]
TRL_ATTRS = ("top_entropy_quantile", "entropy_coef", "off_policy_mask_threshold")


@pytest.fixture(scope="module", params=[0.0, 0.04], ids=["beta0", "beta0.04"])
def trl_scored_batch(request, setup, tmp_path_factory):
    folder, tok, completion_ids, model_cls = setup
    trainer = make_trainer(folder, tok, model_cls, completion_ids, request.param, tmp_path_factory.mktemp("trl"))
    return trainer, trl_scored(trainer, "group", "dapo"), request.param


@pytest.mark.slow
@pytest.mark.parametrize("loss_type, level, extra", LOSS_VARIANTS,
                         ids=[f"{lt}-{lv}-{'-'.join(f'{k}={v}' for k, v in e.items())}" for lt, lv, e in LOSS_VARIANTS])
def test_loss_menu_parity_with_trl(setup, trl_scored_batch, loss_type, level, extra):
    """Loss and gradients equal TRL's ``_compute_loss`` for each loss type and option, on the same tensors."""
    folder, _, _, model_cls = setup
    trainer, scored, beta = trl_scored_batch
    opts = {"epsilon_high": 0.28, "sapo_temperature_pos": 1.0, "sapo_temperature_neg": 1.05, "vespo_k_pos": 2.0,
            "vespo_lambda_pos": 3.0, "vespo_k_neg": 3.0, "vespo_lambda_neg": 2.0, "top_entropy_quantile": 1.0,
            "entropy_coef": 0.0, "off_policy_mask_threshold": None, **extra}
    trainer.loss_type, trainer.importance_sampling_level = loss_type, level
    trainer.epsilon_high = opts["epsilon_high"]
    for key, value in opts.items():
        setattr(trainer.args, key, value)
        if key in TRL_ATTRS:
            setattr(trainer, key, value)
    trainer._entropy_bonus_enabled = opts["entropy_coef"] != 0.0
    trainer.args.delta, trainer.args.use_bias_correction_kl = None, True
    inputs = dict(scored)
    ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], dim=1)
    attn = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
    T, mask = inputs["completion_ids"].size(1), inputs["completion_mask"]
    ours_model = model_cls.from_pretrained(folder).train()
    with torch.no_grad():
        base = L.token_logps(L.completion_logits(ours_model, ids, attn, T, TEMPERATURE), inputs["completion_ids"])
    # A smaller perturbation for VESPO: its weight takes the sum of the log-ratios, which must stay finite.
    old, ref = perturb(inputs, base, beta, old_scale=0.05 if loss_type == "vespo" else 0.3)
    trl_loss, trl_grads = trl_loss_and_grads(trainer, inputs)

    logits = L.completion_logits(ours_model, ids, attn, T, TEMPERATURE, group_size=G)
    logps = L.token_logps(logits, inputs["completion_ids"])
    entropies = L.differentiable_entropy(logits)
    o = L.LossOptions(loss_type=loss_type, epsilon_low=0.2, epsilon_high=opts["epsilon_high"], beta=beta,
                      importance_sampling_level=level, max_completion_length=MAX_LEN,
                      off_policy_mask_threshold=opts["off_policy_mask_threshold"],
                      **{k: opts[k] for k in opts if k.startswith(("sapo_", "vespo_"))})
    emask = (L.high_entropy_mask(entropies.detach(), mask, 1 - opts["top_entropy_quantile"])
             if opts["top_entropy_quantile"] < 1 else None)
    out = L.policy_loss(logps, old, inputs["advantages"], mask, options=o, ref_logps=ref if beta else None,
                        num_items=float(mask.sum()), entropy_mask=emask, entropies=entropies,
                        entropy_coef=opts["entropy_coef"])
    out.loss.backward()
    torch.testing.assert_close(out.loss, trl_loss.detach(), atol=1e-6, rtol=0)
    assert abs(float(trl_loss.detach())) > 1e-4
    ours_grads = {n: p.grad for n, p in ours_model.named_parameters() if p.grad is not None}
    assert ours_grads.keys() == trl_grads.keys()
    for n, grad in ours_grads.items():
        torch.testing.assert_close(grad, trl_grads[n], atol=1e-5, rtol=1e-5, msg=n)
    # The ratio metrics TRL logs for this loss type, under its names and with its values.
    metrics = L.ratio_metrics(out, inputs["advantages"], mask, o)
    assert set(metrics) == set(L.ratio_metric_keys(loss_type))
    for key, (num, den) in metrics.items():
        assert num / den == pytest.approx(trainer._metrics["train"][key][-1], abs=1e-6), key
    if emask is not None:
        assert 0 < int(emask.sum()) < int(mask.sum())  # the mask keeps some tokens, not all
    if opts["off_policy_mask_threshold"] is not None:
        kept = L.off_policy_mask(inputs["advantages"].unsqueeze(1), logps, old, mask, 0.05)
        assert 0 < int(kept.sum()) < kept.numel()  # some sequences dropped, not all


@pytest.mark.slow
@pytest.mark.parametrize("aggregation", L.AGGREGATIONS)
@pytest.mark.parametrize("scale", ["group", "batch", "none"])
def test_multi_objective_aggregation_parity_with_trl(setup, trl_scored_batch, aggregation, scale):
    """Advantages equal TRL's for both aggregations, with None components (NaN) and a std-0 group."""
    trainer, _, _ = trl_scored_batch
    trainer.multi_objective_aggregation = aggregation
    try:
        scored = trl_scored(trainer, scale, "dapo")
    finally:
        trainer.multi_objective_aggregation = "sum_then_normalize"
    per_func = torch.tensor([[math.nan if a is None else a, math.nan if b is None else b] for a, b in zip(R1, R2)])
    rewards, adv, std = L.aggregate_advantages(per_func, torch.tensor(WEIGHTS), G, scale, aggregation)
    torch.testing.assert_close(adv, scored["advantages"], atol=1e-6, rtol=0)
    assert adv[3] == 0.0 and math.isnan(float(rewards[3]))  # the unscorable row
    zero_std = float(torch.isclose(std, torch.zeros_like(std)).float().mean())
    assert zero_std == pytest.approx(trainer._metrics["train"]["frac_reward_zero_std"][-1])
    other = "normalize_then_sum" if aggregation == "sum_then_normalize" else "sum_then_normalize"
    assert not torch.allclose(adv, L.aggregate_advantages(per_func, torch.tensor(WEIGHTS), G, scale, other)[1])


@pytest.mark.slow
@pytest.mark.parametrize("target", [10.0, 0.5])
def test_adaptive_entropy_parity_with_trl(setup, trl_scored_batch, target):
    """Three optimizer steps of TRL's adaptive entropy controller and ours: same loss, same coefficient."""
    from types import SimpleNamespace

    from rewardkit.grpo.entropy import EntropyController

    folder, _, _, model_cls = setup
    trainer, scored, beta = trl_scored_batch
    trainer.loss_type, trainer.importance_sampling_level, trainer.epsilon_high = "dapo", "token", 0.28
    trainer.top_entropy_quantile, trainer.off_policy_mask_threshold = 1.0, None
    cfg = SimpleNamespace(entropy_coef=0.01, use_adaptive_entropy=True, entropy_coef_min=0.0, entropy_coef_max=0.02,
                          entropy_coef_delta=0.005, entropy_target=target)
    for key in ("entropy_coef_min", "entropy_coef_max", "entropy_coef_delta", "entropy_target"):
        setattr(trainer.args, key, getattr(cfg, key))
    trainer.entropy_coef, trainer.use_adaptive_entropy, trainer._entropy_bonus_enabled = 0.01, True, True
    trainer._last_world_entropy, trainer._entropy_window_stats = float("inf"), None
    ctl = EntropyController(cfg)
    inputs = dict(scored)
    ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], dim=1)
    attn = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
    T, mask = inputs["completion_ids"].size(1), inputs["completion_mask"]
    ours_model = model_cls.from_pretrained(folder).train()
    coefs = []
    try:
        for _ in range(3):
            coef = ctl.apply_coef()
            trl_loss, _ = trl_loss_and_grads(trainer, inputs)
            logits = L.completion_logits(ours_model, ids, attn, T, TEMPERATURE, group_size=G)
            logps = L.token_logps(logits, inputs["completion_ids"])
            entropies = L.differentiable_entropy(logits)
            o = L.LossOptions(loss_type="dapo", epsilon_high=0.28, beta=beta, max_completion_length=MAX_LEN)
            out = L.policy_loss(logps, logps.detach(), inputs["advantages"], mask, options=o,
                                ref_logps=inputs.get("ref_per_token_logps"), num_items=float(mask.sum()),
                                entropies=entropies, entropy_coef=coef)
            torch.testing.assert_close(out.loss.detach(), trl_loss.detach(), atol=1e-6, rtol=0)
            m = mask.float()
            ctl.end_step(float((entropies.detach() * m).sum()), float(m.sum()))
            assert ctl.coef == pytest.approx(trainer.entropy_coef)
            coefs.append(ctl.coef)
    finally:
        trainer.use_adaptive_entropy, trainer._entropy_bonus_enabled, trainer.entropy_coef = False, False, 0.0
    # target 10 (above the entropy): the coefficient grows to its max; 0.5 (below): it shrinks to its min.
    assert coefs == pytest.approx([0.015, 0.02, 0.02] if target == 10.0 else [0.005, 0.0, 0.0])
