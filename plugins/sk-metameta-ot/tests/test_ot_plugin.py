"""The installed plugin, seen from sk-metameta: registry, names, CLI, blocking."""

import subprocess
import sys

import numpy as np
import pytest
import sk_metameta_ot
from sk_metameta_ot import OTDDMetric, WassersteinMetric
from sk_metameta_ot import plugin as ot_plugin

from sk_metameta import task_distances
from sk_metameta.cli import main
from sk_metameta.plugins import BLOCK_ENV_VAR, Registry, get_registry, use_registry


@pytest.fixture
def installed():
    """A fresh registry of the built-ins and every installed plugin."""
    with use_registry(Registry.from_plugins(entry_points=True)) as registry:
        yield registry


def test_installed_plugin_registers_both_metrics(installed):
    for name, cls in [("wasserstein", WassersteinMetric), ("otdd", OTDDMetric)]:
        component = installed.get("metric", name)
        assert component.factory is cls
        assert component.plugin == "ot"
        assert component.provider == "sk-metameta-ot"
        assert component.version == sk_metameta_ot.__version__
        assert component.summary == cls.summary


def test_metrics_work_by_name(installed):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    X[15:] += 3.0
    y = (X[:, 0] > X[:, 0].mean()).astype(int)
    tasks = np.repeat(["a", "b"], 15)
    D, labels, features = task_distances(X, tasks=tasks, metric="wasserstein")
    assert labels.tolist() == ["a", "b"]
    assert features is None
    assert D[0, 1] == pytest.approx(
        WassersteinMetric().pairwise(X, tasks)[0, 1], rel=1e-12
    )
    D = task_distances(X, y, tasks=tasks, metric="otdd").distances
    assert D[0, 1] > 0 and D[1, 0] == D[0, 1]
    params = installed.create("metric", "Wasserstein", p=1).get_params()
    assert params == {"p": 1}


def test_otdd_by_name_without_y_is_a_clear_error(installed):
    with pytest.raises(ValueError, match="metric 'otdd' needs y"):
        task_distances([[0.0], [1.0]], tasks=[0, 1], metric="otdd")


def test_plugin_module_alone_registers(installed):
    registry = Registry.from_plugins(ot_plugin)
    assert {"wasserstein", "otdd"} <= set(registry.names("metric"))
    assert "euclidean" in registry.names("metric")


def test_another_plugin_with_the_same_name_is_an_error_naming_both():
    from sk_metameta.exceptions import PluginError, PluginLoadWarning
    from sk_metameta.hookspecs import MetricRecord, hookimpl

    class OtherWasserstein:
        @hookimpl
        def sk_metameta_register_metrics(self):
            return [MetricRecord("wasserstein", WassersteinMetric)]

    # a warning when the registry is built, an error when the name is used
    with pytest.warns(PluginLoadWarning, match="two plugins register") as warning:
        registry = Registry.from_plugins(OtherWasserstein(), entry_points=True)
    with pytest.raises(PluginError, match="two plugins register") as error:
        registry.get("metric", "wasserstein")
    for message in (str(warning[0].message), str(error.value)):
        assert "'ot' (provider sk-metameta-ot" in message
        assert "'OtherWasserstein'" in message
    # the plugin's other metric is not ambiguous and stays usable
    assert registry.get("metric", "otdd").provider == "sk-metameta-ot"


def test_block_env_var_hides_the_plugin(monkeypatch):
    monkeypatch.setenv(BLOCK_ENV_VAR, "sk-metameta-ot")
    registry = Registry.from_plugins(entry_points=True)
    assert "wasserstein" not in registry.names("metric")
    assert registry.plugin_info["ot"].status == "blocked"
    with (
        use_registry(registry),
        pytest.raises(ValueError, match="unknown metric 'wasserstein'"),
    ):
        task_distances([[0.0], [1.0]], tasks=[0, 1], metric="wasserstein")


def test_cli_lists_the_provider(installed, capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[1]: line for line in out.splitlines()[1:]}
    for name in ("wasserstein", "otdd"):
        assert f"sk-metameta-ot {sk_metameta_ot.__version__}" in lines[name]
        assert lines[name].split()[2] == "ot"


def test_cli_in_a_fresh_process_lists_the_provider():
    out = subprocess.run(
        [sys.executable, "-m", "sk_metameta", "plugins"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert any(
        "wasserstein" in line and "sk-metameta-ot" in line for line in out.splitlines()
    )


def test_shared_registry_has_the_plugin():
    assert get_registry().get("metric", "otdd").provider == "sk-metameta-ot"


# -- in the estimators -------------------------------------------------------------
def _tasks_in_two_groups():
    from sk_metameta.datasets import make_related_tasks

    return make_related_tasks(
        n_tasks=8, n_samples_per_task=15, n_features=2, n_clusters=2, random_state=0
    )


@pytest.mark.parametrize("metric", ["wasserstein", "otdd"])
def test_transfer_regressor_uses_the_plugin_metric_by_name(metric):
    from sk_metameta import TransferRegressor

    X, y, tasks = _tasks_in_two_groups()
    model = TransferRegressor(metric=metric, n_neighbors=3).fit(X, y, tasks=tasks)
    assert model.metric_.name == metric
    assert model.task_features_ is None  # a sample metric needs no task features
    D = task_distances(X, y, tasks=tasks, metric=metric).distances
    nearest = np.take_along_axis(D, model.neighbors_, axis=1)
    np.testing.assert_allclose(model.neighbor_distances_, nearest, atol=1e-9)
    np.testing.assert_allclose(nearest, np.sort(D + np.diag([np.inf] * 8))[:, :3])
    assert model.predict(X, tasks=tasks).shape == y.shape


@pytest.mark.parametrize("metric", ["wasserstein", "otdd"])
def test_meta_estimator_uses_the_plugin_metric_by_name(metric):
    from sklearn.linear_model import Ridge

    from sk_metameta import MetricMetaEstimator

    X, y, tasks = _tasks_in_two_groups()
    model = MetricMetaEstimator(Ridge(), metric=metric, n_neighbors=3)
    model.fit(X, y, tasks=tasks)
    assert model.metric_.name == metric
    expected = task_distances(X, y, tasks=tasks, metric=metric).distances
    # the distances to each task's three nearest sources, as the metric gives them
    found = model.task_distances_.tocoo()
    np.testing.assert_allclose(found.data, expected[found.row, found.col], atol=1e-9)
    assert np.bincount(found.row).tolist() == [3] * expected.shape[0]
    assert model.predict(X, tasks=tasks).shape == y.shape


def test_grid_search_over_the_plugin_metric():
    import sklearn
    from sklearn.model_selection import GridSearchCV, KFold

    from sk_metameta import TransferRegressor, get_task_scorer

    X, y, tasks = _tasks_in_two_groups()
    search = GridSearchCV(
        TransferRegressor(n_neighbors=3),
        [
            {"metric": ["euclidean", "wasserstein"]},
            {"metric": [WassersteinMetric()], "metric__p": [1, 3]},
        ],
        scoring=get_task_scorer("r2"),
        cv=KFold(n_splits=3, shuffle=True, random_state=0),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y, tasks=tasks)
    params = search.cv_results_["params"]
    assert len(params) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    by_p = [(p["metric"].name, p["metric__p"]) for p in params if "metric__p" in p]
    assert by_p == [("wasserstein", 1), ("wasserstein", 3)]
    assert search.best_estimator_.metric_.name in ("euclidean", "wasserstein")
