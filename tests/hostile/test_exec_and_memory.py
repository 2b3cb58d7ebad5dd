"""Hostile files and rows through the real CLI: nothing in a file runs, one row cannot exhaust
memory, and checkpoints survive full disks and partial log lines (docs/reliability.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from hostile.harness import (
    assert_bounded,
    assert_one_line_error,
    assert_unchanged,
    make_plugin,
    run_cli,
    snapshot,
)

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import grpo_tiny

TRAIN_S = 240  # a run that loads torch and a model, on a shared 2-core machine
LENGTH = [{"use": "length", "with": {"mode": "shorter", "unit": "chars", "max_tokens": 6}}]


class Payload:
    """Unpickling this runs ``touch MARKER``: what a booby-trapped checkpoint does."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.system, (f"touch '{self.marker}'",))


def plant(path: Path, marker: Path) -> None:
    """Replace ``path`` with a torch file whose unpickling would create ``marker``."""
    torch.save({"state": {}, "param_groups": [], "payload": Payload(marker)}, path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A 3-step run with checkpoint-1 and checkpoint-2, built once; cases work on copies."""
    root = tmp_path_factory.mktemp("trained")
    model = grpo_tiny.make_model(root / "model")
    config = grpo_tiny.make_config(root / "exp", model, rewards=LENGTH, output_dir="run", max_steps=3,
                                   save_steps=1, plot=False)
    run = run_cli("train", config, cwd=root / "exp", timeout=300)
    assert run.returncode == 0, run
    return root


def copy_run(trained: Path, tmp_path: Path) -> Path:
    shutil.copytree(trained / "exp", tmp_path / "exp")
    config = tmp_path / "exp" / "train.yaml"
    cfg = yaml.safe_load(config.read_text())
    cfg["model"] = str(trained / "model")
    config.write_text(yaml.safe_dump(cfg))
    return tmp_path / "exp"


# --- 1. code execution ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["optimizer.pt", "scheduler.pt", "rng_state_0.pt"])
def test_resume_refuses_a_pickle_payload_and_runs_nothing(trained, tmp_path, name):
    exp = copy_run(trained, tmp_path)
    marker = tmp_path / "PWNED"
    plant(exp / "run" / "checkpoint-2" / name, marker)
    before = snapshot(exp)
    run = run_cli("train", "train.yaml", "--resume", cwd=exp, timeout=180)
    line = assert_one_line_error(run, f"checkpoint-2/{name}", "refused to load", "posix.system", max_seconds=TRAIN_S)
    assert "Traceback" not in line
    assert not marker.exists(), "the payload ran"
    assert_unchanged(before, exp)


@pytest.mark.slow
@pytest.mark.parametrize("name, content, needle", [
    ("model.safetensors", b"\x00" * 20, "cannot read the weights"),
    ("trainer_state.json", b'{"global_st', "not a readable trainer state"),
    ("rng_state_0.pt", None, "not an RNG state"),
])
def test_resume_from_a_damaged_checkpoint_is_one_line(trained, tmp_path, name, content, needle):
    exp = copy_run(trained, tmp_path)
    target = exp / "run" / "checkpoint-2" / name
    if content is None:
        torch.save({"something": torch.zeros(1)}, target)  # loads safely, but is not ours
    else:
        target.write_bytes(content)
    before = snapshot(exp)
    run = run_cli("train", "train.yaml", "--resume", "run/checkpoint-2", cwd=exp, timeout=180)
    assert_one_line_error(run, f"checkpoint-2/{name}", needle, max_seconds=TRAIN_S)
    assert_unchanged(before, exp)


@pytest.mark.slow
def test_resume_loads_a_legacy_numpy_rng_state(trained, tmp_path):
    # Checkpoints written before the RNG state was plain data hold an ndarray: allowed explicitly.
    import numpy as np

    exp = copy_run(trained, tmp_path)
    rng_file = exp / "run" / "checkpoint-1" / "rng_state_0.pt"
    blob = torch.load(rng_file, weights_only=True)
    blob["rng"]["numpy"] = np.random.get_state()
    torch.save(blob, rng_file)
    shutil.rmtree(exp / "run" / "checkpoint-2")
    run = run_cli("train", "train.yaml", "--resume", cwd=exp, timeout=180)
    assert run.returncode == 0, run
    assert [json.loads(x)["step"] for x in (exp / "run" / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]


def test_toxicity_checkpoint_payload_is_refused_at_config_load(tmp_path):
    pytest.importorskip("rewardkit_toxicity")
    pytest.importorskip("detoxify")
    marker = tmp_path / "PWNED"
    ckpt = tmp_path / "evil.ckpt"
    torch.save({"config": {}, "state_dict": {}, "payload": Payload(marker)}, ckpt)
    (tmp_path / "rewards.yaml").write_text(yaml.safe_dump(
        {"rewards": [{"use": "toxicity", "with": {"checkpoint": str(ckpt)}}]}))
    (tmp_path / "data.jsonl").write_text('{"prompt": "p", "completion": "c"}\n')
    before = snapshot(tmp_path)
    run = run_cli("score", "rewards.yaml", "data.jsonl", cwd=tmp_path, timeout=120)
    assert_one_line_error(run, "evil.ckpt", "option 'checkpoint'", "refused to load", max_seconds=TRAIN_S)
    assert not marker.exists(), "the payload ran"
    assert_unchanged(before, tmp_path)


# --- 5. checkpoints, full disks, partial lines -------------------------------------------------------

# A plugin that makes the disk "full": every write under the run folder fails with ENOSPC, either
# from the checkpoint of step RK_FULL_AT on (a disk filling up mid-run) or at once (RK_FULL_AT=0).
FULL_DISK = """
    import errno, io, os, builtins

    import rewardkit

    _AT = int(os.environ["RK_FULL_AT"])
    _RUN = os.path.realpath(os.environ["RK_FULL_DIR"])

    def _full(path):
        p = os.path.realpath(os.fspath(path)) if isinstance(path, (str, bytes, os.PathLike)) else ""
        if not p.startswith(_RUN):
            return False
        return _AT == 0 or any(f"checkpoint-{s}" in p for s in range(_AT, _AT + 100))

    def _enospc(path):
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(path))

    _open, _os_open = io.open, os.open

    def open_(file, mode="r", *a, **k):
        if any(c in mode for c in "wax+") and _full(file):
            raise _enospc(file)
        return _open(file, mode, *a, **k)

    def os_open(path, flags, *a, **k):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and _full(path):
            raise _enospc(path)
        return _os_open(path, flags, *a, **k)

    io.open = builtins.open = open_
    os.open = os_open
    import torch
    _save = torch.save

    def save(obj, f, *a, **k):
        if _full(f):
            raise _enospc(f)
        return _save(obj, f, *a, **k)

    torch.save = save

    @rewardkit.hookimpl
    def register_rewards(register):
        pass
"""


def full_disk_env(tmp_path: Path, run_dir: Path, at: int) -> dict[str, str]:
    env = make_plugin(tmp_path / "site", "rk_full_disk", FULL_DISK)
    return {**env, "RK_FULL_AT": str(at), "RK_FULL_DIR": str(run_dir)}


@pytest.mark.slow
def test_disk_full_during_a_checkpoint_keeps_the_last_good_one(trained, tmp_path):
    exp = copy_run(trained, tmp_path)
    shutil.rmtree(exp / "run")
    cfg = yaml.safe_load((exp / "train.yaml").read_text())
    cfg["max_steps"] = 4
    (exp / "train.yaml").write_text(yaml.safe_dump(cfg))
    run = run_cli("train", "train.yaml", cwd=exp, timeout=180, env=full_disk_env(tmp_path, exp / "run", at=3))
    assert_one_line_error(run, ".tmp-checkpoint-3", "No space left on device", "checkpoint-2 is intact",
                          max_seconds=TRAIN_S)
    names = sorted(p.name for p in (exp / "run").iterdir())
    assert names == ["checkpoint-1", "checkpoint-2", "completions.jsonl", "metrics.jsonl"]  # no half-written copy
    # With space again, --resume continues from checkpoint-2 and finishes.
    done = run_cli("train", "train.yaml", "--resume", cwd=exp, timeout=180)
    assert done.returncode == 0, done
    assert (exp / "run" / "final").is_dir()


@pytest.mark.slow
def test_resume_while_the_disk_is_still_full_changes_nothing(trained, tmp_path):
    exp = copy_run(trained, tmp_path)
    before = snapshot(exp)
    run = run_cli("train", "train.yaml", "--resume", cwd=exp, timeout=180, env=full_disk_env(tmp_path, exp / "run", at=0))
    assert_one_line_error(run, "No space left on device", "checkpoint-2 is intact", max_seconds=TRAIN_S)
    assert_unchanged(before, exp)


@pytest.mark.slow
def test_output_dir_that_is_a_file(trained, tmp_path):
    exp = copy_run(trained, tmp_path)
    (exp / "taken").write_text("not a folder")
    before = snapshot(exp)
    for out in ("taken", "taken/sub"):
        run = run_cli("train", "train.yaml", "-o", out, cwd=exp, timeout=60)
        assert_one_line_error(run, f"output_dir '{out}'", "is a file")
    assert_unchanged(before, exp)


@pytest.mark.slow
@pytest.mark.parametrize("log", ["metrics.jsonl", "completions.jsonl"])
def test_a_partial_last_line_is_dropped_on_resume(trained, tmp_path, log):
    exp = copy_run(trained, tmp_path)
    shutil.rmtree(exp / "run" / "checkpoint-2")  # resume from step 1; step 2 is redone
    with open(exp / "run" / log, "a") as f:
        f.write('{"step": 4, "rew')  # the run was killed while writing this line
    run = run_cli("train", "train.yaml", "--resume", cwd=exp, timeout=180)
    assert_bounded(run, max_seconds=TRAIN_S)
    assert run.returncode == 0, run
    rows = [json.loads(x) for x in (exp / "run" / log).read_text().splitlines()]
    assert sorted({r["step"] for r in rows}) == [1, 2, 3]


@pytest.mark.slow
def test_a_bad_line_inside_a_log_names_it(trained, tmp_path):
    exp = copy_run(trained, tmp_path)
    path = exp / "run" / "metrics.jsonl"
    path.write_text("garbage\n" + path.read_text())
    before = snapshot(exp)
    run = run_cli("train", "train.yaml", "--resume", cwd=exp, timeout=180)
    assert_one_line_error(run, "metrics.jsonl, line 1", max_seconds=TRAIN_S)
    assert_unchanged(before, exp)


# --- 2. memory: one huge row -------------------------------------------------------------------------

HUGE = 100 * 1024 * 1024  # characters in the one hostile row
RSS_CAP_MB = 2500  # generous: each run below peaks far lower; tokenizing the row whole took 23 GB


def huge_text() -> str:
    return ("thanks for the help " * (HUGE // 20 + 1))[:HUGE]


@pytest.mark.slow
def test_train_with_a_100_mb_prompt_stays_bounded(tmp_path):
    model = grpo_tiny.make_model(tmp_path / "model")
    config = grpo_tiny.make_config(tmp_path / "exp", model, rewards=LENGTH, output_dir="run", max_steps=1,
                                   save_steps=0, plot=False, log_completions=False, max_prompt_length=16,
                                   num_generations=2, per_device_train_batch_size=4)
    rows = [{"prompt": [{"role": "user", "content": huge_text() if i == 0 else f"{i}+{i}="}]} for i in range(2)]
    (tmp_path / "exp" / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = run_cli("train", config, cwd=tmp_path / "exp", timeout=300)
    assert_bounded(run, max_seconds=240, max_rss_mb=RSS_CAP_MB)
    assert run.returncode == 0, run
    assert (tmp_path / "exp" / "run" / "final").is_dir()


@pytest.fixture(scope="module")
def reward_model_dir(tmp_path_factory) -> Path:
    pytest.importorskip("rewardkit_reward_model")
    from rewardkit_reward_model.synthetic import save_tiny_reward_model

    return Path(save_tiny_reward_model(tmp_path_factory.mktemp("rm") / "model", arch="bert"))


@pytest.mark.slow
def test_score_a_100_mb_completion_with_model_rewards_stays_bounded(tmp_path, reward_model_dir):
    rewards = [{"use": "reward_model", "with": {"model": str(reward_model_dir), "max_length": 64}}]
    try:
        from rewardkit_toxicity.tiny import build_checkpoint

        ckpt, hf = build_checkpoint(tmp_path / "tox")
        rewards.append({"use": "toxicity", "with": {"checkpoint": str(ckpt), "huggingface_config_path": str(hf)}})
    except ImportError:  # pragma: no cover - toxicity's extra not installed
        pass
    (tmp_path / "rewards.yaml").write_text(yaml.safe_dump({"rewards": rewards}))
    rows = [{"prompt": "p", "completion": huge_text()}, {"prompt": "p", "completion": "thanks"}]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = run_cli("score", "rewards.yaml", "data.jsonl", "-o", "out.jsonl", cwd=tmp_path, timeout=300)
    assert_bounded(run, max_seconds=240, max_rss_mb=RSS_CAP_MB)
    assert run.returncode == 0, run
    scored = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(scored) == 2 and all(isinstance(r["reward"], float) for r in scored)


@pytest.mark.slow
def test_rm_train_with_a_100_mb_pair_stays_bounded(tmp_path, reward_model_dir):
    from rewardkit_reward_model.synthetic import preference_rows, write_jsonl

    rows = preference_rows(16, seed=1)
    rows[0]["chosen"] = huge_text()
    write_jsonl(rows, tmp_path / "train.jsonl")
    (tmp_path / "rm.yaml").write_text(yaml.safe_dump({
        "model": str(reward_model_dir), "data": "train.jsonl", "eval_split": 0.25, "output_dir": "out",
        "max_length": 48, "num_train_epochs": 1, "batch_size": 8}))
    run = run_cli("rm", "train", "rm.yaml", cwd=tmp_path, timeout=300)
    assert_bounded(run, max_seconds=240, max_rss_mb=RSS_CAP_MB)
    assert run.returncode == 0, run


def test_the_cut_keeps_the_same_tokens_as_tokenizing_whole():
    # The trainer keeps a prompt's last max_prompt_length tokens; cutting the text first must not
    # change which tokens those are (char tokenizer: 1 char per token; word tokenizer: many).
    from rewardkit.grpo.sampling import tokenize_prompts
    from rewardkit.models import tiny
    from rewardkit.textcap import cap_for_tokens, chars_per_token

    words = ["alpha", "beta", "gamma", "delta", "x"]
    text = " ".join(words[i % 5] * (1 + i % 3) for i in range(5000))
    for tok in (tiny.char_tokenizer(), tiny.word_tokenizer(words)):
        for limit in (1, 7, 64):
            whole = tok(text, add_special_tokens=False)["input_ids"][-limit:]
            ids, mask = tokenize_prompts([text], tok, limit, "cpu")  # (1, P)
            assert ids[0][mask[0].bool()].tolist() == whole
            assert len(cap_for_tokens([text], tok, limit, keep="end")[0]) <= limit * chars_per_token(tok)


# --- 3. format: linear time ------------------------------------------------------------------------


def test_format_on_hostile_completions_and_patterns_through_score(tmp_path):
    (tmp_path / "rewards.yaml").write_text(yaml.safe_dump({"rewards": [
        {"use": "format", "with": {"mode": "partial"}},
        {"use": "format", "as": "nested", "with": {"pattern": "(a+)+$", "mode": "partial"}},
    ]}))
    rows = [{"prompt": "p", "completion": "<think>a</think><answer>" + "x" * 40_000},
            {"prompt": "p", "completion": "a" * 40_000 + "b"},  # no match: Python's re never returns
            {"prompt": "p", "completion": "b" + "a" * 40_000}] * 3
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = run_cli("score", "rewards.yaml", "data.jsonl", "-o", "out.jsonl", cwd=tmp_path, timeout=120,
                  env={"REWARDKIT_LOAD_PLUGINS": "format"})
    assert_bounded(run, max_seconds=30)  # the regex it replaced took 24 s on one such row
    assert run.returncode == 0, run
    got = [json.loads(x)["rewards"] for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert got == [{"format": 0.75, "nested": 0.0}, {"format": 0.0, "nested": 0.0},
                   {"format": 0.0, "nested": 0.5}] * 3


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?<=x)y"])
def test_a_pattern_the_engine_refuses_is_one_line(tmp_path, pattern):
    (tmp_path / "rewards.yaml").write_text(yaml.safe_dump({"rewards": [{"use": "format", "with": {"pattern": pattern}}]}))
    (tmp_path / "data.jsonl").write_text('{"prompt": "p", "completion": "c"}\n')
    before = snapshot(tmp_path)
    run = run_cli("score", "rewards.yaml", "data.jsonl", cwd=tmp_path, timeout=60, env={"REWARDKIT_LOAD_PLUGINS": "format"})
    assert_one_line_error(run, "option 'pattern'", "RE2")
    assert_unchanged(before, tmp_path)
