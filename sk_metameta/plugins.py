"""Plugin records, the component registry, and the loading of installed plugins.

Plugins register components through the hooks of :mod:`sk_metameta.hookspecs`.
The registry collects every hook's records once (built-ins first, then every
installed distribution that declares an ``sk_metameta`` entry point), normalises
names, refuses a name given twice and remembers which distribution provides what.

Environment variable
--------------------
``SK_METAMETA_BLOCK_PLUGINS``
    Comma-separated entry-point (or distribution) names of plugins not to load.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, ClassVar

import pluggy

from . import hookspecs
from .exceptions import PluginError, PluginLoadWarning
from .hookspecs import PROJECT_NAME, hookimpl

__all__ = [
    "BLOCK_ENV_VAR",
    "KINDS",
    "MetricRecord",
    "RegisteredComponent",
    "Registry",
    "TaskFeatureRecord",
    "TransferRuleRecord",
    "get_registry",
    "hookimpl",
    "reset_registry",
    "use_registry",
]

BLOCK_ENV_VAR = "SK_METAMETA_BLOCK_PLUGINS"
ENTRY_POINT_GROUP = PROJECT_NAME
BUILTIN_PLUGIN = "builtin"

#: Component kinds, each with its hook.
KINDS = {
    "metric": "sk_metameta_register_metrics",
    "task_features": "sk_metameta_register_task_features",
    "transfer_rule": "sk_metameta_register_transfer_rules",
}


def normalize_name(name: str) -> str:
    """Normalise a component name: lower case, ``-`` and spaces become ``_``."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a component name must be a non-empty str, got {name!r}.")
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _summary_of(factory: Callable[..., Any]) -> str:
    summary = getattr(factory, "summary", "")
    if isinstance(summary, str) and summary:
        return summary
    doc = inspect.getdoc(factory) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


@dataclass(frozen=True)
class _Record:
    name: str
    factory: Callable[..., Any]
    summary: str = ""
    kind: ClassVar[str] = ""

    def __post_init__(self):
        object.__setattr__(self, "name", normalize_name(self.name))
        if not callable(self.factory):
            raise TypeError(
                f"{type(self).__name__} {self.name!r}: factory must be callable "
                f"(a component class), got {self.factory!r}."
            )
        if not self.summary:
            object.__setattr__(self, "summary", _summary_of(self.factory))


@dataclass(frozen=True)
class MetricRecord(_Record):
    """A task metric offered by a plugin.

    Parameters
    ----------
    name : str
        Name users select the metric by; normalised to lower case with ``_``.
    factory : callable
        Usually the metric class; ``factory(**params)`` returns the metric.
    summary : str, default=""
        One line; defaults to the factory's ``summary`` attribute or docstring.

    Examples
    --------
    >>> from sk_metameta.metrics import EuclideanMetric
    >>> MetricRecord("My-Euclidean", EuclideanMetric).name
    'my_euclidean'
    """

    kind: ClassVar[str] = "metric"


@dataclass(frozen=True)
class TaskFeatureRecord(_Record):
    """A task feature extractor offered by a plugin.

    Parameters
    ----------
    name : str
        Name users select the extractor by.
    factory : callable
        Usually the extractor class; ``factory(**params)`` returns the extractor.
    summary : str, default=""
        One line; defaults to the factory's ``summary`` attribute or docstring.
    """

    kind: ClassVar[str] = "task_features"


@dataclass(frozen=True)
class TransferRuleRecord(_Record):
    """A transfer rule offered by a plugin.

    Parameters
    ----------
    name : str
        Name users select the rule by.
    factory : callable
        Usually the rule class; ``factory(**params)`` returns the rule.
    summary : str, default=""
        One line; defaults to the factory's ``summary`` attribute or docstring.
    """

    kind: ClassVar[str] = "transfer_rule"


_RECORD_TYPES = {
    "metric": MetricRecord,
    "task_features": TaskFeatureRecord,
    "transfer_rule": TransferRuleRecord,
}


@dataclass(frozen=True)
class RegisteredComponent:
    """A component in the registry, with where it came from.

    Attributes
    ----------
    kind : {"metric", "task_features", "transfer_rule"}
        The component family.
    name : str
        Normalised name.
    factory : callable
        Builds the component: ``factory(**params)``.
    summary : str
        One line.
    plugin : str
        Name of the plugin (entry point) that registered it.
    provider : str
        Distribution that ships the plugin.
    version : str
        Version of that distribution.
    """

    kind: str
    name: str
    factory: Callable[..., Any] = field(repr=False)
    summary: str
    plugin: str
    provider: str
    version: str

    def create(self, **params: Any) -> Any:
        """Build the component with ``params``."""
        return self.factory(**params)


@dataclass(frozen=True)
class _PluginInfo:
    plugin: str
    provider: str
    version: str
    status: str = "loaded"  # or "blocked", "failed"
    detail: str = ""


def blocked_plugins() -> set[str]:
    """Names listed in the environment variable ``SK_METAMETA_BLOCK_PLUGINS``."""
    raw = os.environ.get(BLOCK_ENV_VAR, "")
    return {normalize_name(n) for n in raw.split(",") if n.strip()}


def _new_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


def _register_checked(pm: pluggy.PluginManager, plugin: Any, name: str) -> str | None:
    """Register ``plugin``; return an error text (and leave it out) if it is broken."""
    try:
        pm.register(plugin, name=name)
    except Exception as exc:  # pluggy's PluginValidationError, ValueError, ...
        # pluggy keeps the plugin and its hooks checked before the failing one
        if pm.get_plugin(name) is plugin:
            pm.unregister(name=name)
        return f"it does not fit the hook specifications: {exc}"
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        pm.unregister(name=name)
        known = ", ".join(KINDS.values())
        return f"{exc} (known hooks: {known})"
    return None


class Registry:
    """Every component that the loaded plugins register, by kind and name.

    Build one with :meth:`from_plugins` (in tests) or get the shared, cached one
    with :func:`get_registry`.

    Parameters
    ----------
    plugin_manager : pluggy.PluginManager
        Manager with the plugins already registered.
    plugin_info : dict, default=None
        Provider and version of each registered plugin, by plugin name.
    """

    def __init__(self, plugin_manager: pluggy.PluginManager, plugin_info=None):
        self.plugin_manager = plugin_manager
        self.plugin_info: dict[str, _PluginInfo] = dict(plugin_info or {})
        self._components: dict[str, dict[str, RegisteredComponent]] = {
            kind: {} for kind in KINDS
        }
        for kind, hook_name in KINDS.items():
            self._collect(kind, hook_name)

    # -- construction ----------------------------------------------------------
    @classmethod
    def from_plugins(
        cls, *plugins: Any, builtins: bool = True, entry_points: bool = False
    ) -> Registry:
        """Registry of the given plugin objects (modules or instances).

        Parameters
        ----------
        *plugins : module or object
            Plugins to register, named by their ``__name__`` or class name.
        builtins : bool, default=True
            Register the built-in components first.
        entry_points : bool, default=False
            Also load installed plugins from the ``sk_metameta`` entry points.

        Returns
        -------
        registry : Registry
        """
        pm = _new_manager()
        info: dict[str, _PluginInfo] = {}
        if builtins:
            _register_builtins(pm, info)
        if entry_points:
            _load_entry_points(pm, info)
        for plugin in plugins:
            name = getattr(plugin, "__name__", type(plugin).__name__)
            error = _register_checked(pm, plugin, name)
            if error:
                raise PluginError(f"plugin {name!r}: {error}")
            info[name] = _PluginInfo(name, name, "")
        return cls(pm, info)

    def _collect(self, kind: str, hook_name: str) -> None:
        record_type = _RECORD_TYPES[kind]
        hook = getattr(self.plugin_manager.hook, hook_name)
        # get_hookimpls lists the implementations in registration order (pluggy
        # *calls* them last-registered first): built-ins, then entry points
        for impl in hook.get_hookimpls():
            plugin = impl.plugin_name
            info = self.plugin_info.get(plugin, _PluginInfo(plugin, plugin, ""))
            try:
                records = list(impl.function() or ())
            except Exception as exc:
                warnings.warn(
                    f"sk-metameta plugin {plugin!r} ({info.provider}) failed in "
                    f"{hook_name}: {exc!r}; its {kind} components are skipped.",
                    PluginLoadWarning,
                    stacklevel=2,
                )
                continue
            for record in records:
                if not isinstance(record, record_type):
                    raise PluginError(
                        f"plugin {plugin!r} ({info.provider}) returned "
                        f"{record!r} from {hook_name}; expected "
                        f"{record_type.__name__} records."
                    )
                existing = self._components[kind].get(record.name)
                if existing is not None:
                    raise PluginError(
                        f"two plugins register the {kind} {record.name!r}: "
                        f"{existing.plugin!r} (provider {existing.provider} "
                        f"{existing.version}) and {plugin!r} (provider "
                        f"{info.provider} {info.version}). Uninstall one, or block "
                        f"one with {BLOCK_ENV_VAR}={plugin}."
                    )
                self._components[kind][record.name] = RegisteredComponent(
                    kind=kind,
                    name=record.name,
                    factory=record.factory,
                    summary=record.summary,
                    plugin=plugin,
                    provider=info.provider,
                    version=info.version,
                )

    # -- queries ---------------------------------------------------------------
    def names(self, kind: str) -> list[str]:
        """Sorted names of the registered components of ``kind``."""
        return sorted(self._components[self._check_kind(kind)])

    def components(self, kind: str | None = None) -> list[RegisteredComponent]:
        """Registered components, of one kind or of all, sorted by kind and name."""
        kinds = [self._check_kind(kind)] if kind else list(KINDS)
        return [
            self._components[k][n] for k in kinds for n in sorted(self._components[k])
        ]

    def get(self, kind: str, name: str) -> RegisteredComponent:
        """The component ``name`` of ``kind``; a ``ValueError`` lists the names."""
        kind = self._check_kind(kind)
        try:
            key = normalize_name(name)
        except ValueError:
            key = None
        if key not in self._components[kind]:
            available = ", ".join(self.names(kind)) or "(none)"
            raise ValueError(
                f"unknown {kind.replace('_', ' ')} {name!r}; available: {available}."
            )
        return self._components[kind][key]

    def create(self, kind: str, name: str, **params: Any) -> Any:
        """Build the component ``name`` of ``kind`` with ``params``."""
        return self.get(kind, name).create(**params)

    @staticmethod
    def _check_kind(kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(
                f"unknown component kind {kind!r}; use one of {list(KINDS)}."
            )
        return kind


def _distribution_of(ep: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return ep.value.split(":")[0].split(".")[0], ""
    return dist.metadata["Name"], dist.version


def _builtin_module_name() -> str:
    return f"{__package__}._builtin"


def _register_builtins(pm: pluggy.PluginManager, info: dict) -> None:
    from . import __version__, _builtin

    pm.register(_builtin, name=BUILTIN_PLUGIN)
    info[BUILTIN_PLUGIN] = _PluginInfo(BUILTIN_PLUGIN, "sk-metameta", __version__)


def _load_entry_points(pm: pluggy.PluginManager, info: dict) -> None:
    blocked = blocked_plugins()
    for ep in sorted(
        metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name
    ):
        provider, version = _distribution_of(ep)
        if ep.name == BUILTIN_PLUGIN and ep.value == _builtin_module_name():
            continue  # sk-metameta's own entry point: registered by builtins=True
        if normalize_name(ep.name) in blocked or normalize_name(provider) in blocked:
            info[ep.name] = _PluginInfo(ep.name, provider, version, "blocked")
            continue
        if pm.has_plugin(ep.name):
            first = info.get(ep.name, _PluginInfo(ep.name, "", ""))
            warnings.warn(
                f"sk-metameta plugin {ep.name!r} ({provider} {version}) is skipped: "
                f"the plugin {ep.name!r} of {first.provider} {first.version} has "
                f"that name already. Rename one entry point, or block one with "
                f"{BLOCK_ENV_VAR}={normalize_name(provider)}.",
                PluginLoadWarning,
                stacklevel=3,
            )
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            warnings.warn(
                f"sk-metameta plugin {ep.name!r} ({provider} {version}) failed to "
                f"load and is skipped: {exc!r}",
                PluginLoadWarning,
                stacklevel=3,
            )
            info[ep.name] = _PluginInfo(ep.name, provider, version, "failed", repr(exc))
            continue
        error = _register_checked(pm, plugin, ep.name)
        if error:
            warnings.warn(
                f"sk-metameta plugin {ep.name!r} ({provider} {version}) is skipped: "
                f"{error}",
                PluginLoadWarning,
                stacklevel=3,
            )
            info[ep.name] = _PluginInfo(ep.name, provider, version, "failed", error)
            continue
        info[ep.name] = _PluginInfo(ep.name, provider, version)


_REGISTRY: Registry | None = None


def get_registry() -> Registry:
    """The shared registry: built-ins and every installed plugin, built once.

    Returns
    -------
    registry : Registry

    Examples
    --------
    >>> from sk_metameta.plugins import get_registry
    >>> "euclidean" in get_registry().names("metric")
    True
    """
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = Registry.from_plugins(builtins=True, entry_points=True)
    return _REGISTRY


def reset_registry() -> None:
    """Forget the shared registry; the next :func:`get_registry` reloads plugins."""
    global _REGISTRY
    _REGISTRY = None


@contextlib.contextmanager
def use_registry(registry: Registry) -> Iterator[Registry]:
    """Temporarily make ``registry`` the shared one (for tests).

    Parameters
    ----------
    registry : Registry
        The registry to use inside the ``with`` block.

    Yields
    ------
    registry : Registry
    """
    global _REGISTRY
    previous = _REGISTRY
    _REGISTRY = registry
    try:
        yield registry
    finally:
        _REGISTRY = previous


def iter_plugin_info(registry: Registry | None = None) -> Iterable[_PluginInfo]:
    """Every plugin the registry knows, with its status (loaded, blocked, failed)."""
    registry = registry or get_registry()
    return sorted(registry.plugin_info.values(), key=lambda p: p.plugin)
