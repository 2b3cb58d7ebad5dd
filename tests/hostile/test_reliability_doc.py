"""The YAML that docs/reliability.md shows loads and scores as the page says."""

from __future__ import annotations

import re

from conftest import ROOT
from hostile.harness import run_cli

DOC = ROOT / "docs" / "reliability.md"


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_on_error_example_scores_through_the_cli(tmp_path):
    (block,) = yaml_blocks()
    (tmp_path / "rewards.yaml").write_text(block, encoding="utf-8")
    (tmp_path / "d.jsonl").write_text('{"prompt": "1+1?", "completion": "2", "answer": "2"}\n', encoding="utf-8")
    run = run_cli("score", "rewards.yaml", "d.jsonl", cwd=tmp_path)
    assert run.returncode == 0, run
    assert '"length"' in run.stdout and '"format"' in run.stdout and '"math"' in run.stdout


def test_the_readme_links_the_page():
    assert "docs/reliability.md" in (ROOT / "README.md").read_text(encoding="utf-8")
