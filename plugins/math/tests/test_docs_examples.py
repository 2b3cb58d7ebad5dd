"""Every example in docs/math.md and the plugin README is scored and gets its documented verdict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rewardkit_math import Math

ROOT = Path(__file__).resolve().parents[3]
DOCS = [ROOT / "docs" / "math.md", ROOT / "plugins" / "math" / "README.md"]
HEADERS = {("rule", "reference", "completion", "score"), ("rule", "prompt", "reference", "completion", "score")}
INLINE = Math(workers=0)


def _cells(line: str) -> list[str]:
    """The cells of a table row; ``\\|`` is a pipe inside a cell."""
    inner = line.strip().strip("|")
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def _code(cell: str) -> str:
    """The text of a code cell; ↵ marks a line break."""
    m = re.fullmatch(r"(`+) ?(.*?) ?\1", cell)  # a span holding backticks uses a longer fence
    assert m, f"not a code cell: {cell!r}"
    return m.group(2).replace("↵", "\n")


def examples() -> list[tuple[str, int, dict]]:
    """(file, line number, example) for every row of an example table."""
    out = []
    for path in DOCS:
        header = None
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.startswith("|"):
                header = None
                continue
            cells = _cells(line)
            if tuple(cells) in HEADERS:
                header = cells
            elif header and not set("".join(cells)) <= set("- "):
                out.append((path.name, n, dict(zip(header, cells))))
    return out


EXAMPLES = examples()


def test_both_documents_have_examples() -> None:
    assert {f for f, _, _ in EXAMPLES} == {p.name for p in DOCS}
    assert len(EXAMPLES) > 100


@pytest.mark.parametrize("where,line,row", EXAMPLES, ids=[f"{f}:{n}" for f, n, _ in EXAMPLES])
def test_documented_verdict(where: str, line: int, row: dict) -> None:
    prompt = _code(row["prompt"]) if "prompt" in row else ""
    got = INLINE.score([prompt], [_code(row["completion"])], answer=[_code(row["reference"])])[0]
    assert got == float(row["score"]), f"{where}:{line}: {row['rule']}"
