"""The ``sk-metameta plugins`` command: every registered component, by provider."""

from __future__ import annotations

import argparse

__all__ = ["add_plugins_parser"]


def _cmd_plugins(args: argparse.Namespace) -> int:
    from ..plugins import get_registry, iter_plugin_info

    registry = get_registry()
    rows = [
        (c.kind, c.name, c.plugin, f"{c.provider} {c.version}".strip(), c.summary)
        for c in registry.components()
    ]
    header = ("kind", "name", "plugin", "provider", "summary")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)),
            row[4],
        )
    others = [p for p in iter_plugin_info(registry) if p.status != "loaded"]
    for p in others:
        detail = f": {p.detail}" if p.detail else ""
        print(f"plugin {p.plugin!r} ({p.provider} {p.version}) {p.status}{detail}")
    return 0


def add_plugins_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``plugins`` command to the ``sk-metameta`` command line.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-command registry of the main parser.

    Returns
    -------
    parser : argparse.ArgumentParser
        The ``plugins`` parser.
    """
    parser = subparsers.add_parser(
        "plugins", help="list every component with its provider"
    )
    parser.set_defaults(func=_cmd_plugins)
    return parser
