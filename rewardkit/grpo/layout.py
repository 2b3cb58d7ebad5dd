"""The layout of a training run's folder: where checkpoints live and what makes one complete.

Torch-free, so that ``rewardkit train`` can check ``--resume`` and ``output_dir`` before it
loads torch; :mod:`rewardkit.grpo.checkpoint` writes and reads what these names describe.
"""

from __future__ import annotations

import re
from pathlib import Path

PREFIX = "checkpoint-"
STATE = "trainer_state.json"  # written last: a folder with it is a complete checkpoint
FINAL = "final"  # the trained model, in Hugging Face format
_NAME = re.compile(re.escape(PREFIX) + r"(\d+)")


def checkpoint_dir(output_dir: Path, step: int) -> Path:
    """``output_dir/checkpoint-<step>``."""
    return Path(output_dir) / f"{PREFIX}{step}"


def staging_dir(output_dir: Path, step: int) -> Path:
    """Where checkpoint ``step`` is written before it is renamed into place."""
    return Path(output_dir) / f".tmp-{PREFIX}{step}"


def is_complete(path: Path) -> bool:
    """Whether ``path`` is a checkpoint folder whose save finished."""
    return (Path(path) / STATE).exists()


def checkpoints(output_dir: Path, *, complete: bool = True) -> list[Path]:
    """Checkpoints in step order (only complete ones unless ``complete`` is False)."""
    found = []
    for p in Path(output_dir).glob(PREFIX + "*"):
        m = _NAME.fullmatch(p.name)
        if m and (not complete or is_complete(p)):
            found.append((int(m.group(1)), p))
    return [p for _, p in sorted(found)]
