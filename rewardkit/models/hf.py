"""Settings for transformers that every rewardkit command that loads a model shares."""

from __future__ import annotations


def quiet_transformers() -> None:
    """No per-file progress bars or load reports from transformers: rewardkit prints its own lines."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
