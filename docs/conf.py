"""Sphinx configuration of the sk-metameta documentation."""

import os
import re
import warnings

import sk_metameta

project = "sk-metameta"
author = "The sk-metameta developers"
copyright = "the sk-metameta developers, BSD-3-Clause"
release = sk_metameta.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb"]
default_role = "literal"

# -- API reference ---------------------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# A name ending in "_" (a fitted attribute such as ``n_features_in_``) is a
# hyperlink reference in reStructuredText. Docstrings write such names in prose and
# in types ("ndarray of shape (n_features_in_,)") the way scikit-learn does, so
# they are escaped outside literals before the page is parsed.
_TRAILING_UNDERSCORE = re.compile(r"(?<![\w`\\*|])([A-Za-z]\w*)_(?![\w`])")
_LITERAL = re.compile(r"(``.*?``|(?::[\w:.-]+:)?`[^`]*`_{0,2})")


def _escape_line(line):
    parts = _LITERAL.split(line)
    for i in range(0, len(parts), 2):  # the parts outside literals and roles
        parts[i] = _TRAILING_UNDERSCORE.sub(r"\1\\_", parts[i])
    return "".join(parts)


def _escape_attribute_names(app, what, name, obj, options, lines):
    literal_indent = None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if literal_indent is not None:
            if stripped and indent <= literal_indent:
                literal_indent = None
            else:
                continue
        if stripped.endswith("::"):  # a literal block or a directive's content
            literal_indent = indent
        if not stripped.startswith((">>>", "...", "..")):
            lines[i] = _escape_line(line)


def _skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_{method}_request`` methods.

    They are documented in :doc:`sklearn_integration`; their docstrings refer to
    scikit-learn's glossary, which these pages do not have.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


_BENCHMARKS_README = os.path.join(
    os.path.dirname(__file__), "..", "benchmarks", "README.md"
)


def _include_benchmark_results(app, docname, source):
    """Show ``benchmarks/README.md`` (the recorded results) on the benchmarks page."""
    if docname == "benchmarks" and os.path.exists(_BENCHMARKS_README):
        source[0] += (
            "\n\nRecorded results\n----------------\n\n"
            "The results recorded in ``benchmarks/README.md``, verbatim:\n\n"
            ".. literalinclude:: ../benchmarks/README.md\n"
            "   :language: markdown\n"
        )


def setup(app):
    app.connect("source-read", _include_benchmark_results)
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-docstring", _escape_attribute_names)


# -- Example gallery -------------------------------------------------------------
os.environ.setdefault("MPLBACKEND", "Agg")
# The examples run with the library's warnings shown, never silenced; a warning
# raised by a third-party package on import is not the gallery's concern.
warnings.filterwarnings("ignore", category=DeprecationWarning, module="mypy_extensions")

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "matplotlib_animations": False,
    "min_reported_time": 1,
}

# -- HTML ------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sk-metameta {release}"
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
