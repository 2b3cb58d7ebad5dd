"""The layers of docs/architecture.md, checked on the import statements of every module.

Every ``import`` and ``from ... import`` in ``rewardkit/`` (at module level or inside a function:
a lazy import is still a dependency) is resolved to an absolute module name and checked against
the table the page states. The table here is parsed from the page itself, so the two cannot drift.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"

# Imports that the table forbids but the tree still has, each with the change that removes it.
# An entry is tolerated, not required: delete it once the import is gone.
KNOWN: set[tuple[str, str]] = set()  # (module, import) pairs tolerated while a move is under way: none


def module_name(path: Path) -> str:
    """``rewardkit/grpo/trainer.py`` -> ``rewardkit.grpo.trainer``; ``plugins/math/rewardkit_math/x.py`` ->
    ``rewardkit_math.x``."""
    parts = list(path.with_suffix("").parts)
    top = max(i for i, part in enumerate(parts) if part == "rewardkit" or part.startswith("rewardkit_"))
    parts = parts[top:]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """The absolute names of the modules (and ``from`` targets) ``path`` imports anywhere."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from . import trainer` imports the submodule rewardkit.grpo.trainer
            found.update(f"{target}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def layer_table() -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """``(layer -> module prefixes, layer -> layers it may import)`` from the page's tables."""
    text = DOC.read_text(encoding="utf-8")
    members: dict[str, list[str]] = {}
    allowed: dict[str, set[str]] = {}
    for line in text.splitlines():
        m = re.fullmatch(r"\|\s*\*\*(\w+)\*\*\s*\|([^|]*)\|([^|]*)\|.*", line.strip())
        if not m:
            continue
        layer = m.group(1)
        members[layer] = re.findall(r"`([\w.*]+)`", m.group(2))
        allowed[layer] = {layer, *re.findall(r"\b(core|plugins|trainer|integrations|apps)\b", m.group(3))}
    return members, allowed


def layer_of(module: str, members: dict[str, list[str]]) -> str | None:
    """The layer of ``module``: the one whose most specific prefix matches."""
    best, best_len = None, -1
    for layer, prefixes in members.items():
        for prefix in prefixes:
            if prefix.endswith("*"):
                hit = module.startswith(prefix[:-1])
            else:
                hit = module == prefix or module.startswith(prefix + ".")
            if hit and len(prefix) > best_len:
                best, best_len = layer, len(prefix)
    return best


def sources(root: Path) -> list[Path]:
    """Every module of the core package and of the first-party plugins under ``root``."""
    return [*root.glob("rewardkit/**/*.py"), *root.glob("plugins/*/rewardkit_*/**/*.py")]


def violations(paths: list[Path]) -> list[str]:
    """One line per import that the page's table forbids."""
    members, allowed = layer_table()
    bad = []
    for path in paths:
        here = module_name(path)
        mine = layer_of(here, members)
        assert mine is not None, f"{path}: in no layer of docs/architecture.md"
        for target in sorted(imports_of(path)):
            theirs = layer_of(target, members)
            if theirs is None or any(here == m and (target + ".").startswith(t + ".") for m, t in KNOWN):
                continue  # the standard library or a third-party package
            commands_ok = mine == "apps" and here.startswith(("rewardkit.cli", "rewardkit.commands"))
            if target.startswith("rewardkit.commands") and not commands_ok:
                bad.append(f"{here} imports {target}: only rewardkit.cli and commands import commands")
            elif theirs not in allowed[mine]:
                bad.append(f"{here} ({mine}) imports {target} ({theirs})")
    return bad


def test_the_page_states_every_layer():
    members, allowed = layer_table()
    assert set(members) == {"core", "plugins", "trainer", "integrations", "apps"}
    assert allowed["core"] == {"core"}  # the core imports no other layer
    assert "apps" not in allowed["integrations"] and "plugins" not in allowed["apps"]


def test_every_import_follows_the_layers():
    paths = sources(ROOT)
    assert len(paths) > 50 and any("plugins" in p.relative_to(ROOT).parts for p in paths)
    assert violations(paths) == []


def test_the_check_catches_a_core_module_importing_a_plugin_or_a_command(tmp_path):
    # The check itself must fail on the imports it exists for.
    members, _ = layer_table()
    assert layer_of("rewardkit.compose", members) == "core"
    assert layer_of("rewardkit_math", members) == "plugins"
    assert layer_of("rewardkit.commands.score", members) == "apps"
    assert layer_of("rewardkit.grpo.trainer", members) == "trainer"
    assert layer_of("rewardkit.integrations.trl", members) == "integrations"
    fake = tmp_path / "rewardkit" / "_architecture_probe.py"
    fake.parent.mkdir()
    fake.write_text("def f():\n    import rewardkit_math\n    from .commands.score import score_rows\n")
    plugin = tmp_path / "plugins" / "math" / "rewardkit_math" / "__init__.py"
    plugin.parent.mkdir(parents=True)
    plugin.write_text("from rewardkit.grpo import trainer\n")
    found = violations([fake, plugin])
    assert "rewardkit_math (plugins) imports rewardkit.grpo (trainer)" in found
    assert "rewardkit._architecture_probe (core) imports rewardkit_math (plugins)" in found
    assert any(v.startswith("rewardkit._architecture_probe imports rewardkit.commands.score") for v in found)


def test_no_layer_but_the_plugins_names_a_plugin_package():
    # A name in a string (importlib.import_module("rewardkit_math"), a special case on the package)
    # is a dependency the import check cannot see.
    first_party = sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / f"rewardkit_{p.name}").is_dir())
    assert {"math", "length", "reward_model"} <= set(first_party)
    pattern = re.compile(r"\brewardkit_(" + "|".join(first_party) + r")\b")
    named = []
    for path in ROOT.glob("rewardkit/**/*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.search(node.value):
                named.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert named == []
