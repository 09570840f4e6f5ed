"""The documentation: complete, its examples true, and it builds without warnings."""

import doctest
import html
import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sk_metameta import hookspecs
from sk_metameta.plugins import Registry

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API = DOCS / "api.rst"

#: Modules whose ``__all__`` is the public API, each documented in ``api.rst``.
PUBLIC_MODULES = [
    "sk_metameta",
    "sk_metameta.metrics",
    "sk_metameta.task_features",
    "sk_metameta.transfer",
    "sk_metameta.datasets",
    "sk_metameta.model_selection",
    "sk_metameta.plugins",
    "sk_metameta.exceptions",
    "sk_metameta.neighbors",
    "sk_metameta.hookspecs",
    "sk_metameta.testing",
]

#: Guides whose ``>>>`` examples are run as doctests.
GUIDES = [
    "getting_started.rst",
    "concepts.rst",
    "sklearn_integration.rst",
    "plugin_guide.rst",
]


def rst_sources() -> str:
    return "\n".join(p.read_text() for p in sorted(DOCS.glob("*.rst")))


def api_entries(path: Path = API) -> set[str]:
    """Fully qualified names listed in the autosummary tables of ``path``."""
    module, entries, in_table = None, set(), False
    for line in path.read_text().splitlines():
        if m := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = m.group(1)
        elif line.startswith(".. autosummary::"):
            in_table = True
        elif in_table and re.match(r"   [A-Za-z_]\w*$", line):
            entries.add(f"{module}.{line.strip()}")
        elif in_table and line and not line.startswith(" "):
            in_table = False
    return entries


def public_names() -> list[str]:
    names = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        names += [
            f"{module_name}.{name}" for name in module.__all__ if name != "__version__"
        ]
    return names


def hook_names() -> list[str]:
    return [
        name
        for name, obj in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith(f"{hookspecs.PROJECT_NAME}_")
    ]


# -- completeness (fast) -----------------------------------------------------------
def test_api_reference_parser_sees_the_tables():
    entries = api_entries()
    assert "sk_metameta.metrics.EuclideanMetric" in entries
    assert "sk_metameta.hookspecs.sk_metameta_register_metrics" in entries


@pytest.mark.parametrize("name", public_names())
def test_every_public_name_is_in_the_api_reference(name):
    assert name in api_entries(), (
        f"{name} is public (in __all__) but missing from docs/api.rst; add it to "
        "the autosummary table of its section."
    )


def test_every_hook_is_documented():
    hooks = hook_names()
    assert len(hooks) == 3
    guide = (DOCS / "plugin_guide.rst").read_text()
    for hook in hooks:
        assert f"sk_metameta.hookspecs.{hook}" in api_entries(), hook
        assert hook in guide, f"the plugin guide does not describe the hook {hook}"


def test_every_builtin_component_is_named_in_the_docs():
    sources = rst_sources()
    registry = Registry.from_plugins(builtins=True)
    for component in registry.components():
        assert f'``"{component.name}"``' in sources, (
            f'the built-in {component.kind} "{component.name}" is not named in the '
            'docs; add it, as ``"name"``, to its table in docs/concepts.rst.'
        )


def test_the_ot_plugin_components_are_named_in_the_docs():
    sources = (DOCS / "plugin_ot.rst").read_text()
    from sk_metameta_ot import plugin

    registry = Registry.from_plugins(plugin, builtins=False)
    names = registry.names("metric")
    assert names == ["otdd", "wasserstein"]
    for name in names:
        assert f'``"{name}"``' in sources


def test_the_completeness_checks_can_fail():
    # A page without autosummary tables lists nothing; an unknown name is absent.
    assert api_entries(DOCS / "index.rst") == set()
    assert '``"no_such_component"``' not in rst_sources()


# -- the guides' examples ------------------------------------------------------------
@pytest.mark.parametrize("guide", GUIDES)
def test_guide_examples_run(guide):
    result = doctest.testfile(
        str(DOCS / guide),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
        verbose=False,
        report=True,
    )
    assert result.attempted > 0, f"{guide} has no example to run"
    assert result.failed == 0, f"{result.failed} example(s) of docs/{guide} failed"


# -- the build (slow) ------------------------------------------------------------------
@pytest.fixture(scope="module")
def built_docs(tmp_path_factory):
    """Build a fresh copy of docs/ and examples/ with warnings as errors."""
    work = tmp_path_factory.mktemp("docs")
    shutil.copy(ROOT / "README.md", work / "README.md")
    for name in ("docs", "examples", "benchmarks"):
        source = ROOT / name
        if source.exists():
            shutil.copytree(
                source,
                work / name,
                ignore=shutil.ignore_patterns(
                    "_build", "generated", "auto_examples", "__pycache__"
                ),
            )
    env = {**os.environ, "MPLBACKEND": "Agg"}
    out = work / "html"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(work / "docs"),
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    return work, out, proc


@pytest.mark.slow
def test_docs_build_without_warnings(built_docs):
    _, out, proc = built_docs
    assert proc.returncode == 0, (
        "the documentation build failed (warnings are errors):\n" + proc.stderr[-6000:]
    )
    assert (out / "index.html").exists()
    # the getting-started page shows the README's two commands
    readme = (ROOT / "README.md").read_text()
    commands = [line for line in readme.splitlines() if line.startswith("python3 ")]
    assert len(commands) == 2
    page = html.unescape((out / "getting_started.html").read_text())
    text = re.sub(r"<[^>]+>", "", page)
    for command in commands:
        assert command in text, command


@pytest.mark.slow
def test_every_public_name_has_a_generated_page(built_docs):
    work, out, proc = built_docs
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in public_names():
        assert (work / "docs" / "generated" / f"{name}.rst").exists(), name
        assert (out / "generated" / f"{name}.html").exists(), name


@pytest.mark.slow
def test_gallery_rendered_every_example_with_a_figure(built_docs):
    _, out, proc = built_docs
    assert proc.returncode == 0, proc.stderr[-3000:]
    examples = sorted((ROOT / "examples").glob("plot_*.py"))
    assert len(examples) >= 4
    for example in examples:
        page = out / "auto_examples" / f"{example.stem}.html"
        assert page.exists(), example.name
        images = list((out / "_images").glob(f"sphx_glr_{example.stem}_0*.png"))
        assert images, f"{example.name} drew no figure"


# -- the gallery's figures ---------------------------------------------------------
def _cells(path: Path) -> list[str]:
    """The code cells of a sphinx-gallery script (split at ``# %%``)."""
    return re.split(r"^# %%.*$", path.read_text(), flags=re.MULTILINE)


def _incomplete_axes(fig) -> list[str]:
    problems = []
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        name = ax.get_title() or f"axes {fig.axes.index(ax)}"
        if not (ax.lines or ax.collections or ax.images or ax.patches):
            problems.append(f"{name!r} is empty")
        if not ax.get_xlabel() or not ax.get_ylabel():
            problems.append(f"{name!r} lacks an axis label")
    return problems


def test_incomplete_figures_are_found():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (drawn, empty) = plt.subplots(1, 2)
    try:
        drawn.plot([0, 1], [1, 0])
        drawn.set_xlabel("x")
        assert _incomplete_axes(fig) == [
            "'axes 0' lacks an axis label",
            "'axes 1' is empty",
            "'axes 1' lacks an axis label",
        ]
        drawn.set_ylabel("y")
        empty.imshow([[0.0, 1.0]])
        empty.set(xlabel="x", ylabel="y")
        fig.colorbar(empty.images[0], ax=empty)
        assert _incomplete_axes(fig) == []
    finally:
        plt.close(fig)


@pytest.mark.slow
@pytest.mark.parametrize(
    "example", sorted((ROOT / "examples").glob("plot_*.py")), ids=lambda p: p.stem
)
def test_gallery_figures_are_complete_when_captured(example, monkeypatch):
    # sphinx-gallery saves a cell's figures when the cell ends: a figure drawn
    # across cells is captured half empty. Run cell by cell, check, then close.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    namespace = {"__name__": "__main__", "__file__": str(example)}
    n_figures = 0
    try:
        for i, cell in enumerate(_cells(example)):
            exec(compile(cell, f"{example.name} (cell {i})", "exec"), namespace)
            for number in plt.get_fignums():
                problems = _incomplete_axes(plt.figure(number))
                assert not problems, f"{example.name}, cell {i}: {problems}"
                n_figures += 1
            plt.close("all")
    finally:
        plt.close("all")
    assert n_figures >= 1, f"{example.name} draws no figure"
