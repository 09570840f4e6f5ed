"""A real ``pip install`` of the template plugin into a fresh virtual environment,
then, in that environment, the plugin's components are usable by name and listed
by ``sk-metameta plugins`` with their distribution and version.

The environment sees the packages of the one running the tests (sk-metameta itself,
installed editable, numpy, scikit-learn, pip, setuptools), so the plugin installs
with ``--no-deps --no-build-isolation --no-index``: no network."""

import json
import os
import shutil
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "plugins" / "sk-metameta-template"

pytestmark = pytest.mark.slow


def _run(args, *, env=None, cwd=None, timeout=300):
    result = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} exited with {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result.stdout


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SK_METAMETA_")}
    env.update(
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        PYTHONDONTWRITEBYTECODE="1",
        **extra,
    )
    return env


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A new virtual environment that sees the packages of this one."""
    root = tmp_path_factory.mktemp("plugin-install")
    env_dir = root / "venv"
    _run(
        [
            sys.executable,
            "-m",
            "venv",
            "--system-site-packages",
            "--without-pip",
            env_dir,
        ]
    )
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    if sys.prefix != sys.base_prefix:
        # Run from inside a virtual environment (as CI does), --system-site-packages
        # exposes the base interpreter's packages, not this environment's: add
        # this environment's site directories (and their .pth files, which hold
        # the editable install of sk-metameta) after the new environment's own.
        purelib = _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).strip()
        lines = [f"import site; site.addsitedir({d!r})" for d in site.getsitepackages()]
        Path(purelib, "_outer_environment.pth").write_text("\n".join(lines) + "\n")
    # install from a copy, so the build leaves nothing in the repository
    source = root / "sk-metameta-template"
    shutil.copytree(
        TEMPLATE,
        source,
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
    )
    _run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            source,
        ],
        env=_clean_env(),
        cwd=root,
    )
    return python, env_dir, root


def test_template_is_installed_into_the_new_environment(venv):
    python, env_dir, root = venv
    out = _run(
        [
            python,
            "-c",
            textwrap.dedent(
                """
            import json
            from importlib import metadata
            import sk_metameta_template
            dist = metadata.distribution("sk-metameta-template")
            eps = [ep.value for ep in dist.entry_points if ep.group == "sk_metameta"]
            print(json.dumps({"module": sk_metameta_template.__file__,
                              "version": dist.version, "entry_points": eps}))
            """
            ),
        ],
        env=_clean_env(),
        cwd=root,
    )
    info = json.loads(out)
    # the installed copy, not a source tree or an install of the outer environment
    assert Path(info["module"]).resolve().is_relative_to(env_dir.resolve())
    assert "site-packages" in Path(info["module"]).parts
    assert info["entry_points"] == ["sk_metameta_template.plugin"]
    assert info["version"] == "0.1.0"


def test_installed_plugin_metric_is_usable_by_name(venv):
    python, _, root = venv
    out = _run(
        [
            python,
            "-c",
            textwrap.dedent(
                """
            import json
            from sk_metameta import task_distances
            from sk_metameta.plugins import get_registry

            X = [[1.0], [2.0], [3.0], [10.0], [20.0], [30.0]]
            result = task_distances(X, tasks=["a", "a", "a", "b", "b", "b"],
                                    task_features="quantiles", metric="canberra")
            component = get_registry().get("metric", "canberra")
            print(json.dumps({"D": result.distances.tolist(),
                              "F": result.task_features.tolist(),
                              "provider": component.provider,
                              "version": component.version}))
            """
            ),
        ],
        env=_clean_env(),
        cwd=root,
    )
    info = json.loads(out)
    # quartiles 1.5, 2, 2.5 and 15, 20, 25; each Canberra term is 9/11
    assert info["F"] == [[1.5, 2.0, 2.5], [15.0, 20.0, 25.0]]
    np.testing.assert_allclose(info["D"], [[0.0, 27 / 11], [27 / 11, 0.0]])
    assert (info["provider"], info["version"]) == ("sk-metameta-template", "0.1.0")


def test_sk_metameta_plugins_lists_the_installed_plugin(venv):
    python, _, root = venv
    out = _run([python, "-m", "sk_metameta", "plugins"], env=_clean_env(), cwd=root)
    rows = {tuple(line.split()[:2]): line for line in out.splitlines()}
    for kind, name in [
        ("metric", "canberra"),
        ("task_features", "quantiles"),
        ("transfer_rule", "uniform"),
    ]:
        line = rows[kind, name]
        assert line.split()[2] == "template"
        assert "sk-metameta-template 0.1.0" in line
    assert "sk-metameta" in rows["metric", "euclidean"]


def test_blocked_installed_plugin_is_not_loaded(venv):
    python, _, root = venv
    env = _clean_env(SK_METAMETA_BLOCK_PLUGINS="sk-metameta-template")
    out = _run(
        [
            python,
            "-c",
            textwrap.dedent(
                """
            from sk_metameta import task_distances
            try:
                task_distances([[0.0], [1.0]], tasks=[0, 1], metric="canberra")
            except ValueError as exc:
                print(exc)
            """
            ),
        ],
        env=env,
        cwd=root,
    )
    assert "'canberra'" in out and "available: " in out and "euclidean" in out
    listing = _run([python, "-m", "sk_metameta", "plugins"], env=env, cwd=root)
    assert "plugin 'template' (sk-metameta-template 0.1.0) blocked" in listing
