"""MetricMetaEstimator against the baselines a user would otherwise write.

Related synthetic tasks (``make_related_tasks``) with few labelled rows per task;
each task's held-out rows are scored (the targets on real data and on 2,000
tasks are ``bench_meta_estimator.py``'s). Baselines: one model per task (a loop of
sklearn fits, ``transfer="none"``), one pooled model, and a pooled model with one
indicator column per task (a per-task intercept). Prints a table of held-out
scores (mean over seeds) and fit times, and fit times for growing numbers of
tasks next to a plain loop of per-task fits.

Usage::

    python benchmarks/meta_estimator.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score

from sk_metameta import MetricMetaEstimator
from sk_metameta.datasets import make_related_tasks


def split_per_task(tasks, n_train, rng):
    """First ``n_train`` rows (after shuffling) of every task for training."""
    train = np.zeros(tasks.shape[0], dtype=bool)
    for t in np.unique(tasks):
        rows = rng.permutation(np.flatnonzero(tasks == t))
        train[rows[:n_train]] = True
    return train


def one_hot(tasks, labels):
    return (tasks[:, None] == labels[None, :]).astype(float)


def pooled_with_intercepts(base, X, y, tasks, X_test, tasks_test):
    labels = np.unique(tasks)
    model = base.fit(np.hstack([X, one_hot(tasks, labels)]), y)
    return model.predict(np.hstack([X_test, one_hot(tasks_test, labels)]))


def two_class_tasks(y, tasks, train):
    """Rows of the tasks whose training rows hold both classes."""
    keep = np.zeros(tasks.shape[0], dtype=bool)
    for t in np.unique(tasks):
        rows = tasks == t
        keep |= rows & (np.unique(y[rows & train]).shape[0] == 2)
    return keep


def run(task_type, n_train, cluster_std, noise, seeds, n_tasks):
    is_clf = task_type == "classification"
    base = LogisticRegression() if is_clf else Ridge(alpha=1.0)
    metric = accuracy_score if is_clf else r2_score
    candidates = {
        "per-task (none)": dict(transfer="none"),
        "default (auto)": dict(),
        "ensemble auto": dict(transfer="ensemble"),
        "ensemble auto k=5": dict(transfer="ensemble", n_neighbors=5),
        "ensemble strength=5": dict(transfer="ensemble", strength=5.0),
        "ensemble strength=20": dict(transfer="ensemble", strength=20.0),
        "select auto k=5": dict(transfer="select", n_neighbors=5),
        "instance auto": dict(transfer="instance"),
        "instance auto k=5": dict(transfer="instance", n_neighbors=5),
        "instance strength=0.3": dict(transfer="instance", strength=0.3),
    }
    scores = {name: [] for name in ["pooled", "pooled + task intercept", *candidates]}
    times = {name: [] for name in scores}
    for seed in seeds:
        X, y, tasks = make_related_tasks(
            n_tasks=n_tasks,
            n_samples_per_task=n_train + 60,
            task_type=task_type,
            cluster_std=cluster_std,
            noise=noise,
            random_state=seed,
        )
        train = split_per_task(tasks, n_train, np.random.default_rng(seed))
        if is_clf:  # per-task classifiers need two classes in every task
            keep = two_class_tasks(y, tasks, train)
            X, y, tasks, train = X[keep], y[keep], tasks[keep], train[keep]
        Xtr, ytr, ttr = X[train], y[train], tasks[train]
        Xte, yte, tte = X[~train], y[~train], tasks[~train]

        start = time.perf_counter()
        pred = base.fit(Xtr, ytr).predict(Xte)
        times["pooled"].append(time.perf_counter() - start)
        scores["pooled"].append(metric(yte, pred))
        start = time.perf_counter()
        pred = pooled_with_intercepts(base, Xtr, ytr, ttr, Xte, tte)
        times["pooled + task intercept"].append(time.perf_counter() - start)
        scores["pooled + task intercept"].append(metric(yte, pred))
        for name, params in candidates.items():
            start = time.perf_counter()
            model = MetricMetaEstimator(base, **params).fit(Xtr, ytr, tasks=ttr)
            times[name].append(time.perf_counter() - start)
            scores[name].append(metric(yte, model.predict(Xte, tasks=tte)))
    return scores, times


def scaling(task_counts, n_rows=20, n_neighbors=10):
    """Fit times against a plain loop of per-task Ridge fits."""
    print(f"\nfit time (s), Ridge, {n_rows} rows per task, n_neighbors={n_neighbors}")
    header = ["tasks", "loop of fits", "none", "default", "ensemble", "instance"]
    print("".join(f"{h:>14}" for h in header))
    for n_tasks in task_counts:
        X, y, tasks = make_related_tasks(n_tasks, n_rows, random_state=0)
        row = [n_tasks]
        start = time.perf_counter()
        for t in np.unique(tasks):
            Ridge().fit(X[tasks == t], y[tasks == t])
        row.append(time.perf_counter() - start)
        for params in (
            dict(transfer="none"),
            dict(),
            dict(transfer="ensemble"),
            dict(transfer="instance"),
        ):
            model = MetricMetaEstimator(Ridge(), n_neighbors=n_neighbors, **params)
            start = time.perf_counter()
            model.fit(X, y, tasks=tasks)
            row.append(time.perf_counter() - start)
        print(f"{row[0]:>14}" + "".join(f"{v:>14.2f}" for v in row[1:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer seeds")
    args = parser.parse_args()
    scaling([50, 200] if args.quick else [50, 200, 1000])
    seeds = range(3) if args.quick else range(10)
    settings = [
        ("regression", 5, 0.3, 0.5),
        ("regression", 15, 1.5, 0.5),
        ("regression", 8, 0.3, 2.0),
        ("regression", 20, 0.3, 2.0),
        ("classification", 20, 0.3, 0.5),
        ("classification", 20, 1.5, 0.5),
    ]
    for task_type, n_train, cluster_std, noise in settings:
        scores, times = run(task_type, n_train, cluster_std, noise, seeds, n_tasks=30)
        metric = "accuracy" if task_type == "classification" else "R2"
        print(
            f"\n{task_type}: 30 tasks, {n_train} training rows per task, "
            f"cluster_std={cluster_std}, noise={noise}, {len(seeds)} seeds "
            f"(held-out {metric})"
        )
        if task_type == "classification":
            print("(only the tasks with both classes in their training rows)")
        print(f"{'model':<26}{metric:>10}{'sd':>8}{'fit s':>9}")
        for name in scores:
            s = np.asarray(scores[name], dtype=float)
            print(
                f"{name:<26}{s.mean():>10.3f}{s.std():>8.3f}"
                f"{np.mean(times[name]):>9.3f}"
            )


if __name__ == "__main__":
    main()
