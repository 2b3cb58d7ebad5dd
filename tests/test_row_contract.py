"""The row contract (rewardkit.rows): one path from rows to per-component scores and the total.

The unit tests pin columns_from_rows / score_rows; the one-path test scores the same rows (with a
row where one component gives None and a row where every component does) through every caller:
``rewardkit score``, the server, the trainer's completions log, TRL, verl and OpenRLHF.
"""

from __future__ import annotations

import json
import math

import pytest

import rewardkit
from rewardkit.errors import DataError
from rewardkit.rows import NONE_AS_NUMBER, columns_from_rows, row_total, score_rows


class Pick(rewardkit.Reward):
    """The row's ``column`` value as the score (a float or None): the score a test chooses."""

    name = "pick"
    column: str = "a"

    def score(self, prompts, completions, **columns):
        values = columns.get(self.column, [None] * len(completions))  # absent: does not apply
        return [None if v is None else float(v) for v in values]


class _PickPlugin:
    @rewardkit.hookimpl
    def register_rewards(self, register):
        register(Pick)


REWARDS = {"rewards": [{"use": "pick", "as": "a", "weight": 0.3, "with": {"column": "a"}},
                       {"use": "pick", "as": "b", "weight": 0.7, "with": {"column": "b"}}]}
# Scores chosen so that a float32 round trip or a different summation would change the bytes.
ROWS = [
    {"id": 0, "prompt": "p0", "completion": "c0", "a": 0.1, "b": 0.2},
    {"id": 1, "prompt": "p1", "completion": "c1", "a": None, "b": 0.7},  # one component None
    {"id": 2, "prompt": "p2", "completion": "c2", "a": None, "b": None},  # unscorable
    {"id": 3, "prompt": [{"role": "user", "content": "p3"}], "completion": [{"role": "assistant", "content": "c3"}],
     "a": 1 / 3, "b": 2 / 3},
]
WANT_TOTALS = [0.3 * 0.1 + 0.7 * 0.2, 0.7 * 0.7, None, 0.3 * (1 / 3) + 0.7 * (2 / 3)]


@pytest.fixture
def composite(fresh_registry):
    fresh_registry.register_plugin(_PickPlugin(), name="pickplugin")
    return rewardkit.load(REWARDS)


def canon(values) -> str:
    """The exact bytes of a list of scores as JSON (repr of each float)."""
    return json.dumps(values)


# -- (a) the core functions ------------------------------------------------------------------------

def test_columns_from_rows_are_aligned_and_missing_values_are_none():
    rows = [{"prompt": "p", "completion": "c", "x": 1}, {"completion": "d", "y": 2}]
    prompts, completions, columns = columns_from_rows(rows)
    assert prompts == ["p", ""] and completions == ["c", "d"]
    assert columns == {"x": [1, None], "y": [None, 2]}
    assert columns_from_rows([]) == ([], [], {})


def test_chat_rows_pass_through_as_messages():
    prompts, completions, _ = columns_from_rows(ROWS[3:])
    assert prompts == [ROWS[3]["prompt"]] and completions == [ROWS[3]["completion"]]


@pytest.mark.parametrize("name", ["prompts", "completions", "self"])
def test_reserved_column_is_a_one_line_data_error_naming_it(name, composite):
    rows = [{"prompt": "p", "completion": "c", "a": 1, "b": 1}, {"completion": "d", name: 1}]
    with pytest.raises(DataError) as e:
        score_rows(composite, rows)
    assert f"column '{name}' is a reserved name" in str(e.value) and "\n" not in str(e.value)
    assert e.value.row == 1


def test_a_column_named_like_a_trainer_keyword_the_caller_passes_is_refused(composite):
    rows = [{"completion": "c", "a": 1, "b": 1, "completion_ids": [1]}]
    assert score_rows(composite, rows)[0]["reward"] == pytest.approx(1.0)  # a plain column here
    with pytest.raises(DataError, match="column 'completion_ids' is a reserved name"):
        score_rows(composite, rows, completion_ids=[[5]])


def test_cli_names_the_file_and_line_of_a_reserved_column(composite, tmp_path, capsys):
    from rewardkit.cli import main

    config = tmp_path / "rewards.yaml"
    config.write_text(json.dumps(REWARDS))
    data = tmp_path / "rows.jsonl"
    data.write_text('{"completion": "c", "a": 1, "b": 1}\n{"completion": "c", "self": 1}\n')
    assert main(["score", str(config), str(data)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{data}, line 2: column 'self' is a reserved name (a keyword of the reward call); "
                        "rename it") and "\n" not in err


def test_server_answers_a_reserved_column_with_a_422_naming_it(composite):
    from starlette.testclient import TestClient

    from rewardkit.serve import create_app

    with TestClient(create_app(composite)) as client:
        resp = client.post("/score", json={"rows": [{"completion": "c", "prompts": ["x"]}]})
    assert resp.status_code == 422 and "column 'prompts' is a reserved name" in resp.text


def test_row_total_rule():
    assert row_total([0.3, 0.7], [0.1, 0.2]) == 0.3 * 0.1 + 0.7 * 0.2
    assert row_total([0.3, 0.7], [None, 0.2]) == 0.7 * 0.2  # a None component is left out
    assert row_total([0.3, 0.7], [None, None]) is None  # unscorable, not 0.0
    assert row_total([1.0], [0.0]) == 0.0  # a real zero stays a zero


def test_score_rows_adds_reward_and_rewards_and_keeps_the_row(composite):
    out = score_rows(composite, ROWS)
    assert [r["reward"] for r in out] == WANT_TOTALS
    assert [r["rewards"] for r in out] == [{"a": r["a"], "b": r["b"]} for r in ROWS]
    assert all({k: v for k, v in o.items() if k not in ("reward", "rewards")} == r for o, r in zip(out, ROWS))
    assert composite.score_rows(ROWS) == out
    assert composite.breakdown(prompts=[r["prompt"] for r in ROWS],
                               completions=[r["completion"] for r in ROWS],
                               a=[r["a"] for r in ROWS], b=[r["b"] for r in ROWS]).total == WANT_TOTALS


# -- (b) one path: every caller gives the same bytes -----------------------------------------------

def _core(composite):
    out = score_rows(composite, ROWS)
    return {label: [r["rewards"][label] for r in out] for label in ("a", "b")}, [r["reward"] for r in out]


def _via_cli(composite, tmp_path, rows=ROWS):
    from rewardkit.cli import main

    config = tmp_path / "rewards.yaml"
    config.write_text(json.dumps(REWARDS))
    data, out = tmp_path / "rows.jsonl", tmp_path / "scored.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["score", str(config), str(data), "-o", str(out)]) == 0
    return [json.loads(line) for line in out.read_text().splitlines()]


def _via_server(composite):
    from starlette.testclient import TestClient

    from rewardkit.serve import create_app

    with TestClient(create_app(composite)) as client:
        resp = client.post("/score", json={"rows": ROWS})
    assert resp.status_code == 200, resp.text
    return resp.json()["rows"]


def test_cli_server_trl_verl_openrlhf_give_the_same_bytes(composite, tmp_path):
    scores, totals = _core(composite)
    assert totals == WANT_TOTALS

    # rewardkit score and the server: JSON, None as null, byte-identical floats.
    for got in (_via_cli(composite, tmp_path), _via_server(composite)):
        assert canon([r["reward"] for r in got]) == canon(totals)
        for label in scores:
            assert canon([r["rewards"][label] for r in got]) == canon(scores[label])

    # TRL: one function per component, called as GRPOTrainer calls them (columns as keyword lists).
    from rewardkit.integrations.trl import reward_funcs

    funcs, weights = reward_funcs(composite)
    kwargs = {"a": [r["a"] for r in ROWS], "b": [r["b"] for r in ROWS], "id": [r["id"] for r in ROWS],
              "completion_ids": [[1]] * len(ROWS), "trainer_state": None}
    per_func = [f(prompts=[r["prompt"] for r in ROWS], completions=[r["completion"] for r in ROWS], **kwargs)
                for f in funcs]
    for f, got in zip(funcs, per_func):
        assert canon(got) == canon(scores[f.__name__])
    torch = pytest.importorskip("torch")
    # TRL 1.16's _calculate_rewards + the unscorable mask of _compute_advantages, in float64.
    rpf = torch.tensor([[math.nan if v is None else v for v in col] for col in per_func], dtype=torch.float64).T
    trl_total = (rpf * torch.tensor(weights, dtype=torch.float64)).nansum(dim=1)
    trl_total[torch.isnan(rpf).all(dim=1)] = math.nan
    assert [None if math.isnan(t) else t for t in trl_total.tolist()] == pytest.approx(totals)

    # verl and OpenRLHF take numbers only: None is NONE_AS_NUMBER (docs/rows.md), nothing else moves.
    def number(v):
        return NONE_AS_NUMBER if v is None else v

    from rewardkit.integrations import _shared, openrlhf, verl

    _shared.clear_cache()
    try:
        config = str(tmp_path / "rewards.yaml")
        _shared._cache[_shared.config_path(config, "test")] = composite  # the same composite object
        batch = verl.compute_score_batch(
            [r["id"] for r in ROWS], [r["completion"] for r in ROWS], [None] * len(ROWS),
            [{"prompt": r["prompt"], "a": r["a"], "b": r["b"]} for r in ROWS], config=config)
        single = [verl.compute_score(r["id"], r["completion"], None, {"prompt": r["prompt"], "a": r["a"],
                                                                      "b": r["b"]}, config=config) for r in ROWS]
        for got in (batch, single):
            assert canon([g["score"] for g in got]) == canon([number(t) for t in totals])
            for label in scores:
                assert canon([g[label] for g in got]) == canon([number(v) for v in scores[label]])

        # OpenRLHF's only column is the label: the same rows as the core scores them with that column.
        for label in scores:
            texts = [r["completion"] for r in ROWS[:3]]
            out = openrlhf.score_queries(composite, texts, None, [r[label] for r in ROWS[:3]], label_field=label)
            core = score_rows(composite, [{"completion": t, label: r[label]} for t, r in zip(texts, ROWS)])
            assert canon(out["rewards"]) == canon([number(r["reward"]) for r in core])
            for lbl in scores:
                assert canon(out["extra_logs"][lbl]) == canon([number(r["rewards"][lbl]) for r in core])
        tensors = openrlhf.reward_func(["p0c0", "p2c2"], ["p0", "p2"], [0.1, None], config=config, label_field="a")
        assert tensors["rewards"].tolist() == [pytest.approx(0.3 * 0.1), NONE_AS_NUMBER]
    finally:
        _shared.clear_cache()


def test_trainer_completions_log_gives_the_same_bytes_as_rewardkit_score(composite, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import grpo_tiny

    from rewardkit.cli import main

    model = grpo_tiny.make_model(tmp_path / "model")
    config = grpo_tiny.make_config(tmp_path / "train", model, rewards=REWARDS["rewards"], max_steps=1,
                                   per_device_train_batch_size=16, save_steps=0)
    # Every prompt of the step (4 prompts x 4 completions), the unscorable one included; all chat
    # (a dataset uses one prompt form).
    chat = [{**{k: v for k, v in r.items() if k != "completion"},
             "prompt": r["prompt"] if isinstance(r["prompt"], list) else [{"role": "user", "content": r["prompt"]}]}
            for r in ROWS]
    (tmp_path / "train" / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in chat))
    assert main(["train", str(config)]) == 0
    logged = [json.loads(line) for line in (tmp_path / "train" / "run" / "completions.jsonl").read_text().splitlines()]
    assert len(logged) == 16 and {r["id"] for r in logged} == {0, 1, 2, 3}
    assert any(r["reward"] is None for r in logged)  # the unscorable row is null, as `score` writes it

    rescored = _via_cli(composite, tmp_path, [{k: v for k, v in r.items() if k != "step"} for r in logged])
    assert canon([r["reward"] for r in logged]) == canon([r["reward"] for r in rescored])
    assert canon([r["rewards"] for r in logged]) == canon([r["rewards"] for r in rescored])
    by_id = {r["id"]: t for r, t in zip(ROWS, WANT_TOTALS)}
    assert [r["reward"] for r in logged] == [by_id[r["id"]] for r in logged]


def test_demo_mean_reward_leaves_unscorable_rows_out(monkeypatch):
    from rewardkit.demo import evaluate as ev
    from rewardkit.demo.task import Problem

    monkeypatch.setattr(ev, "generate_greedy", lambda model, tok, prompts, n: ["x"] * len(prompts))
    totals = iter([[None, 1.0, 3.0], [None, None, None]])
    problems = [Problem(1, 2), Problem(2, 3), Problem(3, 4)]
    assert ev.evaluate(None, None, problems, lambda **kw: next(totals), 4).reward == 2.0
    assert math.isnan(ev.evaluate(None, None, problems, lambda **kw: next(totals), 4).reward)


def test_trainer_tensor_total_follows_the_same_rule(composite):
    torch = pytest.importorskip("torch")
    from rewardkit.grpo import losses

    scored = score_rows(composite, ROWS)
    per_func = torch.tensor([[math.nan if r["rewards"][k] is None else r["rewards"][k] for k in ("a", "b")]
                             for r in scored], dtype=torch.float64)  # (N, K)
    got = losses.total_rewards(per_func, torch.tensor(composite.weights, dtype=torch.float64)).tolist()
    assert [None if math.isnan(t) else t for t in got] == pytest.approx(WANT_TOTALS)
    adv, _ = losses.group_advantages(torch.tensor([1.0, math.nan, 3.0, 2.0]), 4)
    assert adv[1] == 0.0 and adv[[0, 2, 3]].mean().abs() < 1e-6  # left out of its group's mean
