"""Running statistics of a stream of scores (Welford), for summaries and running normalisation."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class RunningStats:
    """Mean, sample std, min and max of the numbers added so far, and how many were None.

    Welford's update keeps the variance exact in one pass without storing the values, so a
    stream of any length (``rewardkit score`` over a large file, a reward model normalising
    every batch it has seen) takes constant memory.
    """

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    lo: float = math.inf
    hi: float = -math.inf
    none: int = 0

    def add(self, x: float | None) -> None:
        """Count ``x``; None is counted apart and does not move the statistics."""
        if x is None:
            self.none += 1
            return
        self.n += 1
        d = x - self.mean
        self.mean += d / self.n
        self.m2 += d * (x - self.mean)
        self.lo, self.hi = min(self.lo, x), max(self.hi, x)

    @property
    def std(self) -> float:
        """The sample (unbiased) standard deviation; 0.0 for fewer than two values."""
        return math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else 0.0
