import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rewardkit.cli import main

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """
rewards:
  - use: exclaim
    weight: 2.0
    as: bang
  - use: length
    weight: -0.5
    with: {unit: chars, max_tokens: 10}
"""


def write_rows(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def files(tmp_path):
    cfg = tmp_path / "rewards.yaml"
    cfg.write_text(CONFIG)
    data = write_rows(tmp_path / "data.jsonl", [
        {"prompt": "p", "completion": "hi!", "id": 1},
        {"prompt": "p", "completion": [{"role": "assistant", "content": "!!!!!!!!!!"}], "id": 2},
    ])
    out = tmp_path / "out.jsonl"
    return cfg, data, out


def test_score_writes_rows_with_total_and_breakdown(files, capsys):
    cfg, data, out = files
    assert main(["score", str(cfg), str(data), "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [1, 2]
    assert rows[0]["rewards"] == {"bang": 1.0, "length": pytest.approx(0.7)}
    assert rows[0]["reward"] == pytest.approx(2.0 - 0.35)
    assert rows[1]["reward"] == 20.0
    err = capsys.readouterr().err
    assert "scored 2 rows" in err
    assert "bang" in err and "total" in err and "none" in err  # the summary table


def test_score_to_stdout(files, capsys):
    cfg, data, _ = files
    assert main(["score", str(cfg), str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["reward"] == pytest.approx(1.65)


def test_streams_in_batches_and_keeps_order(tmp_path, files):
    cfg, _, out = files
    rows = [{"prompt": "p", "completion": "!" * (i % 7), "i": i} for i in range(1000)]
    data = write_rows(tmp_path / "many.jsonl", rows)
    assert main(["score", str(cfg), str(data), "-o", str(out), "--batch-size", "7"]) == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["i"] for r in got] == list(range(1000))
    assert [r["rewards"]["bang"] for r in got] == [float(i % 7) for i in range(1000)]


def test_heterogeneous_columns_are_aligned(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("rewards:\n  - use: echo_column\n    with: {column: t}\non_error: skip\n")
    data = write_rows(tmp_path / "d.jsonl", [{"completion": "a", "t": 1}, {"completion": "b", "other": 3}, {"completion": "c", "t": 5}])
    out = tmp_path / "o.jsonl"
    assert main(["score", str(cfg), str(data), "-o", str(out)]) == 0
    got = [json.loads(line)["rewards"]["echo_column"] for line in out.read_text().splitlines()]
    assert got == [1.0, None, 5.0]  # row 2 has no t: the reward raised on it alone



def test_missing_column_exits_2_naming_reward_row_and_column(tmp_path, capsys):
    # A reward's complaint about its input is bad data (exit 2), not a crashed reward (exit 1).
    cfg = tmp_path / "c.yaml"
    cfg.write_text("rewards:\n  - use: echo_column\n    with: {column: t}\non_error: raise\n")
    data = write_rows(tmp_path / "d.jsonl", [{"completion": "a", "other": 1}, {"completion": "b", "other": 2}])
    out = tmp_path / "o.jsonl"
    assert main(["score", str(cfg), str(data), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "d.jsonl, line 1: reward 'echo_column'" in err and "column 't' is missing" in err, err
    assert not out.exists()

BAD = [
    ("config", "rewards:\n  - use: exclaimm\n", r"rewards.yaml, entry 1 \(line 2\): reward 'exclaimm' is not registered; did you mean 'exclaim'\?"),
    ("config", "rewards:\n  - use: exclaim\n    with: {per_mrk: 1}\n", r"unknown option 'per_mrk'; did you mean 'per_mark'\?"),
    ("config", "rewards:\n  - use: exclaim\n    with: {cap: lots}\n", r"option 'cap': .*integer.*got 'lots'"),
    ("config", "rewards:\n  - use: exclaim\n    weight: much\n", r"'weight' must be a number, got 'much'"),
    ("config", "rewards:\n  - use: exclaim\n   weight: 1\n", r"rewards.yaml, line 3, column \d+: YAML syntax error"),
    ("data", '{"completion": "a"}\n{"completion": "b",\n', r"data.jsonl, line 2: not valid JSON"),
    ("data", '{"completion": "a"}\n\n{"prompt": "b"}\n', r"data.jsonl, line 3: row has no 'completion' field \(fields: prompt\)"),
    ("data", '{"completion": "a"}\n[1, 2]\n', r"data.jsonl, line 2: expected a JSON object, got list"),
]


@pytest.mark.parametrize("which, text, pattern", BAD)
def test_bad_input_exits_2_with_one_line_and_keeps_output(files, capsys, which, text, pattern):
    import re

    cfg, data, out = files
    (cfg if which == "config" else data).write_text(text)
    out.write_text("previous good output\n")
    assert main(["score", str(cfg), str(data), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("rewardkit: error: ")
    assert re.search(pattern, err), err
    assert out.read_text() == "previous good output\n"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".rewardkit-")]  # no temp left


def test_missing_files_exit_2(files, capsys):
    cfg, data, out = files
    assert main(["score", str(cfg), str(data.with_name("nope.jsonl")), "-o", str(out)]) == 2
    assert "nope.jsonl: no such data file" in capsys.readouterr().err
    assert main(["score", str(cfg.with_name("nope.yaml")), str(data)]) == 2
    assert "nope.yaml: no such config file" in capsys.readouterr().err


def test_reward_failing_at_run_time_exits_1_and_keeps_output(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("rewards:\n  - use: flaky\n")
    data = write_rows(tmp_path / "d.jsonl", [{"completion": "fine"}, {"completion": "boom"}])
    out = tmp_path / "o.jsonl"
    out.write_text("keep\n")
    assert main(["score", str(cfg), str(data), "-o", str(out)]) == 1
    assert "d.jsonl, line 2: reward 'flaky' (flaky) raised ZeroDivisionError" in capsys.readouterr().err
    assert out.read_text() == "keep\n"


def test_console_script_end_to_end(tmp_path):
    """The installed `rewardkit` script, in a fresh process: no traceback on a user error."""
    exe = Path(sys.executable).with_name("rewardkit")
    cfg = ROOT / "examples" / "rewards.yaml"
    data = ROOT / "examples" / "samples.jsonl"
    out = tmp_path / "scored.jsonl"
    res = subprocess.run([str(exe), "score", str(cfg), str(data), "-o", str(out)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert len(out.read_text().splitlines()) == len(data.read_text().splitlines())
    bad = tmp_path / "bad.yaml"
    bad.write_text("rewards:\n  - use: lenght\n")
    res = subprocess.run([str(exe), "score", str(bad), str(data)], capture_output=True, text=True, check=False, env={**os.environ})
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "did you mean 'length'?" in res.stderr
