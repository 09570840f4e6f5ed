"""The component registry, and the loading of installed plugins.

Plugins register components through the hooks of :mod:`sk_metameta.hookspecs`,
which also holds the records and :data:`~sk_metameta.hookspecs.hookimpl`. The
registry collects every hook's records once (built-ins first, then every
installed distribution that declares an ``sk_metameta`` entry point), normalises
names and remembers which distribution provides what.

No plugin can take the host down. A plugin that fails to import, exits, raises in
a hook or does not fit the hook specifications is skipped; a record that is not a
record of its hook's kind, or whose factory does not build a component of that
kind, is skipped; a name that two plugins register is refused (a name of a
built-in stays the built-in's). Each is a :class:`~sk_metameta.exceptions.\
PluginLoadWarning` when the registry is built, is listed by
:meth:`Registry.problems` and by ``sk-metameta plugins``, and every other
component keeps working. Using a refused name is a
:class:`~sk_metameta.exceptions.PluginError` that names both providers.

Environment variable
--------------------
``SK_METAMETA_BLOCK_PLUGINS``
    Comma-separated entry-point (or distribution) names of plugins not to load.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pluggy

from ._plugin_loading import (
    BLOCK_ENV_VAR,
    BUILTIN_PLUGIN,
    PluginInfo,
    component_class_of,
    guarded,
    load_entry_points,
    new_manager,
    register_builtins,
    register_checked,
)
from .exceptions import PluginError, PluginLoadWarning
from .hookspecs import COMPONENT_KINDS, kind_of, normalize_name

# The records and the marker live in hookspecs; these names stay importable from
# here for the plugins written before they moved.
from .hookspecs import MetricRecord as MetricRecord
from .hookspecs import TaskFeatureRecord as TaskFeatureRecord
from .hookspecs import TransferRuleRecord as TransferRuleRecord
from .hookspecs import hookimpl as hookimpl

__all__ = [
    "BLOCK_ENV_VAR",
    "KINDS",
    "PluginInfo",
    "RegisteredComponent",
    "Registry",
    "RegistryProblem",
    "describe_component",
    "get_registry",
    "iter_plugin_info",
    "reset_registry",
    "use_registry",
]

_PluginInfo = PluginInfo  # its name before it was public

#: Component kinds, each with its hook (from :data:`~sk_metameta.hookspecs.\
#: COMPONENT_KINDS`).
KINDS = {name: kind.hook for name, kind in COMPONENT_KINDS.items()}


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
    component_class : type or None
        Class of the component ``factory()`` builds, found when the registry
        was built.
    """

    kind: str
    name: str
    factory: Callable[..., Any] = field(repr=False)
    summary: str
    plugin: str
    provider: str
    version: str
    component_class: type | None = field(default=None, repr=False, compare=False)

    @property
    def origin(self) -> str:
        """``"plugin 'x', provider dist 1.2"``, or ``"built-in"``."""
        if self.plugin == BUILTIN_PLUGIN:
            return "built-in"
        return (
            f"plugin {self.plugin!r}, provider {_joined(self.provider, self.version)}"
        )

    def create(self, **params: Any) -> Any:
        """Build the component with ``params``.

        Parameters
        ----------
        **params : dict
            Parameters of the component.

        Returns
        -------
        component : object
            An instance of the kind's base class.
        """
        kind = COMPONENT_KINDS[self.kind]
        who = f"{kind.label} {self.name!r} ({self.origin})"
        if self.plugin == BUILTIN_PLUGIN:
            component = self.factory(**params)
        else:
            try:
                component = self.factory(**params)
            except Exception as exc:
                from ._components import named_error

                raise named_error(exc, who) from exc
        if not isinstance(component, kind.base):
            raise PluginError(
                f"{who}: the factory built {component!r}, not a {kind.base.__name__}."
            )
        return component


@dataclass(frozen=True)
class RegistryProblem:
    """Something the registry refused, and why.

    Attributes
    ----------
    problem : {"failed", "hook failed", "malformed record", "clash"}
        What happened: a plugin skipped whole, a hook that raised (its records
        skipped), a record skipped, or a name registered more than once.
    plugins : tuple of str
        The plugins concerned (two or more for a clash).
    message : str
        The message of the warning, naming plugins, providers and versions.
    kind : str
        The component kind, or ``""`` for a whole plugin.
    name : str
        The component name, or ``""``.
    """

    problem: str
    plugins: tuple[str, ...]
    message: str
    kind: str = ""
    name: str = ""


def _who(plugin: str, provider: str, version: str) -> str:
    return f"{plugin!r} (provider {_joined(provider, version)})"


def _joined(*words: str) -> str:
    return " ".join(w for w in words if w)


class Registry:
    """Every component that the loaded plugins register, by kind and name.

    Build one with :meth:`from_plugins` (in tests) or get the shared, cached one
    with :func:`get_registry`. Building it calls every hook, checks every record
    (a factory that is a class must derive from the kind's base class; another
    callable is called once with no argument) and refuses names registered twice;
    each problem is a :class:`~sk_metameta.exceptions.PluginLoadWarning` and is
    listed by :meth:`problems`.

    Parameters
    ----------
    plugin_manager : pluggy.PluginManager
        Manager with the plugins already registered.
    plugin_info : dict, default=None
        :class:`PluginInfo` of each plugin, by plugin name.
    """

    def __init__(self, plugin_manager: pluggy.PluginManager, plugin_info=None):
        self.plugin_manager = plugin_manager
        self.plugin_info: dict[str, PluginInfo] = dict(plugin_info or {})
        self._components: dict[str, dict[str, RegisteredComponent]] = {
            kind: {} for kind in COMPONENT_KINDS
        }
        self._clashes: dict[str, dict[str, list[RegisteredComponent]]] = {
            kind: {} for kind in COMPONENT_KINDS
        }
        self._problems: list[RegistryProblem] = []
        for kind in COMPONENT_KINDS:
            self._collect(kind)

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

        Raises
        ------
        PluginError
            If one of ``plugins`` does not fit the hook specifications (a
            misspelled hook, a hook with arguments): the caller passed it.
        """
        pm = new_manager()
        info: dict[str, PluginInfo] = {}
        if builtins:
            register_builtins(pm, info)
        if entry_points:
            load_entry_points(pm, info)
        for plugin in plugins:
            name = getattr(plugin, "__name__", type(plugin).__name__)
            error = register_checked(pm, plugin, name)
            if error:
                raise PluginError(f"plugin {name!r}: {error}")
            info[name] = PluginInfo(name, name, "")
        return cls(pm, info)

    def _info(self, plugin: str) -> PluginInfo:
        return self.plugin_info.get(plugin, PluginInfo(plugin, plugin, ""))

    def _refuse(self, problem: str, plugins: Iterable[str], message: str, **where):
        """Record a problem, mark its plugins partial, and warn."""
        plugins = tuple(dict.fromkeys(plugins))
        self._problems.append(RegistryProblem(problem, plugins, message, **where))
        for plugin in plugins:
            info = self._info(plugin)
            if plugin == BUILTIN_PLUGIN and problem == "clash":
                continue  # the built-in kept its name
            detail = f"{info.detail}; {message}" if info.detail else message
            self.plugin_info[plugin] = replace(info, status="partial", detail=detail)
        warnings.warn(message, PluginLoadWarning, stacklevel=4)

    def _collect(self, kind: str) -> None:
        spec = COMPONENT_KINDS[kind]
        offered: dict[str, list[RegisteredComponent]] = {}
        # get_hookimpls lists the implementations in registration order (pluggy
        # *calls* them last-registered first): built-ins, then entry points
        for impl in getattr(self.plugin_manager.hook, spec.hook).get_hookimpls():
            for component in self._records_of(impl, spec):
                offered.setdefault(component.name, []).append(component)
        for name, components in offered.items():
            if len(components) == 1:
                self._components[kind][name] = components[0]
                continue
            builtin = [c for c in components if c.plugin == BUILTIN_PLUGIN]
            if builtin:
                self._components[kind][name] = builtin[0]
            else:
                self._clashes[kind][name] = components
            self._refuse(
                "clash",
                [c.plugin for c in components],
                self._clash_message(components, kept=bool(builtin)),
                kind=kind,
                name=name,
            )

    def _records_of(self, impl, spec) -> list[RegisteredComponent]:
        """The valid records of one hook implementation, as components."""
        plugin = impl.plugin_name
        info = self._info(plugin)
        where = (
            f"sk-metameta plugin {plugin!r} ({_joined(info.provider, info.version)})"
        )
        result, exc = guarded(lambda: list(impl.function() or ()))
        if exc is not None:
            self._refuse(
                "hook failed",
                [plugin],
                f"{where} failed in {spec.hook}: {exc!r}; its {spec.label} "
                "components are skipped.",
                kind=spec.name,
            )
            return []
        components = []
        for record in result:
            if not isinstance(record, spec.record):
                self._refuse(
                    "malformed record",
                    [plugin],
                    f"{where} returned {record!r} from {spec.hook}; expected "
                    f"{spec.record.__name__} records. It is skipped.",
                    kind=spec.name,
                )
                continue
            component_class, error = component_class_of(record, spec)
            if error:
                self._refuse(
                    "malformed record",
                    [plugin],
                    f"{where}: the {spec.label} {record.name!r} is skipped: {error}",
                    kind=spec.name,
                    name=record.name,
                )
                continue
            components.append(
                RegisteredComponent(
                    kind=spec.name,
                    name=record.name,
                    factory=record.factory,
                    summary=record.summary,
                    plugin=plugin,
                    provider=info.provider,
                    version=info.version,
                    component_class=component_class,
                )
            )
        return components

    @staticmethod
    def _clash_message(components: list[RegisteredComponent], kept: bool) -> str:
        first = components[0]
        label = COMPONENT_KINDS[first.kind].label
        who = " and ".join(_who(c.plugin, c.provider, c.version) for c in components)
        n = "two" if len(components) == 2 else str(len(components))
        message = f"{n} plugins register the {label} {first.name!r}: {who}."
        others = [c.plugin for c in components if c.plugin != BUILTIN_PLUGIN]
        if kept:
            return (
                f"{message} The name stays the built-in's and the other is skipped; "
                "register the component under another name."
            )
        return (
            f"{message} The name is refused; uninstall one, or block one with "
            f"{BLOCK_ENV_VAR}={others[-1]}."
        )

    # -- queries ---------------------------------------------------------------
    def names(self, kind: str) -> list[str]:
        """Sorted names of the registered components of ``kind``.

        Names refused because two plugins register them are not included.
        """
        return sorted(self._components[self._check_kind(kind)])

    def components(self, kind: str | None = None) -> list[RegisteredComponent]:
        """Registered components, of one kind or of all, sorted by kind and name."""
        kinds = [self._check_kind(kind)] if kind else list(COMPONENT_KINDS)
        return [
            self._components[k][n] for k in kinds for n in sorted(self._components[k])
        ]

    def get(self, kind: str, name: str) -> RegisteredComponent:
        """The component ``name`` of ``kind``.

        Parameters
        ----------
        kind : {"metric", "task_features", "transfer_rule"}
            The component kind.
        name : str
            The component name (normalised before the look-up).

        Returns
        -------
        component : RegisteredComponent

        Raises
        ------
        ValueError
            If no plugin registers ``name``; the message lists the names.
        PluginError
            If two plugins register ``name``; the message names both.
        """
        kind = self._check_kind(kind)
        try:
            key = normalize_name(name)
        except ValueError:
            key = None
        if key in self._clashes[kind]:
            raise PluginError(self._clash_message(self._clashes[kind][key], False))
        if key not in self._components[kind]:
            available = ", ".join(self.names(kind)) or "(none)"
            raise ValueError(
                f"unknown {COMPONENT_KINDS[kind].label} {name!r}; "
                f"available: {available}."
            )
        return self._components[kind][key]

    def create(self, kind: str, name: str, **params: Any) -> Any:
        """Build the component ``name`` of ``kind`` with ``params``."""
        return self.get(kind, name).create(**params)

    def problems(self) -> list[RegistryProblem]:
        """What the registry refused: failed plugins, hooks, records and clashes.

        Returns
        -------
        problems : list of RegistryProblem
            Plugins skipped whole first (by plugin name), then the problems found
            while collecting the components, in the order they were found.
        """
        failed = [
            RegistryProblem(
                "failed",
                (p.plugin,),
                f"plugin {p.plugin!r} ({p.provider} {p.version}) failed: {p.detail}",
            )
            for p in iter_plugin_info(self)
            if p.status == "failed"
        ]
        return failed + list(self._problems)

    def find(self, component: Any) -> RegisteredComponent | None:
        """The registered component whose factory builds ``component``'s class.

        Parameters
        ----------
        component : object
            A component instance.

        Returns
        -------
        registered : RegisteredComponent or None
            ``None`` if no plugin registers that class.
        """
        found = [
            c
            for kind in self._components.values()
            for c in kind.values()
            if c.component_class is type(component)
        ]
        named = [c for c in found if c.name == getattr(component, "name", None)]
        return (named or found or [None])[0]

    @staticmethod
    def _check_kind(kind: str) -> str:
        if kind not in COMPONENT_KINDS:
            raise ValueError(
                f"unknown component kind {kind!r}; use one of {list(COMPONENT_KINDS)}."
            )
        return kind


# -- the shared registry, and the one active in this context ---------------------
_SHARED: Registry | None = None
_SHARED_LOCK = threading.RLock()  # a plugin importing sk_metameta may ask for it
_ACTIVE: contextvars.ContextVar[Registry | None] = contextvars.ContextVar(
    "sk_metameta_registry", default=None
)


def get_registry() -> Registry:
    """The active registry: built-ins and every installed plugin, built once.

    Inside :func:`use_registry`, the registry given to it (in that thread or
    asynchronous context only); elsewhere the shared registry of the process,
    built on first use.

    Returns
    -------
    registry : Registry

    Examples
    --------
    >>> from sk_metameta.plugins import get_registry
    >>> "euclidean" in get_registry().names("metric")
    True
    """
    global _SHARED
    active = _ACTIVE.get()
    if active is not None:
        return active
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = Registry.from_plugins(builtins=True, entry_points=True)
        return _SHARED


def reset_registry() -> None:
    """Forget the shared registry; the next :func:`get_registry` reloads plugins."""
    global _SHARED
    with _SHARED_LOCK:
        _SHARED = None


@contextlib.contextmanager
def use_registry(registry: Registry) -> Iterator[Registry]:
    """Make ``registry`` the active one inside a ``with`` block (for tests).

    The change is local to the current thread (more exactly, to the current
    :mod:`contextvars` context): a fit in another thread still sees the shared
    registry.

    Parameters
    ----------
    registry : Registry
        The registry to use inside the ``with`` block.

    Yields
    ------
    registry : Registry
    """
    token = _ACTIVE.set(registry)
    try:
        yield registry
    finally:
        _ACTIVE.reset(token)


def iter_plugin_info(registry: Registry | None = None) -> list[PluginInfo]:
    """Every plugin the registry knows, with its status, sorted by name.

    Parameters
    ----------
    registry : Registry, default=None
        The registry; default the active one.

    Returns
    -------
    plugins : list of PluginInfo
        Status ``"loaded"``, ``"partial"`` (some components refused),
        ``"failed"`` or ``"blocked"``, with the distribution and version.
    """
    registry = registry or get_registry()
    return sorted(registry.plugin_info.values(), key=lambda p: p.plugin)


def describe_component(component: Any) -> str:
    """How messages name a component: its kind, name, plugin and provider.

    The component's class is looked up in the active registry.

    Parameters
    ----------
    component : object
        A task metric, task feature extractor or transfer rule.

    Returns
    -------
    description : str
        ``"metric 'canberra' (plugin 'template', provider sk-metameta-template
        0.1.0)"``, ``"metric 'euclidean' (built-in)"``, or, for a class no plugin
        registers, ``"metric 'mine' (class my_module.Mine, not registered)"``.

    Examples
    --------
    >>> from sk_metameta.metrics import EuclideanMetric
    >>> describe_component(EuclideanMetric())
    "metric 'euclidean' (built-in)"
    """
    kind = kind_of(component)
    label = kind.label if kind else "component"
    registered = get_registry().find(component)
    if registered is not None:
        return f"{label} {registered.name!r} ({registered.origin})"
    cls = type(component)
    name = getattr(component, "name", "") or cls.__name__
    return f"{label} {name!r} (class {cls.__module__}.{cls.__name__}, not registered)"
