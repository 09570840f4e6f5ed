"""TransferClassifier on contraception: few-shot log loss against the baselines.

Contraceptive use of 1,934 women in 60 districts of Bangladesh (one task per
district). Protocol of ``sk_metameta.model_selection.few_shot_evaluation``: the
districts are split into 5 folds; the districts of a fold are targets with k
labelled women each, every other district is a source with all its women; every
method is fitted once per fold and k and scored (log loss) on the targets'
held-out women. Methods:

- ``TransferClassifier()`` (defaults: logistic models under the prior learned
  across districts);
- per-district, pooled, and pooled + district intercept logistic regression;
- ``MetricMetaEstimator(LogisticRegression(), transfer="instance")``;
- statsmodels ``BinomialBayesMixedGLM`` (random district intercept, and random
  intercept + urban slope), fitted by variational Bayes.

Run from the repository root::

    python benchmarks/bench_transfer_classifier.py              # 3 repeats
    python benchmarks/bench_transfer_classifier.py --repeats 1
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
import warnings

import numpy as np
from bench_transfer import machine, verdict
from scipy import sparse
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from sk_metameta import MetricMetaEstimator, TransferClassifier
from sk_metameta.datasets import load_contraception
from sk_metameta.model_selection import PerTaskModel, PooledModel, few_shot_evaluation


class BayesMixedGLMClassifier(ClassifierMixin, BaseEstimator):
    """statsmodels BinomialBayesMixedGLM as a task-aware classifier.

    Random intercept per task, and a random slope per task on each column of
    ``random_slopes``; variational Bayes (``fit_vb``). A task not seen in fit
    gets the fixed effects only.
    """

    def __init__(self, random_slopes=()):
        self.random_slopes = random_slopes

    def _design(self, X, codes):
        n = X.shape[0]
        rows = np.arange(n)
        blocks = [sparse.csr_array((np.ones(n), (rows, codes)), (n, self.n_groups_))]
        for j in self.random_slopes:
            blocks.append(
                sparse.csr_array((X[:, j], (rows, codes)), (n, self.n_groups_))
            )
        return np.column_stack([np.ones(n), X]), sparse.hstack(blocks).tocsr()

    def fit(self, X, y, *, tasks):
        from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

        X = np.asarray(X, float)
        self.classes_, yy = np.unique(y, return_inverse=True)
        self.groups_, codes = np.unique(tasks, return_inverse=True)
        self.n_groups_ = self.groups_.size
        exog, exog_vc = self._design(X, codes)
        ident = np.repeat(np.arange(1 + len(self.random_slopes)), self.n_groups_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = BinomialBayesMixedGLM(yy, exog, exog_vc.toarray(), ident)
            result = model.fit_vb()
        self.fe_ = np.asarray(result.fe_mean)
        self.vc_ = np.asarray(result.vc_mean)
        return self

    def predict_proba(self, X, *, tasks):
        X = np.asarray(X, float)
        tasks = np.asarray(tasks)
        pos = np.clip(np.searchsorted(self.groups_, tasks), 0, self.n_groups_ - 1)
        seen = self.groups_[pos] == tasks
        exog, exog_vc = self._design(X, pos)
        eta = exog @ self.fe_ + np.where(seen, exog_vc @ self.vc_, 0.0)
        p = expit(eta)
        return np.column_stack([1 - p, p])

    def predict(self, X, *, tasks):
        return self.classes_[self.predict_proba(X, tasks=tasks).argmax(axis=1)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--k", type=int, nargs="+", default=[5, 10, 20])
    args = parser.parse_args(argv)
    print(f"date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"machine: {machine()}")
    print(
        f"command: python benchmarks/bench_transfer_classifier.py "
        f"{' '.join(sys.argv[1:])}"
    )
    X, y, tasks = load_contraception(return_X_y_tasks=True)
    logistic = LogisticRegression(solver="newton-cholesky", max_iter=1000)
    methods = {
        "TransferClassifier()": TransferClassifier(),
        "per-district logistic": PerTaskModel(logistic),
        "pooled logistic": PooledModel(logistic),
        "pooled + district intercept": PooledModel(logistic, task_intercept=True),
        "MetricMetaEstimator (instance)": MetricMetaEstimator(
            logistic, transfer="instance"
        ),
        "BinomialBayesMixedGLM (intercept)": BayesMixedGLMClassifier(),
        "BinomialBayesMixedGLM (intercept + urban)": BayesMixedGLMClassifier((2,)),
    }
    start = time.perf_counter()
    result = few_shot_evaluation(
        X,
        y,
        tasks,
        methods,
        args.k,
        n_repeats=args.repeats,
        scoring="log_loss",
        random_state=0,
        progress=False,
    )
    print(result.table())
    print(f"(wall time {time.perf_counter() - start:.0f} s)")
    names = result.methods
    mean = result.mean_scores()
    per_fit = result.fit_times.sum(axis=(1, 2)) / (
        result.n_folds * len(result.ks) * result.n_repeats
    )
    ours = names.index("TransferClassifier()")
    for j, k in enumerate(result.ks):
        others = [i for i in range(len(names)) if i != ours]
        best = others[int(np.argmin(mean[others, j]))]
        ok = mean[ours, j] < mean[best, j]
        print(
            f"[{verdict(ok)}] k={k}: TransferClassifier() {mean[ours, j]:.4f} < best "
            f"other ({names[best]}) {mean[best, j]:.4f}"
        )
    print(
        f"[{verdict(per_fit[ours] < 1.0)}] fit time of TransferClassifier() "
        f"{per_fit[ours]:.3f} s per fit (target < 1 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
