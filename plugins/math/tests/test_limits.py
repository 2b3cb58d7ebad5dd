"""Bounded cost: size caps before computing, a hard deadline in any thread, a memory cap."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from rewardkit_math import Math
from rewardkit_math.equiv import Settings
from rewardkit_math.outcomes import LIMIT, OK, TIMEOUT
from rewardkit_math.pool import DeadlinePool

PATHOLOGICAL = {
    "power tower": "\\boxed{9^{9^{9^9}}}",
    "huge power": "\\boxed{10^{10^{6}}}",
    "huge factorial": "\\boxed{100000!}",
    "factorial of a power": "\\boxed{(10^{10})!}",
    "huge binomial": "\\boxed{\\binom{10^{9}}{500000}}",
    "100k digits": "\\boxed{" + "7" * 100_000 + "}",
    "5k-digit answer": "The answer is " + "3" * 5000,
    "5,000 nested parentheses": "\\boxed{" + "(" * 5000 + "1" + ")" * 5000 + "}",
    "5,000 nested braces": "\\boxed{" + "{" * 5000 + "1" + "}" * 5000 + "}",
    "1 MB completion": "x " * 500_000 + "\\boxed{" + "1+" * 1000 + "1}",
    "1 MB answer": "\\boxed{" + "1+" * 500_000 + "1}",
    "long unit words": "\\boxed{1 " + "ab" * 900 + "!}",
    "20k blank lines": "\n" * 20_000 + "A",
    "2,500 answer markers": "Answer: " * 2500,
    "unclosed reasoning block": "<think>" * 3000 + "\\boxed{2}",
}
# Refused by a size cap (not by the deadline): they never start a big computation.
CAPPED = ["power tower", "huge power", "huge factorial", "factorial of a power", "huge binomial", "100k digits"]


@pytest.mark.timeout(120)
def test_pathological_inputs_score_zero_and_are_counted() -> None:
    reward = Math(workers=1, timeout=3.0)
    scores = reward.score([""] * len(PATHOLOGICAL), list(PATHOLOGICAL.values()), answer=["2"] * len(PATHOLOGICAL))
    assert scores == [0.0] * len(PATHOLOGICAL)
    assert reward.stats["limits"] >= len(CAPPED)
    none = Math(workers=1, timeout=3.0, on_timeout="none")
    got = none.score([""] * len(CAPPED), [PATHOLOGICAL[k] for k in CAPPED], answer=["2"] * len(CAPPED))
    assert got == [None] * len(CAPPED)


@pytest.mark.parametrize("name", CAPPED)
def test_caps_hold_in_process(name: str) -> None:
    # workers: 0 has no deadline, so the caps alone must stop these before any computation.
    reward = Math(workers=0)
    assert reward.score([""], [PATHOLOGICAL[name]], answer=["3"]) == [0.0]
    assert reward.stats["limits"] == 1


@pytest.fixture
def helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A module the workers can import: a stalled computation and a memory hog."""
    (tmp_path / "rkm_test_helpers.py").write_text(
        "import time\n"
        "def stall(seconds):\n    time.sleep(seconds)\n    return True\n"
        "def hog(mb):\n    blob = bytearray(mb * 1024 * 1024)\n    return len(blob) > 0\n"
        "def peak_mb():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM'):\n            return int(line.split()[1]) // 1024\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))  # the pool hands sys.path to its workers
    return "rkm_test_helpers"


@pytest.mark.timeout(120)
def test_deadline_kills_a_stuck_worker_from_any_thread(helpers: str) -> None:
    pool = DeadlinePool(1, 256)
    try:
        got: list = []
        thread = threading.Thread(target=lambda: got.extend(
            pool.run(f"{helpers}:stall", [(60,), (0,)], timeout=1.0)))
        thread.start()
        thread.join(60)
        assert not thread.is_alive()
        assert got == [(TIMEOUT, None), (OK, True)]  # the stuck one was cut, the next one ran
        assert pool.killed == 1
        assert pool.run("check", [("3", "\\frac{6}{2}", (), Settings())], 10.0) == [(OK, True)]
    finally:
        pool.close()


@pytest.mark.timeout(120)
def test_memory_cap_per_worker(helpers: str) -> None:
    pool = DeadlinePool(1, 256)
    try:
        (outcome, value), = pool.run(f"{helpers}:hog", [(1024,)], timeout=20.0)
        assert (outcome, value) == (LIMIT, "MemoryError")
        tasks = [("2", PATHOLOGICAL[k].replace("\\boxed{", "", 1)[:-1], (), Settings()) for k in CAPPED]
        assert [o for o, _ in pool.run("check", tasks, timeout=5.0)] == [LIMIT] * len(CAPPED)
        (outcome, peak), = pool.run(f"{helpers}:peak_mb", [()], timeout=20.0)
        assert outcome == OK and peak < 300, f"worker peak resident memory {peak} MB"
    finally:
        pool.close()


def test_limit_outcomes_are_scored_per_option() -> None:
    zero, none = Math(workers=0), Math(workers=0, on_timeout="none")
    assert zero._value(TIMEOUT, None) == 0.0 and none._value(TIMEOUT, None) is None
    assert none._value(LIMIT, "TooBig") is None
    assert zero.stats["limits"] == 1 and none.stats["limits"] == 2
