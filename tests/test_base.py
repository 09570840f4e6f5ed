"""What every task estimator shares: attribute types, all-or-nothing fit, explain."""

import pickle

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.linear_model import LogisticRegression, Ridge

from sk_metameta import MetricMetaEstimator, TransferRegressor
from sk_metameta._explain import SourceContribution, TaskExplanation
from sk_metameta.datasets import make_related_tasks

GRAPH_ATTRIBUTES = ["similarity_", "source_weights_", "task_distances_"]


def estimators():
    return [
        TransferRegressor(n_neighbors=3),
        TransferRegressor(transfer="ensemble", n_neighbors=3),
        MetricMetaEstimator(Ridge(), n_neighbors=3),
        MetricMetaEstimator(Ridge(), transfer="instance", n_neighbors=3),
    ]


@pytest.fixture
def data():
    return make_related_tasks(8, 12, n_features=3, random_state=0)


@pytest.mark.parametrize("model", estimators(), ids=repr)
def test_fitted_attributes_have_one_type_in_every_estimator(model, data):
    X, y, tasks = data
    model.fit(X, y, tasks=tasks)
    T = 8
    for name in GRAPH_ATTRIBUTES:
        value = getattr(model, name)
        assert isinstance(value, sparse.csr_array), name
        assert value.shape == (T, T), name
    # entries on the neighbour graph: three sources per task, never itself
    assert_array_equal(np.diff(model.task_distances_.indptr), 3)
    assert not model.task_distances_.diagonal().any()
    assert model.neighbors_.shape == model.neighbor_distances_.shape == (T, 3)
    rows = np.repeat(np.arange(T), 3)
    assert_allclose(
        model.task_distances_[rows, model.neighbors_.ravel()],
        model.neighbor_distances_.ravel(),
    )
    if model.transferability_ is not None:
        assert isinstance(model.transferability_, sparse.csr_array)
    for name in ("strength_", "own_weights_"):
        value = getattr(model, name)
        assert value is None or (isinstance(value, np.ndarray) and value.shape == (T,))
    assert model.tasks_.shape == (T,)
    assert isinstance(model.bandwidth_, float)


def _mmd_refit_with_a_one_row_task(model, data):
    X, y, tasks = data
    model.fit(X, y, tasks=tasks)
    before = pickle.dumps(model)
    expected = model.predict(X, tasks=tasks)
    new_tasks = np.where(tasks == 0, 100, tasks)
    new_tasks[0] = 101  # a task of one row: refused by the sample metric
    with pytest.raises(ValueError, match="101"):
        model.fit(X, y, tasks=new_tasks)
    return before, expected


@pytest.mark.parametrize(
    "model",
    [
        TransferRegressor(metric="mmd"),
        MetricMetaEstimator(Ridge(), metric="mmd"),
    ],
    ids=repr,
)
def test_a_failed_fit_leaves_the_fitted_estimator_as_it_was(model, data):
    X, _, tasks = data
    before, expected = _mmd_refit_with_a_one_row_task(model, data)
    assert pickle.dumps(model) == before
    assert model.tasks_.tolist() == list(range(8))
    assert_allclose(model.predict(X, tasks=tasks), expected)
    with pytest.raises(ValueError, match="task 100 was not seen in fit"):
        model.explain(100)
    # a new task still goes zero-shot on the fitted tasks
    assert model.predict(X[:5], tasks=[555] * 5).shape == (5,)


def test_a_failed_first_fit_leaves_an_unfitted_estimator(data):
    X, y, tasks = data
    model = TransferRegressor(metric="mmd")
    bad = tasks.copy()
    bad[0] = 101
    with pytest.raises(ValueError, match="101"):
        model.fit(X, y, tasks=bad)
    assert not hasattr(model, "tasks_") and not hasattr(model, "coef_")


def test_explanation_reads_as_an_object_a_mapping_and_a_table(data):
    X, y, tasks = data
    model = TransferRegressor(n_neighbors=3).fit(X, y, tasks=tasks)
    info = model.explain(2)
    assert isinstance(info, TaskExplanation)
    assert info.task == 2 and info["task"] == 2 and info.n_rows == 12
    assert info.transfer == "hierarchical" and info.transfers == "parameters"
    assert info.strength == pytest.approx(model.strength_[2])
    assert info.own_weight is None
    assert set(info) == {
        "task",
        "n_rows",
        "transfer",
        "transfers",
        "strength",
        "own_weight",
        "sources",
    }
    assert all(isinstance(s, SourceContribution) for s in info.sources)
    weights = [s.weight for s in info.sources]
    assert weights == sorted(weights, reverse=True) and len(weights) == 3
    assert sum(weights) == pytest.approx(1.0)
    frame = info.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert frame.columns.tolist() == [
        "task",
        "weight",
        "similarity",
        "distance",
        "transferability",
    ]
    assert frame["task"].tolist() == [s.task for s in info.sources]
    text = repr(info)
    assert text.startswith(
        "TaskExplanation: task 2 (12 rows), transfer rule 'hierarchical'"
    )
    assert "3 source(s), heaviest first" in text
    assert f"{info.sources[0].weight:.4g}" in text
    assert "1.0000000" not in text  # rounded, not full precision


def test_explanation_of_a_task_alone():
    X, y, tasks = make_related_tasks(4, 10, random_state=1)
    model = MetricMetaEstimator(Ridge(), transfer="none").fit(X, y, tasks=tasks)
    info = model.explain(0)
    assert info.sources == () and info.strength is None and info.own_weight == 1.0
    assert "no source contributes" in repr(info)
    assert info.to_frame().shape == (0, 5)


def test_explain_a_classifier_with_transferability(data):
    X, _, tasks = data
    y = np.where(X[:, 0] > np.median(X[:, 0]), "hi", "lo")
    model = MetricMetaEstimator(
        LogisticRegression(), transfer="ensemble", n_neighbors=3
    )
    model.fit(X, y, tasks=tasks)
    info = model.explain(0)
    for source in info.sources:
        s = int(np.flatnonzero(model.tasks_ == source.task)[0])
        assert source.transferability == pytest.approx(model.transferability_[0, s])
        assert 0.0 <= source.transferability <= 1.0  # accuracy
