"""`rewardkit probe`: weak configs are caught, the recommended math recipe is not, plugins add
attacks through `register_attacks`, exit statuses, one-line errors, the report files."""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path

import pytest

import rewardkit
from rewardkit.cli import main
from rewardkit.errors import ConfigError
from rewardkit.jsonl import read_rows
from rewardkit.probe import CATALOGUE, probe
from rewardkit.probe.attacks import plugin_attacks

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"
ARITH = EX / "arithmetic.jsonl"
ROWS = read_rows(ARITH)[:20]
# Word problems: no expression in the prompt for a grader to be fooled by an echo of it.
WORDS = [{"prompt": f"How many legs do {n} spiders have?", "answer": str(8 * n)} for n in range(1, 13)]



def by_name(report):
    return {f.attack: f for f in report.findings}


def run_cli(*args):
    return main(["probe", *map(str, args)])


def test_length_only_reward_is_caught():
    report = probe(rewardkit.load(EX / "probe" / "length_only.yaml"), ROWS)
    found = by_name(report)
    # A wrong answer is as short as a right one, and saying nothing is shorter still.
    assert found["wrong_answer"].severity == "high"
    assert found["empty"].severity == "high"
    assert found["empty"].responsible == "length"
    assert found["empty"].reaches_correct == 1.0


def test_format_weighted_above_math_is_caught():
    report = probe(rewardkit.load(EX / "probe" / "format_heavy.yaml"), ROWS)
    found = by_name(report)
    # Correctness moves the total by 0.2 of a range of 1.2: the layout is what pays.
    assert found["wrong_answer"].severity == "medium"
    assert report.at_least("medium")
    assert found["format_wrong"].example["total"] == pytest.approx(1.0)


def test_recommended_math_recipe_has_no_high_finding():
    report = probe(rewardkit.load(EX / "probe" / "math.yaml"), ROWS)
    high = {f.attack for f in report.at_least("high")}
    assert not high, high  # echo_question included: \boxed{7+10} for "7+10=" gets nothing
    found = by_name(report)
    assert report.layout == "think_boxed"  # inferred: the box inside the answer tags pays most
    for name in ("wrong_answer", "hedge", "box_every_option", "padding", "empty", "format_noise",
                 "grader_instruction", "math.set_hedge", "math.percent"):
        assert found[name].severity in ("none", "low"), (name, found[name])


def test_recommended_recipe_without_an_expression_to_echo_has_no_high_finding():
    report = probe(rewardkit.load(EX / "probe" / "math.yaml"), WORDS)
    assert report.at_least("high") == []
    assert by_name(report)["echo_question"].rows == 0  # nothing to echo: not applied


def test_math_plugin_attacks_only_for_composites_using_math():
    with_math = {f.attack: f.source for f in probe(rewardkit.load(EX / "probe" / "math.yaml"), ROWS).findings}
    assert {"math.set_hedge", "math.plus_minus", "math.interval", "math.percent"} <= set(with_math)
    assert with_math["math.percent"] == "math"
    without = {f.attack for f in probe(rewardkit.load(EX / "probe" / "length_only.yaml"), ROWS).findings}
    assert not any(a.startswith("math.") for a in without)


class Polite(rewardkit.Reward):
    """1.0 when the completion says please (a reward with an obvious hole)."""

    name = "polite"

    def score(self, prompts, completions, **columns):
        return [float("please" in rewardkit.text_of(c).lower()) for c in completions]


def _polite_plugin():
    mod = types.ModuleType("rewardkit_polite")

    @rewardkit.hookimpl
    def register_rewards(register):
        register(Polite)

    @rewardkit.hookimpl
    def register_attacks(register):
        register(lambda case: f"please {case.other}", name="polite.beg", expect="wrong",
                 description="a wrong answer that says please")

    mod.register_rewards, mod.register_attacks = register_rewards, register_attacks
    return mod


def test_third_party_plugin_attack_is_in_the_report(fresh_registry, tmp_path, capsys):
    fresh_registry.register_plugin(_polite_plugin(), name="polite", distribution="rewardkit-polite")
    cfg = tmp_path / "rewards.yaml"
    cfg.write_text("rewards:\n  - use: polite\n  - use: math\n    weight: 1.0\n")
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in WORDS))
    assert run_cli(cfg, rows, "--out", tmp_path / "out", "--fail-on", "high") == 1
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    beg = {f["attack"]: f for f in report["findings"]}["polite.beg"]
    assert beg["source"] == "polite" and beg["severity"] == "high" and beg["responsible"] == "polite"
    assert "polite.beg (high)" in capsys.readouterr().err


def test_plugin_attacks_are_validated():
    ok = lambda case: ""
    with pytest.raises(ConfigError, match="plugin 'p'.*expect='maybe'"):
        plugin_attacks([("p", {"make": ok, "name": "p.x", "expect": "maybe"})], {})
    with pytest.raises(ConfigError, match="'empty' is registered twice: by rewardkit and by p"):
        plugin_attacks([("p", {"make": ok, "name": "empty"})], {})
    with pytest.raises(ConfigError, match="not callable"):
        plugin_attacks([("p", {"make": 3, "name": "p.y"})], {})


def test_every_catalogue_attack_builds_a_string_or_skips():
    report = probe(rewardkit.load(EX / "probe" / "length_only.yaml"), ROWS[:4], attacks=CATALOGUE)
    assert [f.attack for f in report.findings] == ["wrong_answer", *(a.name for a in CATALOGUE)]
    assert {a.family for a in CATALOGUE} == {"length", "format", "answer", "judge"}


def test_fail_on_exit_status(tmp_path):
    rows = tmp_path / "words.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in WORDS))
    recipe = EX / "probe" / "math.yaml"
    assert run_cli(recipe, rows, "--out", tmp_path / "a", "--fail-on", "high") == 0
    assert run_cli(recipe, rows, "--out", tmp_path / "b", "--fail-on", "medium") == 1  # toxic: blind
    assert run_cli(recipe, rows, "--out", tmp_path / "c") == 0
    assert run_cli(EX / "probe" / "length_only.yaml", rows, "--out", tmp_path / "d", "--fail-on", "high") == 1


def test_report_files_and_table(tmp_path, capsys):
    assert run_cli(EX / "probe" / "length_only.yaml", ARITH, "--rows", 10, "--out", tmp_path / "r") == 0
    out = capsys.readouterr()
    assert "empty" in out.out and "high" in out.out
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["rows"] == 10 and report["counts"]["high"] >= 2
    assert len(report["correct"]) == len(report["wrong"]) == 10
    page = (tmp_path / "r" / "report.html").read_text()
    assert page.count("<img") == len(report["findings"])  # one plot per attack


def test_without_matplotlib_json_is_written_and_the_page_skipped(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert run_cli(EX / "probe" / "length_only.yaml", ARITH, "--rows", 5, "--out", tmp_path) == 0
    assert (tmp_path / "report.json").exists() and not (tmp_path / "report.html").exists()
    assert "report.html skipped (matplotlib is not installed" in capsys.readouterr().err


@pytest.mark.parametrize("rows, message", [
    ([{"prompt": "1+1=", "answer": "2"}, {"prompt": "2+2="}], "row 2: no label column 'answer'"),
    ([{"prompt": "1+1=", "answer": "2"}, {"prompt": "0+2=", "answer": "2"}], "at least two different 'answer'"),
    ([{"answer": "2"}], "line 1: row has no 'prompt' field"),
])
def test_bad_data_exits_2_with_one_line_and_keeps_a_good_report(tmp_path, capsys, rows, message):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("good\n")
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert run_cli(EX / "probe" / "length_only.yaml", data, "--out", out) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and str(data) in err
    assert (out / "report.json").read_text() == "good\n"


def test_bad_config_exits_2(tmp_path, capsys):
    cfg = tmp_path / "r.yaml"
    cfg.write_text("rewards:\n  - use: lenght\n")
    assert run_cli(cfg, ARITH) == 2
    err = capsys.readouterr().err.strip()
    assert "did you mean 'length'" in err and len(err.splitlines()) == 1


def test_reference_field_is_the_correct_completion_and_chat_prompts_work():
    rows = [{"prompt": [{"role": "user", "content": f"{a}+{b}="}], "answer": str(a + b),
             "reference": f"<think>{a} plus {b}.</think><answer>\\boxed{{{a + b}}}</answer>"}
            for a, b in ((7, 10), (3, 5), (2, 9), (4, 4))]
    report = probe(rewardkit.load(EX / "probe" / "math.yaml"), rows)
    assert report.correct == pytest.approx([1.2] * 4)  # the references, boxed and in tags
    assert report.wrong == pytest.approx([0.2] * 4)  # another row's gold in the reference's place
    echo = by_name(report)["echo_question"]
    assert echo.rows == 4  # the expression is read from the chat prompt's text
    assert re.search(r"\\boxed\{\d\+\d+\}", echo.example["completion"])


def test_progress_without_tqdm(monkeypatch, capsys):
    import rewardkit.progress

    monkeypatch.setattr(rewardkit.progress, "tqdm", None)  # tqdm is not a core dependency
    report = probe(rewardkit.load(EX / "probe" / "length_only.yaml"), ROWS[:3], progress=True)
    assert len(report.findings) == len(CATALOGUE) + 1
    assert "probing" not in capsys.readouterr().err  # no bar, and the run is the same


def test_a_plugin_whose_attack_hook_raises_is_named(fresh_registry, tmp_path, capsys):
    mod = types.ModuleType("rewardkit_broken")

    @rewardkit.hookimpl
    def register_attacks(register):
        raise RuntimeError("no attacks today")

    mod.register_attacks = register_attacks
    fresh_registry.register_plugin(mod, name="broken")
    assert run_cli(EX / "probe" / "length_only.yaml", ARITH, "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err.strip()
    assert err == "rewardkit: error: plugin 'broken': register_attacks raised RuntimeError: no attacks today"
    assert not (tmp_path / "o").exists()
