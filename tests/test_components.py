"""Components in use: a parameter resolved to a component, and every component's
output and errors checked in one place, naming the component and its plugin."""

import re

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import Ridge

from sk_metameta import MetricMetaEstimator, TransferRegressor, task_distances
from sk_metameta._components import (
    resolve_metric,
    resolve_task_features,
    resolve_transfer_rule,
)
from sk_metameta.exceptions import PluginError
from sk_metameta.hookspecs import (
    MetricRecord,
    TaskFeatureRecord,
    TransferRuleRecord,
    hookimpl,
)
from sk_metameta.metrics import METRIC, CallableMetric, EuclideanMetric, SampleMetric
from sk_metameta.plugins import Registry, use_registry
from sk_metameta.task_features import CallableTaskFeatures, MomentFeatures
from sk_metameta.transfer import (
    BaseTransferRule,
    LinearTransferResult,
    NoTransfer,
    check_linear_result,
    check_source_weights,
)


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


# -- every component's output, checked in one place, naming component and plugin --
class ShapeMetric(EuclideanMetric):
    """Drops the last column: a wrong shape."""

    name = "bad_shape"

    def _pairwise(self, A, B):
        return super()._pairwise(A, B)[:, :-1]


class NegativeMetric(EuclideanMetric):
    """Euclidean minus a constant: negative distances although declared a metric."""

    name = "negative"

    def _pairwise(self, A, B):
        return super()._pairwise(A, B) - self.offset

    def __init__(self, offset=0.5):
        self.offset = offset


class NanSampleMetric(SampleMetric):
    """NaN between every pair of different tasks."""

    name, summary, axioms = "nan_samples", "NaN distances.", METRIC

    def _pairwise(self, X, index, X_other, index_other, y, y_other):
        D = np.full((index.n_tasks, index_other.n_tasks), np.nan)
        np.fill_diagonal(D, 0.0)
        return D


class FailingMetric(EuclideanMetric):
    """Raises whatever exception it is given."""

    name = "failing"

    def __init__(self, error=None):
        self.error = error

    def _pairwise(self, A, B):
        raise self.error


class RowsMissing(MomentFeatures):
    name = "rows_missing"

    def _transform(self, X, y, index):
        return super()._transform(X, y, index)[1:]


class InfiniteFeatures(MomentFeatures):
    name = "infinite_features"

    def _transform(self, X, y, index):
        F = super()._transform(X, y, index)
        F[index.labels == "b"] = np.inf
        return F


class NegativeWeights(BaseTransferRule):
    name, summary, transfers = "negative_weights", "Minus the similarity.", "instances"

    def source_weights(self, similarity, transferability=None):
        return -similarity


class KeyErrorRule(BaseTransferRule):
    name, summary, transfers = "key_error", "Raises KeyError.", "instances"

    def source_weights(self, similarity, transferability=None):
        return {}["missing"]


class Provider:
    """A plugin registering every faulty component above."""

    @hookimpl
    def sk_metameta_register_metrics(self):
        return [
            MetricRecord(cls.name, cls)
            for cls in (ShapeMetric, NegativeMetric, NanSampleMetric, FailingMetric)
        ]

    @hookimpl
    def sk_metameta_register_task_features(self):
        return [TaskFeatureRecord(c.name, c) for c in (RowsMissing, InfiniteFeatures)]

    @hookimpl
    def sk_metameta_register_transfer_rules(self):
        return [TransferRuleRecord(c.name, c) for c in (NegativeWeights, KeyErrorRule)]


@pytest.fixture
def provided():
    with use_registry(Registry.from_plugins(Provider())) as registry:
        yield registry


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    tasks = np.repeat(np.array(["a", "b", "c"]), 10)
    y = X @ [1.0, -1.0] + rng.normal(size=30)
    return X, y, tasks


PROVIDER = "(plugin 'Provider', provider Provider)"


@pytest.mark.parametrize("estimator", ["transfer_regressor", "meta_estimator"])
@pytest.mark.parametrize(
    "params, message",
    [
        ({"metric": "bad_shape"}, r"metric 'bad_shape' {} returned shape \(3, 2\)"),
        ({"metric": "negative"}, r"metric 'negative' {} returned a negative distance"),
        (
            {"metric": "nan_samples"},
            r"metric 'nan_samples' {} returned non-finite distances \(nan between "
            r"task 'a' and task 'b'\)",
        ),
        (
            {"task_features": "rows_missing"},
            r"task features 'rows_missing' {} returned shape \(2, 4\); expected one "
            r"row per task",
        ),
        (
            {"task_features": "infinite_features"},
            r"task features 'infinite_features' {} returned non-finite task features "
            r"for the tasks 'b'",
        ),
    ],
)
def test_faulty_output_is_refused_naming_component_and_plugin(
    provided, estimator, params, message
):
    X, y, tasks = _data()
    model = (
        TransferRegressor(**params)
        if estimator == "transfer_regressor"
        else MetricMetaEstimator(Ridge(), **params)
    )
    with pytest.raises(ValueError, match=message.format(re.escape(PROVIDER))):
        model.fit(X, y, tasks=tasks)


def test_negative_rule_weights_are_refused_by_transfer_regressor(provided):
    X, y, tasks = _data()
    with pytest.raises(
        ValueError,
        match=r"transfer rule 'negative_weights' \(plugin 'Provider', provider "
        r"Provider\) returned a negative source weight",
    ):
        TransferRegressor(transfer="negative_weights").fit(X, y, tasks=tasks)


@pytest.mark.parametrize(
    "error, raised",
    [
        (RuntimeError("boom"), RuntimeError),
        (KeyError("column"), KeyError),
        (np.linalg.LinAlgError("singular"), np.linalg.LinAlgError),
        # no one-message constructor: a PluginError, still chained
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid"), PluginError),
    ],
)
def test_an_exception_inside_a_plugin_component_names_it(provided, error, raised):
    X, y, tasks = _data()
    metric = resolve_metric("failing")
    metric.set_params(error=error)
    with pytest.raises(raised) as info:
        TransferRegressor(metric=metric).fit(X, y, tasks=tasks)
    assert f"metric 'failing' {PROVIDER}: {type(error).__name__}" in str(info.value)
    # chained to the original (a clone of it: the estimator clones the metric)
    cause = info.value.__cause__
    assert type(cause) is type(error) and str(cause) == str(error)


def test_an_exception_inside_a_rule_names_it(provided):
    X, y, tasks = _data()
    with pytest.raises(KeyError, match="transfer rule 'key_error'") as info:
        TransferRegressor(transfer="key_error").fit(X, y, tasks=tasks)
    assert PROVIDER in str(info.value)
    assert isinstance(info.value.__cause__, KeyError)


def test_builtin_errors_are_left_as_they_are():
    X, _, tasks = _data()
    with pytest.raises(ValueError) as info:
        resolve_metric("mmd").set_params(gamma=-1.0).pairwise(X, tasks)
    assert str(info.value).startswith("metric 'mmd'")
    assert info.value.__cause__ is None


def test_tiny_negative_distances_are_rounding_and_set_to_zero():
    A = np.array([[0.0], [1.0], [3.0]])
    D = NegativeMetric(offset=1e-12).pairwise(A)
    assert (D >= 0.0).all() and D[0, 0] == 0.0
    np.testing.assert_allclose(D, np.abs(A - A.T), atol=1e-11)
    with pytest.raises(ValueError, match=r"negative distance, -0\.001 between row 0"):
        NegativeMetric(offset=1e-3).pairwise(A)


def test_a_metric_without_non_negativity_may_return_negative_values():
    signed = CallableMetric(lambda u, v: float(np.sum(u - v)))
    assert signed.pairwise([[0.0]], [[1.0], [-2.0]]).tolist() == [[-1.0, 2.0]]


@pytest.mark.parametrize(
    "W, message",
    [
        (np.ones((2, 2)), r"shape \(2, 2\); expected \(2, 3\)"),
        ([[0.0, np.nan, 0.0], [1.0, 0.0, 0.0]], r"not all finite \(targets at .*\[0\]"),
        ([[0.0, 0.0, 0.0], [0.0, 0.0, -0.5]], "-0.5 for target 1, source 2"),
        ("weights", "returned str 'weights', not an array"),
    ],
)
def test_check_source_weights_refuses_malformed_weights(W, message):
    with pytest.raises(
        ValueError, match=f"transfer rule 'none' \\(built-in\\) .*{message}"
    ):
        check_source_weights(NoTransfer(), W, (2, 3))
    if not isinstance(W, str):
        with pytest.raises(ValueError, match=message):
            check_source_weights(NoTransfer(), sparse.csr_array(np.asarray(W)), (2, 3))


def test_check_source_weights_keeps_the_format_and_clears_rounding():
    W = np.array([[0.5, -1e-17, 0.5]])
    checked = check_source_weights(NoTransfer(), W, (1, 3))
    assert checked.tolist() == [[0.5, 0.0, 0.5]] and W[0, 1] < 0  # input untouched
    S = sparse.csr_array(W)
    checked = check_source_weights(NoTransfer(), S, (1, None))
    assert sparse.issparse(checked) and checked.toarray().tolist() == [[0.5, 0, 0.5]]
    assert S.data.min() < 0


def test_check_linear_result():
    good = LinearTransferResult(np.zeros((2, 3)), sparse.csr_array((2, 4)))
    assert check_linear_result(NoTransfer(), good, 2, 3, 4).coef.shape == (2, 3)
    for result, message in [
        ("models", "returned str 'models', not a LinearTransferResult"),
        (
            LinearTransferResult(np.zeros((3, 3)), np.zeros((2, 4))),
            r"models of shape \(3, 3\); expected \(2, 3\)",
        ),
        (
            LinearTransferResult(
                np.array([[0, 0, 0], [np.inf, 0, 0]]), np.zeros((2, 4))
            ),
            r"not all finite \(targets at positions \[1\]\).*scale them",
        ),
        (
            LinearTransferResult(np.zeros((2, 3)), np.zeros((2, 5))),
            r"source weights of shape \(2, 5\); expected \(2, 4\)",
        ),
    ]:
        with pytest.raises(ValueError, match=message):
            check_linear_result(NoTransfer(), result, 2, 3, 4)
