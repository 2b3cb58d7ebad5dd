"""Composition: a weighted sum of rewards, with per-component breakdowns and error policy."""

from __future__ import annotations

import copy
import logging
import math
import numbers
import os
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import config as _config
from . import rows as _rows
from .errors import ConfigError, DataError, RewardError, RewardkitError
from .plugins import instantiate, registry
from .reward import TRAINER_KWARGS, Reward, Score
from .text import TextOrChat, text_problem

log = logging.getLogger("rewardkit")


def _as_raised(err: RewardError, cause: BaseException) -> RewardkitError:
    """What on_error=raise raises: a reward's complaint about its input (a missing column) stays a
    DataError, so the CLI exits 2 as for any bad data; anything else is the reward failing."""
    if not isinstance(cause, DataError):
        return err
    out = DataError(str(err))
    out.row, out.bare = err.row, getattr(err, "bare", str(err))  # type: ignore[attr-defined]
    return out


def _row_error(message: str, label: str, row: int | None, bare: str | None = None) -> RewardError:
    """A RewardError whose text names the batch row; ``bare`` is the text without it, for callers
    that name the row their own way (``rewardkit score`` names the file and line)."""
    err = RewardError(message, label=label, row=row)
    err.bare = bare or message  # type: ignore[attr-defined]
    return err


# Values a reward cannot change in place: passed as they are; anything else is copied per component.
_IMMUTABLE = (str, int, float, bool, bytes, type(None))
# Trainer keyword arguments that are objects of the trainer's, not data: passed as they are.
_SHARED_KWARGS = frozenset({"trainer_state", "log_metric", "log_extra"})


def _fresh(value: Any) -> Any:
    """A copy of ``value`` a reward may edit freely: JSON-like data (dicts, lists, scalars, which is
    what rows and chat messages are) by a plain walk, 2-3x cheaper than ``copy.deepcopy``; a column
    or batch is always returned as a new list."""
    if isinstance(value, _IMMUTABLE):
        return value
    if type(value) is dict:
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_fresh(v) for v in value]
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - an object that cannot be copied is passed as is
        return value


def _scores_list(out: Any) -> list[Any] | None:
    """The reward's return value as a list, when it is a list, a tuple or a 1-D numpy/torch array."""
    if isinstance(out, (list, tuple)):
        return list(out)
    if type(out).__module__.split(".")[0] in ("numpy", "torch") and getattr(out, "ndim", None) == 1:
        return list(out.tolist())
    return None


def _score_value(v: Any) -> tuple[Score, str | None]:
    """``(score, None)`` for a valid value, ``(None, what is wrong)`` otherwise."""
    if v is None:
        return None, None
    if type(v).__module__.split(".")[0] in ("numpy", "torch") and getattr(v, "ndim", None) == 0:
        v = v.item()  # a numpy scalar or 0-d tensor
    if isinstance(v, bool):
        return float(v), None
    if not isinstance(v, numbers.Real):
        return None, f"{v!r:.40}" + ("" if isinstance(v, str) else f" ({type(v).__name__})")
    try:
        f = float(v)
    except (OverflowError, ValueError, TypeError):
        return None, f"{type(v).__name__} too large for a float"
    if math.isnan(f):
        return None, None  # NaN means "no score", as in TRL
    if math.isinf(f) or abs(f) > _config.FLOAT32_MAX:
        return None, f"{f!r}" + ("" if math.isinf(f) else " (beyond float32's range, which the trainer uses)")
    return f, None


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
        """This component's raw scores, with its error policy applied (to raised errors, time-outs
        and bad return values alike)."""
        n = len(completions)
        call_kwargs = {k: v for k, v in kwargs.items() if k not in TRAINER_KWARGS or k in self._trainer_kwargs}
        try:
            out = self._call(prompts, completions, call_kwargs)
        except RewardError as e:  # a time-out: the whole batch takes the policy
            if self.on_error == "raise":
                raise
            return self._fallback(n, e, errors)
        except Exception as e:  # the policy decides what a failure means
            if n <= 1:
                row_err = _row_error(self._describe(e, 0 if n else None), self.label, 0 if n else None,
                                     self._describe(e, None))
                if self.on_error == "raise":
                    raise _as_raised(row_err, e) from e
                return self._fallback(n, row_err, errors)
            return self._row_by_row(prompts, completions, call_kwargs, e, errors)
        return self._checked(out, n, errors)

    def _call(self, prompts: Sequence[Any], completions: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        # Each component gets its own copies: a reward that edits its inputs in place cannot change
        # what the next component (or the output row) sees.
        try:
            prompts, completions = _fresh(prompts), _fresh(completions)
            kwargs = {k: (v if k in _SHARED_KWARGS else _fresh(v)) for k, v in kwargs.items()}
        except RecursionError:
            raise DataError("a row is nested too deeply to copy for the reward") from None
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

    def _checked(self, out: Any, n: int, errors: Counter[str] | None, offset: int = 0) -> list[Score]:
        """The return value as n scores: a list/tuple/1-D array of n real numbers, bools or None.
        A wrong type or length fails the whole call, a bad value its row; on_error decides."""
        values = _scores_list(out)
        problem = None
        if values is None:
            problem = f"returned {type(out).__name__}, expected a list of {n} floats or None (got {out!r:.40})"
        elif len(values) != n:
            problem = f"returned {len(values)} scores for {n} completions"
        if problem is not None:
            err = _row_error(f"reward '{self.label}' ({self.use}) {problem}", self.label, offset if n == 1 else None)
            if self.on_error == "raise":
                raise err
            return self._fallback(n, err, errors)
        checked: list[Score] = []
        for i, v in enumerate(values):  # type: ignore[arg-type]
            score, bad = _score_value(v)
            if bad is None:
                checked.append(score)
                continue
            what = f"reward '{self.label}' ({self.use}) returned {bad}"
            err = _row_error(f"{what} for row {offset + i}, expected a finite float or None", self.label,
                             offset + i, f"{what}, expected a finite float or None")
            if self.on_error == "raise":
                raise err
            checked.extend(self._fallback(1, err, errors))
        return checked

    def _row_by_row(self, prompts: Sequence[Any], completions: Sequence[Any], kwargs: Mapping[str, Any],
                    batch_error: Exception, errors: Counter[str] | None) -> list[Score]:
        # The batch raised: score rows one at a time to name the failing row(s) and keep the rest.
        out: list[Score] = []
        for i in range(len(completions)):
            row_kwargs = {k: (v[i : i + 1] if k not in TRAINER_KWARGS and _is_column(v, len(completions)) else v)
                          for k, v in kwargs.items()}
            try:
                result = self._call(prompts[i : i + 1], completions[i : i + 1], row_kwargs)
            except Exception as e:
                err = _row_error(self._describe(e, i), self.label, i, self._describe(e, None))
                if self.on_error == "raise":
                    raise _as_raised(err, e) from e
                out.extend(self._fallback(1, err, errors))
                continue
            out.extend(self._checked(result, 1, errors, offset=i))
        return out

    def _describe(self, e: BaseException, row: int | None) -> str:
        where = f" on row {row}:" if row is not None else ""
        msg = " ".join(str(e).split())[:300]
        return f"reward '{self.label}' ({self.use}) raised{where} {type(e).__name__}: {msg}"

    def _fallback(self, n: int, err: RewardError, errors: Counter[str] | None) -> list[Score]:
        log.warning("%s; on_error=%s gives %s", err, self.on_error, "0.0" if self.on_error == "zero" else "None")
        if errors is not None:
            errors[self.label] += n
        return [0.0 if self.on_error == "zero" else None] * n


def _is_column(v: Any, n: int) -> bool:
    return isinstance(v, (list, tuple)) and len(v) == n


def _check_texts(values: Sequence[Any], field: str) -> None:
    """Every value is a string or a chat message list: a null or {} completion is a data error,
    not an empty text (``DataError.row`` names the row of the batch)."""
    for i, v in enumerate(values):
        if isinstance(v, str):
            continue
        problem = text_problem(v)
        if problem is not None:
            err = DataError(f"'{field}' {problem} (row {i})")
            err.row, err.bare = i, f"'{field}' {problem}"  # type: ignore[attr-defined]
            raise err


class Breakdown(dict):
    """``{label: raw scores, ..., "total": weighted sums}`` for a batch."""

    @property
    def total(self) -> list[float | None]:
        return self["total"]

    @property
    def components(self) -> dict[str, list[Score]]:
        return {k: v for k, v in self.items() if k != "total"}


class Composite:
    """A weighted sum of reward components; itself a TRL reward function.

    ``composite(prompts=..., completions=..., **columns)`` returns one total per completion: the
    weighted sum of the components, with components that gave None left out, and None for a row
    every component gave None (unscorable; see docs/rows.md, "Rows, None and the total").
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
        _check_texts(prompts, "prompt")
        _check_texts(completions, "completion")
        for key, value in kwargs.items():
            if key not in TRAINER_KWARGS and isinstance(value, (list, tuple)) and len(value) != n:
                raise ValueError(f"column '{key}' has {len(value)} values for {n} completions")
        if n == 0:
            return {c.label: [] for c in self.components}
        return {c.label: c.score(prompts, completions, kwargs, self.errors) for c in self.components}

    def totals(self, scores: Mapping[str, Sequence[Score]]) -> list[float | None]:
        """Weighted sums of per-component scores, None left out; None where all are None."""
        return _rows.totals(self, scores)

    def score_rows(self, rows: Sequence[Mapping[str, Any]], **trainer_kwargs: Any) -> list[dict[str, Any]]:
        """Each row plus ``reward`` and ``rewards``: see :func:`rewardkit.rows.score_rows`."""
        return _rows.score_rows(self, rows, **trainer_kwargs)

    def breakdown(self, prompts: Sequence[TextOrChat] | None = None,
                  completions: Sequence[TextOrChat] | None = None, **kwargs: Any) -> Breakdown:
        """Each component's raw scores by label, and ``"total"``, the weighted sums (see :meth:`totals`)."""
        scores = self.score_components(prompts, completions, **kwargs)
        out = Breakdown(scores)
        out["total"] = self.totals(scores)
        return out

    def __call__(self, prompts: Sequence[TextOrChat] | None = None,
                 completions: Sequence[TextOrChat] | None = None, **kwargs: Any) -> list[float | None]:
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
            reward = instantiate(cls, c.options)
        except ConfigError as e:
            raise ConfigError(f"{c.where}: {e}") from None
        components.append(Component(c.label, c.weight, reward, c.on_error, c.timeout, c.use))
    return Composite(components, spec.source)


def _get_class(reg: Any, c: _config.ComponentSpec) -> type[Reward]:
    try:
        return reg.get(c.use)
    except (ConfigError, ImportError) as e:
        raise type(e)(f"{c.where.rsplit(' (', 1)[0]}: {e}") from None


def load(config: str | os.PathLike[str] | Mapping[str, Any], *, allow_keys: tuple[str, ...] = (),
         source: str | None = None, lines: dict[int, int] | None = None) -> Composite:
    """Load a composite reward from a YAML path or a dict (see SPEC: ``rewards:``, ``on_error:``).

    Raises :class:`rewardkit.ConfigError` with a one-line message on any problem, before any
    scoring starts. ``source``/``lines``: see :func:`rewardkit.config.parse`.
    """
    return build(_config.parse(config, allow_keys=allow_keys, source=source, lines=lines))
