"""Tests of the template plugin: the conformance kit first, then what the kit cannot
know (the values each component should compute), then use by name once installed."""

from importlib import metadata

import numpy as np
import pytest
from hypothesis import given
from scipy import sparse
from sk_metameta_template import CanberraMetric, QuantileFeatures, UniformNeighbors
from sklearn.linear_model import Ridge

from sk_metameta import MetricMetaEstimator, task_distances
from sk_metameta.hookspecs import MetricRecord, hookimpl
from sk_metameta.metrics import METRIC, FeatureMetric
from sk_metameta.plugins import get_registry
from sk_metameta.testing import (
    check_metric,
    check_plugin,
    check_task_features,
    check_transfer_rule,
    multitask_data,
    similarity_matrices,
    task_features_arrays,
)


# -- the conformance kit ----------------------------------------------------------
def test_plugin_conforms():
    # hooks, records, and every component's check, in one call
    assert check_plugin("sk_metameta_template.plugin") == [
        ("metric", "canberra"),
        ("task_features", "quantiles"),
        ("transfer_rule", "uniform"),
    ]


def test_components_conform_with_other_parameters():
    check_task_features(QuantileFeatures(quantiles=[0.0, 0.1, 1.0]))
    check_metric(CanberraMetric(), bounds=(0.0, 1e6))
    check_transfer_rule(UniformNeighbors())


class HellingerMetric(FeatureMetric):
    """Hellinger distance between non-negative task-feature vectors.

    ``d(a, b) = sqrt(sum_i (sqrt(a_i) - sqrt(b_i)) ** 2 / 2)``: the Euclidean
    distance between the square roots, a metric on non-negative vectors only,
    which it declares in ``input_bounds``.
    """

    name = "hellinger"
    summary = "Hellinger distance between non-negative task-feature vectors."
    axioms = METRIC
    input_bounds = (0.0, None)

    def _pairwise(self, A, B):
        diff = np.sqrt(A)[:, None, :] - np.sqrt(B)[None, :, :]
        return np.sqrt(0.5 * (diff**2).sum(axis=-1))


class HellingerPlugin:
    @hookimpl
    def sk_metameta_register_metrics(self):
        return [MetricRecord(HellingerMetric.name, HellingerMetric)]


def test_a_metric_of_a_part_of_the_space_declares_its_domain():
    # the kit draws inside the declared input_bounds, in check_plugin too
    assert check_plugin(HellingerPlugin()) == [("metric", "hellinger")]
    F = np.array([[0.0, 1.0], [1.0, 0.0], [0.25, 0.25]])
    D = HellingerMetric().pairwise(F)
    np.testing.assert_allclose(D[0, 1], 1.0)
    np.testing.assert_allclose(D, D.T)
    # and its pairwise refuses what is outside
    with pytest.raises(ValueError, match="'hellinger' is defined for values in"):
        HellingerMetric().pairwise(-F)


# -- the values -------------------------------------------------------------------
@given(task_features_arrays(n_tasks=(1, 5), n_features=(1, 3)))
def test_canberra_is_the_sum_of_relative_differences(F):
    expected = np.zeros((len(F), len(F)))
    for i, a in enumerate(F):
        for j, b in enumerate(F):
            both = np.abs(a) + np.abs(b)
            terms = np.abs(a - b) / np.where(both > 0, both, 1.0)
            expected[i, j] = terms.sum()
    np.testing.assert_allclose(CanberraMetric().pairwise(F), expected, atol=1e-12)


@given(multitask_data(n_tasks=(1, 4), rows_per_task=(1, 7), n_features=(1, 3)))
def test_quantiles_match_numpy_quantile_per_task(data):
    X, _, tasks = data
    q = [0.0, 0.25, 0.5, 0.9, 1.0]
    F = QuantileFeatures(quantiles=q).fit_transform(X, tasks=tasks)
    expected = np.vstack(
        [np.quantile(X[tasks == t], q, axis=0).T.ravel() for t in np.unique(tasks)]
    )
    np.testing.assert_allclose(F, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("quantiles", [[], [0.5, 0.5], [-0.1], [1.5], [np.nan]])
def test_quantiles_refuse_bad_probabilities(quantiles):
    with pytest.raises(ValueError, match="quantiles="):
        QuantileFeatures(quantiles=quantiles).fit(np.ones((3, 1)), tasks=[0, 0, 1])


@given(similarity_matrices())
def test_uniform_gives_each_neighbour_the_same_weight(S):
    W = UniformNeighbors().source_weights(S)
    for w, s in zip(W, S, strict=True):
        k = np.count_nonzero(s)
        np.testing.assert_array_equal(w, np.where(s > 0, 1.0 / max(k, 1), 0.0))
    # sparse in, sparse out (the estimators pass CSR similarities for many tasks)
    W_sparse = UniformNeighbors().source_weights(sparse.csr_array(S))
    assert sparse.issparse(W_sparse)
    np.testing.assert_array_equal(W_sparse.toarray(), W)


# -- installed: usable by name ----------------------------------------------------
def test_registered_with_provider_and_version():
    registry = get_registry()
    version = metadata.version("sk-metameta-template")
    for kind, name in [
        ("metric", "canberra"),
        ("task_features", "quantiles"),
        ("transfer_rule", "uniform"),
    ]:
        component = registry.get(kind, name)
        assert component.provider == "sk-metameta-template"
        assert component.version == version


def test_usable_by_name_in_sk_metameta():
    rng = np.random.default_rng(0)
    tasks = np.repeat(np.arange(6), 12)
    X = rng.normal(size=(72, 2)) + tasks[:, None] % 3
    y = X @ np.array([1.0, -2.0]) + tasks % 3 + rng.normal(0.0, 0.1, size=72)

    D, _, F = task_distances(
        X, tasks=tasks, task_features="quantiles", metric="canberra"
    )
    assert D.shape == (6, 6) and F.shape == (6, 6)
    np.testing.assert_allclose(D, CanberraMetric().pairwise(F))

    model = MetricMetaEstimator(
        Ridge(),
        transfer="uniform",
        task_features="quantiles",
        metric="canberra",
        n_neighbors=2,
    ).fit(X, y, tasks=tasks)
    assert isinstance(model.transfer_rule_, UniformNeighbors)
    weights = model.source_weights_.toarray()
    assert ((weights == 0) | np.isclose(weights, 0.5)).all()
    assert model.score(X, y, tasks=tasks) > 0.9
