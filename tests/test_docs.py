"""Every command line and YAML snippet shown in README.md, docs/ and the READMEs runs in a test.

The blocks are read from the Markdown files themselves, so a doc change that breaks one fails here.
Each document runs top to bottom in a sandbox project of its own (``examples/`` and the reward-model
examples copied in, tiny models and the data files the docs name built from configs), through the
installed console script, exactly as a user types it, with these stated substitutions only:

- a hub id (``Qwen/Qwen2.5-0.5B-Instruct``) or an absolute ``/models/...`` folder becomes a tiny
  local model loaded through the same ``from_pretrained`` path; ``/abs/path/`` becomes the sandbox;
- servers get ``--port 0``, and are driven as a user would (annotate: every pair labelled over its
  API; serve: a request scored) before Ctrl-C, which must leave exit status 0;
- training lines get ``--max-steps 2`` (and ``rewardkit demo`` gets ``--quick``): a doc line is
  checked for running, not for how long it trains; a launcher line (torchrun, accelerate) trains
  into a fresh output folder, since the line before it already trained into the config's;
- ``pip install PATH`` installs into a folder on ``PYTHONPATH`` rather than into the test's venv.

```yaml`` blocks are validated by the loader their keys belong to (a rewards YAML is loaded, models
and all; a training or reward-model config is validated); a first comment line naming a file
(``# rm_train.yaml``) writes the block to that file, so later lines of the same doc use it. A
```python`` block whose first line names a ``.py`` file is written out the same way.

Lines that cannot run in this test are in NOT_RUN_HERE, each with the test that covers it instead;
a test checks that every entry there still matches a doc line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DOCS = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "plugins").glob("*/README.md"),
     *(ROOT / "examples").glob("**/README.md")],
)
POLICY_HUB_IDS = ("Qwen/Qwen2.5-0.5B-Instruct",)

# Doc lines this test does not run, with what runs them instead. Each pattern must still match a line.
NOT_RUN_HERE = {
    r"^make (demo|test)\b": "`make test` is what CI runs (.ci/run); `make demo` is `make install` "
                            "then `rewardkit demo`, whose line runs here",
    r"^python -m verl\.": "an engine launch (a Ray cluster); the verl adapter is tested in tests/test_verl.py",
    r"^python -m openrlhf\.": "an engine launch (a Ray cluster); the adapter is tested in tests/test_openrlhf.py",
}


@dataclass
class Block:
    doc: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"


def blocks(doc: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order."""
    out, lang, start, buf = [], None, 0, []
    for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            if lang is None:
                lang, start, buf = line[3:].strip() or "text", n, []
            else:
                out.append(Block(doc, start, lang, "\n".join(buf) + "\n"))
                lang = None
        elif lang is not None:
            buf.append(line)
    return out


def commands(text: str) -> list[tuple[str, int]]:
    """The command lines of a bash block with their exit status (0, or what a ``# exits N`` comment
    after the line says): continuations joined, comments and blank lines dropped."""
    joined, cur = [], ""
    for raw in text.splitlines():
        if not cur and raw.lstrip().startswith("#"):
            continue
        part = raw.strip() if cur else raw
        if part.rstrip().endswith("\\"):
            cur += part.rstrip()[:-1].rstrip() + " "
            continue
        cur += part
        status = re.search(r"\s#\s*exits (\d+)\b", cur)
        line = re.sub(r"\s+#(\s.*)?$", "", cur).strip()
        cur = ""
        if line:
            joined.append((line, int(status.group(1)) if status else 0))
    return joined


def not_run_reason(command: str) -> str | None:
    return next((why for pat, why in NOT_RUN_HERE.items() if re.search(pat, command)), None)


# ---- the sandbox -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def template(tmp_path_factory) -> Path:
    """A project folder with the examples, tiny models and data files the docs name (built once)."""
    pytest.importorskip("torch")
    from rewardkit_factuality.tiny import build_nli_model
    from rewardkit_toxicity.models import default_checkpoint_file
    from rewardkit_toxicity.tiny import build_checkpoint

    from rewardkit.models import tiny

    t = tmp_path_factory.mktemp("docs-project")
    shutil.copytree(ROOT / "examples", t / "examples")
    shutil.copytree(ROOT / "plugins" / "reward_model" / "examples", t / "plugins" / "reward_model" / "examples")
    models = t / "models"
    # The policy that stands in for a hub id, and the warm start examples/train.yaml expects.
    tok = tiny.char_tokenizer()
    policy = tiny.causal_lm(tok, hidden_size=32, num_layers=1, max_positions=2048)  # docs show 1024 tokens
    tiny.save(models / "policy", model=policy, tokenizer=tok)
    run = subprocess.run([str(BIN / "rewardkit"), "demo", "--quick", "-o", "runs/demo"], check=False, cwd=t,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    (t / "runs" / "grpo").mkdir(parents=True)
    shutil.copy(t / "runs" / "demo" / "completions.jsonl", t / "runs" / "grpo" / "completions.jsonl")
    # A reward model (any HF sequence classifier with one output), toxicity and NLI models.
    from transformers import AutoModelForSequenceClassification, BertConfig

    rtok = tiny.word_tokenizer(["the", "answer", "is", "thanks", "a", "b"])
    rm = AutoModelForSequenceClassification.from_config(BertConfig(  # 2048 positions: docs show 1024
        vocab_size=len(rtok), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=2048, pad_token_id=rtok.pad_token_id, num_labels=1))
    tiny.save(t / "runs" / "rm", model=rm, tokenizer=rtok)
    ckpt, hf = build_checkpoint(models / "toxicity")
    for name in ("toxic_original.ckpt", "toxic_original-c1212f89.ckpt"):
        shutil.copy(ckpt, models / name)
    shutil.copytree(hf, models / "bert-base-uncased")
    hub = t / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    shutil.copy(ckpt, hub / Path(default_checkpoint_file("original")).name)
    build_nli_model(models / "deberta-v3-mnli")
    # Files the docs name without showing: a rewards YAML (the README's), samples, prompts, data.
    (t / "rewards.yaml").write_text(
        "rewards:\n  - {use: math, as: correctness, with: {answer_field: answer}}\n"
        "  - {use: length, weight: 0.2, with: {max_tokens: 256}}\n"
        "  - {use: format, weight: 0.5, with: {mode: partial}}\non_error: zero\n")
    samples = (ROOT / "examples" / "samples.jsonl").read_text()
    for name in ("samples.jsonl", "rows.jsonl"):
        (t / name).write_text(samples)
    prompts = [{"prompt": "What is 2 + 3?", "answer": "5"}, {"prompt": "What is 7 * 6?", "answer": "42"}]
    (t / "prompts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in prompts))
    (t / "data").mkdir()
    shutil.copy(ROOT / "examples" / "arithmetic.jsonl", t / "data" / "train.jsonl")
    (t / "rm_train.yaml").write_text(
        "model: {from_config: {arch: bert, tokenizer: word, hidden_size: 16, num_layers: 1, num_heads: 2}}\n"
        "data: pairs.jsonl\neval_split: 0.0\noutput_dir: runs/rm\nmax_length: 64\nbatch_size: 4\n")
    (t / "train.yaml").write_text(
        f"model: {models / 'policy'}\ndataset: prompts.jsonl\noutput_dir: runs/grpo-rm\n"
        "rewards: [{use: reward_model, with: {model: runs/rm}}]\nnum_generations: 2\n"
        "max_completion_length: 8\nper_device_train_batch_size: 4\ndevice: cpu\n")
    # The example checkpoints every 100 steps: here every step, so `--resume` has one; and a smaller
    # batch (the lines are checked for running, not for learning).
    train = (t / "examples" / "train.yaml").read_text()
    for old, new in (("save_steps: 100", "save_steps: 1"), ("per_device_train_batch_size: 128",
                     "per_device_train_batch_size: 16"), ("gradient_accumulation_steps: 2",
                     "gradient_accumulation_steps: 1")):
        assert old in train, old
        train = train.replace(old, new)
    (t / "examples" / "train.yaml").write_text(train)
    (t / "config.yaml").write_text(train.replace("dataset: arithmetic.jsonl", "dataset: examples/arithmetic.jsonl"))
    shutil.copytree(t / "runs" / "rm", t / "runs" / "rm-thanks")
    return t


@dataclass
class Sandbox:
    root: Path
    env: dict[str, str]
    shell_prefix: list[str]  # `export X=...` and `X=$(...)` lines seen so far in this doc

    def substitute(self, text: str) -> str:
        for hub_id in POLICY_HUB_IDS:
            text = text.replace(hub_id, str(self.root / "models" / "policy"))
        text = re.sub(r"(?<![\w.])/models/", f"{self.root}/models/", text)
        return text.replace("/abs/path/", f"{self.root}/")


@pytest.fixture
def sandbox(template, tmp_path) -> Sandbox:
    root = tmp_path / "project"
    shutil.copytree(template, root, symlinks=True)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "TORCH_HOME": str(root / "torch"), "PYTHONUNBUFFERED": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    return Sandbox(root, env, [])


# ---- running one block -------------------------------------------------------------------------

# Run in a fresh interpreter with the sandbox's environment (offline switches, torch hub folder),
# as a user's `python -c "rewardkit.load(...)"` would.
VALIDATE = """
import sys, yaml
kind, path = sys.argv[1], sys.argv[2]
if kind == "rm":
    from rewardkit_reward_model.train_config import load_train_config
    load_train_config(path)
elif kind == "train":
    import rewardkit
    from rewardkit.grpo.config import TrainConfig
    config = TrainConfig.from_yaml(path)
    data = yaml.safe_load(open(path))
    if isinstance(data.get("rewards"), list):
        rewardkit.load({"rewards": data["rewards"]})
    assert config.model
else:
    import rewardkit
    assert rewardkit.load(path).labels
print("valid")
"""


def run_yaml(block: Block, box: Sandbox) -> None:
    text = box.substitute(block.text)
    first = text.splitlines()[0] if text.strip() else ""
    named = re.match(r"#\s*([\w./-]+\.ya?ml)\b", first)
    data = yaml.safe_load(text)
    if isinstance(data, list):  # a fragment of a rewards list
        data = {"rewards": data}
        text = yaml.safe_dump(data)
    assert isinstance(data, dict), f"{block.where}: a YAML block must be a mapping or a rewards list"
    path = box.root / (named.group(1) if named else f"snippet-{block.line}.yaml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if not {"model", "dataset", "rewards", "data"} & set(data):  # training options shown on their own
        base = yaml.safe_load((box.root / "examples" / "train.yaml").read_text())
        path.write_text(yaml.safe_dump({**base, **data, "dataset": "examples/arithmetic.jsonl"}))
        kind = "train"
    elif "model" in data and "data" in data:
        kind = "rm"
    elif "model" in data or "dataset" in data:
        kind = "train"
    elif "rewards" in data:
        kind = "rewards"
    else:
        pytest.fail(f"{block.where}: YAML block of no known kind (keys {sorted(data)})")
    run = subprocess.run([sys.executable, "-c", VALIDATE, kind, str(path)], check=False, cwd=box.root, env=box.env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "valid" in run.stdout, (
        f"{block.where}: the YAML block does not load as a {kind} config\n{run.stderr[-4000:]}")


def adjust(command: str, box: Sandbox, n: int) -> str:
    """The stated substitutions for running a doc line here (see the module docstring)."""
    command = box.substitute(command)
    if re.match(r"^(pip|python -m pip) install ", command):
        target = box.root / "site"
        box.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), box.env.get("PYTHONPATH")]))
        return re.sub(r"^(pip|python -m pip) install ",
                      f"{sys.executable} -m pip install -q --no-deps --no-build-isolation --no-index "
                      f"--target {target} ", command)
    launcher = re.match(r"^(torchrun|accelerate launch)\b", command)
    if " train " in f" {command} " and "rm train" not in command:
        if "--max-steps" not in command:
            command += " --max-steps 2"
        if launcher:
            command += f" -o runs/launch-{n}"
            # A free port each (tests run in parallel), and 2 processes: this machine has 2 cores.
            command = re.sub(r"(--nproc_per_node|--num_processes) \d+", r"\1 2", command)
            if command.startswith("torchrun"):
                command = command.replace("torchrun ", f"torchrun --master_port {_free_port()} ", 1)
            else:
                command = command.replace("accelerate launch ",
                                          f"accelerate launch --main_process_port {_free_port()} ", 1)
    if re.match(r"^rewardkit demo\b", command) and "--quick" not in command:
        command += " --quick -o runs/demo-doc"
    return command


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_server(command: str) -> str | None:
    if re.search(r"\brewardkit serve\b", command):
        return "serve"
    m = re.search(r"\brewardkit annotate (\S+)", command)
    if m and m.group(1) not in ("stats", "export") and not m.group(1).startswith("-"):
        return "annotate"
    return None


def run_server(kind: str, command: str, box: Sandbox, where: str) -> None:
    command = re.sub(r"--port \d+", "--port 0", command)
    if "--port" not in command:
        command += " --port 0"
    script = "\n".join([*box.shell_prefix, command])
    proc = subprocess.Popen(["bash", "-c", script], cwd=box.root, env=box.env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    url = None
    deadline = time.monotonic() + 120
    try:
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            m = re.search(r"(http://[\w.\[\]:-]+:\d+)", line)
            if m and ("open" in line or "on http" in line):
                url = m.group(1)
        assert url, f"{where}: `{command}` did not come up:\n{''.join(lines)}"
        _wait_until_answering(url + ("/api/health" if kind == "annotate" else "/health"))
        if kind == "annotate":
            annotator = re.search(r"--annotator (\S+)", command)
            who = annotator.group(1) if annotator else "docs"
            for i in range(1000):
                state = _get(f"{url}/api/state?annotator={who}")
                if state["item"] is None:
                    break
                _post(f"{url}/api/label", {"annotator": who, "pair_id": state["item"]["pair_id"],
                                           "choice": ("left", "right", "tie")[i % 3]})
            assert state["item"] is None and state["done"] > 0, f"{where}: nothing to label"
        else:
            health = _get(f"{url}/health")
            assert health, f"{where}: /health answered {health!r}"
            row = {"prompt": "What is 2 + 3?", "completion": "The answer is 5.", "answer": "5"}
            if "REWARDKIT_TOKEN=" in command or "--token" in command:  # a client without it is refused
                with pytest.raises(urllib.error.HTTPError, match="401"):
                    _post(f"{url}/score", {"rows": [row]})
            else:
                scored = _post(f"{url}/score", {"rows": [row]})
                assert scored, f"{where}: /score answered {scored!r}"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            rest, _ = proc.communicate()
    out = "".join(lines) + rest
    assert proc.returncode in (0, 130), f"{where}: `{command}` exited {proc.returncode} on Ctrl-C:\n{out}"
    assert "Traceback" not in out, f"{where}: `{command}`:\n{out}"


def _wait_until_answering(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            _get(url)
            return
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _get(url: str):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def _post(url: str, body: dict):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def run_bash(block: Block, box: Sandbox) -> None:
    for n, (command, status) in enumerate(commands(block.text)):
        if not_run_reason(command):
            continue
        if re.match(r"^(export )?[A-Z_]+=\S+$", command):  # a variable for the lines after it
            box.shell_prefix.append(box.substitute(command))
            continue
        command = adjust(command, box, block.line * 100 + n)
        kind = is_server(command)
        if kind:
            run_server(kind, command, box, block.where)
            continue
        script = "\n".join(["set -eo pipefail", *box.shell_prefix, command])
        t0 = time.monotonic()
        run = subprocess.run(["bash", "-c", script], check=False, cwd=box.root, env=box.env, capture_output=True,
                             text=True, timeout=300)
        print(f"{block.where}: `{command}` in {time.monotonic() - t0:.1f}s", flush=True)
        assert run.returncode == status, (
            f"{block.where}: `{command}` exited {run.returncode}\n--- stdout\n{run.stdout[-3000:]}"
            f"\n--- stderr\n{run.stderr[-5000:]}")


def run_block(block: Block, box: Sandbox) -> None:
    if block.lang == "yaml":
        run_yaml(block, box)
    elif block.lang in ("bash", "sh", "shell", "console"):
        run_bash(block, box)
    elif block.lang == "json":
        json.loads(block.text)  # bench lines and API answers shown must at least be JSON
    elif block.lang == "python":
        named = re.match(r"#\s*([\w./-]+\.py)\b", block.text)
        if named and "/" not in named.group(1):
            (box.root / named.group(1)).write_text(block.text)


# ---- the tests ---------------------------------------------------------------------------------

SLOW_DOCS = {"README.md", "training.md", "annotate.md"}  # they train, launch DDP and serve


@pytest.mark.parametrize("doc", [
    pytest.param(d, id=str(d.relative_to(ROOT)),
                 marks=[pytest.mark.slow] if d.name in SLOW_DOCS and d.parent.name in ("main", "docs", ROOT.name)
                 else [])
    for d in DOCS
])
def test_every_block_of_the_doc_runs(doc, sandbox):
    for block in blocks(doc):
        run_block(block, sandbox)


def test_not_run_here_lists_only_lines_that_exist():
    lines = [c for d in DOCS for b in blocks(d) if b.lang == "bash" for c, _ in commands(b.text)]
    for pattern in NOT_RUN_HERE:
        assert any(re.search(pattern, c) for c in lines), f"NOT_RUN_HERE has a stale entry: {pattern}"


def test_commands_joins_continuations_and_drops_comments():
    text = ("# a comment\nrewardkit score a.yaml b.jsonl   # adds reward\npython -m x ... \\\n  --flag 1\n\n"
            "rewardkit probe c.yaml d.jsonl --fail-on high   # exits 1: findings\n")
    assert commands(text) == [("rewardkit score a.yaml b.jsonl", 0), ("python -m x ... --flag 1", 0),
                              ("rewardkit probe c.yaml d.jsonl --fail-on high", 1)]


def test_every_doc_has_been_found():
    names = {str(d.relative_to(ROOT)) for d in DOCS}
    assert {"README.md", "docs/training.md", "plugins/math/README.md"} <= names
