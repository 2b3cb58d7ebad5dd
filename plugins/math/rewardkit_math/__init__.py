"""The ``math`` reward: 1.0 when the completion's final answer equals the reference, else 0.0.

The answer is extracted from the completion only (``\\boxed{}``, "the answer is", "Final answer:",
GSM8K's ``####``, ``A:``, the last number; in the order of ``extract``), parsed by an allow-list
grammar into sympy objects (model text never reaches ``eval``/``sympify``), and compared the way a
careful grader does. String and exact-number equality run in this process; everything needing
sympy runs in a pool of worker processes with a hard per-item deadline and a memory cap.

In ``mode: solver`` the column holds an equation or a system instead of an answer, and the
completion is accepted when its answer is the solution set (or, with
``solver_accept: substitution``, when it satisfies the equations).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Literal

from pydantic import Field

import rewardkit
from rewardkit import ConfigError, DataError, text_of

from .equiv import Settings
from .extract import METHODS, extract, gold_text
from .outcomes import LIMIT, OK, TIMEOUT
from .pool import get_pool

log = logging.getLogger("rewardkit_math")

Method = Literal["boxed", "answer_is", "final_answer", "hashes", "a_colon", "last_number"]


class Math(rewardkit.Reward):
    """Checks a completion's final answer against a reference answer (or an equation)."""

    name = "math"
    answer_field: str = Field("answer", description="the column holding the reference answer (solver mode: the equation)")
    mode: Literal["verify", "solver"] = Field("verify", description="verify | solver")
    extract: list[Method] = Field(list(METHODS), description="extraction methods, tried in this order")
    tolerance: float = Field(1e-6, ge=0, le=0.5, description="relative tolerance when a decimal meets an exact value")
    percent: Literal["either", "fraction", "number"] = Field(
        "either", description="50% equals: either 0.5 or 50 | fraction (0.5) | number (50)")
    timeout: float = Field(5.0, gt=0, le=600, description="hard limit in seconds per item (sympy work)")
    on_timeout: Literal["none", "zero"] = Field("zero", description="score of an item that hits a limit: none | zero")
    workers: int = Field(-1, ge=-1, description="worker processes: -1 = one per core, 0 = in-process (no hard deadline)")
    memory_mb: int = Field(256, ge=0, description="address-space cap per worker in MiB (0 = none)")
    max_completion_chars: int = Field(20_000, gt=0, description="only the last this many characters are searched")
    solver_accept: Literal["solution_set", "substitution"] = Field(
        "solution_set", description="solver mode: the full solution set | any value satisfying the equations")
    domain: Literal["real", "complex"] = Field("real", description="solver mode: where solutions are sought")

    def setup(self) -> None:
        if not self.extract:
            raise ConfigError("reward 'math': option 'extract' is empty; give at least one of " + ", ".join(METHODS))
        if len(set(self.extract)) != len(self.extract):
            raise ConfigError(f"reward 'math': option 'extract' lists a method twice: {self.extract}")
        self.stats: dict[str, int] = {"items": 0, "quick": 0, "pooled": 0, "limits": 0, "errors": 0}

    @property
    def settings(self) -> Settings:
        return Settings(tolerance=self.tolerance, percent=self.percent)

    def _n_workers(self) -> int:
        return (os.cpu_count() or 1) if self.workers == -1 else self.workers

    def score(self, prompts, completions, **columns: Any) -> list[float | None]:
        if self.answer_field not in columns:
            raise DataError(
                f"reward 'math': no column '{self.answer_field}' (columns: {', '.join(sorted(columns)) or 'none'}); "
                "set option answer_field"
            )
        golds = columns[self.answer_field]
        if len(golds) != len(completions):
            raise DataError(f"reward 'math': column '{self.answer_field}' has {len(golds)} rows, "
                            f"completions {len(completions)}")
        order = tuple(self.extract)
        s = self.settings
        out: list[float | None] = [0.0] * len(completions)
        tasks: list[tuple] = []
        where: list[int] = []
        from .verify import candidate, quick

        if prompts is None or len(prompts) != len(completions):
            prompts = [""] * len(completions)  # the prompt only serves the echo rule
        for i, (p, c, g) in enumerate(zip(prompts, completions, golds)):
            self.stats["items"] += 1
            if g is None:
                out[i] = None
                continue
            gold = gold_text(text_of(g) if not isinstance(g, (int, float)) else repr(g))
            ex = extract(text_of(c), order, self.max_completion_chars)
            if not ex.answer:
                continue  # no answer, or an empty \boxed{}: no credit
            others = tuple(ex.others)
            if self.mode == "verify":
                # Several parts, hedging, echoes of the task and code: see verify.candidate.
                task = candidate(gold, ex.answer, others, tuple(ex.boxes), text_of(p), text_of(c)[-self.max_completion_chars:])
                if task is None:
                    continue
                gold, ex.answer, others = task
                verdict = quick(gold, ex.answer, others, s)
                if verdict is not None:
                    self.stats["quick"] += 1
                    out[i] = float(verdict)
                    continue
                tasks.append((gold, ex.answer, others, s))
            else:
                tasks.append((gold, ex.answer, others, s, self.solver_accept, self.domain))
            where.append(i)
        if tasks:
            fn = "check" if self.mode == "verify" else "check_solver"
            self.stats["pooled"] += len(tasks)
            for i, (outcome, value) in zip(where, self._run(fn, tasks)):
                out[i] = self._value(outcome, value)
        return out

    def _run(self, fn: str, tasks: list[tuple]) -> list[tuple[str, Any]]:
        n = self._n_workers()
        if n == 0:
            return [_in_process(fn, t) for t in tasks]
        return get_pool(n, self.memory_mb).run(fn, tasks, self.timeout)

    def _value(self, outcome: str, value: Any) -> float | None:
        if outcome == OK:
            return float(bool(value))
        if outcome in (LIMIT, TIMEOUT):
            self.stats["limits"] += 1
            log.warning("math: an item hit a %s (%s); scored %s", "time limit" if outcome == TIMEOUT else "size limit",
                        value or f"{self.timeout}s", self.on_timeout)
            return None if self.on_timeout == "none" else 0.0
        self.stats["errors"] += 1
        log.warning("math: verifier error on an item (%s); scored 0", value)
        return 0.0


def _in_process(fn: str, args: tuple) -> tuple[str, Any]:
    """workers: 0. Size caps still hold; there is no hard deadline without a worker process."""
    from .worker import run_one

    return run_one(fn, args)


@rewardkit.hookimpl
def register_rewards(register):
    register(Math)


@rewardkit.hookimpl
def register_attacks(register):
    from .attacks import register_all  # the probe's notation attacks for this reward

    register_all(register)


__all__ = ["Math"]
