"""Plugin discovery: entry points of group ``rewardkit``, loaded once, lazily, through pluggy.

Environment switches (as pytest's and llm's):

- ``REWARDKIT_DISABLE_PLUGIN_AUTOLOAD=1``: load no entry points (only plugins registered in code).
- ``REWARDKIT_LOAD_PLUGINS=length,math``: load only the named entry points (or distributions).

A plugin that fails to import is recorded with its error and skipped; a config that uses one of
its rewards gets that error and the install command that fixes it.
"""

from __future__ import annotations

import difflib
import importlib.metadata as md
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .errors import ConfigError, PluginLoadError, RewardkitError
from .reward import Reward

GROUP = "rewardkit"
DISABLE_ENV = "REWARDKIT_DISABLE_PLUGIN_AUTOLOAD"
ONLY_ENV = "REWARDKIT_LOAD_PLUGINS"


@dataclass(frozen=True)
class RewardInfo:
    """A registered reward and where it came from."""

    name: str
    cls: type[Reward]
    plugin: str
    distribution: str
    version: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "plugin": self.plugin,
            "doc": (self.cls.__doc__ or "").strip().split("\n")[0],
            "options": self.cls.options_schema(),
        }


@dataclass(frozen=True)
class FailedPlugin:
    """An entry point that could not be imported or whose hook raised."""

    name: str
    distribution: str
    version: str
    error: str

    @property
    def fix(self) -> str:
        return f"pip install --upgrade --force-reinstall '{self.distribution}'"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "error": self.error,
            "fix": self.fix,
            "options": {},
        }


@dataclass
class Registry:
    """The rewards known to this process. Use :func:`registry` for the shared instance."""

    autoload: bool = True
    pm: pluggy.PluginManager = field(init=False)
    _rewards: dict[str, RewardInfo] = field(default_factory=dict, init=False)
    _failed: list[FailedPlugin] = field(default_factory=list, init=False)
    _loaded: bool = field(default=False, init=False)
    _dists: dict[str, tuple[str, str]] = field(default_factory=dict, init=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False)

    def __post_init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)

    # -- loading -----------------------------------------------------------------------------

    def register_plugin(
        self, plugin: Any, name: str | None = None, distribution: str | None = None,
        version: str = "",
    ) -> None:
        """Register a plugin object (a module or instance holding hookimpls) in this process.

        The way tests and notebooks add a plugin without packaging it; a distribution uses the
        entry point instead.
        """
        with self._lock:
            name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
            self.pm.register(plugin, name=name)
            self._dists[name] = (distribution or name, version)
            if self._loaded:
                self._collect(only=name)

    def load(self) -> None:
        """Import the entry points and collect rewards (once; later calls do nothing)."""
        with self._lock:
            if self._loaded:
                return
            if self.autoload and os.environ.get(DISABLE_ENV, "") in ("", "0", "false"):
                self._load_entry_points()
            self._collect()
            self._loaded = True

    def _load_entry_points(self) -> None:
        only = {s.strip() for s in os.environ.get(ONLY_ENV, "").split(",") if s.strip()}
        seen: set[str] = set()
        for ep in md.entry_points(group=GROUP):
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else "?"
            version = dist.version if dist is not None else "?"
            if only and ep.name not in only and dist_name not in only:
                continue
            if ep.name in seen:  # the same distribution seen twice on sys.path
                continue
            seen.add(ep.name)
            try:
                module = ep.load()
                self.pm.register(module, name=ep.name)
            # BaseException: a plugin raising SystemExit or KeyboardInterrupt at import must not end
            # every command either (the cost: a real Ctrl-C during that import fails this plugin only).
            except BaseException as e:  # noqa: BLE001 - one broken plugin must not break the others
                self._failed.append(FailedPlugin(ep.name, dist_name, version, _one_line(e)))
                continue
            self._dists[ep.name] = (dist_name, version)

    def _collect(self, only: str | None = None) -> None:
        caller = self.pm.hook.register_rewards
        for impl in caller.get_hookimpls():
            if only is not None and impl.plugin_name != only:
                continue
            dist, version = self._dists.get(impl.plugin_name, (impl.plugin_name, ""))

            def register(cls: type, _p: str = impl.plugin_name, _d: str = dist, _v: str = version) -> None:
                self._add(cls, _p, _d, _v)

            try:
                kwargs = {"register": register}
                impl.function(**{a: kwargs[a] for a in impl.argnames})
            except BaseException as e:
                if isinstance(e, ConfigError) and "registered twice" in str(e):
                    raise
                self._failed.append(FailedPlugin(impl.plugin_name, dist, version, _one_line(e)))

    def _add(self, cls: type, plugin: str, dist: str, version: str) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Reward)):
            raise TypeError(
                f"plugin '{plugin}' ({dist}) registered {cls!r}, which is not a rewardkit.Reward subclass"
            )
        name = cls.__dict__.get("name")
        if not isinstance(name, str) or not name:
            raise TypeError(
                f"plugin '{plugin}' ({dist}) registered {cls.__qualname__} without a plain string "
                "class attribute 'name'"
            )
        try:  # `rewardkit plugins` lists it: a class whose options cannot be described is broken
            cls.options_schema()
        except Exception as e:  # noqa: BLE001 - a plugin's own bug, reported as the plugin's
            raise TypeError(f"reward '{name}' ({cls.__qualname__}): its options cannot be listed: "
                            f"{_one_line(e)}") from None
        prev = self._rewards.get(name)
        if prev is not None and prev.cls is not cls:
            raise ConfigError(
                f"reward '{name}' is registered twice: by {prev.distribution} "
                f"({prev.cls.__module__}.{prev.cls.__qualname__}) and by {dist} "
                f"({cls.__module__}.{cls.__qualname__}); uninstall one of them"
            )
        self._rewards[name] = RewardInfo(name, cls, plugin, dist, version)

    # -- queries -----------------------------------------------------------------------------

    def rewards(self) -> dict[str, RewardInfo]:
        """Every registered reward by name."""
        self.load()
        return dict(sorted(self._rewards.items()))

    def failed(self) -> list[FailedPlugin]:
        """Plugins that could not be loaded, with their errors."""
        self.load()
        return list(self._failed)

    def get(self, name: str) -> type[Reward]:
        """The reward class registered as ``name``.

        Raises :class:`PluginLoadError` (the plugin that provides it failed to import, with the
        fix) or :class:`ConfigError` (unknown, with a did-you-mean).
        """
        self.load()
        info = self._rewards.get(name)
        if info is not None:
            return info.cls
        for f in self._failed:
            if f.name == name or f.distribution in (f"rewardkit-{name}", f"rewardkit-{name.replace('_', '-')}"):
                raise PluginLoadError(
                    f"reward '{name}' is provided by plugin '{f.name}' ({f.distribution}), which "
                    f"failed to load: {f.error}; fix: {f.fix}"
                )
        close = difflib.get_close_matches(name, list(self._rewards), n=1, cutoff=0.5)
        if not close:
            close = [n for n in self._rewards if name.startswith(n) or n.startswith(name)][:1]
        hint = f"; did you mean '{close[0]}'?" if close else ""
        failed = ""
        if self._failed:
            failed = "; plugins that failed to load: " + ", ".join(f.name for f in self._failed)
        raise ConfigError(
            f"reward '{name}' is not registered{hint} (rewardkit plugins lists them){failed}"
        )

    def attacks(self) -> list[tuple[str, dict[str, Any]]]:
        """Attacks plugins register (the ``register_attacks`` hook): ``(plugin name, kwargs)``
        pairs, in registration order; :mod:`rewardkit.probe` validates them."""
        self.load()
        out: list[tuple[str, dict[str, Any]]] = []
        for impl in self.pm.hook.register_attacks.get_hookimpls():
            def register(make: Any, _p: str = impl.plugin_name, **kwargs: Any) -> None:
                out.append((_p, {"make": make, **kwargs}))

            try:
                impl.function(**{a: register for a in impl.argnames if a == "register"})
            except Exception as e:  # noqa: BLE001 - named, one line, as for register_rewards
                raise ConfigError(f"plugin '{impl.plugin_name}': register_attacks raised {_one_line(e)}") from None
        return out

    def commands(self, subparsers: Any) -> list[str]:
        """Let plugins add sub-commands (the ``register_commands`` hook); returns the verbs added.

        A plugin whose hook raises is recorded as failed (``rewardkit plugins`` shows it) and the
        verbs it added before raising are kept; the other plugins' verbs still work.
        """
        self.load()
        added: list[str] = []
        for impl in self.pm.hook.register_commands.get_hookimpls():
            before = set(subparsers.choices)
            try:
                impl.function(**{a: subparsers for a in impl.argnames if a == "subparsers"})
            except BaseException as e:  # noqa: BLE001 - one broken plugin must not break the others
                dist, version = self._dists.get(impl.plugin_name, (impl.plugin_name, ""))
                self._failed.append(FailedPlugin(impl.plugin_name, dist, version,
                                                 f"register_commands raised {_one_line(e)}"))
            added.extend(sorted(set(subparsers.choices) - before))
        return added


def instantiate(cls: type[Reward], options: dict[str, Any]) -> Reward:
    """``cls(**options)``, with any failure of the plugin's ``setup()`` as a one-line ConfigError.

    A :class:`ConfigError` (a bad option) passes as it is; anything else a plugin raises while
    setting up names the reward, the plugin's distribution and the error, the same for first- and
    third-party plugins, instead of a traceback.
    """
    try:
        return cls(**options)
    except RewardkitError:
        raise
    except Exception as e:  # noqa: BLE001 - the plugin's own bug: named, one line
        info = registry().rewards().get(cls.name)
        if info is not None and info.cls is cls:
            origin = f"plugin '{info.plugin}' ({' '.join(filter(None, (info.distribution, info.version)))})"
        else:
            origin = f"{cls.__module__}.{cls.__qualname__}"
        raise ConfigError(f"reward '{cls.name}' from {origin} failed to set up: {_one_line(e)}") from None


def _one_line(e: BaseException) -> str:
    msg = " ".join(str(e).split())
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


_registry: Registry | None = None
_registry_lock = threading.Lock()


def registry() -> Registry:
    """The process-wide registry, created on first use."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = Registry()
        return _registry


def reset_registry(autoload: bool = True) -> Registry:
    """Forget every loaded plugin (for tests); the next use loads entry points again."""
    global _registry
    with _registry_lock:
        _registry = Registry(autoload=autoload)
        return _registry


def get_reward_class(name: str) -> type[Reward]:
    """Shortcut for ``registry().get(name)``."""
    return registry().get(name)
