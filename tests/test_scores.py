"""The table of scores: each per-task score is scikit-learn's metric on each task."""

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    explained_variance_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)

from sk_metameta._scores import SCORES, get_score

REGRESSION = {
    "explained_variance": explained_variance_score,
    "r2": r2_score,
    "mse": mean_squared_error,
    "rmse": root_mean_squared_error,
    "mae": mean_absolute_error,
}


def random_tasks(seed, n_tasks=7, n_outputs=None):
    rng = np.random.RandomState(seed)
    sizes = rng.randint(2, 25, size=n_tasks)
    codes = rng.permutation(np.repeat(np.arange(n_tasks), sizes))
    shape = (codes.size,) if n_outputs is None else (codes.size, n_outputs)
    y = rng.normal(size=shape) + codes.reshape(-1, *([1] * (len(shape) - 1)))
    pred = y + rng.normal(scale=0.8, size=shape)
    weights = rng.uniform(0.1, 3.0, size=codes.size)
    return y, pred, codes, weights


@pytest.mark.parametrize("name", sorted(REGRESSION))
@pytest.mark.parametrize("n_outputs", [None, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_task_scores_are_sklearns_on_each_task(name, n_outputs, weighted):
    y, pred, codes, weights = random_tasks(0, n_outputs=n_outputs)
    w = weights if weighted else None
    n_tasks = codes.max() + 2  # the last task has no rows
    scores = get_score(name).task_scores(y, pred, codes, n_tasks, sample_weight=w)
    assert scores.shape == (n_tasks,)
    for t in range(n_tasks - 1):
        rows = codes == t
        expected = REGRESSION[name](
            y[rows], pred[rows], sample_weight=None if w is None else w[rows]
        )
        assert scores[t] == pytest.approx(expected, rel=1e-10, abs=1e-12)
    assert np.isnan(scores[-1])
    overall = get_score(name).score(y, pred, sample_weight=w)
    assert overall == pytest.approx(REGRESSION[name](y, pred, sample_weight=w))


def test_r2_of_a_one_row_task_is_nan_and_constant_targets_are_finite():
    y = np.array([1.0, 2.0, 2.0, 5.0])
    pred = np.array([1.5, 2.0, 3.0, 4.0])
    codes = np.array([0, 1, 1, 2])
    r2 = get_score("r2").task_scores(y, pred, codes, 3)
    assert np.isnan(r2[0]) and np.isnan(r2[2])
    assert r2[1] == r2_score(y[1:3], pred[1:3]) == 0.0  # force_finite
    exact = get_score("r2").task_scores(y, y, codes, 3)
    assert exact[1] == 1.0
    ev = get_score("explained_variance").task_scores(y, pred, codes, 3)
    assert ev[0] == explained_variance_score(y[:1], pred[:1]) == 1.0
    assert ev[1] == explained_variance_score(y[1:3], pred[1:3]) == 0.0


def classification_tasks(seed, n_classes):
    rng = np.random.RandomState(seed)
    codes = np.repeat(np.arange(6), 30)
    classes = np.array(["ant", "bee", "cat", "dog"][:n_classes])
    y = classes[rng.randint(n_classes, size=codes.size)]
    proba = rng.dirichlet(np.ones(n_classes), size=codes.size)
    proba = np.round(proba, 1)  # ties, for the ROC AUC
    proba[:, -1] = 1.0 - proba[:, :-1].sum(axis=1)
    proba = np.clip(proba, 0.0, 1.0)
    proba /= proba.sum(axis=1, keepdims=True)
    proba[0] = 0.0
    proba[0, 0] = 1.0  # a certain prediction, clipped by the log loss
    labels = classes[np.argmax(proba, axis=1)]
    return y, proba, labels, codes, classes, rng.uniform(0.2, 2.0, size=codes.size)


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_classification_task_scores_are_sklearns_on_each_task(n_classes, weighted):
    y, proba, labels, codes, classes, weights = classification_tasks(1, n_classes)
    w = weights if weighted else None
    accuracy = get_score("accuracy").task_scores(y, labels, codes, 6, sample_weight=w)
    loss = get_score("log_loss").task_scores(
        y, proba, codes, 6, classes=classes, sample_weight=w
    )
    for t in range(6):
        rows = codes == t
        wt = None if w is None else w[rows]
        assert accuracy[t] == pytest.approx(
            accuracy_score(y[rows], labels[rows], sample_weight=wt), rel=1e-12
        )
        assert loss[t] == pytest.approx(
            log_loss(y[rows], proba[rows], labels=classes, sample_weight=wt),
            rel=1e-10,
        )
    assert get_score("log_loss").score(
        y, proba, classes=classes, sample_weight=w
    ) == pytest.approx(log_loss(y, proba, labels=classes, sample_weight=w))


@pytest.mark.parametrize("weighted", [False, True])
def test_roc_auc_per_task_with_ties_is_sklearns(weighted):
    y, proba, _, codes, classes, weights = classification_tasks(2, 2)
    w = weights if weighted else None
    auc = get_score("roc_auc").task_scores(
        y, proba, codes, 7, classes=classes, sample_weight=w
    )
    assert len(np.unique(proba[:, 1])) < proba.shape[0] / 3  # many ties
    for t in range(6):
        rows = codes == t
        expected = roc_auc_score(
            y[rows] == classes[1],
            proba[rows, 1],
            sample_weight=None if w is None else w[rows],
        )
        assert auc[t] == pytest.approx(expected, rel=1e-12)
    assert np.isnan(auc[6])  # no rows
    one_class = get_score("roc_auc").task_scores(
        np.array(["ant", "ant", "bee"]),
        proba[:3],
        [0, 0, 1],
        2,
        classes=classes,
    )
    assert np.isnan(one_class).all()  # undefined with a single class
    with pytest.raises(ValueError, match="binary targets only"):
        get_score("roc_auc").task_scores(
            y, np.column_stack([proba, proba]), codes, 6, classes=np.arange(4)
        )


def test_names_and_aliases_share_one_entry():
    assert get_score("mse") is get_score("neg_mean_squared_error")
    assert get_score("rmse") is get_score("neg_root_mean_squared_error")
    assert get_score("mae") is get_score("neg_mean_absolute_error")
    assert get_score("log_loss") is get_score("neg_log_loss")
    for key, entry in SCORES.items():
        assert key == entry.name or key in entry.aliases
        assert entry.kind in ("regressor", "classifier")
        assert entry.response in ("predict", "predict_proba")
        assert entry.sign == (1.0 if entry.greater_is_better else -1.0)
    assert not get_score("mse").greater_is_better
    assert get_score("accuracy").kind == "classifier"
    assert get_score("log_loss").response == "predict_proba"


def test_unknown_score_lists_the_names():
    with pytest.raises(ValueError, match=r"unknown scoring 'f2'; available: .*mse"):
        get_score("f2")


def test_labels_outside_classes_are_refused():
    with pytest.raises(ValueError, match="not in classes"):
        get_score("log_loss").task_scores(
            np.array([0, 3]), np.full((2, 2), 0.5), [0, 1], 2, classes=np.array([0, 1])
        )
