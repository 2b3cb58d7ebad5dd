"""Checkpoints in Hugging Face format plus optimizer, scheduler and RNG state, written atomically.

A checkpoint is first written to ``.tmp-checkpoint-<step>`` and then renamed into place, so a
run killed while saving leaves the previous checkpoints intact and never a half-written one
under a real name. ``latest()`` only considers folders whose ``trainer_state.json`` exists.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import torch

from ..atomic import replace_dir
from ..errors import ConfigError, OutputError
from ..safeload import load_pt
from .layout import STATE, checkpoint_dir, checkpoints, staging_dir


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    try:
        import numpy as np

        kind, keys, pos, has_gauss, cached = np.random.get_state()
        # Plain data, not an ndarray: the file then loads with weights_only=True and no allow-list.
        state["numpy"] = {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                          "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}
    except ImportError:  # pragma: no cover
        pass
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])
    if "numpy" in state:
        import numpy as np

        saved = state["numpy"]
        if isinstance(saved, dict):
            saved = (saved["kind"], saved["keys"].numpy().astype(np.uint32), saved["pos"], saved["has_gauss"],
                     saved["cached_gaussian"])
        np.random.set_state(saved)
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(output_dir: Path, step: int, *, model: Any, tokenizer: Any, optimizer: Any, scheduler: Any,
         rank: int = 0, world: int = 1, extra: dict[str, Any] | None = None,
         barrier: Any = None, save_total_limit: int | None = None) -> Path:
    """Write ``output_dir/checkpoint-<step>``. Every rank writes its RNG state (and its rollout
    buffer, in ``extra``); rank 0 writes the rest and renames the folder once all are done."""
    final, tmp = checkpoint_dir(output_dir, step), staging_dir(output_dir, step)
    try:
        _save(output_dir, step, final, tmp, model=model, tokenizer=tokenizer, optimizer=optimizer,
              scheduler=scheduler, rank=rank, world=world, extra=extra, barrier=barrier,
              save_total_limit=save_total_limit)
    except Exception as e:  # noqa: BLE001 - tokenizers and safetensors raise their own types for ENOSPC
        # A full disk: free what the half-written copy took; the last good checkpoint stays.
        shutil.rmtree(tmp, ignore_errors=True)
        raise write_failure(output_dir, final.name, e, tmp) from None
    return final


def write_failure(output_dir: Path, what: str, e: BaseException, where: Path | None = None) -> OutputError:
    """One line for a failed write into ``output_dir`` (a full disk, a read-only folder): the file,
    the reason, and which checkpoint survived."""
    why = e.strerror if isinstance(e, OSError) and e.strerror else " ".join(str(e).split())[:160]
    good = latest(output_dir) if Path(output_dir).is_dir() else None
    kept = f"the last complete checkpoint {good.name} is intact" if good else "no checkpoint was written"
    return OutputError(f"{getattr(e, 'filename', None) or where or output_dir}: cannot write {what} ({why}); "
                       f"{kept}; free space and rerun with --resume")


def _save(output_dir: Path, step: int, final: Path, tmp: Path, *, model: Any, tokenizer: Any, optimizer: Any,
          scheduler: Any, rank: int, world: int, extra: dict[str, Any] | None, barrier: Any,
          save_total_limit: int | None) -> None:
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    if barrier:
        barrier()
    torch.save({"rng": rng_state(), "extra": extra or {}}, tmp / f"rng_state_{rank}.pt")
    if rank == 0:
        model.save_pretrained(tmp)
        if tokenizer is not None:
            tokenizer.save_pretrained(tmp)
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    if barrier:
        barrier()
    if rank == 0:
        (tmp / STATE).write_text(json.dumps({"global_step": step, "world_size": world}), encoding="utf-8")
        replace_dir(tmp, final)  # re-saving a step (after a resume) swaps, never leaves a gap
        if save_total_limit:
            for old in checkpoints(output_dir)[:-save_total_limit]:
                shutil.rmtree(old, ignore_errors=True)
    if barrier:
        barrier()


def latest(output_dir: Path) -> Path | None:
    """The newest complete checkpoint, or None."""
    found = checkpoints(output_dir)
    return found[-1] if found else None


def load(path: Path, *, model: Any, optimizer: Any, scheduler: Any, rank: int = 0) -> tuple[int, dict[str, Any]]:
    """Restore weights, optimizer, scheduler and this rank's RNG into the live objects.

    Returns ``(step, extra)``. The RNG is restored last, by the caller, via ``set_rng_state``
    on the returned ``extra["rng"]``, so that loading itself cannot disturb it.
    """
    try:
        state = json.loads((path / STATE).read_text(encoding="utf-8"))
        step = int(state["global_step"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{path / STATE}: not a readable trainer state ({type(e).__name__}: "
                          f"{' '.join(str(e).split())[:120]})") from None
    load_weights(model, path)
    # weights_only: a checkpoint from elsewhere must not run code (rewardkit.safeload).
    optimizer.load_state_dict(load_pt(path / "optimizer.pt"))
    scheduler.load_state_dict(load_pt(path / "scheduler.pt"))
    rng_file = path / f"rng_state_{rank}.pt"
    if not rng_file.exists():
        rng_file = path / "rng_state_0.pt"
    blob = load_pt(rng_file)
    if not isinstance(blob, dict) or "rng" not in blob:
        raise ConfigError(f"{rng_file}: not an RNG state written by rewardkit (no 'rng' entry)")
    return step, {"rng": blob["rng"], **blob.get("extra", {})}


def load_weights(model: Any, path: Path) -> None:
    """Copy the weights saved by ``save_pretrained`` in ``path`` into ``model`` (full or peft)."""
    from safetensors.torch import load_file

    if (path / "adapter_model.safetensors").exists():
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, load_file(str(path / "adapter_model.safetensors")))
        return
    state: dict[str, Any] = {}
    for f in sorted(path.glob("model*.safetensors")):
        try:
            state.update(load_file(str(f)))
        except Exception as e:  # noqa: BLE001 - safetensors raises its own error type for a bad file
            raise ConfigError(f"{f}: cannot read the weights ({' '.join(str(e).split())[:160]})") from None
    missing, unexpected = model.load_state_dict(state, strict=False)
    # Tied weights (lm_head = embeddings) are saved once; anything else missing is a real mismatch.
    tied = set(getattr(model, "_tied_weights_keys", None) or [])
    if isinstance(getattr(model, "_tied_weights_keys", None), dict):
        tied = set(model._tied_weights_keys)
    real_missing = [k for k in missing if k not in tied and "lm_head" not in k]
    if unexpected or real_missing:
        raise ConfigError(f"{path}: checkpoint does not match the model (missing {real_missing[:3]}, "
                          f"unexpected {unexpected[:3]})")
