"""What the subcommands of ``sk-metameta`` share: argument types, errors, files."""

from __future__ import annotations

import argparse
import gzip
import io

__all__ = ["CommandError", "open_text", "positive_int"]


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
    """Open a UTF-8 text file for the csv module; ``.gz`` is decompressed.

    Parameters
    ----------
    path : str
        File to read.

    Returns
    -------
    handle : text file object
    """
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")
