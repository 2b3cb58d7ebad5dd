"""The reward curves of a run as a PNG (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..atomic import atomic_path


def plot_rewards(metrics: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> Path | None:
    """Plot ``reward`` and each ``rewards/<label>/mean`` against ``step``; returns the file, or None
    when there is nothing to plot."""
    if not metrics:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [m["step"] for m in metrics]
    labels = sorted({k for m in metrics for k in m if k.startswith("rewards/") and k.endswith("/mean")})
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    ax.plot(steps, [m.get("reward", float("nan")) for m in metrics], label="reward (total)", linewidth=2)
    for key in labels:
        ax.plot(steps, [m.get(key, float("nan")) for m in metrics], label=key.split("/")[1], alpha=0.8)
    ax.set_xlabel("step")
    ax.set_ylabel("mean reward")
    ax.set_title("GRPO reward curves")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def save_figure(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` to ``path`` as PNG, replacing the file only once it is fully written."""
    import matplotlib.pyplot as plt

    out = Path(path)
    try:
        with atomic_path(out) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return out
