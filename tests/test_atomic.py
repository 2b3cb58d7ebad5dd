"""rewardkit.atomic: the one way outputs replace files and folders."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rewardkit import atomic
from rewardkit.jsonl import atomic_output


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_new_file_gets_the_umask_mode_not_mkstemps_0600(tmp_path, umask022):
    target = tmp_path / "metrics.jsonl"
    with atomic.atomic_file(target) as f:
        f.write("x\n")
    assert target.read_text() == "x\n"
    assert _mode(target) == 0o644


def test_umask_is_followed(tmp_path):
    old = os.umask(0o077)
    try:
        with atomic.atomic_file(tmp_path / "a.txt") as f:
            f.write("a")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "a.txt") == 0o600


def test_replacing_keeps_the_existing_mode(tmp_path, umask022):
    target = tmp_path / "out.jsonl"
    target.write_text("old")
    target.chmod(0o640)
    with atomic_output(target) as f:  # the public wrapper goes through the same helper
        f.write("new")
    assert target.read_text() == "new"
    assert _mode(target) == 0o640


def test_failure_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("good")
    with pytest.raises(RuntimeError), atomic.atomic_file(target) as f:
        f.write("partial")
        raise RuntimeError("boom")
    assert target.read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_binary_and_by_path(tmp_path, umask022):
    with atomic.atomic_file(tmp_path / "b.bin", "wb") as f:
        f.write(b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    with atomic.atomic_path(tmp_path / "p.png") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png"
        tmp.write_bytes(b"png")
    assert (tmp_path / "p.png").read_bytes() == b"png" and _mode(tmp_path / "p.png") == 0o644


def test_atomic_dir_swaps_whole_folders(tmp_path, umask022):
    target = tmp_path / "run"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic.atomic_dir(target) as staging:
        (staging / "new.txt").write_text("half")
        raise RuntimeError("interrupted")
    assert sorted(p.name for p in target.iterdir()) == ["old.txt"]
    with atomic.atomic_dir(target) as staging:
        (staging / "new.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert _mode(target) == 0o755
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_every_writer_uses_the_helper():
    # One path: no module outside rewardkit/atomic.py renames a staged file or folder itself.
    root = Path(__file__).resolve().parents[1]
    sources = [*root.glob("rewardkit/**/*.py"), *root.glob("plugins/*/rewardkit_*/**/*.py")]
    offenders = [str(p.relative_to(root)) for p in sources
                 if p.name != "atomic.py" and ("os.replace(" in p.read_text() or "mkstemp(" in p.read_text())]
    assert sources and offenders == []


def test_the_trainers_step_logs_are_readable_by_the_group(tmp_path, umask022):
    # metrics.jsonl and completions.jsonl were 0600 when the writer used mkstemp's mode.
    from rewardkit.grpo.metrics import open_step_log

    path = tmp_path / "metrics.jsonl"
    rows, f = open_step_log(path, 0)
    f.close()
    assert rows == [] and _mode(path) == 0o644
    path.write_text('{"step": 1}\n{"step": 2}\n')
    rows, f = open_step_log(path, 1)  # a resume rewrites the file: its mode stays
    f.close()
    assert rows == [{"step": 1}] and _mode(path) == 0o644
