"""Composition: a weighted sum of rewards, with per-component breakdowns and error policy."""

from __future__ import annotations

import logging
import math
import os
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import config as _config
from .errors import ConfigError, DataError, RewardError, RewardkitError
from .plugins import registry
from .reward import TRAINER_KWARGS, Reward, Score
from .text import TextOrChat

log = logging.getLogger("rewardkit")



def _as_raised(err: RewardError, cause: BaseException) -> RewardkitError:
    """What on_error=raise raises: a reward's complaint about its input (a missing column) stays a
    DataError, so the CLI exits 2 as for any bad data; anything else is the reward failing."""
    return DataError(str(err)) if isinstance(cause, DataError) else err

@dataclass
class Component:
    """One weighted, labelled reward inside a :class:`Composite`."""

    label: str
    weight: float
    reward: Reward
    on_error: str = "raise"
    timeout: float | None = None
    use: str = ""

    def __post_init__(self) -> None:
        self._trainer_kwargs = type(self.reward).accepted_trainer_kwargs()

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], kwargs: Mapping[str, Any],
              errors: Counter[str] | None = None) -> list[Score]:
        """This component's raw scores, with its error policy applied."""
        n = len(completions)
        call_kwargs = {k: v for k, v in kwargs.items() if k not in TRAINER_KWARGS or k in self._trainer_kwargs}
        try:
            out = self._call(prompts, completions, call_kwargs)
            return self._check(out, n)
        except RewardError as e:
            if self.on_error == "raise" or e.row is not None:
                raise
            return self._fallback(n, e, errors)  # timeout: the whole batch takes the policy
        except Exception as e:  # the policy decides what a failure means
            if n <= 1:
                row_err = RewardError(self._describe(e, 0 if n else None), label=self.label, row=0 if n else None)
                if self.on_error == "raise":
                    raise _as_raised(row_err, e) from e
                return self._fallback(n, row_err, errors)
            return self._row_by_row(prompts, completions, call_kwargs, e, errors)

    def _call(self, prompts: Sequence[Any], completions: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if self.timeout is None:
            return self.reward.score(prompts, completions, **kwargs)
        # A daemon thread we can stop waiting for: works in any thread (no SIGALRM), never hangs
        # the caller. A reward that must also free the CPU bounds itself (see rewardkit-math).
        result: dict[str, Any] = {}

        def target() -> None:
            try:
                result["out"] = self.reward.score(prompts, completions, **kwargs)
            except BaseException as e:  # noqa: BLE001
                result["err"] = e

        t = threading.Thread(target=target, name=f"rewardkit-{self.label}", daemon=True)
        t.start()
        t.join(self.timeout)
        if t.is_alive():
            raise RewardError(
                f"reward '{self.label}' ({self.use}) timed out after {self.timeout:g}s on a batch of "
                f"{len(completions)}", label=self.label,
            )
        if "err" in result:
            raise result["err"]
        return result["out"]

    def _check(self, out: Any, n: int) -> list[Score]:
        try:
            out = list(out)
        except TypeError:
            raise RewardError(
                f"reward '{self.label}' ({self.use}) returned {type(out).__name__}, expected a list "
                f"of {n} floats", label=self.label,
            ) from None
        if len(out) != n:
            raise RewardError(
                f"reward '{self.label}' ({self.use}) returned {len(out)} scores for {n} completions",
                label=self.label,
            )
        checked: list[Score] = []
        for i, v in enumerate(out):
            if v is None:
                checked.append(None)
                continue
            try:
                f = float(v)
            except (TypeError, ValueError):
                raise RewardError(
                    f"reward '{self.label}' ({self.use}) returned {v!r:.40} for row {i}, expected a "
                    "float or None", label=self.label, row=i,
                ) from None
            if math.isnan(f):
                checked.append(None)  # NaN means "no score", as in TRL
            elif math.isinf(f):
                raise RewardError(
                    f"reward '{self.label}' ({self.use}) returned {f} for row {i}", label=self.label, row=i
                )
            else:
                checked.append(f)
        return checked

    def _row_by_row(self, prompts: Sequence[Any], completions: Sequence[Any], kwargs: Mapping[str, Any],
                    batch_error: Exception, errors: Counter[str] | None) -> list[Score]:
        # The batch raised: score rows one at a time to name the failing row(s) and keep the rest.
        out: list[Score] = []
        for i in range(len(completions)):
            row_kwargs = {k: (v[i : i + 1] if k not in TRAINER_KWARGS and _is_column(v, len(completions)) else v)
                          for k, v in kwargs.items()}
            try:
                out.extend(self._check(self._call(prompts[i : i + 1], completions[i : i + 1], row_kwargs), 1))
            except Exception as e:
                err = RewardError(self._describe(e, i), label=self.label, row=i)
                if self.on_error == "raise":
                    raise _as_raised(err, e) from e
                out.extend(self._fallback(1, err, errors))
        return out

    def _describe(self, e: BaseException, row: int | None) -> str:
        where = f" on row {row}" if row is not None else ""
        msg = " ".join(str(e).split())[:300]
        return f"reward '{self.label}' ({self.use}) raised{where}: {type(e).__name__}: {msg}"

    def _fallback(self, n: int, err: RewardError, errors: Counter[str] | None) -> list[Score]:
        log.warning("%s; on_error=%s gives %s", err, self.on_error, "0.0" if self.on_error == "zero" else "None")
        if errors is not None:
            errors[self.label] += n
        return [0.0 if self.on_error == "zero" else None] * n


def _is_column(v: Any, n: int) -> bool:
    return isinstance(v, (list, tuple)) and len(v) == n


class Breakdown(dict):
    """``{label: raw scores, ..., "total": weighted sums}`` for a batch."""

    @property
    def total(self) -> list[float]:
        return self["total"]

    @property
    def components(self) -> dict[str, list[Score]]:
        return {k: v for k, v in self.items() if k != "total"}


class Composite:
    """A weighted sum of reward components; itself a TRL reward function.

    ``composite(prompts=..., completions=..., **columns)`` returns one float per completion: the
    weighted sum of the components, with components that gave None left out (TRL's nansum rule:
    a row where every component gave None sums to 0.0).
    """

    __name__ = "rewardkit"  # TRL names a reward function by its __name__

    def __init__(self, components: Sequence[Component], source: str = "<dict>"):
        if not components:
            raise ConfigError(f"{source}: a composite needs at least one reward")
        self.components = list(components)
        self.source = source
        self.errors: Counter[str] = Counter()  # label -> rows that took the on_error policy

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.components]

    @property
    def weights(self) -> list[float]:
        return [c.weight for c in self.components]

    def __getitem__(self, label: str) -> Component:
        for c in self.components:
            if c.label == label:
                return c
        raise KeyError(label)

    def score_components(self, prompts: Sequence[TextOrChat] | None = None,
                         completions: Sequence[TextOrChat] | None = None, **kwargs: Any) -> dict[str, list[Score]]:
        """Each component's raw scores by label."""
        if completions is None:
            raise TypeError("completions= is required")
        completions = list(completions)
        prompts = list(prompts) if prompts is not None else [""] * len(completions)
        if len(prompts) != len(completions):
            raise ValueError(f"got {len(prompts)} prompts for {len(completions)} completions")
        n = len(completions)
        for key, value in kwargs.items():
            if key not in TRAINER_KWARGS and isinstance(value, (list, tuple)) and len(value) != n:
                raise ValueError(f"column '{key}' has {len(value)} values for {n} completions")
        if n == 0:
            return {c.label: [] for c in self.components}
        return {c.label: c.score(prompts, completions, kwargs, self.errors) for c in self.components}

    def totals(self, scores: Mapping[str, Sequence[Score]]) -> list[float]:
        """Weighted sums of per-component scores, None left out."""
        cols = [(c.weight, scores[c.label]) for c in self.components]
        n = len(cols[0][1]) if cols else 0
        return [float(sum(w * s[i] for w, s in cols if s[i] is not None)) for i in range(n)]

    def breakdown(self, prompts: Sequence[TextOrChat] | None = None,
                  completions: Sequence[TextOrChat] | None = None, **kwargs: Any) -> Breakdown:
        """Each component's raw scores by label, and ``"total"``, the weighted sum."""
        scores = self.score_components(prompts, completions, **kwargs)
        out = Breakdown(scores)
        out["total"] = self.totals(scores)
        return out

    def __call__(self, prompts: Sequence[TextOrChat] | None = None,
                 completions: Sequence[TextOrChat] | None = None, **kwargs: Any) -> list[float]:
        return self.totals(self.score_components(prompts, completions, **kwargs))

    def __repr__(self) -> str:
        parts = ", ".join(f"{c.weight:g}*{c.label}" for c in self.components)
        return f"Composite({parts})"


def build(spec: _config.RewardsSpec) -> Composite:
    """Instantiate every component of a validated spec (model loading happens here)."""
    reg = registry()
    components = []
    for c in spec.components:
        cls = _get_class(reg, c)
        try:
            reward = cls(**c.options)
        except ConfigError as e:
            raise ConfigError(f"{c.where}: {e}") from None
        components.append(Component(c.label, c.weight, reward, c.on_error, c.timeout, c.use))
    return Composite(components, spec.source)


def _get_class(reg: Any, c: _config.ComponentSpec) -> type[Reward]:
    try:
        return reg.get(c.use)
    except (ConfigError, ImportError) as e:
        raise type(e)(f"{c.where.rsplit(' (', 1)[0]}: {e}") from None


def load(config: str | os.PathLike[str] | Mapping[str, Any], *, allow_keys: tuple[str, ...] = ()) -> Composite:
    """Load a composite reward from a YAML path or a dict (see SPEC: ``rewards:``, ``on_error:``).

    Raises :class:`rewardkit.ConfigError` with a one-line message on any problem, before any
    scoring starts.
    """
    return build(_config.parse(config, allow_keys=allow_keys))
