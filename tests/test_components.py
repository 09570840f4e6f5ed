import numpy as np
import pytest

from sk_metameta import task_distances
from sk_metameta._components import (
    resolve_metric,
    resolve_task_features,
    resolve_transfer_rule,
)
from sk_metameta.metrics import CallableMetric, EuclideanMetric
from sk_metameta.task_features import CallableTaskFeatures, MomentFeatures
from sk_metameta.transfer import NoTransfer


def test_names_instances_classes_and_callables_resolve():
    assert isinstance(resolve_metric("euclidean"), EuclideanMetric)
    assert isinstance(resolve_metric("Euclidean"), EuclideanMetric)
    assert isinstance(resolve_metric(EuclideanMetric), EuclideanMetric)
    assert isinstance(resolve_metric(np.dot), CallableMetric)
    assert isinstance(resolve_task_features(np.mean), CallableTaskFeatures)
    assert isinstance(resolve_task_features("moments"), MomentFeatures)
    assert isinstance(resolve_transfer_rule("none"), NoTransfer)


def test_instances_are_cloned_not_shared():
    features = MomentFeatures()
    resolved = resolve_task_features(features)
    assert resolved is not features
    assert resolved.get_params() == features.get_params()


def test_unknown_name_lists_available_names():
    with pytest.raises(
        ValueError, match=r"metric='nope': unknown metric 'nope'.*euclidean"
    ):
        resolve_metric("nope")
    with pytest.raises(
        ValueError, match=r"unknown transfer rule 'nope'; available: .*none"
    ):
        resolve_transfer_rule("nope")


def test_wrong_type_names_the_parameter():
    with pytest.raises(TypeError, match="task_features must be"):
        resolve_task_features(3)
    with pytest.raises(TypeError, match="transfer must be"):
        resolve_transfer_rule(lambda w: w)


def test_task_distances_with_callable_metric_and_features():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    tasks = np.repeat(["a", "b", "c"], 10)
    D, labels, F = task_distances(
        X,
        tasks=tasks,
        task_features=lambda Xt: Xt.mean(axis=0),
        metric=lambda u, v: float(np.abs(u - v).sum()),
    )
    means = np.array([X[tasks == t].mean(0) for t in "abc"])
    expected = np.abs(means[:, None] - means[None]).sum(-1)
    np.testing.assert_allclose(D, expected)
    np.testing.assert_allclose(F, means)
    assert labels.tolist() == ["a", "b", "c"]


def test_task_distances_refuses_features_with_a_sample_metric():
    from sk_metameta.metrics import SampleMetric

    class MeanGap(SampleMetric):
        name = "mean_gap"

        def _pairwise(self, X, index, X_other, index_other, y, y_other):
            a, b = index.mean(X), index_other.mean(X_other)
            return np.abs(a[:, None, 0] - b[None, :, 0])

    X = np.array([[0.0], [1.0], [5.0]])
    D, _, F = task_distances(X, tasks=[0, 0, 1], metric=MeanGap())
    assert F is None
    np.testing.assert_allclose(D, [[0.0, 4.5], [4.5, 0.0]])
    with pytest.raises(ValueError, match="task_features must be None"):
        task_distances(X, tasks=[0, 0, 1], metric=MeanGap(), task_features="moments")
