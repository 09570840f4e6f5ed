"""Fixtures shared by the tests of the command line and of few-shot evaluation."""

import contextlib
import io

import pytest


class TerminalStream(io.StringIO):
    """A text stream that says it is a terminal (as an interactive stderr does)."""

    def isatty(self):
        return True


@pytest.fixture
def terminal_stderr():
    """A context manager: inside it, ``sys.stderr`` is a terminal the test reads.

    (A fixture cannot replace ``sys.stderr`` itself: pytest's output capture
    restores it between the setup and the call of a test.)
    """

    @contextlib.contextmanager
    def on_terminal():
        stream = TerminalStream()
        with contextlib.redirect_stderr(stream):
            yield stream

    return on_terminal
