"""A dependency-free progress line for long CLI work (shown only on a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``Progress(total, "scoring")``; ``update(done, rows)``; ``close()``. Silent off a TTY."""

    def __init__(self, total: float, desc: str, unit: str = "rows", stream: TextIO | None = None,
                 enabled: bool | None = None, min_interval: float = 0.2):
        self.total = total
        self.desc = desc
        self.unit = unit
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.start = time.perf_counter()
        self.min_interval = min_interval
        self._last = 0.0

    def update(self, done: float, count: int) -> None:
        """Show ``done`` out of ``total`` (any unit, e.g. bytes) and ``count`` items processed."""
        now = time.perf_counter()
        if not self.enabled or now - self._last < self.min_interval:
            return
        self._last = now
        self._draw(done, count, now)

    def _draw(self, done: float, count: int, now: float) -> None:
        frac = min(1.0, done / self.total) if self.total else 1.0
        bar = "#" * int(frac * 30)
        rate = count / max(now - self.start, 1e-9)
        self.stream.write(f"\r{self.desc} [{bar:<30}] {frac:6.1%} {count:,} {self.unit} {rate:,.0f}/s")
        self.stream.flush()

    def close(self, done: float, count: int) -> None:
        if self.enabled:
            self._draw(done, count, time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()
