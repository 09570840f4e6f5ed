"""Tests of the ``sk-metameta`` command line as a whole."""

import subprocess
import sys

import pytest

from sk_metameta.cli import build_parser, main


def test_every_subcommand_is_registered():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == {"demo", "similarity", "plugins"}


def test_a_subcommand_module_that_fails_to_import_fails_loudly(monkeypatch):
    # a bug in a subcommand module is an error, never a silently missing command
    for name in [m for m in sys.modules if m.startswith("sk_metameta.cli")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sk_metameta.cli._similarity", None)
    with pytest.raises(ImportError, match=r"sk_metameta\.cli\._similarity"):
        import sk_metameta.cli  # noqa: F401


def test_console_script_entry_point_runs():
    out = subprocess.run(
        [sys.executable, "-m", "sk_metameta", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "demo" in out and "similarity" in out and "plugins" in out


def test_subcommand_is_required(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "required" in capsys.readouterr().err
