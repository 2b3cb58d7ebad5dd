"""A pool of worker processes with a hard deadline per task: a stuck worker is killed and replaced.

No signals are used, so the limit holds when the reward is called from any thread (TRL's reward
threads, a Ray actor, a web server). Workers are plain subprocesses running
:mod:`rewardkit_math.worker` (the caller's ``__main__`` is never re-imported, unlike
``multiprocessing``'s spawn), cap their own address space with ``RLIMIT_AS``, and live for the
whole process: the pool is module state keyed by its settings, never held by a reward instance,
so rewards stay picklable. A worker whose parent dies reads end-of-file and exits.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection, wait
from typing import Any

from .outcomes import ERROR, LIMIT, OK, TIMEOUT

log = logging.getLogger("rewardkit_math")
_START_TIMEOUT = 60.0  # seconds a fresh worker may take to import sympy

__all__ = ["ERROR", "LIMIT", "OK", "TIMEOUT", "DeadlinePool", "get_pool", "shutdown"]


class _Proc:
    """One worker subprocess and its two pipe ends."""

    def __init__(self, memory_mb: int):
        c_read, p_write = os.pipe()  # parent -> child
        p_read, c_write = os.pipe()  # child -> parent
        env = dict(os.environ)
        # The child sees the modules the parent sees (an uninstalled checkout, a test's sys.path).
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "rewardkit_math.worker", str(c_read), str(c_write), str(memory_mb)],
                pass_fds=(c_read, c_write), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                env=env, close_fds=True,
            )
        finally:
            os.close(c_read)
            os.close(c_write)
        self.send_conn = Connection(p_write, readable=False)
        self.conn = Connection(p_read, writable=False)
        self.ready = False
        self.started = time.monotonic()
        self.task: int | None = None
        self.deadline = 0.0

    def alive(self) -> bool:
        return self.proc.poll() is None and not self.conn.closed

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for c in (self.conn, self.send_conn):
            if not c.closed:
                c.close()


class DeadlinePool:
    """``n`` workers; :meth:`run` maps tasks over them with a per-task time limit."""

    def __init__(self, n: int, memory_mb: int):
        self.n = n
        self.memory_mb = memory_mb
        self._procs: list[_Proc] = []
        self._lock = threading.Lock()
        self.killed = 0  # workers killed at a deadline or found dead

    def start(self) -> None:
        """Start the workers now (they import sympy in the background)."""
        with self._lock:
            self._fill()

    def _fill(self) -> None:
        self._procs = [p for p in self._procs if p.alive()]
        while len(self._procs) < self.n:
            self._procs.append(_Proc(self.memory_mb))

    def run(self, fn: str, tasks: list[tuple], timeout: float) -> list[tuple[str, Any]]:
        """(outcome, value) per task, in order; each task gets ``timeout`` seconds of a worker."""
        with self._lock:
            return self._run(fn, tasks, timeout)

    def _retire(self, p: _Proc, results: list, outcome: tuple[str, Any]) -> None:
        if p.task is not None and results[p.task] is None:
            results[p.task] = outcome
        p.task = None
        p.kill()
        self.killed += 1
        self._procs.remove(p)

    def _run(self, fn: str, tasks: list[tuple], timeout: float) -> list[tuple[str, Any]]:
        results: list[tuple[str, Any] | None] = [None] * len(tasks)
        todo = list(range(len(tasks)))[::-1]
        self._fill()
        while todo or any(p.task is not None for p in self._procs):
            now = time.monotonic()
            for p in self._procs:
                if p.ready and p.task is None and todo:
                    i = todo.pop()
                    try:
                        p.send_conn.send((i, fn, tasks[i]))
                    except (OSError, ValueError):
                        todo.append(i)  # the worker is gone; it is replaced below
                        p.ready = False
                        continue
                    p.task, p.deadline = i, now + timeout
            waits = [p.deadline for p in self._procs if p.task is not None]
            waits += [p.started + _START_TIMEOUT for p in self._procs if not p.ready]
            wait_for = max(0.0, min(waits) - now) if waits else 0.1
            conns = {p.conn: p for p in self._procs}
            for c in wait(list(conns), timeout=wait_for):
                p = conns[c]
                try:
                    idx, outcome, value = c.recv()
                except (EOFError, OSError):
                    # The worker died (killed for memory by the OS, say): its task hit a limit.
                    self._retire(p, results, (LIMIT, "worker died"))
                    continue
                if idx == "ready":
                    p.ready = True
                    continue
                results[idx] = (outcome, value)
                p.task = None
            now = time.monotonic()
            for p in list(self._procs):
                if p.task is not None and now > p.deadline:
                    self._retire(p, results, (TIMEOUT, None))
                elif not p.alive():
                    self._retire(p, results, (LIMIT, "worker died"))
                elif not p.ready and now - p.started > _START_TIMEOUT:
                    # Workers that cannot start would fail every item: score the rest as errors.
                    log.error("math: verifier workers did not start within %.0f s", _START_TIMEOUT)
                    self._retire(p, results, (ERROR, "worker did not start"))
                    for i in todo:
                        results[i] = (ERROR, "worker did not start")
                    todo.clear()
            if todo or any(p.task is not None for p in self._procs):
                self._fill()
        return [r if r is not None else (ERROR, "lost") for r in results]

    def close(self) -> None:
        for p in self._procs:
            try:
                p.send_conn.send(None)
            except (OSError, ValueError):
                pass
            p.kill()
        self._procs = []


_POOLS: dict[tuple[int, int, int], DeadlinePool] = {}
_POOLS_LOCK = threading.Lock()


def get_pool(n: int, memory_mb: int) -> DeadlinePool:
    """The shared pool for these settings, created on first use (per process)."""
    key = (n, memory_mb, os.getpid())
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = DeadlinePool(n, memory_mb)
        return pool


@atexit.register
def shutdown() -> None:
    """Stop every worker of this process (also run at exit)."""
    with _POOLS_LOCK:
        for pool in list(_POOLS.values()):
            pool.close()
        _POOLS.clear()
