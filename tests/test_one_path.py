"""Each small concept is defined once and every user of it takes that one definition."""

from __future__ import annotations

import ast
import importlib
import math
import statistics
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# name -> the one module that defines it (a function or class of that name anywhere else is a copy)
ONE_DEFINITION = {
    "quiet_transformers": "rewardkit/models/hf.py",
    "prompt_key": "rewardkit/pairs.py",
    "RunningStats": "rewardkit/stats.py",
    "atomic_file": "rewardkit/atomic.py",
    "atomic_path": "rewardkit/atomic.py",
    "replace_dir": "rewardkit/atomic.py",
    "fsync_dir": "rewardkit/atomic.py",
    "checkpoints": "rewardkit/grpo/layout.py",
    "char_tokenizer": "rewardkit/models/tiny.py",
    "causal_lm": "rewardkit/models/tiny.py",
}


def _definitions() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in [*ROOT.glob("rewardkit/**/*.py"), *ROOT.glob("plugins/*/rewardkit_*/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    return found


def test_each_concept_is_defined_once():
    found = _definitions()
    assert {name: found.get(name) for name in ONE_DEFINITION} == {k: [v] for k, v in ONE_DEFINITION.items()}
    # the copies this replaced are gone under their old names too
    assert "_quiet_transformers" not in found and "_fsync_dir" not in found
    assert "Stats" not in found


def test_the_users_take_the_one_definition():
    from rewardkit import pairs, stats
    from rewardkit.annotate import pairing
    from rewardkit.commands import score

    assert pairing.Group is pairs.Group and pairing.group_by_prompt is pairs.group_by_prompt
    assert score.Stats is stats.RunningStats


def test_the_prompt_key_groups_annotation_and_preference_pairs_alike(tmp_path):
    from rewardkit.annotate.pairing import read_groups
    from rewardkit.pairs import group_rows

    chat = [{"role": "user", "content": "2+2?"}]
    rows = [{"prompt": chat, "completion": "4"}, {"prompt": "2+2?", "completion": "5"},
            {"prompt": [dict(reversed(list(chat[0].items())))], "completion": "3"}]
    data = tmp_path / "s.jsonl"
    data.write_text("".join(__import__("json").dumps(r) + "\n" for r in rows))
    annotated = [len(g.completions) for g in read_groups(data)]
    paired = [len(g.candidates) for g in group_rows((r, 0.0) for r in rows)]
    assert annotated == paired == [2, 1]  # key order inside a chat message does not split a prompt


def test_one_group_class_serves_annotate_and_pairs(tmp_path):
    from rewardkit.annotate.pairing import read_groups
    from rewardkit.pairs import group_rows

    rows = [{"prompt": "p", "completion": "a"}, {"prompt": "p", "completion": "a"}, {"prompt": "p", "completion": "b"}]
    data = tmp_path / "s.jsonl"
    data.write_text("".join(__import__("json").dumps(r) + "\n" for r in rows))
    (annotated,) = read_groups(data)
    (paired,) = group_rows((r, float(i)) for i, r in enumerate(rows))
    assert type(annotated) is type(paired)
    assert annotated.completions == ["a", "b"] and annotated.lines == [1, 3]  # a repeat is dropped
    assert paired.completions == ["a", "a", "b"] and [c.reward for c in paired.candidates] == [0.0, 1.0, 2.0]


def test_running_stats_match_the_textbook_values():
    from rewardkit.stats import RunningStats

    xs = [0.5, -1.25, 3.0, None, 2.0, None]
    s = RunningStats()
    for x in xs:
        s.add(x)
    values = [x for x in xs if x is not None]
    assert (s.n, s.none, s.lo, s.hi) == (4, 2, -1.25, 3.0)
    assert math.isclose(s.mean, statistics.fmean(values)) and math.isclose(s.std, statistics.stdev(values))
    assert RunningStats().std == 0.0


def test_checkpoint_layout_is_shared_by_the_command_and_the_trainer(tmp_path):
    pytest.importorskip("torch")
    from rewardkit.grpo import checkpoint, layout

    assert checkpoint.STATE is layout.STATE and checkpoint.checkpoints is layout.checkpoints
    for step, complete in ((2, True), (10, True), (7, False)):
        d = layout.checkpoint_dir(tmp_path, step)
        d.mkdir()
        if complete:
            (d / layout.STATE).write_text("{}")
    (tmp_path / "checkpoint-x").mkdir()
    assert [p.name for p in layout.checkpoints(tmp_path)] == ["checkpoint-2", "checkpoint-10"]
    assert [p.name for p in layout.checkpoints(tmp_path, complete=False)] == [
        "checkpoint-2", "checkpoint-7", "checkpoint-10"]
    assert checkpoint.latest(tmp_path).name == "checkpoint-10"


def test_rewardkit_tiny_is_an_alias_that_says_so():
    sys.modules.pop("rewardkit.tiny", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = importlib.import_module("rewardkit.tiny")
    from rewardkit.models import tiny

    assert any(issubclass(w.category, DeprecationWarning) and "rewardkit.models.tiny" in str(w.message)
               for w in caught)
    for name in ("char_tokenizer", "word_tokenizer", "causal_lm", "sequence_classifier", "save", "CHAT_TEMPLATE"):
        assert getattr(old, name) is getattr(tiny, name)
