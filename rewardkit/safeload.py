"""Loading ``.pt`` files without running code from them.

``torch.load(weights_only=False)`` unpickles arbitrary Python objects, so a checkpoint someone
sends you can run a shell command the moment it is read. Every ``.pt`` file rewardkit reads (the
trainer's optimizer, scheduler and RNG state on ``--resume``, the ``toxicity`` reward's
``checkpoint``) goes through :func:`load_pt`: ``weights_only=True`` (tensors, dicts, lists, tuples,
strings, numbers) plus an explicit allow-list of the NumPy array types that older rewardkit
checkpoints used for NumPy's RNG state. Anything else is refused with a one-line
:class:`~rewardkit.errors.ConfigError` that names the file and the refused global.
"""

from __future__ import annotations

import os
import re
from typing import Any

from .errors import ConfigError


def _allowed_globals() -> list[Any]:
    """NumPy's array reconstruction only: what ``np.random.get_state()`` pickles to."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy ships with torch's usual installs
        return []
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # pragma: no cover - numpy < 2
        from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]
    return [_reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))]


def load_pt(path: str | os.PathLike[str], *, map_location: Any = None) -> Any:
    """``torch.load(path, weights_only=True)`` with the allow-list above; refuse anything else.

    Raises :class:`ConfigError` naming ``path`` when the file holds another Python global (a
    pickle payload, a custom class) or cannot be read as a torch file at all.
    """
    import pickle

    import torch

    try:
        with torch.serialization.safe_globals(_allowed_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        # torch names the refused global in one of a few phrasings; fall back to its last line.
        found = re.search(r"GLOBAL (\S+)|Unsupported operand \S+", str(e))
        lines = [ln for ln in str(e).splitlines() if ln.strip()]
        what = (found.group(1) or found.group(0)) if found else (lines[-1][:120] if lines else "")
        what = f"unsupported global {what}" if found and found.group(1) else what
        raise ConfigError(f"{path}: refused to load: it holds Python code or objects other than tensors "
                          f"and plain data ({what}); rewardkit never unpickles them (see docs/reliability.md)"
                          ) from None
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, RuntimeError, EOFError, ValueError) as e:
        raise ConfigError(f"{path}: cannot read as a torch file ({type(e).__name__}: "
                          f"{' '.join(str(e).split())[:160]})") from None
