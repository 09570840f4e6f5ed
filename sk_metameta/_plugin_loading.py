"""Finding and loading installed plugins, each inside a guard.

A plugin's import, hooks and factories run inside :func:`guarded`: an exception,
``sys.exit`` or any other ``BaseException`` but ``KeyboardInterrupt`` in them
skips the plugin (or its hook, or its record) with a warning, and the host goes
on. :mod:`sk_metameta.plugins` builds the registry from what is loaded here.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from . import _builtin, hookspecs
from .exceptions import PluginLoadWarning
from .hookspecs import COMPONENT_KINDS, PROJECT_NAME, normalize_name

__all__ = [
    "BLOCK_ENV_VAR",
    "BUILTIN_PLUGIN",
    "PluginInfo",
    "blocked_plugins",
    "component_class_of",
    "guarded",
    "load_entry_points",
    "new_manager",
    "register_builtins",
    "register_checked",
]

#: Environment variable listing the plugins not to load.
BLOCK_ENV_VAR = "SK_METAMETA_BLOCK_PLUGINS"
ENTRY_POINT_GROUP = PROJECT_NAME
BUILTIN_PLUGIN = "builtin"


def guarded(func: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """``(func(), None)``, or ``(None, exc)`` for anything but KeyboardInterrupt.

    A plugin's import, hooks and factories run here: ``sys.exit`` or any other
    ``BaseException`` in them must not end the host.
    """
    try:
        return func(), None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        return None, exc


@dataclass(frozen=True)
class PluginInfo:
    """A plugin the registry knows of, and what became of it.

    Attributes
    ----------
    plugin : str
        Plugin (entry-point) name.
    provider : str
        Distribution that ships it.
    version : str
        Its version.
    status : {"loaded", "partial", "failed", "blocked"}
        ``"partial"``: loaded, but some of its components were refused (see
        ``detail``); ``"failed"``: skipped whole; ``"blocked"`` by
        ``SK_METAMETA_BLOCK_PLUGINS``.
    detail : str
        What went wrong, for ``"partial"`` and ``"failed"``.
    """

    plugin: str
    provider: str
    version: str
    status: str = "loaded"
    detail: str = ""


_PluginInfo = PluginInfo  # its name before it was public


def blocked_plugins() -> set[str]:
    """Names listed in the environment variable ``SK_METAMETA_BLOCK_PLUGINS``."""
    raw = os.environ.get(BLOCK_ENV_VAR, "")
    return {normalize_name(n) for n in raw.split(",") if n.strip()}


def new_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


def register_checked(pm: pluggy.PluginManager, plugin: Any, name: str) -> str | None:
    """Register ``plugin``; return an error text (and leave it out) if it is broken."""
    _, exc = guarded(lambda: pm.register(plugin, name=name))
    if exc is not None:  # pluggy's PluginValidationError, ValueError, ...
        # pluggy keeps the plugin and its hooks checked before the failing one
        if pm.get_plugin(name) is plugin:
            pm.unregister(name=name)
        return f"it does not fit the hook specifications: {exc}"
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        pm.unregister(name=name)
        known = ", ".join(kind.hook for kind in COMPONENT_KINDS.values())
        return f"{exc} (known hooks: {known})"
    return None


def register_builtins(pm: pluggy.PluginManager, info: dict) -> None:
    """Register the built-in components, as the plugin ``builtin``."""
    from . import __version__

    pm.register(_builtin, name=BUILTIN_PLUGIN)
    info[BUILTIN_PLUGIN] = PluginInfo(BUILTIN_PLUGIN, "sk-metameta", __version__)


def component_class_of(record, spec) -> tuple[type | None, str]:
    """The class ``record.factory()`` builds, or an error text."""
    base = spec.base
    factory = record.factory
    if isinstance(factory, type):
        if issubclass(factory, base):
            return factory, ""
        return None, f"its factory {factory!r} is not a subclass of {base.__name__}."
    built, exc = guarded(factory)
    if exc is not None:
        return None, f"its factory() with no argument raised {exc!r}."
    if not isinstance(built, base):
        return None, (
            f"its factory() built {built!r} of type {type(built).__name__}, not a "
            f"{base.__name__}."
        )
    return type(built), ""


def _distribution_of(ep: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return ep.value.split(":")[0].split(".")[0], ""
    return dist.metadata["Name"], dist.version


def _builtin_module_name() -> str:
    return f"{__package__}._builtin"


def _skip(info: dict, ep, provider: str, version: str, why: str) -> None:
    """Warn that an installed plugin is skipped whole, and remember why."""
    warnings.warn(
        f"sk-metameta plugin {ep.name!r} ({provider} {version}) {why}",
        PluginLoadWarning,
        stacklevel=4,
    )
    # a second plugin of one name is kept under its own key, beside the first
    key = f"{ep.name} ({provider})" if ep.name in info else ep.name
    info[key] = PluginInfo(ep.name, provider, version, "failed", why)


def load_entry_points(pm: pluggy.PluginManager, info: dict) -> None:
    blocked = blocked_plugins()
    for ep in sorted(
        metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name
    ):
        provider, version = _distribution_of(ep)
        if ep.name == BUILTIN_PLUGIN and ep.value == _builtin_module_name():
            continue  # sk-metameta's own entry point: registered by builtins=True
        if normalize_name(ep.name) in blocked or normalize_name(provider) in blocked:
            info[ep.name] = PluginInfo(ep.name, provider, version, "blocked")
            continue
        if pm.has_plugin(ep.name):
            first = info.get(ep.name, PluginInfo(ep.name, "", ""))
            why = (
                f"is skipped: the plugin {ep.name!r} of {first.provider} "
                f"{first.version} has that name already. Rename one entry point, or "
                f"block one with {BLOCK_ENV_VAR}={normalize_name(provider)}."
            )
            _skip(info, ep, provider, version, why)
            continue
        plugin, exc = guarded(ep.load)
        if exc is not None:
            _skip(
                info, ep, provider, version, f"failed to load and is skipped: {exc!r}"
            )
            continue
        error = register_checked(pm, plugin, ep.name)
        if error:
            _skip(info, ep, provider, version, f"is skipped: {error}")
            continue
        info[ep.name] = PluginInfo(ep.name, provider, version)
