"""Writing a training run's folder atomically, and the plot of loss and eval accuracy."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rewardkit import ConfigError
from rewardkit.atomic import atomic_dir as _atomic_dir


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """:func:`rewardkit.atomic.atomic_dir`, refusing an ``output_dir`` that is an existing file."""
    if target.exists() and not target.is_dir():
        raise ConfigError(f"key 'output_dir': {target} exists and is not a folder")
    with _atomic_dir(target) as staging:
        yield staging


def plot_metrics(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """A PNG with the training loss and the eval pairwise accuracy against the optimizer step."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    train = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    evals = [(r["step"], r["eval_accuracy"]) for r in rows if "eval_accuracy" in r]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    if train:
        ax1.plot(*zip(*train), color="tab:blue", linewidth=1)
    ax1.set(title="Bradley-Terry loss", xlabel="step", ylabel="loss")
    ax1.grid(alpha=0.3)
    if evals:
        ax2.plot(*zip(*evals), marker="o", color="tab:green")
    ax2.axhline(0.5, color="grey", linestyle="--", linewidth=1, label="chance")
    ax2.set(title="eval pairwise accuracy", xlabel="step", ylabel="accuracy", ylim=(0, 1.02))
    ax2.legend(loc="lower right")
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
