"""Tests of ``sk-metameta demo``: few-shot transfer between the schools of HSB."""

import sys

import numpy as np
import pytest

from sk_metameta.cli import demo_methods, main

# -- demo ----------------------------------------------------------------------------


def test_demo_methods_cover_the_built_in_rules():
    from sk_metameta import TransferRegressor
    from sk_metameta.plugins import get_registry

    methods = demo_methods()
    assert list(methods)[:3] == [
        "target-only ridge",
        "pooled ridge",
        "pooled + task intercept",
    ]
    default = TransferRegressor().transfer
    assert isinstance(
        methods[f"TransferRegressor (default: {default})"], TransferRegressor
    )
    builtin = [
        c.name
        for c in get_registry().components("transfer_rule")
        if c.plugin == "builtin" and c.name != default
    ]
    assert builtin  # the registry has the built-in rules
    for name in builtin:
        assert methods[f"TransferRegressor ({name})"].transfer == name
    assert len(methods) == 3 + 1 + len(builtin)


def test_rules_without_linear_models_are_left_out():
    from sk_metameta.cli._demo import _fits_linear_models
    from sk_metameta.transfer import BaseTransferRule

    class Parameters(BaseTransferRule):
        transfers = "parameters"

    class ParametersWithModels(Parameters):
        def fit_linear(self, problem):
            raise NotImplementedError

    class Instances(BaseTransferRule):
        transfers = "instances"

    assert not _fits_linear_models(Parameters())
    assert _fits_linear_models(ParametersWithModels())
    assert _fits_linear_models(Instances())


def test_demo_prints_one_table(capsys):
    argv = ["demo", "--k", "5", "--folds", "2", "--max-tasks", "20", "--repeats", "1"]
    code = main([*argv, "--quiet"])
    assert code == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("method"))
    assert lines[start].split() == ["method", "k=5", "fit", "s"]
    rows = lines[start + 1 : start + 1 + len(demo_methods())]
    names = [row.rsplit(None, 2)[0].strip() for row in rows]
    assert names == list(demo_methods())
    for row in rows:
        score = float(row.rsplit(None, 2)[1])
        assert -1.0 < score < 1.0
    assert "20 tasks, 2 folds" in captured.out
    assert "explained variance" in captured.out
    assert captured.err == ""  # --quiet: no progress


def test_demo_several_k_and_repeats(capsys):
    code = main(
        [
            "demo",
            "--k",
            "5",
            "10",
            "--folds",
            "2",
            "--repeats",
            "2",
            "--max-tasks",
            "12",
            "--quiet",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("method"))
    assert header.split() == ["method", "k=5", "k=10", "fit", "s"]
    assert "2 repeat(s)" in out and "±" in out


def test_demo_progress_goes_to_stderr(capsys, terminal_stderr):
    with terminal_stderr() as stderr:
        assert main(["demo", "--k", "5", "--folds", "2", "--max-tasks", "6"]) == 0
    captured = capsys.readouterr()
    assert "few-shot fits" in stderr.getvalue()
    assert "few-shot fits" not in captured.out
    assert "\r" in stderr.getvalue()  # a bar redrawn in place


def test_demo_writes_nothing_to_a_stderr_that_is_not_a_terminal(capsys):
    # no --quiet: stderr captured by pytest is not a terminal, like a log or CI
    assert main(["demo", "--k", "5", "--folds", "2", "--max-tasks", "6"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "few-shot fits" not in captured.out


def test_demo_quiet_silences_progress_on_a_terminal(capsys, terminal_stderr):
    args = ["demo", "--k", "5", "--folds", "2", "--max-tasks", "6", "--quiet"]
    with terminal_stderr() as stderr:
        assert main(args) == 0
    assert stderr.getvalue() == ""


def test_demo_plot_writes_png(tmp_path, capsys):
    import matplotlib

    matplotlib.use("Agg")
    path = tmp_path / "demo.png"
    code = main(
        [
            "demo",
            "--k",
            "5",
            "10",
            "--folds",
            "2",
            "--max-tasks",
            "10",
            "--quiet",
            "--plot",
            str(path),
        ]
    )
    assert code == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000
    assert f"figure written to {path}" in capsys.readouterr().out


def test_demo_plot_without_matplotlib(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code = main(
        ["demo", "--max-tasks", "4", "--quiet", "--plot", str(tmp_path / "x.png")]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "pip install sk-metameta[plot]" in captured.err
    assert captured.out == ""


def test_demo_plot_into_missing_folder(tmp_path, capsys):
    code = main(["demo", "--quiet", "--plot", str(tmp_path / "no" / "x.png")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--max-tasks", "3", "--folds", "5"], "n_folds must be between 2"),
        (["--max-tasks", "1"], "--max-tasks must be at least 2"),
        (["--k", "70", "--max-tasks", "4", "--folds", "2"], "no task has"),
    ],
)
def test_demo_errors(argv, match, capsys):
    code = main(["demo", "--quiet", *argv])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("sk-metameta demo: error: ")
    assert match in captured.err


def test_demo_rejects_bad_numbers(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--k", "0"])
    assert exc.value.code == 2
    assert "expected a number >= 1" in capsys.readouterr().err


def test_demo_says_what_won_by_how_much_and_explains_every_method(capsys):
    code = main(["demo", "--k", "5", "10", "--folds", "2", "--max-tasks", "20", "-q"])
    assert code == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    # mean and spread over the default repeats
    assert "5 repeat(s) (cells: mean±sd over repeats)" in out
    header = next(i for i, line in enumerate(lines) if line.startswith("method"))
    for row in lines[header + 1 : header + 1 + len(demo_methods())]:
        assert row.count("±") == 2
    # one quantity, one direction, stated
    assert "explained variance on the targets' held-out rows" in out
    assert "(higher is better)" in out
    start = lines.index("verdict (explained variance, higher is better):")
    verdicts = lines[start + 1 : start + 3]
    assert [v.split(":")[0] for v in verdicts] == ["  k=5", "  k=10"]
    names = list(demo_methods())
    for line in verdicts:
        best = line.split(": ", 1)[1].split(" is best")[0]
        assert best in names
        assert "better than the runner-up, " in line
        assert ("beyond noise" in line) != ("within noise" in line)
        assert "paired t-test over 5 repeats: p = " in line
    # identical rows are noted
    assert (
        "note: 'target-only ridge' and 'TransferRegressor (none)' scored the same "
        "in every repeat" in out
    )
    # every method is explained
    legend = lines[lines.index("methods:") + 1 :]
    legend = legend[: next(i for i, line in enumerate(legend) if line[:2] != "  ")]
    assert len(legend) == len(names)
    for name, line in zip(names, legend, strict=True):
        assert line.startswith(f"  {name}: ")
    assert "transfer rule 'additive': " in out
    assert "one intercept per school" in out


def test_demo_plot_shows_the_tables_quantity_and_hides_no_curve(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from sk_metameta.cli import plot_demo, run_demo

    result, (X, y, tasks) = run_demo(
        ks=(5, 10), n_folds=2, n_repeats=2, max_tasks=8, progress=False
    )
    figure = plot_demo(result, X, y, tasks, str(tmp_path / "d.png"), task_name="s")
    heatmap, curves = figure.axes[0], figure.axes[1]
    # the same quantity and direction as the table
    assert curves.get_ylabel() == "explained variance (higher is better)"
    assert "higher is better" in curves.get_title()
    containers = curves.containers  # one errorbar per method
    assert [c.get_label() for c in containers] == result.methods
    drawn = [c.lines[0] for c in containers]
    np.testing.assert_allclose(
        [line.get_ydata() for line in drawn], result.scores.mean(axis=2)
    )
    # no curve under another: each at its own x, with its own marker and style
    xs = np.array([line.get_xdata() for line in drawn])
    for column in xs.T:
        assert np.unique(column).size == len(result.methods)
    looks = {(line.get_marker(), line.get_linestyle()) for line in drawn}
    assert len(looks) == len(result.methods)
    # the similarity heatmap: diagonal 1, stated on the colour bar
    image = heatmap.get_images()[0].get_array()
    np.testing.assert_allclose(np.diag(image), 1.0)
    assert "diagonal: 1" in figure.axes[2].get_ylabel()


def test_curve_styles_are_distinct_and_centred():
    from sk_metameta.cli import curve_styles

    styles = curve_styles(12)
    assert len({(s["marker"], s["linestyle"]) for s in styles}) == 12
    offsets = [s["offset"] for s in styles]
    assert offsets == sorted(offsets) and len(set(offsets)) == 12
    assert sum(offsets) == pytest.approx(0.0)
    assert max(offsets) - min(offsets) < 0.5  # curves stay by their k
