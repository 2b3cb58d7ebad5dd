import pytest

import rewardkit
from rewardkit.config import parse


def write(tmp_path, text, name="rewards.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_parse_full_entry(tmp_path):
    p = write(tmp_path, """
rewards:
  - use: exclaim
    weight: 2
    as: excitement
    with: {per_mark: 0.5}
  - length
on_error: skip
timeout: 3
""")
    spec = parse(p)
    a, b = spec.components
    assert (a.use, a.label, a.weight, a.options, a.on_error, a.timeout) == ("exclaim", "excitement", 2.0, {"per_mark": 0.5}, "skip", 3.0)
    assert (b.use, b.label, b.weight, b.options) == ("length", "length", 1.0, {})
    assert a.where == f"{p}, entry 1 (line 3) (exclaim)"


def test_entry_overrides_policy():
    spec = parse({"rewards": [{"use": "exclaim", "on_error": "zero", "timeout": 1}], "on_error": "raise"})
    assert spec.components[0].on_error == "zero" and spec.components[0].timeout == 1.0


def test_bare_list_is_rewards():
    assert parse([{"use": "exclaim"}]).components[0].use == "exclaim"


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("rewards:\n  - use: exclaim\n    weight: heavy\n", r"rewards.yaml, entry 1 \(line 2\) \(exclaim\): 'weight' must be a number, got 'heavy'"),
        ("rewards:\n  - use: exclaim\n    wieght: 1\n", r"entry 1 \(line 2\): unknown key 'wieght'; did you mean 'weight'\?"),
        ("rewardz:\n  - use: exclaim\n", r"unknown top-level key 'rewardz'; did you mean 'rewards'\?"),
        ("rewards: []\n", r"key 'rewards': expected a non-empty list"),
        ("on_error: raise\n", r"missing key 'rewards'"),
        ("rewards:\n  - use: exclaim\non_error: ignore\n", r"key 'on_error': expected one of raise \| zero \| skip, got 'ignore'"),
        ("rewards:\n  - use: exclaim\n  - use: exclaim\n", r"entry 2 \(line 3\) \(exclaim\): label 'exclaim' is already used by .*entry 1"),
        ("rewards:\n  - use: exclaim\n    as: total\n", r"'as: total' is reserved"),
        ("rewards:\n  - weight: 1\n", r"key 'use' must name a registered reward"),
        ("rewards:\n  - use: exclaim\n    with: [1, 2]\n", r"'with' must be a mapping"),
        ("rewards:\n  - use: exclaim\n    timeout: -1\n", r"key 'timeout': expected a positive number"),
        ("rewards:\n  - use: exclaim\n    weight: .inf\n", r"'weight' must be a finite number"),
        ("- 3\n", r"entry 1 \(line 1\): expected a mapping like"),
        ("just a string\n", r"expected a mapping with a 'rewards:' list, got str"),
    ],
)
def test_config_errors_are_one_line(tmp_path, text, pattern):
    p = write(tmp_path, text)
    with pytest.raises(rewardkit.ConfigError, match=pattern) as e:
        parse(p)
    assert "\n" not in str(e.value)


def test_yaml_syntax_error_names_line(tmp_path):
    p = write(tmp_path, "rewards:\n  - use: exclaim\n    with: {per_mark: 1\n  - use: length\n")
    with pytest.raises(rewardkit.ConfigError, match=r"rewards.yaml, line \d+, column \d+: YAML syntax error"):
        parse(p)


def test_missing_file():
    with pytest.raises(rewardkit.ConfigError, match="no such config file"):
        parse("/nonexistent/rewards.yaml")


def test_numeric_string_weight_is_accepted():
    assert parse({"rewards": [{"use": "exclaim", "weight": "0.5"}]}).components[0].weight == 0.5


def test_allow_keys_lets_a_caller_own_other_keys():
    spec = parse({"model": "x", "rewards": [{"use": "exclaim"}]}, allow_keys=("model",))
    assert spec.components[0].use == "exclaim"
