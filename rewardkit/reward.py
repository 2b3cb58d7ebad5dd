"""The :class:`Reward` base class: options validated like pydantic, a batched ``score``."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Sequence
from typing import Any, ClassVar

import pydantic

from .errors import ConfigError
from .text import TextOrChat

Score = float | None

# Keyword arguments TRL passes beside the dataset columns. A reward receives one only when its
# ``score`` names it explicitly; every other keyword is a dataset column and reaches every reward.
TRAINER_KWARGS = frozenset({"completion_ids", "trainer_state", "log_metric", "log_extra"})


def _option_fields(cls: type) -> dict[str, tuple[Any, Any]]:
    """Annotated class attributes of ``cls`` and its Reward bases: name -> (type, default)."""
    fields: dict[str, tuple[Any, Any]] = {}
    for klass in reversed(cls.__mro__):
        if klass is Reward or not issubclass(klass, Reward):
            continue
        hints = typing.get_type_hints(klass, include_extras=True)
        for attr in inspect.get_annotations(klass):
            if attr.startswith("_") or attr == "name":
                continue
            hint = hints[attr]
            if typing.get_origin(hint) is ClassVar:
                continue
            default = klass.__dict__.get(attr, ...)
            fields[attr] = (hint, default)
    return fields


class Reward:
    """Base class of every reward.

    Subclasses set a plain ``name`` class attribute (the name used in YAML) and declare their
    options as annotated class attributes with defaults::

        class Shouting(rewardkit.Reward):
            name = "shouting"
            factor: float = 1.0

            def score(self, prompts, completions, **columns):
                return [self.factor * float(c.isupper()) for c in completions]

    ``Shouting(factor="2")`` validates the options with pydantic (types coerced where safe,
    unknown keys refused) and raises :class:`rewardkit.ConfigError` with a one-line message
    otherwise. Override :meth:`setup` to load models or check options once, at config load.
    """

    name: ClassVar[str] = ""
    Options: ClassVar[type[pydantic.BaseModel]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = _option_fields(cls)
        cls.Options = pydantic.create_model(  # type: ignore[call-overload]
            f"{cls.__name__}Options",
            __config__=pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=True),
            **fields,
        )

    def __init__(self, **options: Any) -> None:
        try:
            validated = self.Options(**options)
        except pydantic.ValidationError as e:
            raise ConfigError(f"reward '{self.name}': {describe_validation_error(e, self)}") from None
        for key in type(validated).model_fields:
            setattr(self, key, getattr(validated, key))
        self.setup()

    # -- to override -------------------------------------------------------------------------

    def setup(self) -> None:
        """Check options and load what the reward needs, once, when the config is loaded.

        Raise :class:`rewardkit.ConfigError` with a one-line message naming the option on a
        problem a user can fix (a model path that does not load, a bad regex).
        """

    def score(
        self, prompts: Sequence[TextOrChat], completions: Sequence[TextOrChat], **columns: Any
    ) -> list[Score]:
        """Score a batch: one float, or None ("does not apply"), per completion.

        ``prompts`` and ``completions`` are plain strings or chat message lists (use
        :func:`rewardkit.text_of`); ``columns`` are the dataset's other fields, one list per
        field, aligned with ``completions``.
        """
        raise NotImplementedError(f"{type(self).__name__}.score is not implemented")

    # -- helpers -----------------------------------------------------------------------------

    def __call__(
        self, prompts: Sequence[TextOrChat], completions: Sequence[TextOrChat], **columns: Any
    ) -> list[Score]:
        return self.score(prompts, completions, **columns)

    @property
    def options(self) -> dict[str, Any]:
        """The validated option values of this instance."""
        return {k: getattr(self, k) for k in self.Options.model_fields}

    @classmethod
    def options_schema(cls) -> dict[str, dict[str, Any]]:
        """Option name -> ``{"type", "default", "required", "description"}`` for listings."""
        out: dict[str, dict[str, Any]] = {}
        for key, field in cls.Options.model_fields.items():
            out[key] = {
                "type": _type_name(field.annotation),
                "default": None if field.is_required() else _jsonable(field.get_default(call_default_factory=True)),
                "required": field.is_required(),
                "description": field.description or "",
            }
        return out

    @classmethod
    def accepted_trainer_kwargs(cls) -> frozenset[str]:
        """The trainer keyword arguments (``completion_ids``, ...) that ``score`` names."""
        params = inspect.signature(cls.score).parameters
        return frozenset(p for p in params if p in TRAINER_KWARGS)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({opts})"


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def describe_validation_error(e: pydantic.ValidationError, reward: Any) -> str:
    """One line for the first pydantic error: the option, what was wrong, what is accepted."""
    err = e.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "?"
    valid = ", ".join(type(reward).Options.model_fields) or "none"
    if err["type"] == "extra_forbidden":
        import difflib

        close = difflib.get_close_matches(str(err["loc"][0]), list(type(reward).Options.model_fields), 1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown option '{loc}'{hint} (options: {valid})"
    if err["type"] == "missing":
        return f"option '{loc}' is required (options: {valid})"
    got = err.get("input")
    return f"option '{loc}': {err['msg'].rstrip('.')} (got {got!r:.60})"
