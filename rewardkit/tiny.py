"""Deprecated alias of :mod:`rewardkit.models.tiny`, kept for one release; import that instead."""

from __future__ import annotations

import warnings

from .models.tiny import *
from .models.tiny import BERT_SPECIALS, BOS, CHAT_TEMPLATE, EOS, PAD, UNK  # noqa: F401

warnings.warn("rewardkit.tiny moved to rewardkit.models.tiny; the old path goes in the next release",
              DeprecationWarning, stacklevel=2)
