"""Tests of the ``sk-metameta`` command line as a whole."""

import logging
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


def test_version(capsys):
    import sk_metameta

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"sk-metameta {sk_metameta.__version__}\n"


DEMO = ["demo", "--k", "5", "--folds", "2", "--max-tasks", "4", "--repeats", "1"]


@pytest.mark.parametrize(
    "argv", [["-v", *DEMO], [*DEMO, "-v"], [*DEMO, "--verbose"]], ids=str
)
def test_verbose_logs_what_is_done_on_stderr(argv, capsys):
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "sk-metameta: High School and Beyond: " in captured.err
    assert "sk-metameta: few-shot evaluation: " in captured.err
    assert "sk-metameta:" not in captured.out
    assert "repeat 1 of 1" not in captured.err  # DEBUG needs -vv


def test_very_verbose_logs_detail(capsys):
    assert main(["-vv", *DEMO]) == 0
    assert "few-shot evaluation: repeat 1 of 1 done" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [DEMO, ["-q", *DEMO], [*DEMO, "-q"]], ids=str)
def test_no_log_by_default_or_with_quiet(argv, capsys):
    assert main(argv) == 0
    assert capsys.readouterr().err == ""


def test_logger_is_restored_after_a_command():
    logger = logging.getLogger("sk_metameta")
    handlers, level = list(logger.handlers), logger.level
    assert main(["-v", *DEMO]) == 0
    assert logger.handlers == handlers and logger.level == level


def test_the_library_adds_only_a_null_handler():
    code = (
        "import logging, sk_metameta;"
        "print([type(h).__name__ for h in logging.getLogger('sk_metameta').handlers])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['NullHandler']"
