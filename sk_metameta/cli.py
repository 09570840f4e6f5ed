"""The ``sk-metameta`` command line: ``demo``, ``similarity`` and ``plugins``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _cmd_plugins(args: argparse.Namespace) -> int:
    from .plugins import get_registry, iter_plugin_info

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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sk-metameta`` command."""
    parser = argparse.ArgumentParser(
        prog="sk-metameta",
        description="Metric-based meta-learning for scikit-learn.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plugins", help="list every component with its provider")
    p.set_defaults(func=_cmd_plugins)
    try:
        from ._demo import add_demo_parser
    except ImportError:
        pass
    else:
        add_demo_parser(sub)
    try:
        from ._similarity_cli import add_similarity_parser
    except ImportError:
        pass
    else:
        add_similarity_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sk-metameta`` command line.

    Parameters
    ----------
    argv : sequence of str, default=None
        Arguments; default ``sys.argv[1:]``.

    Returns
    -------
    status : int
        Exit status.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
