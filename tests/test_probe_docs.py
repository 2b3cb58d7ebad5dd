"""docs/probe.md, the README's probe section and the register_attacks section of docs/plugins.md:
every command line runs, the YAML shown is the example file, every attack is explained with an
example that the attack really produces, and the plugin snippet works."""

from __future__ import annotations

import re
import types
from pathlib import Path

import rewardkit
from rewardkit.probe import CATALOGUE, Case, probe
from rewardkit.probe.attacks import attacks_for
from rewardkit.probe.case import REASONING, candidate_layouts

ROOT = Path(__file__).resolve().parents[1]
PROBE_MD = (ROOT / "docs" / "probe.md").read_text(encoding="utf-8")
PLUGINS_MD = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def blocks(text: str, lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(text) if kind == lang]


def probe_commands() -> list[str]:
    found = []
    for text in (PROBE_MD, README):
        for body in blocks(text, "console") + blocks(text, "bash"):
            found += [line.strip() for line in body.splitlines() if line.strip().startswith("rewardkit probe ")]
    return found


def test_the_docs_show_probe_commands():
    cmds = probe_commands()
    assert len(cmds) >= 5
    assert any("--fail-on" in c for c in cmds)
    assert any(c in README for c in cmds)


# Each of these lines runs, with the exit status its `# exits N` comment gives, in tests/test_docs.py.


def test_the_recipe_yaml_shown_is_the_example_file():
    shown = [b for b in blocks(PROBE_MD, "yaml") if "use: math" in b]
    assert shown == [(ROOT / "examples" / "probe" / "math.yaml").read_text(encoding="utf-8")]


def doc_case() -> Case:
    layout = {lay.name: lay for lay in candidate_layouts()}["think_boxed"]
    return Case(0, "7+10=", "17", "20", "9", layout.render("17"), layout.render("20"), layout)


def test_every_attack_is_explained_with_its_real_example():
    lines = dict(re.findall(r"^- \*\*`([^`]+)`\*\* \((?:wrong|flawed)\): (.*)$", PROBE_MD, re.MULTILINE))
    attacks = attacks_for(["math"])
    assert {a.name for a in attacks} == set(lines)
    case = doc_case()
    for a in attacks:
        line = lines[a.name]
        assert line.startswith(a.description), a.name
        made = a.make(case)
        if line.endswith("Example: (the empty string)"):
            assert made == "", a.name
            continue
        example = re.search(r"Example: `` (.*) ``$", line).group(1)
        example = re.sub(r"(?<=<think>)R(?=[ <])", REASONING, example.replace("\\n", "\n"))
        assert made.startswith(example.rstrip("…")), (a.name, example, made)
    assert len(CATALOGUE) + 4 == len(attacks)


def test_plugins_md_attack_snippet_works(fresh_registry):
    reward_src = blocks(PLUGINS_MD.split("## The reward", 1)[1], "python")[0]
    attack_src = blocks(PLUGINS_MD.split("## Attacks for `rewardkit probe`", 1)[1], "python")[0]
    mod = types.ModuleType("rewardkit_keyword")
    exec(compile(reward_src + "\n\n@rewardkit.hookimpl\ndef register_rewards(register):\n"  # noqa: S102
                 "    register(Keyword)\n\n" + attack_src, "plugins.md", "exec"), mod.__dict__)
    fresh_registry.register_plugin(mod, name="keyword", distribution="rewardkit-keyword")
    rows = [{"prompt": f"Name an animal ({k})", "keyword": k} for k in ("cat", "dog", "owl", "bee")]
    report = probe(rewardkit.load({"rewards": [{"use": "keyword"}]}), rows)
    found = {f.attack: f for f in report.findings}
    assert found["keyword.negated"].source == "keyword"
    assert found["keyword.negated"].severity == "high"  # a substring check credits a denial
