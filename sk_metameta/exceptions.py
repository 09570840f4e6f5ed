"""The warnings and errors of sk-metameta, in one place.

Every class here is public: catch them, or turn the warnings into errors
(``warnings.simplefilter("error", PluginLoadWarning)``).
"""

from __future__ import annotations

__all__ = ["PluginError", "PluginLoadWarning", "TasksMissingWarning"]


class TasksMissingWarning(UserWarning):
    """``predict`` or ``score`` got ``tasks=None`` after a fit on several tasks."""


class PluginError(RuntimeError):
    """A plugin breaks the registry contract (for example, a duplicate name)."""


class PluginLoadWarning(UserWarning):
    """A plugin failed to load or to register; it is skipped and the host goes on."""
