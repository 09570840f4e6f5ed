"""What the subcommands of ``sk-metameta`` share: argument types, errors, files."""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import logging
import sys

__all__ = [
    "CommandError",
    "add_output_options",
    "cli_logging",
    "open_text",
    "positive_int",
]


class CommandError(Exception):
    """A problem with the user's input, reported in one line without a traceback."""


def positive_int(text: str) -> int:
    """An ``argparse`` type: a whole number of at least 1.

    Parameters
    ----------
    text : str
        The argument as typed.

    Returns
    -------
    value : int

    Examples
    --------
    >>> from sk_metameta.cli._common import positive_int
    >>> positive_int("3")
    3
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def open_text(path: str):
    """Open a UTF-8 text file for the csv module (``.gz`` is decompressed).

    A byte order mark at the start of the file is removed.

    Parameters
    ----------
    path : str
        File to read.

    Returns
    -------
    handle : text file object
    """
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def add_output_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Add ``-v/--verbose`` and ``-q/--quiet`` to the main parser or a subcommand.

    Both are accepted before and after the subcommand name; the subcommand's copy
    only records what is given after it (``argparse.SUPPRESS`` default), so it does
    not overwrite what was given before.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The main parser (``top=True``) or a subcommand's parser.
    top : bool
        Whether ``parser`` is the main parser, which sets the defaults.
    """
    group = parser.add_argument_group("output")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0 if top else argparse.SUPPRESS,
        help="log what is done on stderr (-vv: more detail)",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="no progress bars; only errors on stderr",
    )


class _StderrHandler(logging.StreamHandler):
    """A handler writing to the current ``sys.stderr`` (looked up at each record)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


@contextlib.contextmanager
def cli_logging(verbose: int, quiet: bool):
    """Route the ``sk_metameta`` logger to stderr while a command runs.

    Warnings and errors by default, ``-v`` adds what is done (INFO), ``-vv`` the
    detail (DEBUG), ``-q`` keeps errors only. The logger's level and handlers are
    restored afterwards (``main`` may be called from Python, as the tests do).

    Parameters
    ----------
    verbose : int
        Number of ``-v``.
    quiet : bool
        Whether ``-q`` was given.
    """
    logger = logging.getLogger("sk_metameta")
    level = (
        logging.ERROR
        if quiet
        else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    )
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("sk-metameta: %(message)s"))
    previous = logger.level
    logger.setLevel(level)
    logger.addHandler(handler)
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
