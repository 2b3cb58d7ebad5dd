"""The ``device`` option of rewards that run a model: one check, the same for every plugin."""

from __future__ import annotations

from .errors import ConfigError


def resolve_device(device: str, where: str = "") -> str:
    """The torch device string for a ``device`` option, checked when the config loads.

    ``auto`` picks ``cuda`` when available, else ``mps``, else ``cpu``. Anything else must be a
    torch device (``cpu``, ``cuda``, ``cuda:1``, ``mps``), and ``cuda`` needs CUDA to be present,
    so a wrong device fails before training with one line rather than inside a step.
    ``where`` names the owner in the message (``"reward 'toxicity'"``). torch is imported here, not
    at module import: the core stays light.
    """
    import torch

    prefix = f"{where}: " if where else ""
    dev = device.strip()
    if dev == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    try:
        parsed = torch.device(dev)
    except (RuntimeError, ValueError):
        raise ConfigError(f"{prefix}option 'device': {dev!r} is not a torch device "
                          "(auto, cpu, cuda, cuda:1, mps)") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{prefix}option 'device': {dev!r} but CUDA is not available; use device: cpu or auto")
    return dev
