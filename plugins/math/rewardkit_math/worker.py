"""The worker process of the verifier pool: ``python -m rewardkit_math.worker RFD WFD MEMORY_MB``.

Started by :mod:`rewardkit_math.pool` as a plain subprocess (not ``multiprocessing``), so the
caller's ``__main__`` is never re-imported and no ``if __name__ == "__main__"`` guard is needed.
It caps its own address space, imports sympy once, then answers ``(index, function, args)``
messages with ``(index, outcome, value)`` on its pipes until the parent closes them.
"""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection

from .outcomes import ERROR, LIMIT, OK


def cap_memory(memory_mb: int) -> None:
    """Limit this process's address space; an allocation beyond it raises MemoryError."""
    if memory_mb <= 0:
        return
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on this platform: the deadline still holds
        pass


def resolve(fn: str):
    """``check`` -> ``rewardkit_math.verify.check``; ``package.module:function`` -> that function.

    Names come from this package's code (or a test), never from model text.
    """
    import importlib

    module, _, name = fn.rpartition(":")
    return getattr(importlib.import_module(module or "rewardkit_math.verify"), name)


def run_one(fn: str, args: tuple) -> tuple[str, object]:
    """(outcome, value) of ``fn(*args)``; a size cap or sympy failure is an outcome, not a raise."""
    from .parse import ParseError, TooBig

    try:
        return OK, resolve(fn)(*args)
    except (TooBig, MemoryError, RecursionError, OverflowError) as e:
        return LIMIT, type(e).__name__
    except ParseError:
        return OK, False
    except Exception as e:  # noqa: BLE001 - a sympy failure on one item must not end the batch
        return ERROR, f"{type(e).__name__}: {e}"[:200]


def main(argv: list[str]) -> None:
    rfd, wfd, memory_mb = (int(a) for a in argv[:3])
    inbox, outbox = Connection(rfd, writable=False), Connection(wfd, readable=False)
    cap_memory(memory_mb)
    sys.setrecursionlimit(4000)
    from . import verify  # noqa: F401 - import sympy before the first deadline starts

    outbox.send(("ready", None, None))
    while True:
        try:
            msg = inbox.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        idx, fn, args = msg
        outcome, value = run_one(fn, args)
        try:
            outbox.send((idx, outcome, value))
        except (OSError, BrokenPipeError):
            return


if __name__ == "__main__":
    main(sys.argv[1:])
