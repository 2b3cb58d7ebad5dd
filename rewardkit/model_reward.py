"""A base for rewards backed by a model: one load per process, length-sorted batches, light pickles.

:class:`ModelReward` is what the toxicity, factuality (entailment) and reward_model rewards share,
and what a third-party model reward subclasses::

    class Sentiment(rewardkit.ModelReward):
        name = "sentiment"
        model: str = "/models/sentiment"

        def model_key(self):
            return (self.model, self.device)          # rewards with equal keys share one model

        def load_model(self, key):
            return load_my_classifier(*key)           # raise ModelLoadError("model", "...") on failure

        def score(self, prompts, completions, **columns):
            texts = [rewardkit.text_of(c) for c in completions]
            out = [0.0] * len(texts)
            for idx in length_sorted_batches([len(t) for t in texts], self.batch_size):
                for i, p in zip(idx, self.loaded.predict([texts[i] for i in idx])):
                    out[i] = p
            return out

- The model loads at config load (``setup``), through a process-wide :class:`ModelCache` keyed
  by :meth:`ModelReward.model_key` (one per class, or the one a class names in ``cache``): every
  instance, in every composite, that asks for the same model gets the same object, and a second
  ``rewardkit.load`` of a config loads nothing.
- A :class:`ModelLoadError` raised by :meth:`ModelReward.load_model` becomes a one-line
  :class:`rewardkit.ConfigError` naming the reward and the option to fix.
- Pickling (TRL, Ray, multiprocessing) leaves the model out; the copy takes it from the cache of
  the process it lands in when it first scores (loading it there if that process has none).

Nothing here imports torch: importing rewardkit stays light, and so do plugins built on this.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, ClassVar, TypeVar

from pydantic import Field

from .errors import ConfigError
from .reward import Reward

T = TypeVar("T")


class ModelLoadError(ConfigError):
    """A model could not be loaded; ``option`` names the option a user should change."""

    def __init__(self, option: str, message: str):
        super().__init__(message)
        self.option = option


class ModelCache:
    """Loaded models by key, each loaded once per process; safe to use from several threads."""

    def __init__(self) -> None:
        self._items: dict[Hashable, Any] = {}
        self._lock = threading.Lock()
        self.loads = 0  #: how many loads this cache has done (tests check that sharing works)

    def get(self, key: Hashable, load: Callable[[Hashable], T]) -> T:
        """The object cached under ``key``, or ``load(key)``'s result, cached on success."""
        with self._lock:  # held while loading: two threads asking for one model load it once
            if key not in self._items:
                self._items[key] = load(key)
                self.loads += 1
            return self._items[key]

    def clear(self) -> None:
        """Forget every loaded model (tests, or to free memory)."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Indices into ``lengths`` in batches of ``batch_size``, longest first.

    Similar lengths share a batch, so little padding is computed, and the widest batch comes
    first, so an out-of-memory error shows at once rather than at the end of a long call.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])  # stable: ties keep input order
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def padded_batches(tokenizer: Any, encoding: Any, batch_size: int) -> Iterator[tuple[list[int], Any]]:
    """``(indices, batch)`` per :func:`length_sorted_batches` batch of a tokenized, unpadded input.

    ``encoding`` is what a Hugging Face tokenizer returns without padding (lists of ids per
    text); each batch is padded to its own longest row by ``tokenizer.pad`` as torch tensors.
    """
    lengths = [len(ids) for ids in encoding["input_ids"]]
    for idx in length_sorted_batches(lengths, batch_size):
        yield idx, tokenizer.pad({k: [encoding[k][i] for i in idx] for k in encoding}, return_tensors="pt")


class ModelReward(Reward):
    """Base class of rewards that score with a model (see the module docstring).

    Subclasses implement :meth:`model_key` and :meth:`load_model` and read the model from
    :attr:`loaded` in ``score``. A subclass whose model is optional (a mode without one) returns
    None from :meth:`model_key`.
    """

    batch_size: int = Field(32, gt=0, description="texts per forward pass")
    #: Where this class's models are kept: a cache of its own unless the class body sets one
    #: (a plugin's loading module may hold it, to share it with its functions).
    cache: ClassVar[ModelCache]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "cache" not in cls.__dict__:
            cls.cache = ModelCache()

    # -- to override -------------------------------------------------------------------------

    def model_key(self) -> Hashable | None:
        """What identifies this reward's model (paths made absolute, device resolved); None: no model.

        Raise :class:`rewardkit.ConfigError` for an option that is wrong before any load.
        """
        raise NotImplementedError(f"{type(self).__name__}.model_key is not implemented")

    def load_model(self, key: Any) -> Any:
        """Load the model for ``key``; raise :class:`ModelLoadError` naming the option on failure."""
        raise NotImplementedError(f"{type(self).__name__}.load_model is not implemented")

    # -- provided ----------------------------------------------------------------------------

    def setup(self) -> None:
        """Load the model at config load, so a model that does not load fails there."""
        self._loaded: Any = None
        if self.model_key() is not None:
            _ = self.loaded

    @property
    def loaded(self) -> Any:
        """This reward's model, from the process cache (loaded on first use in this process)."""
        if self._loaded is None:
            key = self.model_key()
            if key is None:
                raise RuntimeError(f"reward '{self.name}' has no model with these options")
            try:
                self._loaded = self.cache.get(key, self.load_model)
            except ModelLoadError as e:
                raise ConfigError(f"reward '{self.name}': option '{e.option}': {e}") from None
        return self._loaded

    # The model is not pickled: an unpickled copy takes it from its process's cache when it scores.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_loaded"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
