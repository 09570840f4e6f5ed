"""The learned task metric against every fixed one, on synthetic and real tasks.

Three parts, side by side in one run (``metric=...`` is the only difference
between the methods of a table; every other parameter is the estimator's
default):

1. **Synthetic: relevant and irrelevant task properties.** 200 tasks of 40 rows.
   Each task ``t`` has a centre ``m_t`` of its 6 input features and a spread
   ``s_t`` of each, ``x_j ~ N(m_tj, s_tj^2)``, ``m_t0, m_t1 ~ N(0, 1)``,
   ``m_t2..5 ~ N(0, 3^2)``, ``s_tj ~ U(0.5, 2)``. Only the centres of the first
   two features decide the task's model ``y = b_t + x . w_t + e``, ``e ~ N(0,
   2^2)``: ``w_t0 = 2 sin(1.5 m_t0)``, ``w_t1 = 2 cos(1.5 m_t1)``, ``w_t2 = 1.5
   sin(m_t0 + m_t1)``, ``w_t3 = 1.5 cos(m_t0 - m_t1)``, ``w_t4 = w_t5 = 0``,
   ``b_t = 3 sin(m_t0) cos(m_t1)``; the other centres, which spread three times
   as widely between tasks, and every spread decide nothing. The task features
   are ``"moments"``
   (the mean and standard deviation of each input feature: 12 task features, 2
   relevant). ``TransferRegressor(metric=m)`` for every built-in feature metric
   and ``metric="learned"``; error: mean squared error of the targets'
   held-out rows. Targets: PASS when ``"learned"`` has a lower error than every
   fixed feature metric at every k, and when its two heaviest task features are
   the two relevant ones (the learned weights are printed beside the truth).
2. **High School and Beyond** (160 schools): ``TransferRegressor`` with each
   feature metric; explained variance of the targets' held-out students.
3. **Contraception** (60 districts): ``MetricMetaEstimator(LogisticRegression())``
   with each feature metric; log loss of the targets' held-out women.

For 2 and 3, PASS when ``"learned"`` is at least as good as the best fixed metric
at every k, within noise: its mean score is no worse than the best fixed one's by
more than the standard error of their paired difference over the repeats (the
fixed metric chosen after the fact, on the same runs, is the hardest opponent).

Protocol (``sk_metameta.model_selection.few_shot_evaluation``): tasks split into 5
folds; the tasks of a fold are targets with k labelled rows each, all other tasks
are sources with all their rows; every method is fitted once per fold and k.

A fourth line times one fit of the metric on 2,000 tasks (12 task features).

Run from the repository root::

    python benchmarks/bench_learned_metric.py            # everything
    python benchmarks/bench_learned_metric.py --only synthetic
    python benchmarks/bench_learned_metric.py --quick    # fewer repeats
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time

import numpy as np
from sklearn.linear_model import LogisticRegression

from sk_metameta import MetricMetaEstimator, TransferRegressor
from sk_metameta.datasets import load_contraception, load_hsb
from sk_metameta.metrics import FittedFeatureMetric, LearnedMetric
from sk_metameta.model_selection import few_shot_evaluation
from sk_metameta.plugins import BUILTIN_PLUGIN, get_registry

#: Input features of the synthetic tasks, of which the first two matter.
N_INPUTS, N_RELEVANT = 6, 2


def fixed_feature_metrics() -> list[str]:
    """Every built-in metric on task features that is not fitted."""
    names = []
    for c in get_registry().components("metric"):
        metric = c.create()
        if c.plugin != BUILTIN_PLUGIN or metric.space != "features":
            continue
        if not isinstance(metric, FittedFeatureMetric):
            names.append(c.name)
    return names


def make_tasks(n_tasks=200, n_rows=40, noise=2.0, random_state=0):
    """Tasks whose models depend on some task properties and not on others."""
    rng = np.random.default_rng(random_state)
    spread = np.r_[np.ones(N_RELEVANT), np.full(N_INPUTS - N_RELEVANT, 3.0)]
    centres = rng.normal(size=(n_tasks, N_INPUTS)) * spread
    scales = rng.uniform(0.5, 2.0, size=(n_tasks, N_INPUTS))
    a, b = centres[:, 0], centres[:, 1]
    coef = np.zeros((n_tasks, N_INPUTS))
    coef[:, 0] = 2.0 * np.sin(1.5 * a)
    coef[:, 1] = 2.0 * np.cos(1.5 * b)
    coef[:, 2] = 1.5 * np.sin(a + b)
    coef[:, 3] = 1.5 * np.cos(a - b)
    intercept = 3.0 * np.sin(a) * np.cos(b)
    tasks = np.repeat(np.arange(n_tasks), n_rows)
    X = centres[tasks] + rng.normal(size=(tasks.size, N_INPUTS)) * scales[tasks]
    y = (
        intercept[tasks]
        + np.einsum("ij,ij->i", X, coef[tasks])
        + noise * rng.normal(size=tasks.size)
    )
    return X, y, tasks


def synthetic_truth() -> np.ndarray:
    """Whether each "moments" task feature is relevant (mean_x0, mean_x1)."""
    truth = np.zeros(2 * N_INPUTS, dtype=bool)
    truth[:N_RELEVANT] = True
    return truth


def metric_methods(make, metrics) -> dict:
    return {f"metric={name!r}": make(name) for name in metrics}


def run(X, y, tasks, methods, args, scoring):
    start = time.perf_counter()
    result = few_shot_evaluation(
        X,
        y,
        tasks,
        methods,
        args.k,
        n_folds=5,
        n_repeats=args.repeats,
        scoring=scoring,
        random_state=args.random_state,
        progress=False,
    )
    print(result.table())
    print(f"(wall time {time.perf_counter() - start:.0f} s)")
    return result


def beats_every_fixed(result, learned: str) -> list[str]:
    """Synthetic target: strictly better than every fixed metric at every k."""
    names, mean = result.methods, result.mean_scores()
    sign = 1.0 if result.greater_is_better else -1.0
    i = names.index(learned)
    lines = []
    for j, k in enumerate(result.ks):
        others = [n for n in names if n != learned]
        best = max(others, key=lambda n: sign * mean[names.index(n), j])
        ok = all(sign * mean[i, j] > sign * mean[names.index(n), j] for n in others)
        lines.append(
            f"[{'PASS' if ok else 'FAIL'}] k={k}: {learned} {mean[i, j]:.4f} beats "
            f"every fixed metric (best: {best} {mean[names.index(best), j]:.4f})"
        )
    return lines


def as_good_as_best(result, learned: str, dataset: str) -> list[str]:
    """Real-data target: no worse than the best fixed metric beyond noise."""
    names, mean = result.methods, result.mean_scores()
    sign = 1.0 if result.greater_is_better else -1.0
    i = names.index(learned)
    lines = []
    for j, k in enumerate(result.ks):
        others = [n for n in names if n != learned]
        best = max(others, key=lambda n: sign * mean[names.index(n), j])
        b = names.index(best)
        diff = sign * (result.scores[i, j] - result.scores[b, j])
        se = diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else 0.0
        ok = diff.mean() >= -se
        lines.append(
            f"[{'PASS' if ok else 'FAIL'}] {dataset} k={k}: {learned} "
            f"{mean[i, j]:.4f} vs best fixed {best} {mean[b, j]:.4f} "
            f"(difference {diff.mean():+.4f}, standard error {se:.4f})"
        )
    return lines


def synthetic(args) -> list[str]:
    X, y, tasks = make_tasks(random_state=args.random_state)
    metrics = [*fixed_feature_metrics(), "learned"]
    print(
        f"\n== (1) synthetic: {np.unique(tasks).size} tasks x "
        f"{X.shape[0] // np.unique(tasks).size} rows, {N_INPUTS} inputs; task "
        f"features 'moments' ({2 * N_INPUTS}: 2 relevant) =="
    )
    methods = metric_methods(lambda m: TransferRegressor(metric=m), metrics)
    result = run(X, y, tasks, methods, args, "mse")
    lines = beats_every_fixed(result, "metric='learned'")
    # which task features matter: the metric learned on all tasks
    model = TransferRegressor(metric="learned").fit(X, y, tasks=tasks)
    metric = model.metric_
    truth = synthetic_truth()
    print("\nlearned weight of each task feature (fit on all tasks) vs the truth:")
    for name, weight, relevant in zip(
        metric.feature_names_in_, metric.feature_weights_, truth, strict=True
    ):
        print(f"  {name:10s} {weight:6.3f}  {'relevant' if relevant else '-'}")
    print(
        f"leave-one-out error of the task models: {metric.loss_:.3f} learned, "
        f"{metric.initial_loss_:.3f} with every task feature alike"
    )
    top = set(np.argsort(-metric.feature_weights_)[: truth.sum()])
    share = metric.feature_weights_[truth].sum()
    ok = top == set(np.flatnonzero(truth))
    lines.append(
        f"[{'PASS' if ok else 'FAIL'}] the two heaviest task features are the "
        f"relevant ones (mean_x0, mean_x1): {share:.1%} of the weight"
    )
    return lines


def hsb(args) -> list[str]:
    X, y, tasks = load_hsb(return_X_y_tasks=True)
    metrics = [*fixed_feature_metrics(), "learned"]
    print("\n== (2) High School and Beyond (160 schools): TransferRegressor ==")
    methods = metric_methods(lambda m: TransferRegressor(metric=m), metrics)
    result = run(X, y, tasks, methods, args, "explained_variance")
    return as_good_as_best(result, "metric='learned'", "HSB")


#: The base classifier of every contraception method (as in bench_real_data.py).
LOGISTIC = LogisticRegression(solver="newton-cholesky", max_iter=1000)


def contraception(args) -> list[str]:
    X, y, tasks = load_contraception(return_X_y_tasks=True)
    metrics = [*fixed_feature_metrics(), "learned"]
    print(
        "\n== (3) Contraception (60 districts): MetricMetaEstimator(LogisticRegression)"
        " =="
    )
    methods = metric_methods(lambda m: MetricMetaEstimator(LOGISTIC, metric=m), metrics)
    result = run(X, y, tasks, methods, args, "log_loss")
    return as_good_as_best(result, "metric='learned'", "contraception")


def speed(args) -> list[str]:
    rng = np.random.default_rng(0)
    F = rng.normal(size=(2000, 12))
    models = np.column_stack([np.sin(F[:, 0]), np.cos(F[:, 1]), F[:, 0] * F[:, 1]])
    models = models + 0.3 * rng.normal(size=models.shape)
    print("\n== (4) speed: one fit of the metric on 2,000 tasks x 12 task features ==")
    lines = []
    for structure in ("diagonal", "low_rank", "full"):
        metric = LearnedMetric(structure=structure)
        start = time.perf_counter()
        metric.fit(F, models)
        seconds = time.perf_counter() - start
        print(
            f"  {structure:8s} {seconds:6.2f} s, {metric.n_iter_} iterations, "
            f"leave-one-out error {metric.initial_loss_:.3f} -> {metric.loss_:.3f}"
        )
        ok = seconds < 5.0
        lines.append(
            f"[{'PASS' if ok else 'FAIL'}] fit of {structure!r} on 2,000 tasks: "
            f"{seconds:.2f} s (target < 5 s)"
        )
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", choices=("synthetic", "hsb", "contraception", "speed")
    )
    parser.add_argument("--quick", action="store_true", help="2 repeats")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--k", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 2
    print(
        f"{datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; estimator "
        f"defaults: TransferRegressor(transfer={TransferRegressor().transfer!r}), "
        f"MetricMetaEstimator(transfer="
        f"{MetricMetaEstimator(LOGISTIC).transfer!r})"
    )
    parts = {
        "synthetic": synthetic,
        "hsb": hsb,
        "contraception": contraception,
        "speed": speed,
    }
    lines = []
    for name, part in parts.items():
        if args.only in (None, name):
            lines += part(args)
    print("\n== targets ==")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
