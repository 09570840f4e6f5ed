"""Tests of the conformance kit itself: it passes good components, and it fails
components that break what they declare (the counter-examples are kept here)."""

import subprocess
import sys
import textwrap
from importlib import metadata

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from scipy import sparse

from sk_metameta import check_tasks
from sk_metameta.hookspecs import (
    MetricRecord,
    TaskFeatureRecord,
    TransferRuleRecord,
    hookimpl,
)
from sk_metameta.metrics import (
    METRIC,
    PSEUDOMETRIC,
    SEMIMETRIC,
    CallableMetric,
    EuclideanMetric,
    FeatureMetric,
    SampleMetric,
)
from sk_metameta.task_features import (
    BaseTaskFeatures,
    CallableTaskFeatures,
    MomentFeatures,
)
from sk_metameta.testing import (
    check_component,
    check_metric,
    check_plugin,
    check_task_features,
    check_transfer_rule,
    finite_floats,
    multitask_data,
    similarity_matrices,
    task_features_arrays,
    task_labels,
)
from sk_metameta.testing._common import hypothesis_settings
from sk_metameta.transfer import (
    BaseTransferRule,
    LinearTransferResult,
    NoTransfer,
    normalize_rows,
)

# Enough examples to find every counter-example below, whatever the profile; the
# counter-examples are not shrunk (shrinking is tested by the squared Euclidean
# case and the doctests), to keep these tests fast.
FIND = 100
NO_SHRINK = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])
FAST = {"max_examples": FIND, "settings": NO_SHRINK}


# -- strategies -------------------------------------------------------------------
@given(finite_floats())
def test_finite_floats_are_bounded_normal_numbers(x):
    assert np.isfinite(x) and -100.0 <= x <= 100.0
    assert x == 0.0 or abs(x) >= np.finfo(float).tiny


@given(task_features_arrays(n_tasks=(2, 3), n_features=4, bounds=(0.0, 1.0)))
def test_task_features_arrays_shape_and_bounds(F):
    assert F.dtype == np.float64 and F.shape[1] == 4 and 2 <= F.shape[0] <= 3
    assert ((F >= 0.0) & (F <= 1.0)).all()


@given(multitask_data(n_tasks=(1, 4), rows_per_task=(2, 3), n_features=2))
def test_multitask_data_is_valid_for_check_tasks(data):
    X, y, tasks = data
    assert y is None and X.shape[1] == 2 and np.isfinite(X).all()
    index = check_tasks(tasks, X.shape[0], min_rows=2)
    assert 1 <= index.n_tasks <= 4 and index.counts.max() <= 3
    assert tasks.dtype.kind in "iU"  # one kind of label: all int or all str


@given(multitask_data(n_tasks=3, with_y=True, y_elements=st.integers(0, 1)))
def test_multitask_data_with_binary_y(data):
    X, y, _ = data
    assert y.shape == (X.shape[0],) and set(np.unique(y)) <= {0, 1}


@given(st.integers(1, 6).flatmap(task_labels))
def test_task_labels_are_distinct_and_of_one_kind(labels):
    assert len(set(labels)) == len(labels)
    assert len({type(v) for v in labels}) == 1
    assert len(np.unique(np.asarray(labels))) == len(labels)


@given(similarity_matrices())
def test_similarity_matrices_non_negative(S):
    assert (S >= 0).all() and np.isfinite(S).all()


def test_strategies_refuse_bad_sizes():
    with pytest.raises(ValueError, match="n_tasks must be at least 1"):
        multitask_data(n_tasks=0)
    with pytest.raises(ValueError, match="rows_per_task"):
        multitask_data(rows_per_task=(3, 2))
    with pytest.raises(TypeError, match="n_features"):
        task_features_arrays(n_features="two")


def test_checks_use_the_active_profile():
    assert hypothesis_settings(None).max_examples == settings.default.max_examples
    assert hypothesis_settings(7).max_examples == 7
    assert hypothesis_settings(7).deadline is None
    with pytest.raises(ValueError, match="max_examples"):
        hypothesis_settings(0)


def test_check_runs_max_examples():
    calls = []

    class Counting(EuclideanMetric):
        def _pairwise(self, A, B):
            calls.append(A.shape)
            return super()._pairwise(A, B)

    check_metric(Counting(), max_examples=7)
    # 2 to 4 calls per example: pairwise(A), pairwise(A, A), rectangular ones
    assert 2 <= len(calls) <= 7 * 4


# -- metrics that conform ---------------------------------------------------------
class MeanDistance(SampleMetric):
    """Euclidean distance between the means of two tasks (a pseudometric)."""

    name = "mean_distance"
    summary = "Distance between task means."
    axioms = PSEUDOMETRIC

    def _pairwise(self, X, index, X_other, index_other, y, y_other):
        return np.linalg.norm(
            index.mean(X)[:, None, :] - index_other.mean(X_other)[None, :, :], axis=-1
        )


class MeanStdDistance(SampleMetric):
    """Distance between (mean, std) of tasks; needs 2 rows; uses y."""

    name = "mean_std_distance"
    summary = "Distance between task means and standard deviations of X and y."
    axioms = PSEUDOMETRIC
    min_rows = 2
    requires_y = True

    def _pairwise(self, X, index, X_other, index_other, y, y_other):
        def stats(Z, idx):
            if idx.counts.min() < 2:
                raise ValueError("needs two rows per task")
            return np.hstack([idx.mean(Z), np.sqrt(idx.var(Z, ddof=1))])

        A = stats(np.column_stack([X, y]), index)
        B = stats(np.column_stack([X_other, y_other]), index_other)
        return np.linalg.norm(A[:, None, :] - B[None, :, :], axis=-1)


def test_check_metric_passes_euclidean():
    check_metric(EuclideanMetric())
    check_metric("euclidean", max_examples=5)


def test_check_metric_passes_a_metric_without_axioms():
    check_metric(CallableMetric(lambda u, v: float(np.sum(u * v))))


def test_check_metric_passes_sample_metrics():
    check_metric(MeanDistance())
    check_metric(MeanStdDistance())


def test_check_metric_with_class_labels_as_y():
    class ClassFrequencies(SampleMetric):
        """Total variation between the class frequencies of two tasks."""

        name, summary, axioms = "class_frequencies", "Class frequencies.", PSEUDOMETRIC
        requires_y = True

        def _pairwise(self, X, index, X_other, index_other, y, y_other):
            if not np.array_equal(y, np.round(y)) or (np.asarray(y) < 0).any():
                raise ValueError("y must hold class labels 0, 1, 2")
            one_hot = np.eye(3)
            P = index.mean(one_hot[np.asarray(y, dtype=int)])
            Q = index_other.mean(one_hot[np.asarray(y_other, dtype=int)])
            return 0.5 * np.abs(P[:, None, :] - Q[None, :, :]).sum(axis=-1)

    check_metric(ClassFrequencies(), y_elements=st.integers(0, 2))
    with pytest.raises(AssertionError, match="raised ValueError on valid input"):
        check_metric(ClassFrequencies(), **FAST)


def test_check_metric_on_a_restricted_domain():
    class Hellinger(FeatureMetric):
        name, summary, axioms = "hellinger", "Hellinger-like distance.", METRIC

        def _pairwise(self, A, B):
            if (A < 0).any() or (B < 0).any():
                raise ValueError("needs non-negative vectors")
            diff = np.sqrt(A)[:, None, :] - np.sqrt(B)[None, :, :]
            return np.sqrt((diff**2).sum(axis=-1))

    check_metric(Hellinger(), bounds=(0.0, 50.0))
    with pytest.raises(AssertionError, match="raised ValueError on valid input"):
        check_metric(Hellinger(), **FAST)


class DeclaredHellinger(FeatureMetric):
    """Hellinger distance of non-negative vectors: Euclidean between square roots."""

    name, summary, axioms = "kit_hellinger", "Hellinger distance.", METRIC
    input_bounds = (0.0, None)

    def _pairwise(self, A, B):
        diff = np.sqrt(A)[:, None, :] - np.sqrt(B)[None, :, :]
        return np.sqrt(0.5 * (diff**2).sum(axis=-1))


class HellingerPlugin:
    @hookimpl
    def sk_metameta_register_metrics(self):
        return [MetricRecord("kit_hellinger", DeclaredHellinger)]


def test_a_declared_domain_is_used_by_check_metric_and_check_plugin():
    # a correct metric of non-negative vectors passes once it declares its domain
    check_metric(DeclaredHellinger(), **FAST)
    assert check_plugin(HellingerPlugin(), **FAST) == [("metric", "kit_hellinger")]
    # pairwise refuses values outside the domain, naming it
    with pytest.raises(ValueError, match=r"defined for values in \[0.0, inf\)"):
        DeclaredHellinger().pairwise([[1.0], [-0.5]])
    # drawing outside the domain is refused by pairwise: the kit reports it
    with pytest.raises(AssertionError, match="raised ValueError on valid input"):
        check_metric(DeclaredHellinger(), bounds=(-1.0, 1.0), **FAST)


def test_the_drawn_values_stay_inside_the_declared_domain():
    seen = []

    class Recorded(DeclaredHellinger):
        name = "kit_recorded"

        def _pairwise(self, A, B):
            seen.extend([A.min(), A.max(), B.min(), B.max()])
            return super()._pairwise(A, B)

    class FarAway(Recorded):
        input_bounds = (200.0, None)

    check_metric(Recorded(), max_examples=20)
    assert 0.0 <= min(seen) and max(seen) <= 100.0
    seen.clear()
    check_metric(FarAway(), max_examples=20, axioms=set())
    # a domain beside the default range: a range of the default width at its bound
    assert 200.0 <= min(seen) and max(seen) <= 400.0


@pytest.mark.parametrize(
    "bounds", [(1.0,), (0.0, "high"), (1.0, 0.0), (np.inf, None), [0.0, None]]
)
def test_malformed_input_bounds_fail_the_check(bounds):
    class Malformed(DeclaredHellinger):
        name = "kit_malformed"
        input_bounds = bounds

    with pytest.raises(AssertionError, match="input_bounds"):
        check_metric(Malformed(), max_examples=3)


# -- metrics that break what they declare -----------------------------------------
class SquaredEuclidean(FeatureMetric):
    name = "sqeuclidean"
    summary = "Squared Euclidean distance."
    axioms = METRIC  # wrong: the triangle inequality fails

    def _pairwise(self, A, B):
        return ((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=-1)


class CosineDistance(FeatureMetric):
    name = "cosine_as_metric"
    summary = "One minus the cosine similarity."
    axioms = METRIC  # wrong: parallel vectors are at 0, no triangle inequality

    def _pairwise(self, A, B):
        na = np.linalg.norm(A, axis=1)[:, None]
        nb = np.linalg.norm(B, axis=1)[None, :]
        cos = np.divide(
            A @ B.T, na * nb, out=np.ones((len(A), len(B))), where=(na * nb) > 0
        )
        return np.clip(1.0 - cos, 0.0, 2.0)


class PositivePart(FeatureMetric):
    """Sum of the positive parts of a - b: a quasi-pseudometric, not symmetric."""

    name = "positive_part"
    summary = "Sum of positive parts of the difference."
    axioms = PSEUDOMETRIC  # wrong: d(a, b) != d(b, a)

    def _pairwise(self, A, B):
        return np.maximum(A[:, None, :] - B[None, :, :], 0.0).sum(axis=-1)


def test_squared_euclidean_declared_metric_fails_triangle_inequality():
    with pytest.raises(AssertionError) as info:
        check_metric(SquaredEuclidean(), max_examples=FIND)
    message = str(info.value)
    assert "metric 'sqeuclidean'" in message
    assert "triangle_inequality" in message and "d(a, c)" in message


def test_squared_euclidean_as_semimetric_passes():
    check_metric(SquaredEuclidean(), axioms=SEMIMETRIC)


def test_cosine_declared_metric_fails():
    with pytest.raises(AssertionError, match="cosine_as_metric"):
        check_metric(CosineDistance(), **FAST)
    with pytest.raises(AssertionError, match="identity_of_indiscernibles"):
        check_metric(CosineDistance(), axioms={"identity_of_indiscernibles"}, **FAST)
    with pytest.raises(AssertionError, match="triangle_inequality"):
        check_metric(CosineDistance(), axioms={"triangle_inequality"}, **FAST)
    # what cosine distance really is
    check_metric(CosineDistance(), axioms=SEMIMETRIC - {"identity_of_indiscernibles"})


def test_false_symmetry_is_caught():
    with pytest.raises(AssertionError, match="declares symmetry") as info:
        check_metric(PositivePart(), **FAST)
    assert "d(b, a)" in str(info.value)
    check_metric(PositivePart(), axioms=PSEUDOMETRIC - {"symmetry"})


def test_false_non_negativity_and_zero_self_distance_are_caught():
    signed = CallableMetric(lambda u, v: float(np.sum(u - v)))
    with pytest.raises(AssertionError, match="non_negativity"):
        check_metric(signed, axioms={"non_negativity"}, **FAST)
    plus_one = CallableMetric(lambda u, v: float(np.linalg.norm(u - v)) + 1.0)
    with pytest.raises(AssertionError, match="zero_self_distance"):
        check_metric(plus_one, axioms=METRIC, **FAST)


def test_output_contract_of_metrics():
    class WrongShape(EuclideanMetric):
        name = "wrong_shape"

        def _pairwise(self, A, B):
            return super()._pairwise(A, B)[:, :1]

    class NotFinite(EuclideanMetric):
        name = "not_finite"

        def _pairwise(self, A, B):
            return super()._pairwise(A, B) / 0.0

    class DataDependent(EuclideanMetric):
        """Divides by the largest distance of each call: blocks disagree."""

        name = "data_dependent"

        def _pairwise(self, A, B):
            D = super()._pairwise(A, B)
            return D / max(D.max(), 1.0)

    with pytest.raises(AssertionError, match=r"returned shape \(\d+, 1\)"):
        check_metric(WrongShape(), **FAST)
    with pytest.raises(AssertionError, match="non-finite"):
        with np.errstate(divide="ignore", invalid="ignore"):
            check_metric(NotFinite(), **FAST)
    with pytest.raises(AssertionError, match="differs from the block"):
        check_metric(DataDependent(), **FAST)


def test_declarations_of_metrics_are_checked():
    class Misdeclared(EuclideanMetric):
        name = "misdeclared"
        axioms = frozenset({"symmetric"})

    class Unnamed(EuclideanMetric):
        name = ""

    class Unclonable(EuclideanMetric):
        name = "unclonable"

        def __init__(self, scale=1.0):
            self.scale = scale * 2

    with pytest.raises(AssertionError, match=r"unknown axioms \['symmetric'\]"):
        check_metric(Misdeclared())
    with pytest.raises(AssertionError, match="name: must be a non-empty"):
        check_metric(Unnamed())
    with pytest.raises(AssertionError, match="clone"):
        check_metric(Unclonable())
    with pytest.raises(ValueError, match="unknown axioms"):
        check_metric(EuclideanMetric(), axioms={"triangle"})


def test_sample_metric_counter_examples():
    with pytest.raises(AssertionError, match="identity_of_indiscernibles") as info:
        check_metric(MeanDistance(), axioms=METRIC, **FAST)
    assert "contracted" in str(info.value)

    class SquaredMeanDistance(MeanDistance):
        name = "squared_mean_distance"

        def _pairwise(self, *args):
            return super()._pairwise(*args) ** 2

    with pytest.raises(AssertionError, match="triangle_inequality"):
        check_metric(SquaredMeanDistance(), **FAST)

    class FirstRow(SampleMetric):
        """Compares the first row of each task: depends on the row order."""

        name, summary, axioms = "first_row", "First rows.", PSEUDOMETRIC

        def _pairwise(self, X, index, X_other, index_other, y, y_other):
            a = X[index.order[index.offsets[:-1]]]
            b = X_other[index_other.order[index_other.offsets[:-1]]]
            return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)

    with pytest.raises(AssertionError, match="zero_self_distance") as info:
        check_metric(FirstRow(), **FAST)
    assert "another order" in str(info.value)


def test_sample_metric_must_follow_the_sorted_task_order():
    class Reversed(MeanDistance):
        name = "reversed_order"

        def _pairwise(self, *args):
            return super()._pairwise(*args)[::-1]

    with pytest.raises(AssertionError, match="reversed_order"):
        check_metric(Reversed(), **FAST)


# -- task features ----------------------------------------------------------------
class YMean(BaseTaskFeatures):
    name, summary, requires_y = "y_mean", "Mean of y per task.", True

    def _transform(self, X, y, index):
        return index.mean(np.asarray(y, dtype=float))[:, None]

    def _feature_names(self, input_features):
        return ["mean_y"]


def test_check_task_features_passes():
    check_task_features(MomentFeatures())
    check_task_features("moments", max_examples=5)
    check_task_features(YMean())
    check_task_features(lambda X: np.sort(X, axis=0).sum(axis=0))


def test_task_features_counter_examples():
    class FirstRow(MomentFeatures):
        name = "first_row"

        def _transform(self, X, y, index):
            return X[index.order[index.offsets[:-1]]]

        def _feature_names(self, input_features):
            return list(input_features)

    class TaskNumber(MomentFeatures):
        name = "task_number"

        def _transform(self, X, y, index):
            return np.column_stack([index.mean(X), np.arange(index.n_tasks)])

        def _feature_names(self, input_features):
            return [*input_features, "number"]

    class Centred(MomentFeatures):
        """Means minus the mean over the tasks given to transform."""

        name = "centred"

        def _transform(self, X, y, index):
            M = index.mean(X)
            return M - M.mean(axis=0)

        def _feature_names(self, input_features):
            return list(input_features)

    class SampleStd(MomentFeatures):
        name = "sample_std"

        def _transform(self, X, y, index):
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.sqrt(
                    index.sum((X - index.mean(X)[index.codes]) ** 2)
                    / (index.counts[:, None] - 1)
                )

        def _feature_names(self, input_features):
            return list(input_features)

    class TooFewNames(MomentFeatures):
        name = "too_few_names"

        def _feature_names(self, input_features):
            return ["mean"]

    class PeeksAtY(MomentFeatures):
        name = "peeks_at_y"

        def _transform(self, X, y, index):
            F = super()._transform(X, y, index)
            return F if y is None else F + index.mean(np.asarray(y, float))[:, None]

    class Stateful(MomentFeatures):
        name = "stateful"

        def _transform(self, X, y, index):
            self.calls_ = getattr(self, "calls_", 0) + 1
            return super()._transform(X, y, index) + self.calls_

    class FitTransformDiffers(MomentFeatures):
        name = "fit_transform_differs"

        def fit_transform(self, X, y=None, *, tasks):
            return super().fit_transform(X, y, tasks=tasks) + 1.0

    class OneRow(MomentFeatures):
        name = "one_row"

        def _transform(self, X, y, index):
            return super()._transform(X, y, index).mean(axis=0, keepdims=True)

    cases = {
        FirstRow: "order of the rows",
        TaskNumber: "order of the tasks",
        Centred: "depend on the other tasks",
        SampleStd: "non-finite",
        TooFewNames: "get_feature_names_out",
        PeeksAtY: "must not use y",
        Stateful: "depend on the other tasks passed to transform",
        FitTransformDiffers: r"fit\(\.\.\.\)\.transform\(\.\.\.\) differs",
        OneRow: "one row per task",
    }
    for extractor, message in cases.items():
        with pytest.raises(AssertionError, match=message) as info:
            check_task_features(extractor(), **FAST)
        assert f"task features {extractor.name!r}" in str(info.value)


def test_requires_y_must_refuse_a_missing_y():
    class IgnoresMissingY(YMean):
        name = "ignores_missing_y"

        def _check_input(self, X, y, tasks):
            return X, y, check_tasks(tasks, len(X))

        def _transform(self, X, y, index):
            return index.mean(X)[:, :1]

    with pytest.raises(AssertionError, match="accepted y=None"):
        check_task_features(IgnoresMissingY(), **FAST)

    class VagueError(YMean):
        name = "vague_error"

        def _check_input(self, X, y, tasks):
            if y is None:
                raise ValueError("bad input")
            return super()._check_input(X, y, tasks)

    with pytest.raises(AssertionError, match="does not name y"):
        check_task_features(VagueError(), **FAST)


def test_callable_task_features_that_break():
    with pytest.raises(AssertionError, match="order of the rows"):
        check_task_features(CallableTaskFeatures(lambda X: X[0]), **FAST)


# -- transfer rules ---------------------------------------------------------------
class Normalised(BaseTransferRule):
    name, summary, transfers = "normalised", "Similarities summing to one.", "instances"


def test_check_transfer_rule_passes():
    check_transfer_rule(NoTransfer())
    check_transfer_rule(Normalised())
    check_transfer_rule("none", max_examples=5)


class DenseWeights(Normalised):
    """Computes weights on dense arrays, returned sparse for sparse input."""

    def source_weights(self, similarity, transferability=None):
        was_sparse = sparse.issparse(similarity)
        if was_sparse:
            similarity = similarity.toarray()
            if transferability is not None:
                transferability = transferability.toarray()
        W = self.dense_weights(similarity, transferability)
        return sparse.csr_array(W) if was_sparse else W

    def dense_weights(self, similarity, transferability):
        return normalize_rows(similarity)


def test_transfer_rule_counter_examples():
    class Negative(DenseWeights):
        name = "negative"

        def dense_weights(self, similarity, transferability=None):
            return -np.asarray(similarity, dtype=float)

    class AllSources(DenseWeights):
        name = "all_sources"

        def dense_weights(self, similarity, transferability=None):
            S = np.asarray(similarity, dtype=float)
            return np.full_like(S, 1.0 / S.shape[1])

    class Transposed(DenseWeights):
        name = "transposed"

        def dense_weights(self, similarity, transferability=None):
            return normalize_rows(similarity).T

    class DividesByZero(DenseWeights):
        name = "divides_by_zero"

        def dense_weights(self, similarity, transferability=None):
            S = np.asarray(similarity, dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                return S / S.sum(axis=1, keepdims=True)

    class InPlace(DenseWeights):
        name = "in_place"

        def dense_weights(self, similarity, transferability=None):
            similarity *= 0.5
            return similarity

    class Random(DenseWeights):
        name = "random"

        def dense_weights(self, similarity, transferability=None):
            S = np.asarray(similarity, dtype=float)
            return S * np.random.default_rng().random(S.shape)

    class TransfersNothing(Normalised):
        name, transfers = "transfers_nothing", "nothing"

    class BadKind(Normalised):
        name, transfers = "bad_kind", "everything"

    cases = {
        Negative: "< 0",
        AllSources: "not a neighbour",
        Transposed: "shape",
        DividesByZero: "finite",
        InPlace: "modified its input",
        Random: "called again",
        TransfersNothing: "transfers nothing",
        BadKind: "'everything' is not one of",
    }
    for rule, message in cases.items():
        with pytest.raises(AssertionError, match=message) as info:
            check_transfer_rule(rule(), **FAST)
        assert f"transfer rule {rule.name!r}" in str(info.value)


def test_transfer_rule_sparse_counter_examples():
    class DenseOnly(Normalised):
        name = "dense_only"

        def source_weights(self, similarity, transferability=None):
            if sparse.issparse(similarity):
                similarity = similarity.toarray()
            return normalize_rows(similarity)

    class ReadsScoresOfNonNeighbours(Normalised):
        """Scales by the largest score over all sources, neighbours or not."""

        name = "reads_non_neighbours"

        def source_weights(self, similarity, transferability=None):
            W = normalize_rows(similarity)
            if transferability is None:
                return W
            T = transferability
            T = T.toarray() if sparse.issparse(T) else np.asarray(T, dtype=float)
            scale = 1.0 + np.abs(T).max(axis=1, keepdims=True)
            if sparse.issparse(W):
                return sparse.csr_array(W.multiply(scale))
            return W * scale

    with pytest.raises(AssertionError, match="needs sparse weights"):
        check_transfer_rule(DenseOnly(), **FAST)
    with pytest.raises(AssertionError, match="sparse and dense similarities give"):
        check_transfer_rule(ReadsScoresOfNonNeighbours(), **FAST)


def test_transfer_rule_linear_models_counter_examples():
    class ParametersWithoutFit(Normalised):
        name, transfers = "parameters_without_fit", "parameters"

    class NanModels(Normalised):
        name, transfers = "nan_models", "parameters"

        def fit_linear(self, problem):
            nan = np.full_like(problem.own_coef(), np.nan)
            return LinearTransferResult(nan, sparse.csr_array(problem.similarity))

    class EveryoneContributes(Normalised):
        name, transfers = "everyone_contributes", "parameters"

        def fit_linear(self, problem):
            everyone = sparse.csr_array(np.ones(problem.similarity.shape))
            return LinearTransferResult(problem.own_coef(), everyone)

    class NoZeroShot(Normalised):
        name = "no_zero_shot"

        def zero_shot_linear(self, problem):
            raise RuntimeError("no model for a new task")

    cases = {
        ParametersWithoutFit: "raised NotImplementedError",
        NanModels: "not all finite",
        EveryoneContributes: "the source weights: weight .*not a neighbour",
        NoZeroShot: r"unseen task \(zero_shot_linear\) raised RuntimeError",
    }
    for rule, message in cases.items():
        with pytest.raises(AssertionError, match=message):
            check_transfer_rule(rule(), **FAST)
        check_transfer_rule(rule(), linear=False, max_examples=5)


# -- components and plugins -------------------------------------------------------
def test_check_component_dispatches():
    check_component(EuclideanMetric(), max_examples=3)
    check_component(MomentFeatures(), max_examples=3)
    check_component(NoTransfer(), max_examples=3)
    with pytest.raises(AssertionError, match="sqeuclidean"):
        check_component(SquaredEuclidean(), **FAST)
    with pytest.raises(TypeError, match="is not a task metric"):
        check_component(object())


class GoodPlugin:
    @hookimpl
    def sk_metameta_register_metrics(self):
        return [MetricRecord("kit_mean_distance", MeanDistance)]

    @hookimpl
    def sk_metameta_register_task_features(self):
        return [TaskFeatureRecord("kit_y_mean", YMean)]

    @hookimpl
    def sk_metameta_register_transfer_rules(self):
        return (TransferRuleRecord("kit_normalised", Normalised),)


def test_check_plugin_passes_a_good_plugin():
    checked = check_plugin(GoodPlugin(), max_examples=5)
    assert checked == [
        ("metric", "kit_mean_distance"),
        ("task_features", "kit_y_mean"),
        ("transfer_rule", "kit_normalised"),
    ]


def test_check_plugin_by_module_name(tmp_path, monkeypatch):
    (tmp_path / "kit_plugin_module.py").write_text(
        textwrap.dedent(
            """
            from sk_metameta.hookspecs import MetricRecord, hookimpl
            from sk_metameta.metrics import EuclideanMetric

            @hookimpl
            def sk_metameta_register_metrics():
                return [MetricRecord("kit_module_euclidean", EuclideanMetric)]
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert check_plugin("kit_plugin_module", max_examples=3) == [
            ("metric", "kit_module_euclidean")
        ]
    finally:
        sys.modules.pop("kit_plugin_module", None)


def _plugin(**hooks):
    return type("BadPlugin", (), hooks)()


def test_check_plugin_counter_examples():
    good = [MetricRecord("kit_euclidean", EuclideanMetric)]
    cases = [
        (
            {"sk_metameta_register_metric": hookimpl(lambda self: good)},
            "unknown hook 'sk_metameta_register_metric'",
        ),
        (
            {"register_metrics": hookimpl(lambda self: good)},
            "unknown hook",
        ),
        (
            {"sk_metameta_register_metrics": lambda self: good},
            "is not marked",
        ),
        (
            {"sk_metameta_register_metrics": hookimpl(lambda self, x: good)},
            "do not fit the hook specifications",
        ),
        (
            {
                "sk_metameta_register_metrics": hookimpl(
                    lambda self: [TaskFeatureRecord("kit_moments", MomentFeatures)]
                )
            },
            "expected MetricRecord records",
        ),
        (
            {"sk_metameta_register_metrics": hookimpl(lambda self: good + good)},
            "registers the name 'kit_euclidean' twice",
        ),
        (
            {
                "sk_metameta_register_metrics": hookimpl(
                    lambda self: [MetricRecord("euclidean", EuclideanMetric)]
                )
            },
            "two plugins register the metric 'euclidean'",
        ),
        (
            {
                "sk_metameta_register_metrics": hookimpl(
                    lambda self: [MetricRecord("kit_wrong", MomentFeatures)]
                )
            },
            "not a BaseTaskMetric",
        ),
        (
            {
                "sk_metameta_register_metrics": hookimpl(
                    lambda self: [MetricRecord("kit_sq", SquaredEuclidean)]
                )
            },
            "plugin 'BadPlugin', metric 'kit_sq': metric 'sqeuclidean'",
        ),
        (
            {"sk_metameta_register_metrics": hookimpl(lambda self: 1 / 0)},
            "raised ZeroDivisionError",
        ),
        (
            {"sk_metameta_register_metrics": hookimpl(lambda self: [])},
            "registers nothing",
        ),
    ]
    for hooks, message in cases:
        with pytest.raises(AssertionError, match=message):
            check_plugin(_plugin(**hooks), **FAST)


# -- the kit is optional: Hypothesis is an extra -----------------------------------
WITHOUT_HYPOTHESIS = """
import sys
sys.modules["hypothesis"] = None  # as if it were not installed: import fails
import numpy as np
from sklearn.linear_model import Ridge

import sk_metameta
from sk_metameta import MetricMetaEstimator, TransferRegressor, task_distances
from sk_metameta.plugins import get_registry

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 2))
tasks = np.repeat([0, 1, 2, 3], 10)
y = X @ [1.0, -1.0] + tasks + rng.normal(size=40)
for model in (TransferRegressor(), MetricMetaEstimator(Ridge())):
    assert np.isfinite(model.fit(X, y, tasks=tasks).predict(X, tasks=tasks)).all()
assert task_distances(X, tasks=tasks).distances.shape == (4, 4)
assert "euclidean" in get_registry().names("metric")
try:
    import sk_metameta.testing
except ImportError as exc:
    print("ImportError:", exc)
print(sorted(m for m, v in sys.modules.items() if "hypothesis" in m and v))
"""


def test_sk_metameta_works_without_hypothesis_and_the_kit_names_the_extra():
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_HYPOTHESIS],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ImportError: sk_metameta.testing")
    assert 'pip install "sk-metameta[testing]"' in lines[0]
    assert lines[1] == "[]"  # nothing of Hypothesis was imported
    assert "Warning" not in result.stderr, result.stderr


def test_hypothesis_is_an_extra_not_a_dependency():
    # the installed metadata, as pip reads it
    requires = metadata.requires("sk-metameta")
    hypothesis = [r for r in requires if r.startswith("hypothesis")]
    assert hypothesis and all("extra ==" in r for r in hypothesis), hypothesis
    for extra in ("testing", "test"):
        assert any(f"extra == '{extra}'" in r.replace('"', "'") for r in hypothesis)
