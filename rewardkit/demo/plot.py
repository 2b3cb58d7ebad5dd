"""The demo's figure: the GRPO reward curve, and greedy accuracy/reward before and after."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..grpo.plot import save_figure


def moving_average(xs: Sequence[float], window: int) -> list[float]:
    """Trailing mean over up to ``window`` values (shorter at the start)."""
    out, acc = [], 0.0
    for i, x in enumerate(xs):
        acc += x
        if i >= window:
            acc -= xs[i - window]
        out.append(acc / min(i + 1, window))
    return out


def plot_demo(metrics: Sequence[dict[str, Any]], before: Any, after: Any, labels: Sequence[str],
              path: str | os.PathLike[str]) -> Path:
    """Write the two-panel PNG to ``path`` (replaced only once fully written); returns it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [m["step"] for m in metrics]
    window = max(1, len(metrics) // 20)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100, gridspec_kw={"width_ratios": [2.2, 1]})
    reward = [m["reward"] for m in metrics]
    left.plot(steps, reward, color="tab:blue", alpha=0.25, linewidth=1)
    left.plot(steps, moving_average(reward, window), color="tab:blue", linewidth=2,
              label=f"reward (total, {window}-step mean)")
    for label, color in zip(labels, ["tab:green", "tab:orange", "tab:purple", "tab:red"]):
        key = f"rewards/{label}/mean"
        series = [m.get(key) for m in metrics]
        if all(v is not None for v in series):
            left.plot(steps, moving_average(series, window), color=color, linewidth=1.2, alpha=0.9, label=label)
    left.set_xlabel("GRPO step")
    left.set_ylabel("mean reward of sampled completions")
    left.set_title("GRPO on addition: reward per step")
    left.grid(alpha=0.3)
    left.legend(loc="lower right", fontsize=8)

    names = ["accuracy", "reward"]
    xs = range(len(names))
    width = 0.38
    b = right.bar([x - width / 2 for x in xs], [before.accuracy, before.reward], width, label="before GRPO",
                  color="tab:gray")
    a = right.bar([x + width / 2 for x in xs], [after.accuracy, after.reward], width, label="after GRPO",
                  color="tab:blue")
    right.bar_label(b, fmt="%.2f", fontsize=8)
    right.bar_label(a, fmt="%.2f", fontsize=8)
    right.set_xticks(list(xs), names)
    right.set_ylim(0, max(1.05, before.reward * 1.15, after.reward * 1.15))
    right.set_title("held-out problems, greedy")
    right.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)
