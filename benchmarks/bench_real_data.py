"""Few-shot accuracy and fit time on the two real datasets shipped with the package.

High School and Beyond (regression, 160 schools): TransferRegressor with its
defaults and with every transfer rule it supports, against target-only ridge,
pooled ridge, pooled ridge with a per-school intercept, and statsmodels MixedLM
(random intercept; random intercept and SES slope). Score: explained variance of
the targets' held-out students, pooled over rows.

Contraception (binary, 60 districts): MetricMetaEstimator around
LogisticRegression, with its defaults (``transfer="auto"``) and with every
built-in rule, against per-district and pooled logistic regression and pooled
with a per-district intercept. Score: log loss of the targets' held-out women.

Protocol (``sk_metameta.model_selection.few_shot_evaluation``): tasks split into
folds; the tasks of a fold are targets with k labelled rows each, all other tasks
are sources with all their rows; every method is fitted once per fold and k.

Run from the repository root::

    python benchmarks/bench_real_data.py                # full run
    python benchmarks/bench_real_data.py --quick        # 1 repeat, 5 folds
    python benchmarks/bench_real_data.py --only hsb     # or: contraception
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
import warnings
from dataclasses import replace

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from sk_metameta.cli import demo_methods
from sk_metameta.datasets import load_contraception, load_hsb
from sk_metameta.model_selection import PerTaskModel, PooledModel, few_shot_evaluation


class MixedLMRegressor(RegressorMixin, BaseEstimator):
    """statsmodels MixedLM as a task-aware regressor (fixed effects + BLUPs).

    ``random_slopes`` lists the columns of X with a random slope per task (on top
    of the random intercept). Prediction for a task seen in fit adds its
    predicted random effects (BLUPs) to the fixed part; an unseen task gets the
    fixed part only.
    """

    def __init__(self, random_slopes=(), reml=True):
        self.random_slopes = random_slopes
        self.reml = reml

    def _design(self, X):
        X = np.asarray(X, dtype=float)
        exog = np.column_stack([np.ones(X.shape[0]), X])
        exog_re = np.column_stack(
            [np.ones(X.shape[0]), *[X[:, j] for j in self.random_slopes]]
        )
        return exog, exog_re

    def fit(self, X, y, *, tasks):
        import statsmodels.api as sm
        from statsmodels.tools.sm_exceptions import ConvergenceWarning

        exog, exog_re = self._design(X)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = sm.MixedLM(np.asarray(y, float), exog, np.asarray(tasks), exog_re)
            result = model.fit(reml=self.reml)
        self.converged_ = bool(result.converged) and not any(
            issubclass(w.category, ConvergenceWarning) for w in caught
        )
        self.fe_params_ = np.asarray(result.fe_params)
        re = result.random_effects
        self.tasks_ = np.array(sorted(re))
        self.random_effects_ = np.array([np.asarray(re[t]) for t in self.tasks_])
        return self

    def predict(self, X, *, tasks):
        check_is_fitted(self)
        exog, exog_re = self._design(X)
        tasks = np.asarray(tasks)
        pos = np.clip(np.searchsorted(self.tasks_, tasks), 0, self.tasks_.size - 1)
        seen = self.tasks_[pos] == tasks
        re = np.where(seen[:, None], self.random_effects_[pos], 0.0)
        return exog @ self.fe_params_ + np.einsum("ij,ij->i", exog_re, re)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.node()}: {cpu}, {os.cpu_count()} logical cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )


def hsb_benchmark(args) -> dict:
    X, y, tasks = load_hsb(return_X_y_tasks=True)
    methods = demo_methods()
    methods["MixedLM (random intercept)"] = MixedLMRegressor()
    methods["MixedLM (random intercept + SES slope)"] = MixedLMRegressor(
        random_slopes=(2,)
    )
    # the like-for-like model of the default (random intercept and every slope)
    methods["MixedLM (random intercept + all slopes)"] = MixedLMRegressor(
        random_slopes=(0, 1, 2)
    )
    start = time.perf_counter()
    result = few_shot_evaluation(
        X,
        y,
        tasks,
        methods,
        args.k,
        n_folds=args.folds,
        n_repeats=args.repeats,
        random_state=args.random_state,
        progress=not args.quiet,
    )
    print("\n== High School and Beyond (160 schools, 7,185 students) ==")
    print(result.table())
    print(f"(wall time {time.perf_counter() - start:.0f} s)")
    n_fits = result.n_folds * len(result.ks)
    per_fit = result.fit_times.sum(axis=(1, 2)) / (n_fits * result.n_repeats)
    print("\nmean fit time per fit (s):")
    width = max(map(len, result.methods))
    for name, seconds in zip(result.methods, per_fit, strict=True):
        print(f"  {name.ljust(width)}  {seconds:8.4f}")
    return {"result": result, "per_fit": per_fit}


def check_hsb_targets(bench) -> list[str]:
    result, per_fit = bench["result"], bench["per_fit"]
    names = result.methods
    mean = result.mean_scores()
    lines = []
    tr = next(n for n in names if n.startswith("TransferRegressor") and "default" in n)
    i_tr = names.index(tr)
    baselines = ["target-only ridge", "pooled ridge", "pooled + task intercept"]
    best_base = mean[[names.index(b) for b in baselines]].max(axis=0)
    for j, k in enumerate(result.ks):
        ok = mean[i_tr, j] >= best_base[j]
        lines.append(
            f"[{'PASS' if ok else 'FAIL'}] k={k}: {tr} {mean[i_tr, j]:.4f} >= best "
            f"baseline {best_base[j]:.4f}"
        )
    mixed = [n for n in names if n.startswith("MixedLM")]
    i_mixed = [names.index(n) for n in mixed]
    for j, k in enumerate(result.ks):
        best = i_mixed[int(np.argmax(mean[i_mixed, j]))]
        ok = mean[i_tr, j] > mean[best, j]
        lines.append(
            f"[{'PASS' if ok else 'FAIL'}] k={k}: {tr} {mean[i_tr, j]:.4f} > best "
            f"MixedLM ({names[best][8:-1]}) {mean[best, j]:.4f}"
        )
    for i in i_mixed:
        ratio = per_fit[i] / per_fit[i_tr]
        like = "all slopes" in names[i]
        status = ("PASS" if ratio >= 20 else "FAIL") if like else "info"
        lines.append(
            f"[{status}] fit time: {names[i]} {per_fit[i]:.3f} s / {tr} "
            f"{per_fit[i_tr]:.4f} s = {ratio:.0f}x"
            + (" (target >= 20x, the like-for-like model)" if like else "")
        )
    return lines


#: The base classifier of every contraception method (newton-cholesky: the same
#: fits as lbfgs on these 3 features, several times faster on tiny tasks).
LOGISTIC = LogisticRegression(solver="newton-cholesky", max_iter=1000)


def contraception_baselines() -> dict:
    return {
        "per-district logistic": PerTaskModel(LOGISTIC),
        "pooled logistic": PooledModel(LOGISTIC),
        "pooled + district intercept": PooledModel(LOGISTIC, task_intercept=True),
    }


def meta_estimator_variants() -> dict:
    """MetricMetaEstimator with its defaults and with every other built-in rule."""
    from sk_metameta import MetricMetaEstimator
    from sk_metameta.plugins import BUILTIN_PLUGIN, get_registry

    default = MetricMetaEstimator(LOGISTIC)
    variants = {f"MetricMetaEstimator (default: {default.transfer})": default}
    # "auto" chooses between "ensemble" and "instance"; each is reported too
    for c in get_registry().components("transfer_rule"):
        if c.plugin != BUILTIN_PLUGIN or c.name == default.transfer:
            continue
        if c.create().transfers == "parameters":
            continue  # linear models only: TransferRegressor's
        variants[f"MetricMetaEstimator ({c.name})"] = MetricMetaEstimator(
            LOGISTIC, transfer=c.name
        )
    return variants


def merge(results):
    """One FewShotResult from several on the same splits (same seed and data)."""
    first = results[0]
    return replace(
        first,
        methods=[m for r in results for m in r.methods],
        scores=np.concatenate([r.scores for r in results]),
        fit_times=np.concatenate([r.fit_times for r in results]),
    )


def contraception_benchmark(args) -> dict:
    X, y, tasks = load_contraception(return_X_y_tasks=True)
    start = time.perf_counter()
    kwargs = {
        "n_folds": args.folds,
        "n_repeats": args.repeats,
        "scoring": "log_loss",
        "random_state": args.random_state,
        "progress": not args.quiet,
    }
    results = [
        few_shot_evaluation(X, y, tasks, contraception_baselines(), args.k, **kwargs)
    ]
    failures = {}
    for name, model in meta_estimator_variants().items():
        # one evaluation per variant, on the same splits, so that one that fails
        # (an error in some fit) is reported without hiding the others
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                results.append(
                    few_shot_evaluation(X, y, tasks, {name: model}, args.k, **kwargs)
                )
        except ValueError as exc:
            failures[name] = str(exc)
    result = merge(results)
    print("\n== Contraception, Bangladesh (60 districts, 1,934 women) ==")
    print(result.table())
    for name, message in failures.items():
        print(f"{name}: FAILED in fit: {message}")
    print(f"(wall time {time.perf_counter() - start:.0f} s)")
    return {"result": result, "failures": failures}


def check_contraception_targets(bench) -> list[str]:
    result = bench["result"]
    names, mean = result.methods, result.mean_scores()
    default = next(n for n in meta_estimator_variants() if "default" in n)
    lines = []
    for name in (default,):
        if name in bench["failures"]:
            lines.append(f"[FAIL] {name} raised an error: {bench['failures'][name]}")
            continue
        mme = names.index(name)
        for j, k in enumerate(result.ks):
            for base in contraception_baselines():
                b = names.index(base)
                ok = mean[mme, j] < mean[b, j]
                lines.append(
                    f"[{'PASS' if ok else 'FAIL'}] k={k}: {name} log loss "
                    f"{mean[mme, j]:.4f} < {base} {mean[b, j]:.4f}"
                )
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", nargs="+", type=int, default=[5, 10, 20])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--only", choices=["hsb", "contraception"], default=None)
    parser.add_argument("--quick", action="store_true", help="a single repeat")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 1
    print(f"date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"machine: {machine()}")
    arguments = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"command: python benchmarks/bench_real_data.py {arguments}")
    checks = []
    if args.only in (None, "hsb"):
        checks += check_hsb_targets(hsb_benchmark(args))
    if args.only in (None, "contraception"):
        checks += check_contraception_targets(contraception_benchmark(args))
    print("\n== targets ==")
    print("\n".join(checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
