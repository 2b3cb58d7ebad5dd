"""Hostile and broken input through the real ``rewardkit`` CLI: one line, exit 2, nothing else touched.

Every case writes its files into a fresh folder, snapshots it, runs the console script and
checks: the exit status, exactly one ``rewardkit: error:`` line naming the file/key/line, no
traceback, bounded time and peak RSS, and no file changed except the allowed outputs. The
"silent" cases (a reward returning a dict, a mutating reward, a printing reward...) check the
corrected value or the refusal.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hostile.harness import (
    assert_bounded,
    assert_one_line_error,
    assert_unchanged,
    make_plugin,
    run_cli,
    snapshot,
)
from hostile.rewards_plugin import SOURCE

ROWS = [{"prompt": "p", "completion": "hello"}, {"prompt": "q", "completion": "hi!"}]
# Only the plugins a case uses are imported (the math plugin alone takes seconds to import).
LIGHT = {"REWARDKIT_LOAD_PLUGINS": "length,reward_model"}
TORCH_S = 180  # a case that imports torch: generous, the test machine is shared


def only(*plugins: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` plus REWARDKIT_LOAD_PLUGINS naming the light plugins and ``plugins``."""
    return {**(env or {}), "REWARDKIT_LOAD_PLUGINS": ",".join([LIGHT["REWARDKIT_LOAD_PLUGINS"], *plugins])}


def jsonl(rows: list) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory) -> dict[str, str]:
    """The misbehaving rewards of rewards_plugin.py, installed as a third-party plugin."""
    return only("rk_hostile", env=make_plugin(tmp_path_factory.mktemp("site"), "rk_hostile", SOURCE))


def write(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


# -- score: bad config and data -> exit 2, one line naming file/line/key ---------------------------

OK_CFG = "rewards:\n  - use: length\n    with: {mode: shorter, max_tokens: 10, unit: chars}\n"
OK_DATA = jsonl(ROWS)

SCORE_CASES = {
    # name: (files, extra args, needles)
    "config not UTF-8": ({"c.yaml": b"rewards:\n  - use: length\n# caf\xe9\n", "d.jsonl": OK_DATA}, [],
                         ["c.yaml, line 3", "not UTF-8"]),
    "config 10,000 deep": ({"c.yaml": "rewards: " + "[" * 10_000 + "]" * 10_000 + "\n", "d.jsonl": OK_DATA}, [],
                           ["c.yaml", "nested too deeply"]),
    "weight of 400 digits": ({"c.yaml": "rewards:\n  - use: length\n    weight: 1" + "0" * 400 + "\n",
                              "d.jsonl": OK_DATA}, [], ["c.yaml, entry 1 (line 2)", "'weight'", "401 digits"]),
    "weights 1e308 + 1e308": ({"c.yaml": "rewards:\n  - {use: length, weight: 1e308}\n"
                                         "  - {use: length, as: b, weight: 1e308}\n", "d.jsonl": OK_DATA}, [],
                              ["c.yaml, entry 1 (line 2)", "'weight'"]),
    "rewards: twice": ({"c.yaml": "rewards:\n  - length\nrewards:\n  - format\n", "d.jsonl": OK_DATA}, [],
                       ["c.yaml, line 3", "'rewards'", "lines 1 and 3"]),
    "key twice in an entry": ({"c.yaml": "rewards:\n  - use: length\n    weight: 1\n    weight: 2\n",
                               "d.jsonl": OK_DATA}, [], ["c.yaml", "'weight'", "lines 3 and 4"]),
    "alias bomb": ({"c.yaml": "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)) + "rewards: [*a8]\n",
        "d.jsonl": OK_DATA}, [], ["c.yaml", "aliases"]),
    "5,000-digit option": ({"c.yaml": "rewards:\n  - use: length\n    with: {max_tokens: " + "9" * 5000 + "}\n",
                            "d.jsonl": OK_DATA}, [], ["c.yaml", "more than 4300 digits"]),
    "timeout .inf": ({"c.yaml": "rewards:\n  - use: length\n    timeout: .inf\n", "d.jsonl": OK_DATA}, [],
                     ["c.yaml", "'timeout'"]),
    "data not UTF-8": ({"c.yaml": OK_CFG, "d.jsonl": OK_DATA.encode() + b'{"completion": "\xff"}\n'}, [],
                       ["d.jsonl, line 3", "not UTF-8"]),
    "5,000-digit integer": ({"c.yaml": OK_CFG, "d.jsonl": '{"completion": "a", "n": ' + "9" * 5000 + "}\n"}, [],
                            ["d.jsonl, line 1"]),
    "lone surrogate": ({"c.yaml": OK_CFG, "d.jsonl": OK_DATA + '{"completion": "a\\ud800b"}\n'}, [],
                       ["d.jsonl, line 3", "surrogate"]),
    "deeply nested row": ({"c.yaml": OK_CFG, "d.jsonl": '{"completion": "a", "x": ' + "[" * 100_000
                           + "]" * 100_000 + "}\n"}, [], ["d.jsonl, line 1"]),
    "null completion": ({"c.yaml": OK_CFG, "d.jsonl": OK_DATA + '{"completion": null}\n'}, [],
                        ["d.jsonl, line 3", "'completion'", "null"]),
    "{} completion": ({"c.yaml": OK_CFG, "d.jsonl": '{"completion": {}}\n' + OK_DATA}, [],
                      ["d.jsonl, line 1", "'completion'", "dict"]),
    "int completion": ({"c.yaml": OK_CFG, "d.jsonl": OK_DATA + '{"completion": 7}\n'}, [],
                       ["d.jsonl, line 3", "'completion'", "int"]),
    "int prompt": ({"c.yaml": OK_CFG, "d.jsonl": '{"prompt": 3, "completion": "a"}\n'}, [],
                   ["d.jsonl, line 1", "'prompt'"]),
    "null prompt": ({"c.yaml": OK_CFG, "d.jsonl": OK_DATA + '{"prompt": null, "completion": "a"}\n'}, [],
                    ["d.jsonl, line 3", "'prompt'"]),
    "malformed chat": ({"c.yaml": OK_CFG, "d.jsonl": '{"completion": [{"content": "x"}]}\n'}, [],
                       ["d.jsonl, line 1", "'completion'", "role"]),
    "-o is a folder": ({"c.yaml": OK_CFG, "d.jsonl": OK_DATA, "outdir/keep.txt": "x"}, ["-o", "outdir"],
                       ["outdir", "folder"]),
    "data is a folder": ({"c.yaml": OK_CFG, "d.jsonl/keep.txt": "x"}, [], ["d.jsonl", "folder"]),
}


@pytest.mark.parametrize("case", list(SCORE_CASES))
def test_score_bad_input_is_one_line_exit_2(case, tmp_path):
    files, extra, needles = SCORE_CASES[case]
    write(tmp_path, files)
    before = snapshot(tmp_path)
    run = run_cli("score", "c.yaml", "d.jsonl", *extra, cwd=tmp_path, env=LIGHT)
    assert_one_line_error(run, *needles)
    assert run.stdout == ""
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize("case", ["data not UTF-8", "lone surrogate", "null completion", "int prompt"])
def test_pairs_bad_data_is_one_line_exit_2(case, tmp_path):
    files, _, needles = SCORE_CASES[case]
    files = dict(files)
    if case in ("lone surrogate", "null completion"):  # pairs needs a prompt on every row
        files["d.jsonl"] = files["d.jsonl"].replace('{"completion"', '{"prompt": "p", "completion"')
    write(tmp_path, files)
    (tmp_path / "out.jsonl").write_text("keep\n")
    before = snapshot(tmp_path)
    run = run_cli("pairs", "c.yaml", "d.jsonl", "-o", "out.jsonl", cwd=tmp_path, env=LIGHT)
    assert_one_line_error(run, *needles)
    assert_unchanged(before, tmp_path)


# -- rewards that misbehave -------------------------------------------------------------------------

def _score(tmp_path, plugin_env, cfg: str, rows: list, *args: str):
    write(tmp_path, {"c.yaml": cfg, "d.jsonl": jsonl(rows)})
    return run_cli("score", "c.yaml", "d.jsonl", *args, cwd=tmp_path, env=plugin_env)


@pytest.mark.parametrize("kind, needle", [
    ("dict", "returned dict"), ("str", "returned str"), ("set", "returned set"),
    ("generator", "returned generator"), ("short", "returned 1 scores for 2"),
    ("huge", "1e+39"), ("complex", "(1+2j)"), ("strings", "'0.5'"),
])
def test_a_bad_return_value_is_refused_not_read(kind, needle, tmp_path, plugin_env):
    (tmp_path / "out.jsonl").write_text("keep\n")
    cfg = f"rewards:\n  - use: returns\n    with: {{kind: {kind}}}\n"
    write(tmp_path, {"c.yaml": cfg, "d.jsonl": jsonl(ROWS)})
    before = snapshot(tmp_path)
    run = run_cli("score", "c.yaml", "d.jsonl", "-o", "out.jsonl", cwd=tmp_path, env=plugin_env)
    # A reward failing at run time: exit 1; the line names the reward (and the line for a row value).
    line = assert_one_line_error(run, "reward 'returns' (returns)", needle, status=1)
    if kind in ("huge", "complex", "strings"):
        assert "d.jsonl, line 1" in line
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize("policy, want", [("zero", 0.0), ("skip", None)])
@pytest.mark.parametrize("kind", ["dict", "complex", "short", "huge"])
def test_on_error_covers_bad_return_values(kind, policy, want, tmp_path, plugin_env):
    cfg = (f"on_error: {policy}\nrewards:\n  - use: returns\n    with: {{kind: {kind}}}\n"
           "  - use: returns\n    as: fine\n")
    run = _score(tmp_path, plugin_env, cfg, ROWS, "-o", "out.jsonl")
    assert_bounded(run)
    assert run.returncode == 0, run
    out = [json.loads(ln) for ln in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["rewards"]["returns"] for r in out] == [want, want]
    assert [r["reward"] for r in out] == [1.0, 1.0]
    assert "took the on_error policy" in run.stderr


def test_arrays_and_bools_are_accepted_as_numbers(tmp_path, plugin_env):
    cfg = "rewards:\n  - use: returns\n    with: {kind: numpy}\n  - use: returns\n    as: b\n    with: {kind: bools}\n"
    run = _score(tmp_path, plugin_env, cfg, ROWS)
    assert run.returncode == 0, run
    out = [json.loads(ln) for ln in run.stdout.splitlines()]
    assert [r["rewards"]["returns"] for r in out] == [0.0, 1.0]
    assert [r["rewards"]["b"] for r in out] == [1.0, 1.0]


def test_a_mutating_reward_cannot_change_what_the_next_one_sees(tmp_path, plugin_env):
    rows = [{"prompt": "p", "completion": "hello", "meta": {"tag": "ab"}},
            {"prompt": "q", "completion": [{"role": "assistant", "content": "hey"}], "meta": {"tag": "abc"}}]
    cfg = "rewards:\n  - use: mutator\n  - use: echo\n"
    run = _score(tmp_path, plugin_env, cfg, rows)
    assert run.returncode == 0, run
    out = [json.loads(ln) for ln in run.stdout.splitlines()]
    assert [r["rewards"]["echo"] for r in out] == [5.0 + 2, 3.0 + 3]  # the original texts and tags
    assert [r["completion"] for r in out] == [r["completion"] for r in rows]  # output rows untouched
    assert [r["meta"] for r in out] == [r["meta"] for r in rows]


@pytest.mark.parametrize("verb", ["score", "pairs"])
def test_a_printing_reward_does_not_corrupt_stdout(verb, tmp_path, plugin_env):
    rows = [{"prompt": "p", "completion": "a"}, {"prompt": "p", "completion": "bb"}]
    cfg = "rewards:\n  - use: printer\n  - use: length\n    with: {mode: shorter, max_tokens: 10, unit: chars}\n"
    write(tmp_path, {"c.yaml": cfg, "d.jsonl": jsonl(rows)})
    run = run_cli(verb, "c.yaml", "d.jsonl", cwd=tmp_path, env=plugin_env)
    assert run.returncode == 0, run
    lines = run.stdout.splitlines()
    assert lines and all(isinstance(json.loads(ln), dict) for ln in lines)  # every stdout line is a row
    assert "HELLO FROM A REWARD" in run.stderr


# -- plugins that fail ------------------------------------------------------------------------------

@pytest.mark.parametrize("raise_stmt, needle", [
    ("raise KeyboardInterrupt", "KeyboardInterrupt"),
    ("raise SystemExit(3)", "SystemExit: 3"),
    ("raise ImportError('no module named torchx')", "torchx"),
])
def test_a_plugin_raising_at_import_is_a_failed_plugin(raise_stmt, needle, tmp_path):
    env = only("rk_crash", env=make_plugin(tmp_path / "site", "rk_crash", raise_stmt + "\n"))
    write(tmp_path, {"c.yaml": OK_CFG, "d.jsonl": OK_DATA})
    run = run_cli("score", "c.yaml", "d.jsonl", cwd=tmp_path, env=env)
    assert run.returncode == 0 and len(run.stdout.splitlines()) == 2, run  # the rest works
    listing = run_cli("plugins", cwd=tmp_path, env=env)
    assert listing.returncode == 0, listing
    failed = [ln for ln in listing.stdout.splitlines() if ln.startswith("rk_crash")]
    assert failed and "FAILED TO LOAD" in failed[0], listing
    assert needle in listing.stdout
    rm = run_cli("rm", "--help", cwd=tmp_path, env=env)  # a plugin verb still works
    assert rm.returncode == 0 and "train" in rm.stdout, rm


SLOW_IMPORT = """
from pathlib import Path
import os
Path(os.environ["RK_MARKER"]).write_text("imported")
"""


def test_version_and_help_import_no_plugin(tmp_path):
    marker = tmp_path / "imported.txt"
    env = {**only("rk_slow", env=make_plugin(tmp_path / "site", "rk_slow", SLOW_IMPORT)), "RK_MARKER": str(marker)}
    for args in (["--version"], ["--help"], ["score", "--help"], []):
        run = run_cli(*args, cwd=tmp_path, env=env)
        assert run.returncode in (0, 2) and "Traceback" not in run.stderr, run
        assert not marker.exists(), f"rewardkit {' '.join(args)} imported the plugin"
    assert "rewardkit plugins" in run_cli("--help", cwd=tmp_path, env=env).stdout  # says where plugin verbs are
    run = run_cli("plugins", cwd=tmp_path, env=env)
    assert run.returncode == 0 and marker.exists(), run  # a verb that needs plugins loads them


BAD_COMMANDS = """
import rewardkit

@rewardkit.hookimpl
def register_commands(subparsers):
    raise RuntimeError("cannot add my verb")
"""


def test_a_plugin_whose_register_commands_raises_breaks_no_command(tmp_path):
    env = only("rk_badcmd", env=make_plugin(tmp_path / "site", "rk_badcmd", BAD_COMMANDS))
    rm = run_cli("rm", "--help", cwd=tmp_path, env=env)
    assert rm.returncode == 0 and "train" in rm.stdout, rm
    listing = run_cli("plugins", cwd=tmp_path, env=env)
    assert listing.returncode == 0, listing
    assert "rk_badcmd" in listing.stdout and "register_commands raised RuntimeError: cannot add my verb" in listing.stdout


# -- train: config errors (before torch is imported) -----------------------------------------------

def train_yaml(**overrides: str) -> str:
    base = {"model": "m", "dataset": "data.jsonl", "rewards": "[length]", "output_dir": "run",
            "num_generations": "2", "per_device_train_batch_size": "2", "max_steps": "1", "device": "cpu"}
    base.update(overrides)
    return "".join(f"{k}: {v}\n" for k, v in base.items())


def _line_of(text: str, key: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith(f"{key}:"))


TRAIN_KEY_CASES = {
    "learning_rate": ".inf", "temperature": ".inf", "adam_beta1": "2", "adam_epsilon": "-1",
    "num_train_epochs": ".inf", "seed": str(2**70), "max_completion_length": str(10**12),
    "top_p": ".nan", "max_grad_norm": "-.inf",
}


@pytest.mark.parametrize("key", list(TRAIN_KEY_CASES))
def test_train_bad_hyper_parameter_names_key_and_line(key, tmp_path):
    text = train_yaml(**{key: TRAIN_KEY_CASES[key]})
    write(tmp_path, {"t.yaml": text})
    before = snapshot(tmp_path)
    run = run_cli("train", "t.yaml", cwd=tmp_path)
    assert_one_line_error(run, "t.yaml", f"line {_line_of(text, key)}", f"'{key}'")
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize("files, needles", [
    ({"t.yaml": train_yaml().encode() + b"# \xff\n"}, ["t.yaml, line 9", "not UTF-8"]),
    ({"t.yaml": train_yaml() + "seed: 3\nlearning_rate: 1\nseed: 4\n"}, ["t.yaml, line 11", "'seed'", "lines 9 and 11"]),
    ({"t.yaml": train_yaml(device="tpu")}, ["t.yaml", "'device'", "tpu"]),
    ({"t.yaml": train_yaml(rewards="\n  - use: length\n  - {use: length, as: b, weight: .inf}")},
     ["t.yaml, entry 2 (line 5)", "'weight'"]),
])
def test_train_bad_config_file(files, needles, tmp_path):
    write(tmp_path, files)
    before = snapshot(tmp_path)
    run = run_cli("train", "t.yaml", cwd=tmp_path, timeout=TORCH_S)
    assert_one_line_error(run, *needles, max_seconds=TORCH_S)
    assert_unchanged(before, tmp_path)


def test_train_override_out_of_range(tmp_path):
    write(tmp_path, {"t.yaml": train_yaml()})
    run = run_cli("train", "t.yaml", "--max-steps", str(10**12), cwd=tmp_path)
    assert_one_line_error(run, "--max-steps", "less than or equal to")


def test_train_cuda_without_cuda(tmp_path):
    import torch

    write(tmp_path, {"t.yaml": train_yaml(device="cuda")})
    run = run_cli("train", "t.yaml", cwd=tmp_path, timeout=TORCH_S)
    if torch.cuda.is_available():  # then the device is fine and the run fails later, on model 'm'
        assert_one_line_error(run, "'model'", max_seconds=TORCH_S)
    else:
        assert_one_line_error(run, "t.yaml", "'device'", "CUDA is not available", max_seconds=TORCH_S)


# -- rm train: pairs that teach nothing -------------------------------------------------------------

RM_CFG = ("model: {from_config: {arch: bert, hidden_size: 16, num_layers: 1, num_heads: 2}}\n"
          "data: pairs.jsonl\noutput_dir: out\nmax_length: 32\nbatch_size: 4\ndevice: cpu\n")


@pytest.mark.parametrize("rows, needles", [
    ([{"prompt": "p", "chosen": "a", "rejected": "a"}] * 5, ["pairs.jsonl", "no usable", "5 tie(s)"]),
    ([{"prompt": "p", "chosen": "", "rejected": ""}] * 3, ["pairs.jsonl", "no usable", "3 tie(s)"]),
    ([{"prompt": "p", "chosen": "a", "rejected": "b"}, {"prompt": "p", "chosen": "b", "rejected": "a"}] * 2,
     ["pairs.jsonl", "no usable", "4 contradictory"]),
])
def test_rm_train_refuses_when_no_usable_pair(rows, needles, tmp_path):
    write(tmp_path, {"rm.yaml": RM_CFG, "pairs.jsonl": jsonl(rows)})
    before = snapshot(tmp_path)
    run = run_cli("rm", "train", "rm.yaml", cwd=tmp_path, env=LIGHT, timeout=TORCH_S)
    assert_one_line_error(run, *needles, max_seconds=TORCH_S)
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize("files, needles", [
    ({"rm.yaml": RM_CFG, "pairs.jsonl": b'{"chosen": "a", "rejected": "\xff"}\n'}, ["pairs.jsonl, line 1", "UTF-8"]),
    ({"rm.yaml": RM_CFG + "learning_rate: .inf\n", "pairs.jsonl": "{}\n"}, ["rm.yaml, line 7", "'learning_rate'"]),
    ({"rm.yaml": RM_CFG + "batch_size: 2\n", "pairs.jsonl": "{}\n"}, ["rm.yaml", "'batch_size'", "lines 5 and 7"]),
    ({"rm.yaml": RM_CFG + "seed: " + str(2**70) + "\n", "pairs.jsonl": "{}\n"}, ["rm.yaml, line 7", "'seed'"]),
    ({"rm.yaml": RM_CFG.replace("device: cpu", "device: tpu"),
      "pairs.jsonl": jsonl([{"chosen": "a", "rejected": "b"}] * 4)}, ["'device'", "tpu"]),
])
def test_rm_train_bad_files(files, needles, tmp_path):
    write(tmp_path, files)
    before = snapshot(tmp_path)
    run = run_cli("rm", "train", "rm.yaml", cwd=tmp_path, env=LIGHT, timeout=TORCH_S)
    assert_one_line_error(run, *needles, max_seconds=TORCH_S)
    assert_unchanged(before, tmp_path)


@pytest.mark.slow
def test_rm_train_warns_and_drops_repeated_pairs(tmp_path):
    distinct = [{"prompt": f"q{i}", "chosen": f"good answer {i}", "rejected": f"bad {i}"} for i in range(8)]
    rows = distinct + [distinct[0]] * 20 + [{"prompt": "t", "chosen": "x", "rejected": "x"}]
    write(tmp_path, {"rm.yaml": RM_CFG + "eval_split: 0.25\n", "pairs.jsonl": jsonl(rows)})
    run = run_cli("rm", "train", "rm.yaml", cwd=tmp_path, env=LIGHT, timeout=300)
    assert_bounded(run, max_seconds=300)
    assert run.returncode == 0, run
    warnings = [ln for ln in run.stderr.splitlines() if "dropped" in ln]
    assert len(warnings) == 1 and "dropped 21 of 29 pairs" in warnings[0] and "20 duplicate(s)" in warnings[0], run
    assert "8 pairs" not in run.stdout and "rm train: 6 pairs" in run.stdout  # 8 distinct, 2 held out


# -- train: dataset rows and divergence (a tiny model on disk) --------------------------------------

@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from grpo_tiny import make_model

    return make_model(tmp_path_factory.mktemp("model") / "m")


@pytest.mark.slow
@pytest.mark.parametrize("data, needles", [
    (b'{"prompt": "a"}\n{"prompt": "\xff"}\n', ["data.jsonl, line 2", "UTF-8"]),
    ('{"prompt": "a"}\n{"prompt": 3}\n', ["data.jsonl, line 2", "'prompt'", "int"]),
    ('{"prompt": null}\n', ["data.jsonl, line 1", "'prompt'", "null"]),
    ('{"prompt": "a"}\n\n{"prompt": "  "}\n', ["data.jsonl, line 3", "'prompt'", "empty"]),
    ('{"prompt": [{"text": "hi"}]}\n', ["data.jsonl, line 1", "'prompt'", "role"]),
    ('{"prompt": "a"}\n{"prompt": "a\\udfffb"}\n', ["data.jsonl, line 2", "surrogate"]),
])
def test_train_bad_dataset_rows(data, needles, tmp_path, tiny_model):
    write(tmp_path, {"t.yaml": train_yaml(model=str(tiny_model)), "data.jsonl": data})
    before = snapshot(tmp_path)
    run = run_cli("train", "t.yaml", cwd=tmp_path, env=LIGHT, timeout=180)
    assert_one_line_error(run, *needles, max_seconds=180)
    assert_unchanged(before, tmp_path, allow=("run",))
    assert not (tmp_path / "run" / "final").exists()


@pytest.mark.slow
def test_train_that_diverges_stops_and_keeps_the_last_good_checkpoint(tmp_path, tiny_model):
    rows = [{"prompt": f"{i}+{i}="} for i in range(4)]
    text = train_yaml(model=str(tiny_model), learning_rate="1e30", max_steps="4", save_steps="1",
                      max_completion_length="4", device="auto", disable_tqdm="true", plot="false")
    write(tmp_path, {"t.yaml": text, "data.jsonl": jsonl(rows)})
    run = run_cli("train", "t.yaml", cwd=tmp_path, env=LIGHT, timeout=300)
    line = assert_one_line_error(run, "step ", status=1, max_seconds=300)
    kept = sorted((tmp_path / "run").glob("checkpoint-*"))
    assert kept and f"last good checkpoint is run/{kept[-1].name}" in line  # finite steps were saved
    assert not (tmp_path / "run" / "final").exists()
    import torch
    from safetensors.torch import load_file

    for ckpt in (tmp_path / "run").glob("checkpoint-*"):
        for name in os.listdir(ckpt):
            if name.endswith(".safetensors"):
                assert all(bool(torch.isfinite(t).all()) for t in load_file(ckpt / name).values()), ckpt


@pytest.mark.slow
def test_train_reward_error_names_the_dataset_line(tmp_path, tiny_model, plugin_env):
    text = train_yaml(model=str(tiny_model), rewards="[{use: returns, with: {kind: complex}}]",
                      max_completion_length="3", disable_tqdm="true")
    write(tmp_path, {"t.yaml": text, "data.jsonl": '\n{"prompt": "a"}\n'})
    run = run_cli("train", "t.yaml", cwd=tmp_path, env=plugin_env, timeout=180)
    assert_one_line_error(run, "data.jsonl, line 2 (step 1, completion 1 of 2)", "reward 'returns'", "(1+2j)",
                          status=1, max_seconds=180)
    assert not (tmp_path / "run" / "final").exists()
