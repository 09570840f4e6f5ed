"""Tests of the command line (``demo``, ``similarity``) and the few-shot harness."""

import csv
import io
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import SkipTestWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.utils.estimator_checks import check_estimator

from sk_metameta import check_tasks, task_distances
from sk_metameta._demo import (
    PerTaskModel,
    PooledModel,
    demo_methods,
    few_shot_evaluation,
)
from sk_metameta.cli import main
from sk_metameta.datasets import make_related_tasks


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


@pytest.fixture
def shops_csv(tmp_path):
    """Three tasks with labels 2, 10, 3 (numeric order differs from text order)."""
    rng = np.random.RandomState(0)
    rows = []
    for shop, shift in [(2, 0.0), (10, 5.0), (3, 0.5)]:
        for _ in range(6):
            price, promo = rng.normal(shift, 1.0), rng.normal(0.0, 1.0)
            rows.append([shop, f"{price:.4f}", f"{promo:.4f}", f"{2 * price:.4f}"])
    return write_csv(tmp_path / "shops.csv", ["shop", "price", "promo", "sales"], rows)


def read_shops(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    X = np.array([[float(r["price"]), float(r["promo"])] for r in rows])
    y = np.array([float(r["sales"]) for r in rows])
    tasks = np.array([int(r["shop"]) for r in rows])
    return X, y, tasks


def parse_matrix(text):
    lines = text.strip().splitlines()
    reader = list(csv.reader(io.StringIO("\n".join(lines))))
    header = reader[0]
    labels = [row[0] for row in reader[1:]]
    D = np.array([[float(v) for v in row[1:]] for row in reader[1:]])
    return header, labels, D


# -- similarity --------------------------------------------------------------------


def test_similarity_prints_labelled_matrix_and_neighbours(shops_csv, capsys):
    assert main(["similarity", shops_csv, "--tasks", "shop", "--target", "sales"]) == 0
    out = capsys.readouterr().out
    matrix_text, rest = out.split("\n\n", 1)
    header, labels, D = parse_matrix(matrix_text)
    assert header == ["task", "2", "3", "10"]  # numeric labels in numeric order
    assert labels == ["2", "3", "10"]
    X, y, tasks = read_shops(shops_csv)
    expected = task_distances(X, y, tasks=tasks).distances
    np.testing.assert_allclose(D, expected, rtol=1e-5, atol=1e-6)
    assert "metric 'euclidean' on task features 'moments'" in rest
    assert "features: price, promo" in rest
    lines = {line.split()[0]: line for line in rest.splitlines() if line[:2] == "  "}
    # shop 10 is shifted far away: shops 2 and 3 are each other's nearest
    assert lines["2"].split()[1] == "3"
    assert lines["3"].split()[1] == "2"
    assert lines["10"].split()[1] in {"2", "3"}


def test_similarity_writes_output_file(shops_csv, tmp_path, capsys):
    out_path = tmp_path / "distances.csv"
    code = main(
        [
            "similarity",
            shops_csv,
            "--tasks",
            "shop",
            "--features",
            "price",
            "--metric",
            "manhattan",
            "--n-neighbors",
            "1",
            "-o",
            str(out_path),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert f"distance matrix written to {out_path}" in out
    assert "task," not in out  # the matrix went to the file
    header, labels, D = parse_matrix(out_path.read_text())
    assert header[0] == "task" and labels == ["2", "3", "10"]
    assert D.shape == (3, 3)
    np.testing.assert_allclose(np.diag(D), 0.0)
    np.testing.assert_allclose(D, D.T)
    assert "nearest neighbours (k=1)" in out
    neighbour_lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(neighbour_lines) == 3
    assert all(line.count("(") == 1 for line in neighbour_lines)


def test_similarity_sample_metric(shops_csv, capsys):
    code = main(
        [
            "similarity",
            shops_csv,
            "--tasks",
            "shop",
            "--features",
            "price",
            "promo",
            "--metric",
            "energy",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "metric 'energy'." in out


def test_similarity_non_numeric_target_is_encoded(tmp_path, capsys):
    path = write_csv(
        tmp_path / "c.csv",
        ["d", "x", "use"],
        [[1, 0.1, "Y"], [1, 0.5, "N"], [2, 2.0, "N"], [2, 2.5, "Y"], [3, 0.2, "N"]],
    )
    code = main(
        [
            "similarity",
            path,
            "--tasks",
            "d",
            "--target",
            "use",
            "--task-features",
            "moments_xy",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "target 'use' is not numeric; encoded as N=0, Y=1" in captured.err
    assert "task features 'moments_xy'" in captured.out


def assert_error(capsys, argv, *needles):
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.startswith("sk-metameta similarity: error: ")
    assert "Traceback" not in captured.err
    for needle in needles:
        assert needle in captured.err, captured.err
    return captured.err


def test_similarity_missing_file(tmp_path, capsys):
    missing = str(tmp_path / "nope.csv")
    assert_error(
        capsys, ["similarity", missing, "--tasks", "t"], "no such file", missing
    )


def test_similarity_missing_columns(shops_csv, capsys):
    assert_error(
        capsys,
        ["similarity", shops_csv, "--tasks", "store", "--features", "price", "cost"],
        "'store', 'cost' not found",
        "available columns: shop, price, promo, sales",
    )
    assert_error(
        capsys,
        ["similarity", shops_csv, "--tasks", "shop", "--target", "revenue"],
        "'revenue' not found",
    )


def test_similarity_non_numeric_feature(tmp_path, capsys):
    path = write_csv(
        tmp_path / "bad.csv",
        ["t", "x", "colour"],
        [[1, 0.5, "1.0"], [1, 0.7, "red"], [2, 0.1, "2.0"]],
    )
    assert_error(
        capsys,
        ["similarity", path, "--tasks", "t"],
        "feature column 'colour' is not numeric",
        "'red'",
        "data row 2",
    )


def test_similarity_empty_feature_cell(tmp_path, capsys):
    path = write_csv(
        tmp_path / "gap.csv", ["t", "x"], [[1, 0.5], [1, ""], [2, 0.1], [2, 0.2]]
    )
    assert_error(
        capsys, ["similarity", path, "--tasks", "t"], "'x'", "an empty cell", "row 2"
    )


def test_similarity_nan_feature(tmp_path, capsys):
    path = write_csv(
        tmp_path / "nan.csv", ["t", "x"], [[1, 0.5], [1, "nan"], [2, 0.1], [2, 0.2]]
    )
    assert_error(capsys, ["similarity", path, "--tasks", "t"], "missing or infinite")


def test_similarity_task_with_one_row(tmp_path, capsys):
    path = write_csv(
        tmp_path / "one.csv",
        ["t", "x"],
        [["a", 0.5], ["a", 0.7], ["b", 0.1], ["c", 0.3], ["c", 0.4]],
    )
    assert_error(
        capsys,
        ["similarity", path, "--tasks", "t", "--metric", "mmd"],
        "metric 'mmd' needs at least 2 rows per task",
        "'b' (1 row)",
    )
    # a metric on task features that needs one row is fine
    assert main(["similarity", path, "--tasks", "t"]) == 0


def test_similarity_unknown_metric_and_task_features(shops_csv, capsys):
    err = assert_error(
        capsys,
        ["similarity", shops_csv, "--tasks", "shop", "--metric", "no_such_metric"],
        "unknown metric 'no_such_metric'",
        "available:",
        "euclidean",
        "mmd",
    )
    assert "Traceback" not in err
    assert_error(
        capsys,
        [
            "similarity",
            shops_csv,
            "--tasks",
            "shop",
            "--task-features",
            "no_such_features",
        ],
        "unknown task features 'no_such_features'",
        "moments",
    )


def test_similarity_extractor_needing_target(shops_csv, capsys):
    assert_error(
        capsys,
        ["similarity", shops_csv, "--tasks", "shop", "--task-features", "coef"],
        "--task-features coef needs the target",
        "--target",
    )


def test_similarity_task_features_with_sample_metric(shops_csv, capsys):
    assert_error(
        capsys,
        [
            "similarity",
            shops_csv,
            "--tasks",
            "shop",
            "--metric",
            "mmd",
            "--task-features",
            "moments",
        ],
        "compares the tasks' rows directly",
    )


def test_similarity_single_task(tmp_path, capsys):
    path = write_csv(tmp_path / "single.csv", ["t", "x"], [[1, 0.5], [1, 0.7]])
    assert_error(capsys, ["similarity", path, "--tasks", "t"], "a single task")


def test_similarity_ragged_and_empty_files(tmp_path, capsys):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("t,x\n1,0.5\n1\n")
    assert_error(capsys, ["similarity", str(ragged), "--tasks", "t"], "data row 2")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert_error(capsys, ["similarity", str(empty), "--tasks", "t"], "is empty")
    header_only = tmp_path / "header.csv"
    header_only.write_text("t,x\n")
    assert_error(capsys, ["similarity", str(header_only), "--tasks", "t"], "no data")


def test_similarity_empty_task_label(tmp_path, capsys):
    path = write_csv(tmp_path / "label.csv", ["t", "x"], [[1, 0.5], ["", 0.7]])
    assert_error(capsys, ["similarity", path, "--tasks", "t"], "task column 't'")


def test_similarity_reads_gzip(tmp_path, capsys):
    import gzip

    path = tmp_path / "shops.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("t,x\n1,0.0\n1,1.0\n2,5.0\n2,6.0\n")
    assert main(["similarity", str(path), "--tasks", "t"]) == 0
    _, labels, D = parse_matrix(capsys.readouterr().out.split("\n\n")[0])
    assert labels == ["1", "2"]
    assert D[0, 1] == pytest.approx(5.0)


# -- few-shot harness ----------------------------------------------------------------

_LOG = []


class SpyRegressor(RegressorMixin, BaseEstimator):
    """Predicts 0; records the row ids (column 0) it is fitted on and predicts."""

    def fit(self, X, y, *, tasks):
        _LOG.append(("fit", np.asarray(X)[:, 0].astype(int), np.asarray(tasks)))
        return self

    def predict(self, X, *, tasks):
        _LOG.append(("predict", np.asarray(X)[:, 0].astype(int), np.asarray(tasks)))
        return np.zeros(len(X))


def test_few_shot_protocol_splits_rows_as_documented():
    sizes = np.array([12, 30, 8, 25, 16, 40, 9])
    tasks = np.repeat(np.array(list("abcdefg")), sizes)
    n = tasks.size
    X = np.column_stack([np.arange(n), np.random.RandomState(0).rand(n)])
    y = np.random.RandomState(1).rand(n)
    _LOG.clear()
    result = few_shot_evaluation(
        X,
        y,
        tasks,
        {"spy": SpyRegressor()},
        ks=[3, 6],
        n_folds=3,
        n_repeats=2,
        min_test_rows=4,
        random_state=0,
    )
    index = check_tasks(tasks)
    eligible = {3: index.counts >= 7, 6: index.counts >= 10}
    np.testing.assert_array_equal(result.n_targets, [7, 5])
    fits = [entry for entry in _LOG if entry[0] == "fit"]
    predicts = [entry for entry in _LOG if entry[0] == "predict"]
    # at most one fit per repeat, k and fold (a fold without targets is skipped)
    assert len(fits) == len(predicts) <= 2 * 2 * 3
    runs = []  # (k, {target: labelled row ids}) per fit, in order
    for (_, train, train_tasks), (_, test, test_tasks) in zip(
        fits, predicts, strict=True
    ):
        # every row is either in training or in the test set, never both
        assert np.intersect1d(train, test).size == 0
        assert np.union1d(train, test).size == n
        np.testing.assert_array_equal(train_tasks, tasks[train])
        np.testing.assert_array_equal(test_tasks, tasks[test])
        targets = np.unique(test_tasks)
        n_labelled = {np.sum(train_tasks == t) for t in targets}
        assert len(n_labelled) == 1  # every target has exactly k labelled rows
        k = n_labelled.pop()
        assert k in (3, 6)
        for t in targets:
            assert np.sum(test_tasks == t) == index.counts[index.encode([t])[0]] - k
        assert np.all(eligible[k][index.encode(targets)])
        labelled = {t: set(train[train_tasks == t].tolist()) for t in targets}
        if runs and runs[-1][0] == k:
            assert not set(labelled) & set(runs[-1][1])  # folds are disjoint
            runs[-1][1].update(labelled)
        else:
            runs.append((k, labelled))
    # repeat by repeat, k by k: each eligible task is a target exactly once
    assert [k for k, _ in runs] == [3, 6, 3, 6]
    for k, labelled in runs:
        assert sorted(labelled) == sorted(index.labels[eligible[k]].tolist())
    # the labelled rows of a target at k=3 are among those at k=6
    for (_, small), (_, large) in [(runs[0], runs[1]), (runs[2], runs[3])]:
        for t, rows in large.items():
            assert small[t] <= rows
    # a new repeat draws new labelled rows
    assert runs[0][1] != runs[2][1]
    assert result.scores.shape == (1, 2, 2)


def test_few_shot_matches_a_hand_written_loop():
    X, y, tasks = make_related_tasks(
        n_tasks=6, n_samples_per_task=15, n_features=2, random_state=0
    )
    result = few_shot_evaluation(
        X,
        y,
        tasks,
        {"pooled": LinearRegression()},
        ks=[4],
        n_folds=6,
        scoring="mse",
        random_state=0,
    )
    # leave-one-task-out with a pooled linear regression, recomputed by hand
    _LOG.clear()
    spy_X = np.column_stack([np.arange(len(y)), X])
    few_shot_evaluation(
        spy_X, y, tasks, {"spy": SpyRegressor()}, ks=[4], n_folds=6, random_state=0
    )
    fits = [e for e in _LOG if e[0] == "fit"]
    predicts = [e for e in _LOG if e[0] == "predict"]
    errors = []
    for (_, train, _), (_, test, _) in zip(fits, predicts, strict=True):
        model = LinearRegression().fit(X[train], y[train])
        errors.append((model.predict(X[test]) - y[test]) ** 2)
    assert result.scores[0, 0, 0] == pytest.approx(np.concatenate(errors).mean())
    assert not result.greater_is_better


def test_few_shot_average_over_tasks():
    X, y, tasks = make_related_tasks(n_tasks=6, n_samples_per_task=15, random_state=1)
    result = few_shot_evaluation(
        X,
        y,
        tasks,
        {"ridge": Ridge()},
        ks=[5],
        n_folds=3,
        average="tasks",
        random_state=0,
    )
    assert result.task_scores.shape == (1, 1, 1, 6)
    assert result.scores[0, 0, 0] == pytest.approx(result.task_scores[0, 0, 0].mean())
    rows = few_shot_evaluation(
        X, y, tasks, {"ridge": Ridge()}, ks=[5], n_folds=3, random_state=0
    )
    assert rows.task_scores is None
    assert rows.scores[0, 0, 0] != pytest.approx(result.scores[0, 0, 0])


def test_few_shot_classification_log_loss():
    X, y, tasks = make_related_tasks(
        n_tasks=8, n_samples_per_task=30, task_type="classification", random_state=0
    )
    logistic = LogisticRegression(solver="newton-cholesky")
    methods = {
        "per task": PerTaskModel(logistic),
        "pooled": PooledModel(logistic),
        "pooled + intercept": PooledModel(logistic, task_intercept=True),
    }
    result = few_shot_evaluation(
        X,
        y,
        tasks,
        methods,
        ks=[5, 20],
        n_folds=2,
        scoring="log_loss",
        random_state=0,
    )
    assert result.scoring == "log_loss" and not result.greater_is_better
    assert np.all(np.isfinite(result.scores)) and np.all(result.scores > 0)
    # the per-task model learns with more labelled rows
    assert result.scores[0, 1, 0] < result.scores[0, 0, 0]
    text = result.table()
    assert "log loss" in text and "lower is better" in text


def test_few_shot_accuracy_with_string_labels():
    X, y, tasks = make_related_tasks(
        n_tasks=6, n_samples_per_task=30, task_type="classification", random_state=0
    )
    labels = np.where(y == 1, "yes", "no")
    logistic = LogisticRegression(solver="newton-cholesky")
    methods = {"pooled": logistic, "per task": PerTaskModel(logistic)}
    kwargs = {"ks": [5], "n_folds": 2, "random_state": 0}
    text = few_shot_evaluation(X, labels, tasks, methods, scoring="accuracy", **kwargs)
    numeric = few_shot_evaluation(X, y, tasks, methods, scoring="accuracy", **kwargs)
    np.testing.assert_allclose(text.scores, numeric.scores)
    assert np.all((text.scores > 0.5) & (text.scores <= 1.0))


def test_few_shot_result_table_and_frame():
    X, y, tasks = make_related_tasks(n_tasks=6, n_samples_per_task=20, random_state=0)
    methods = {"pooled": Ridge(), "per task": PerTaskModel(Ridge())}
    result = few_shot_evaluation(
        X, y, tasks, methods, ks=[5, 10], n_folds=2, n_repeats=3, random_state=0
    )
    lines = result.table().splitlines()
    assert lines[2].split() == ["method", "k=5", "k=10", "fit", "s"]
    assert [line.split()[0] for line in lines[3:]] == ["pooled", "per"]
    assert "±" in lines[3]
    frame = result.to_frame()
    assert frame.shape == (2 * 2 * 3, 5)
    assert list(frame.columns) == [
        "method",
        "k",
        "repeat",
        "explained_variance",
        "fit_time",
    ]
    assert result.mean_scores().shape == (2, 2)
    assert np.all(result.fit_times >= 0)


def test_few_shot_is_reproducible():
    X, y, tasks = make_related_tasks(n_tasks=6, n_samples_per_task=20, random_state=0)
    methods = {"per task": PerTaskModel(Ridge())}
    a = few_shot_evaluation(X, y, tasks, methods, ks=[5], n_folds=2, random_state=4)
    b = few_shot_evaluation(X, y, tasks, methods, ks=[5], n_folds=2, random_state=4)
    c = few_shot_evaluation(X, y, tasks, methods, ks=[5], n_folds=2, random_state=5)
    assert a.scores[0, 0, 0] == b.scores[0, 0, 0]
    assert a.scores[0, 0, 0] != c.scores[0, 0, 0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_folds": 1}, "n_folds must be between 2"),
        ({"n_folds": 7}, "n_folds must be between 2"),
        ({"ks": [0]}, "ks must be positive"),
        ({"ks": [20]}, "no task has the k \\+ min_test_rows = 25 rows"),
        ({"scoring": "f2"}, "unknown scoring 'f2'"),
        ({"average": "median"}, "average must be"),
        ({"n_repeats": 0}, "n_repeats must be"),
        ({"methods": {}}, "non-empty mapping"),
    ],
)
def test_few_shot_errors(kwargs, match):
    X, y, tasks = make_related_tasks(n_tasks=6, n_samples_per_task=15, random_state=0)
    kwargs = {"methods": {"ridge": Ridge()}, **kwargs}
    with pytest.raises(ValueError, match=match):
        few_shot_evaluation(X, y, tasks, **kwargs)


def test_progress_counter_without_tqdm(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    X, y, tasks = make_related_tasks(n_tasks=4, n_samples_per_task=12, random_state=0)
    few_shot_evaluation(
        X, y, tasks, {"ridge": Ridge()}, ks=[5], n_folds=2, progress=True
    )
    assert "few-shot fits: 2/2 fits" in capsys.readouterr().err


# -- baselines -----------------------------------------------------------------------


def test_per_task_model_fits_each_task_alone():
    X, y, tasks = make_related_tasks(n_tasks=3, n_samples_per_task=10, random_state=0)
    model = PerTaskModel(Ridge(alpha=0.5)).fit(X, y, tasks=tasks)
    for t in range(3):
        rows = tasks == t
        alone = Ridge(alpha=0.5).fit(X[rows], y[rows])
        np.testing.assert_allclose(
            model.predict(X[rows], tasks=tasks[rows]), alone.predict(X[rows])
        )
    with pytest.raises(ValueError, match=r"no model for tasks \[7\]"):
        model.predict(X[:2], tasks=[7, 7])
    with pytest.raises(ValueError, match="fitted on 3 tasks; give the task"):
        model.predict(X[:2])
    single = PerTaskModel(Ridge(alpha=0.5)).fit(X, y)
    np.testing.assert_allclose(single.predict(X), Ridge(alpha=0.5).fit(X, y).predict(X))


def test_per_task_classifier_with_one_class_uses_smoothed_frequencies():
    X = np.array([[0.0], [1.0], [2.0], [0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 1, 1, 1, 1, 1, 1])
    tasks = np.array([0, 0, 0, 1, 1, 1, 1])
    model = PerTaskModel(LogisticRegression()).fit(X, y, tasks=tasks)
    proba = model.predict_proba([[5.0], [5.0]], tasks=[1, 0])
    np.testing.assert_allclose(proba[0], [1 / 6, 5 / 6])  # (0 + 1) / (4 + 2)
    assert proba[1, 1] > 0.5
    assert model.predict([[5.0]], tasks=[1]).tolist() == [1]


def test_pooled_model_with_task_intercept_matches_one_hot_ridge():
    X, y, tasks = make_related_tasks(n_tasks=4, n_samples_per_task=10, random_state=0)
    model = PooledModel(Ridge(alpha=2.0), task_intercept=True).fit(X, y, tasks=tasks)
    onehot = (tasks[:, None] == np.arange(4)).astype(float)
    direct = Ridge(alpha=2.0).fit(np.hstack([X, onehot]), y)
    np.testing.assert_allclose(
        model.predict(X, tasks=tasks), direct.predict(np.hstack([X, onehot]))
    )
    # an unseen task gets the pooled part only
    np.testing.assert_allclose(
        model.predict(X[:3], tasks=[9, 9, 9]),
        direct.predict(np.hstack([X[:3], np.zeros((3, 4))])),
    )
    plain = PooledModel(Ridge()).fit(X, y)
    np.testing.assert_allclose(plain.predict(X), Ridge().fit(X, y).predict(X))


@pytest.mark.parametrize(
    "estimator",
    [
        PerTaskModel(Ridge()),
        PerTaskModel(LogisticRegression(solver="newton-cholesky")),
        PooledModel(Ridge()),
        PooledModel(Ridge(), task_intercept=True),
        PooledModel(LogisticRegression(solver="newton-cholesky"), task_intercept=True),
    ],
    ids=repr,
)
def test_baselines_pass_the_scikit_learn_checks(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkipTestWarning)
        results = check_estimator(estimator, on_fail=None)
    failed = [
        (r["check_name"], repr(r["exception"]))
        for r in results
        if r["status"] == "failed"
    ]
    assert failed == []
    assert len(results) > 40


# -- demo ----------------------------------------------------------------------------


def test_demo_methods_cover_the_built_in_rules():
    from sk_metameta import TransferRegressor
    from sk_metameta.plugins import get_registry

    methods = demo_methods()
    assert list(methods)[:3] == [
        "target-only ridge",
        "pooled ridge",
        "pooled + task intercept",
    ]
    default = TransferRegressor().transfer
    assert isinstance(
        methods[f"TransferRegressor (default: {default})"], TransferRegressor
    )
    builtin = [
        c.name
        for c in get_registry().components("transfer_rule")
        if c.plugin == "builtin" and c.name != default
    ]
    assert builtin  # the registry has the built-in rules
    for name in builtin:
        assert methods[f"TransferRegressor ({name})"].transfer == name
    assert len(methods) == 3 + 1 + len(builtin)


def test_rules_without_linear_models_are_left_out():
    from sk_metameta._demo import _fits_linear_models
    from sk_metameta.transfer import BaseTransferRule

    class Parameters(BaseTransferRule):
        transfers = "parameters"

    class ParametersWithModels(Parameters):
        def fit_linear(self, problem):
            raise NotImplementedError

    class Instances(BaseTransferRule):
        transfers = "instances"

    assert not _fits_linear_models(Parameters())
    assert _fits_linear_models(ParametersWithModels())
    assert _fits_linear_models(Instances())


def test_demo_prints_one_table(capsys):
    code = main(["demo", "--k", "5", "--folds", "2", "--max-tasks", "20", "--quiet"])
    assert code == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("method"))
    assert lines[start].split() == ["method", "k=5", "fit", "s"]
    rows = lines[start + 1 : start + 1 + len(demo_methods())]
    names = [row.rsplit(None, 2)[0].strip() for row in rows]
    assert names == list(demo_methods())
    for row in rows:
        score = float(row.rsplit(None, 2)[1])
        assert -1.0 < score < 1.0
    assert "20 tasks, 2 folds" in captured.out
    assert "explained variance" in captured.out
    assert captured.err == ""  # --quiet: no progress


def test_demo_several_k_and_repeats(capsys):
    code = main(
        [
            "demo",
            "--k",
            "5",
            "10",
            "--folds",
            "2",
            "--repeats",
            "2",
            "--max-tasks",
            "12",
            "--quiet",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("method"))
    assert header.split() == ["method", "k=5", "k=10", "fit", "s"]
    assert "2 repeat(s)" in out and "±" in out


def test_demo_progress_goes_to_stderr(capsys):
    assert main(["demo", "--k", "5", "--folds", "2", "--max-tasks", "6"]) == 0
    captured = capsys.readouterr()
    assert "few-shot fits" in captured.err
    assert "few-shot fits" not in captured.out


def test_demo_plot_writes_png(tmp_path, capsys):
    import matplotlib

    matplotlib.use("Agg")
    path = tmp_path / "demo.png"
    code = main(
        [
            "demo",
            "--k",
            "5",
            "10",
            "--folds",
            "2",
            "--max-tasks",
            "10",
            "--quiet",
            "--plot",
            str(path),
        ]
    )
    assert code == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000
    assert f"figure written to {path}" in capsys.readouterr().out


def test_demo_plot_without_matplotlib(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code = main(
        ["demo", "--max-tasks", "4", "--quiet", "--plot", str(tmp_path / "x.png")]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "pip install sk-metameta[plot]" in captured.err
    assert captured.out == ""


def test_demo_plot_into_missing_folder(tmp_path, capsys):
    code = main(["demo", "--quiet", "--plot", str(tmp_path / "no" / "x.png")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--max-tasks", "3", "--folds", "5"], "n_folds must be between 2"),
        (["--max-tasks", "1"], "--max-tasks must be at least 2"),
        (["--k", "70", "--max-tasks", "4", "--folds", "2"], "no task has"),
    ],
)
def test_demo_errors(argv, match, capsys):
    code = main(["demo", "--quiet", *argv])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("sk-metameta demo: error: ")
    assert match in captured.err


def test_demo_rejects_bad_numbers(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--k", "0"])
    assert exc.value.code == 2
    assert "expected a number >= 1" in capsys.readouterr().err
