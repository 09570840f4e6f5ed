"""The ``sk-metameta`` command line: ``demo``, ``similarity`` and ``plugins``.

One module per subcommand; each adds its parser to :func:`build_parser`. A
subcommand whose module fails to import makes the whole command fail with that
error: no subcommand is dropped silently.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from ._common import CommandError, add_output_options, cli_logging
from ._demo import (
    add_demo_parser,
    demo_data,
    demo_methods,
    demo_report,
    describe_methods,
    run_demo,
)
from ._demo_plot import curve_styles, plot_demo
from ._plugins import add_plugins_parser
from ._similarity import add_similarity_parser
from ._task_csv import read_task_csv

__all__ = [
    "CommandError",
    "build_parser",
    "curve_styles",
    "demo_data",
    "demo_methods",
    "demo_report",
    "describe_methods",
    "main",
    "plot_demo",
    "read_task_csv",
    "run_demo",
]

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sk-metameta`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        With the subcommands ``plugins``, ``demo`` and ``similarity``, and the
        options ``--version``, ``-v/--verbose`` and ``-q/--quiet`` (before or
        after the subcommand).
    """
    parser = argparse.ArgumentParser(
        prog="sk-metameta",
        description="Metric-based meta-learning for scikit-learn.",
    )
    parser.add_argument(
        "--version", action="version", version=f"sk-metameta {__version__}"
    )
    add_output_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True)
    for add_parser in (add_plugins_parser, add_demo_parser, add_similarity_parser):
        add_output_options(add_parser(sub), top=False)
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
    with cli_logging(args.verbose, args.quiet):
        logger.debug("sk-metameta %s: %s", __version__, args)
        return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
