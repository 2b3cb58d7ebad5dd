"""The progress bar of `rewardkit score` and `rewardkit pairs`: rows done out of rows in the file."""

from __future__ import annotations

import functools
import io
import json
import re

import pytest

import rewardkit.progress
from rewardkit.cli import main
from rewardkit.progress import count_rows, row_bar

CONFIG = "rewards:\n  - use: exclaim\n    weight: 1.0\n"


class Terminal(io.StringIO):
    """Standard error as a terminal, so tqdm draws (it stays silent off a TTY)."""

    def isatty(self) -> bool:
        return True


def counts(drawn: str) -> list[tuple[int, int, int]]:
    """(percent, done, total) of every frame tqdm drew."""
    return [(int(p), int(n), int(t)) for p, n, t in re.findall(r"(\d+)%\|[^|]*\| (\d+)/(\d+)", drawn)]


@pytest.fixture
def every_frame(monkeypatch):
    # tqdm skips frames closer than 0.1 s apart; the test wants every batch's frame.
    monkeypatch.setattr(rewardkit.progress, "tqdm", functools.partial(rewardkit.progress.tqdm,
                                                                       mininterval=0, miniters=1))


@pytest.fixture
def data(tmp_path):
    cfg = tmp_path / "rewards.yaml"
    cfg.write_text(CONFIG)
    # The output lines (scores added) are longer than the input lines, so a bar that divides output
    # bytes by the input size runs ahead; a blank line in the middle and one at the end are skipped.
    rows = [{"prompt": f"p{i // 2}", "completion": "yes!" * (i + 1)} for i in range(5)]
    lines = [json.dumps(r) for r in rows]
    lines.insert(2, "")
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(lines) + "\n\n")
    return cfg, path


@pytest.mark.parametrize("command", ["score", "pairs"])
def test_the_bar_counts_rows_of_the_input(data, tmp_path, monkeypatch, every_frame, command):
    cfg, path = data
    err = Terminal()
    monkeypatch.setattr("sys.stderr", err)
    assert main([command, str(cfg), str(path), "-o", str(tmp_path / "out.jsonl"), "--batch-size", "2"]) == 0
    frames = counts(err.getvalue())
    assert list(dict.fromkeys(n for _, n, _ in frames)) == [0, 2, 4, 5], err.getvalue()  # close redraws 5/5
    assert all(t == 5 and p == 100 * n // 5 for p, n, t in frames), frames


def test_no_bar_off_a_terminal(data, tmp_path, capsys):
    cfg, path = data
    assert main(["score", str(cfg), str(path), "-o", str(tmp_path / "out.jsonl")]) == 0
    err = capsys.readouterr().err
    assert "scored 5 rows" in err and not counts(err) and "\r" not in err


def test_count_rows_skips_blank_lines_and_missing_files(data, tmp_path):
    assert count_rows(data[1]) == 5
    assert count_rows(tmp_path / "absent.jsonl") == 0


def test_a_disabled_bar_does_not_count_the_rows(data):
    with row_bar(data[1], "x", file=Terminal(), disable=True) as bar:
        bar.update(3)
    assert bar.total is None
    with row_bar(data[1], "x", file=Terminal()) as bar:
        assert bar.total == 5


def test_without_tqdm_the_commands_run_and_show_no_bar(data, tmp_path, monkeypatch):
    cfg, path = data
    monkeypatch.setattr(rewardkit.progress, "tqdm", None)  # as if tqdm were not installed
    err = Terminal()
    monkeypatch.setattr("sys.stderr", err)
    out = tmp_path / "out.jsonl"
    assert main(["score", str(cfg), str(path), "-o", str(out), "--batch-size", "2"]) == 0
    assert len(out.read_text().splitlines()) == 5
    assert "scored 5 rows" in err.getvalue() and not counts(err.getvalue())
