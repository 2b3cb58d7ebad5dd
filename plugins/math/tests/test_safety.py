"""Model text is never evaluated: injection payloads parse to nothing and run nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rewardkit_math import Math
from rewardkit_math.parse import ParseError, parse


def _sibling(name: str):
    """A module of this folder (pytest's importlib mode puts no test folder on sys.path)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_rkm_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_eq = _sibling("test_equivalence")
CASES, solve = _eq.CASES, _eq.solve

PAYLOADS = [
    "__import__('os').system('touch {marker}')",
    "__import__(\"os\").system(\"touch {marker}\")",
    "exec(\"open('{marker}','w')\")",
    "eval(\"__import__('os').system('touch {marker}')\")",
    "(lambda: __import__('os').system('touch {marker}'))()",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__.__mro__[1].__subclasses__()[0]",
    "Symbol('x').__class__.__init__.__globals__['os'].system('touch {marker}')",
    "open('{marker}', 'w').write('1')",
    "getattr(__builtins__, 'exec')(\"open('{marker}','w')\")",
    "\\text{__import__('os').system('touch {marker}')}",
    "1+__import__('os').system('touch {marker}')",
    "Lambda(x, __import__('os').system('touch {marker}'))(1)",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_runs_nothing(tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "MARKER"
    text = payload.replace("{marker}", str(marker))
    completions = [solve(text), f"The answer is {text}", f"Final answer: {text}", text]
    for reward in (Math(workers=0), Math(workers=1), Math(workers=0, mode="solver")):
        gold = "x = 987654" if reward.mode == "solver" else "987654"  # no digit run of the payload
        scores = reward.score([""] * 4, completions, answer=[gold] * 4)
        assert all(s in (0.0, None) for s in scores)
        # the payload as the reference answer too
        reward.score([""], [solve("987654")], answer=[text])
    assert not marker.exists()
    assert not os.path.exists("MARKER")


def test_payload_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse("__import__('os').system('ls')")
    with pytest.raises(ParseError):
        parse("().__class__")


def test_no_string_reaches_sympify(monkeypatch: pytest.MonkeyPatch) -> None:
    """sympify(str) evaluates through parse_expr; make any such call fail loudly."""
    from sympy.parsing import sympy_parser

    def forbidden(*args, **kwargs):
        raise AssertionError(f"parse_expr called on {args[:1]!r}")

    from rewardkit_math.verify import clear_caches

    reward = Math(workers=0)
    golds = [c[1] for c in CASES]
    completions = [solve(c[2]) for c in CASES]
    # A first pass imports what sympy imports lazily (some of its modules sympify constant
    # strings of their own at import); then every parse is redone with parse_expr forbidden.
    reward.score([""] * len(CASES), completions, answer=golds)
    clear_caches()
    monkeypatch.setattr(sympy_parser, "parse_expr", forbidden)
    monkeypatch.setattr(sympy_parser, "eval_expr", forbidden)
    reward.stats["errors"] = 0
    scores = reward.score([""] * len(CASES), completions, answer=golds)
    assert scores == [c[3] for c in CASES]
    assert reward.stats["errors"] == 0
