"""Generated hostile input (hypothesis, bounded and derandomized): rewards YAML, data rows and
reward return values. For every input: a clean result with finite totals, or a one-line
:class:`rewardkit.RewardkitError`, never another exception."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rewardkit
from rewardkit.commands.score import score_file
from rewardkit.compose import Component, Composite
from rewardkit.errors import RewardkitError

FUZZ = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Scalars a hostile file holds: huge and non-finite numbers, surrogates, control characters.
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["length", "exclaim", "flaky", "raise", "zero", "skip", "\ud800", "1e400", ".inf"]),
)
KEYS = ["rewards", "use", "weight", "as", "with", "on_error", "timeout", "cap", "mode", "x"]
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=12,
)
entries = st.one_of(
    st.sampled_from(["length", "exclaim", "nope"]),
    st.fixed_dictionaries({"use": st.sampled_from(["length", "exclaim", "flaky"])},
                          optional={"weight": scalars, "as": scalars, "on_error": scalars, "timeout": scalars,
                                    "with": st.dictionaries(st.sampled_from(["cap", "mode", "per_mark", "x"]),
                                                            scalars, max_size=2)}),
    values,
)
configs = st.one_of(
    st.fixed_dictionaries({"rewards": st.lists(entries, max_size=3)},
                          optional={"on_error": scalars, "timeout": scalars, "extra": values}),
    values,
)


def _assert_one_line(e: BaseException) -> None:
    assert isinstance(e, RewardkitError), f"{type(e).__name__}: {e}"
    assert "\n" not in str(e) and str(e).strip(), repr(str(e))


def _check_totals(totals: list[float | None]) -> None:
    # None: a row no component scored (SPEC: unscorable); anything else a finite float
    assert all(t is None or (isinstance(t, float) and math.isfinite(t)) for t in totals), totals
    json.dumps(totals, allow_nan=False)  # what `score` writes is valid JSON


def _dump(config: Any) -> str | None:
    try:
        return yaml.safe_dump(config, allow_unicode=True)
    except (yaml.YAMLError, UnicodeEncodeError):
        return None


@FUZZ
@given(config=configs, raw=st.one_of(st.none(), st.binary(max_size=40), st.text(max_size=40)))
def test_generated_rewards_yaml_loads_or_is_one_line_error(config, raw):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.yaml"
        if raw is None:
            text = _dump(config)
            if text is None:
                return
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        elif isinstance(raw, bytes):
            path.write_bytes(b"rewards:\n  - length\n" + raw)
        else:
            path.write_text(raw, encoding="utf-8", errors="surrogatepass")
        try:
            composite = rewardkit.load(path)
        except Exception as e:  # noqa: BLE001 - the assertion says which kind it must be
            _assert_one_line(e)
            return
        try:
            _check_totals(composite(prompts=["p", "q"], completions=["hello!", "boom"]))
        except Exception as e:  # noqa: BLE001
            _assert_one_line(e)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["role", "content", "x"]), inner,
                                                                 max_size=3),
    max_leaves=8,
)
chats = st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]),
                                        "content": st.text(max_size=10)}), min_size=1, max_size=3)
rows = st.fixed_dictionaries(
    {"completion": st.one_of(st.text(max_size=20), chats, json_values)},
    optional={"prompt": st.one_of(st.text(max_size=10), chats, json_values), "meta": json_values},
)
lines = st.one_of(
    rows.map(lambda r: json.dumps(r).encode()),
    st.sampled_from([b"", b"{", b"[]", b"null", b'{"completion": "\\ud800"}', b'{"completion": "a"\xff}',
                     b'{"completion": ' + b"9" * 5000 + b"}", b"[" * 5000 + b"]" * 5000]),
)


@FUZZ
@given(data=st.lists(lines, min_size=1, max_size=6), batch_size=st.integers(1, 4))
def test_generated_data_rows_score_or_are_one_line_error(data, batch_size):
    composite = rewardkit.load({"rewards": [{"use": "length", "with": {"mode": "shorter", "max_tokens": 8}},
                                            {"use": "exclaim", "weight": 0.5}]})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.jsonl"
        path.write_bytes(b"\n".join(data) + b"\n")
        try:
            out = list(score_file(composite, str(path), batch_size))
        except Exception as e:  # noqa: BLE001
            _assert_one_line(e)
            assert "d.jsonl" in str(e)  # every data error names the file
            return
    _check_totals([r["reward"] for r in out])
    for r in out:
        json.dumps(r, allow_nan=False).encode("utf-8")  # the row can be written out


class Fixed(rewardkit.Reward):
    """Returns ``value`` as it is (set per example)."""

    name = "fuzz_fixed"

    def score(self, prompts, completions, **columns):
        return self.value


returns = st.one_of(
    st.lists(st.one_of(st.none(), st.booleans(), st.floats(), st.integers(min_value=-(10**400), max_value=10**400),
                       st.complex_numbers(), st.text(max_size=3), st.just({})), min_size=0, max_size=4),
    st.tuples(st.floats(), st.floats()),
    st.dictionaries(st.integers(0, 3), st.floats(), max_size=3),
    st.text(max_size=4), st.sets(st.integers(0, 3), max_size=3), st.none(), st.floats(),
)


@FUZZ
@given(value=returns, weight=st.floats(-1e38, 1e38), policy=st.sampled_from(["raise", "zero", "skip"]))
def test_generated_return_values_are_scores_or_reward_errors(value, weight, policy):
    reward = Fixed()
    reward.value = value
    composite = Composite([Component("f", weight, reward, on_error=policy, use="fuzz_fixed"),
                           Component("g", weight, Fixed(), on_error="raise", use="fuzz_fixed")])
    composite["g"].reward.value = [1.0, 2.0]
    try:
        breakdown = composite.breakdown(prompts=["p", "q"], completions=["a", "b"])
    except Exception as e:  # noqa: BLE001
        _assert_one_line(e)
        assert policy == "raise" and isinstance(e, rewardkit.RewardError)
        return
    assert all(s is None or (isinstance(s, float) and math.isfinite(s)) for s in breakdown["f"])
    _check_totals(breakdown.total)


@pytest.mark.parametrize("value", [{0: 1.0, 1: 1.0}, "11", {1, 2}, (x for x in [1.0, 1.0])])
def test_iterables_that_are_not_sequences_are_never_read_as_scores(value):
    reward = Fixed()
    reward.value = value
    with pytest.raises(rewardkit.RewardError, match=f"returned {type(value).__name__}"):
        Composite([Component("f", 1.0, reward, use="fuzz_fixed")])(completions=["a", "b"])
