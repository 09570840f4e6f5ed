"""Built-in task feature extractors against the per-task loops a user would write.

For ``n_tasks`` tasks of ``n_rows`` rows and ``n_features`` columns (rows of the
tasks interleaved, as they come in a real dataset), each extractor computes all
tasks at once; the baselines loop over the tasks in Python (rows grouped once by
a sort, then one numpy computation per task, or one scikit-learn fit per task),
and, where pymfe installs, its extraction of the comparable meta-features per
task. Prints a table of times (best of at least ``--repeat`` runs, and of as
many as fit in a second for ours and the numpy loops; the machine may be shared,
so times are noisy), the peak memory of each extractor, and the largest
difference between the extractor and the loops (a correctness check).

Usage::

    python benchmarks/bench_task_features.py [--n-tasks 200] [--n-rows 200]
        [--n-features 20] [--repeat 5] [--pymfe-tasks 10] [--no-pymfe]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import tracemalloc
import warnings

import numpy as np
import scipy
import sklearn
from scipy.spatial.distance import cdist
from sklearn.kernel_approximation import RBFSampler
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.neighbors import NearestNeighbors

from sk_metameta.task_features import (
    CoefFeatures,
    KernelMeanFeatures,
    LandmarkFeatures,
    MomentFeatures,
    MomentXYFeatures,
)

ALPHA = 1.0


# -- data and timing ------------------------------------------------------------
def make_data(n_tasks, n_rows, n_features, seed=0):
    """Related linear tasks with shifted inputs; rows of the tasks interleaved."""
    rng = np.random.default_rng(seed)
    tasks = np.repeat(np.arange(n_tasks), n_rows)
    shift = rng.normal(size=(n_tasks, n_features))
    X = rng.normal(size=(tasks.size, n_features)) + shift[tasks]
    coef = rng.normal(size=n_features) + 0.5 * rng.normal(size=(n_tasks, n_features))
    y = np.einsum("ij,ij->i", X, coef[tasks]) + rng.normal(size=tasks.size)
    perm = rng.permutation(tasks.size)
    return X[perm], y[perm], tasks[perm]


def best_time(func, repeat, min_total=0.0):
    """Best wall time (seconds) of at least ``repeat`` calls, and the last result.

    Calls go on until they took ``min_total`` seconds in all (at most 100 calls),
    so that a short computation gets many chances on a busy machine.
    """
    best, out, total, calls = np.inf, None, 0.0, 0
    while calls < max(repeat, 1) or (total < min_total and calls < 100):
        start = time.perf_counter()
        out = func()
        elapsed = time.perf_counter() - start
        best, total, calls = min(best, elapsed), total + elapsed, calls + 1
    return best, out


def peak_mb(func):
    """Peak memory allocated while ``func`` runs (numpy reports to tracemalloc)."""
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def groups(X, y, tasks):
    """Rows of each task, grouped once by a sort (what a careful loop does)."""
    _, codes = np.unique(tasks, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    cuts = np.cumsum(np.bincount(codes))[:-1]
    return list(zip(np.split(X[order], cuts), np.split(y[order], cuts), strict=True))


# -- per-task loops (numpy) ----------------------------------------------------
def loop_moments(X, y, tasks):
    return np.array([np.r_[Xt.mean(0), Xt.std(0)] for Xt, _ in groups(X, y, tasks)])


def loop_moments_xy(X, y, tasks):
    rows = []
    for Xt, yt in groups(X, y, tasks):
        A = np.column_stack([Xt, yt])
        mean, std = A.mean(0), A.std(0)
        Ac = A - mean
        corr = Ac[:, :-1].T @ Ac[:, -1] / len(yt) / (std[:-1] * std[-1])
        rows.append(np.r_[mean, std, corr])
    return np.array(rows)


def loop_coef(X, y, tasks):
    rows = []
    for Xt, yt in groups(X, y, tasks):
        xm, ym = Xt.mean(0), yt.mean()
        Xc = Xt - xm
        w = np.linalg.solve(Xc.T @ Xc + ALPHA * np.eye(Xt.shape[1]), Xc.T @ (yt - ym))
        rows.append(np.r_[w, ym - xm @ w])
    return np.array(rows)


def loop_landmarks(X, y, tasks):
    rows = []
    for Xt, yt in groups(X, y, tasks):
        n = len(yt)
        Xc, yc = Xt - Xt.mean(0), yt - yt.mean()
        mean = np.sqrt(np.mean((yc * n / (n - 1)) ** 2))
        sxx = (Xc**2).sum(0) + ALPHA
        resid = (yc[:, None] - Xc * (Xc.T @ yc / sxx)) / (1 - 1 / n - Xc**2 / sxx)
        univariate = np.sqrt((resid**2).mean(0).min())
        inverse = np.linalg.inv(Xc.T @ Xc + ALPHA * np.eye(Xt.shape[1]))
        hat = 1 / n + np.einsum("ij,jk,ik->i", Xc, inverse, Xc)
        ridge = np.sqrt(np.mean(((yc - Xc @ (inverse @ (Xc.T @ yc))) / (1 - hat)) ** 2))
        dist = cdist(Xt, Xt, "sqeuclidean")
        np.fill_diagonal(dist, np.inf)
        nn = np.sqrt(np.mean((yt - yt[dist.argmin(1)]) ** 2))
        rows.append([mean, univariate, ridge, nn])
    return np.array(rows)


def loop_kernel_mean(fitted):
    W, b = fitted.random_weights_, fitted.random_offset_
    scale = np.sqrt(2.0 / W.shape[1])

    def run(X, y, tasks):
        return np.array(
            [scale * np.cos(Xt @ W + b).mean(0) for Xt, _ in groups(X, y, tasks)]
        )

    return run


# -- per-task loops (scikit-learn) ----------------------------------------------
def sklearn_coef(X, y, tasks):
    rows = []
    for Xt, yt in groups(X, y, tasks):
        model = Ridge(alpha=ALPHA).fit(Xt, yt)
        rows.append(np.r_[model.coef_, model.intercept_])
    return np.array(rows)


def sklearn_landmarks(X, y, tasks):
    """RidgeCV's efficient leave-one-out, per task and per column; 1-NN by a tree."""
    rows = []
    for Xt, yt in groups(X, y, tasks):
        n = len(yt)
        mean = np.sqrt(np.mean(((yt - yt.mean()) * n / (n - 1)) ** 2))

        def loo_rmse(A, yt=yt):
            model = RidgeCV(alphas=[ALPHA], store_cv_results=True).fit(A, yt)
            return np.sqrt(model.cv_results_.mean())

        univariate = min(loo_rmse(Xt[:, [j]]) for j in range(Xt.shape[1]))
        ridge = loo_rmse(Xt)
        neighbours = NearestNeighbors(n_neighbors=2).fit(Xt).kneighbors(Xt)[1]
        nn = np.sqrt(np.mean((yt - yt[neighbours[:, 1]]) ** 2))
        rows.append([mean, univariate, ridge, nn])
    return np.array(rows)


def sklearn_kernel_mean(fitted):
    sampler = RBFSampler(
        gamma=fitted.gamma_, n_components=fitted.random_weights_.shape[1]
    ).fit(np.zeros((1, fitted.random_weights_.shape[0])))
    sampler.random_weights_ = fitted.random_weights_
    sampler.random_offset_ = fitted.random_offset_

    def run(X, y, tasks):
        return np.array(
            [sampler.transform(Xt).mean(0) for Xt, _ in groups(X, y, tasks)]
        )

    return run


# -- pymfe ----------------------------------------------------------------------
def pymfe_runner(n_tasks_timed):
    """pymfe extraction per task, or the reason it is unavailable."""
    try:
        from pymfe.mfe import MFE
    except Exception as exc:  # not installed, or fails to import
        return None, f"pymfe unavailable: {type(exc).__name__}: {exc}"

    def make(features, groups_, y_kind):
        def run(X, y, tasks):
            target = (y > np.median(y)).astype(int) if y_kind == "class" else y
            grouped = groups(X, target, tasks)[:n_tasks_timed]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for Xt, yt in grouped:
                    mfe = MFE(groups=groups_, features=features, summary=[])
                    mfe.fit(
                        Xt, None if y_kind == "none" else yt, suppress_warnings=True
                    )
                    mfe.extract(suppress_warnings=True)
            return len(grouped)

        return run

    import pymfe

    runners = {
        "moments": make(["mean", "sd"], ["statistical"], "none"),
        "landmarks": make("all", ["landmarking"], "class"),
    }
    return runners, f"pymfe {pymfe.__version__}"


# -- main -----------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-tasks", type=int, default=200)
    parser.add_argument("--n-rows", type=int, default=200)
    parser.add_argument("--n-features", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--pymfe-tasks",
        type=int,
        default=10,
        help="tasks pymfe extracts (its time is scaled to all tasks)",
    )
    parser.add_argument("--no-pymfe", action="store_true")
    args = parser.parse_args(argv)

    X, y, tasks = make_data(args.n_tasks, args.n_rows, args.n_features)
    print(
        f"{args.n_tasks} tasks x {args.n_rows} rows x {args.n_features} features "
        f"({X.shape[0]} rows); numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    if args.no_pymfe:
        pymfe, pymfe_note = None, "pymfe not run (--no-pymfe)"
    else:
        pymfe, pymfe_note = pymfe_runner(min(args.pymfe_tasks, args.n_tasks))
    print(pymfe_note)

    kernel = KernelMeanFeatures(random_state=0).fit(X, tasks=tasks)
    cases = [
        ("moments", MomentFeatures(), loop_moments, None),
        (
            "moments (1-4, log n)",
            MomentFeatures(moments=(1, 2, 3, 4), log_size=True),
            None,
            None,
        ),
        ("moments_xy", MomentXYFeatures(), loop_moments_xy, None),
        ("coef", CoefFeatures(alpha=ALPHA), loop_coef, sklearn_coef),
        ("landmarks", LandmarkFeatures(alpha=ALPHA), loop_landmarks, sklearn_landmarks),
        ("landmarks (2 classes)", LandmarkFeatures(alpha=ALPHA), None, None),
        ("kernel_mean (fit+transform)", KernelMeanFeatures(random_state=0), None, None),
        (
            "kernel_mean (transform)",
            kernel,
            loop_kernel_mean(kernel),
            sklearn_kernel_mean(kernel),
        ),
    ]
    header = (
        f"{'extractor':<28} {'ours ms':>9} {'peak MB':>8} {'numpy loop':>11} "
        f"{'speed-up':>9} {'sklearn loop':>13} {'pymfe':>10} {'max |diff|':>11}"
    )
    print(header)
    print("-" * len(header))
    y_class = (y > np.median(y)).astype(int)
    for name, extractor, numpy_loop, sklearn_loop in cases:
        target = y_class if "classes" in name else y
        if name.startswith("kernel_mean (transform)"):

            def ours(extractor=extractor, target=target):
                return extractor.transform(X, target, tasks=tasks)

        else:

            def ours(extractor=extractor, target=target):
                return extractor.fit_transform(X, target, tasks=tasks)

        t_ours, F = best_time(ours, args.repeat, min_total=1.0)
        memory = peak_mb(ours)
        row = f"{name:<28} {1e3 * t_ours:>9.1f} {memory:>8.1f} "
        if numpy_loop is not None:
            t_loop, F_loop = best_time(
                lambda f=numpy_loop, t=target: f(X, t, tasks), args.repeat, 1.0
            )
            diff = np.abs(F - F_loop).max()
            row += f"{1e3 * t_loop:>11.1f} {t_loop / t_ours:>8.1f}x "
        else:
            diff = None
            row += f"{'-':>11} {'-':>9} "
        if sklearn_loop is not None:
            t_sk, F_sk = best_time(lambda f=sklearn_loop, t=target: f(X, t, tasks), 1)
            diff = max(diff, np.abs(F - F_sk).max()) if diff is not None else None
            row += f"{1e3 * t_sk:>13.1f} "
        else:
            row += f"{'-':>13} "
        key = name.split(" ")[0] if "classes" not in name else "landmarks"
        if (
            pymfe is not None
            and key in pymfe
            and (name in ("moments", "landmarks (2 classes)"))
        ):
            t_mfe, done = best_time(lambda r=pymfe[key]: r(X, y, tasks), 1)
            t_mfe *= args.n_tasks / done
            row += f"{1e3 * t_mfe:>10.0f} "
        else:
            row += f"{'-':>10} "
        row += f"{diff:>11.1e}" if diff is not None else f"{'-':>11}"
        print(row)
    print(
        "\nours: all tasks at once (rows grouped by TaskIndex, vectorized segment "
        "reductions, batched solves);\nnumpy loop: one numpy computation per task "
        "after one sort; sklearn loop: Ridge (coef), RidgeCV's leave-one-out and "
        "NearestNeighbors (landmarks), RBFSampler (kernel_mean) per task;\npymfe: "
        "per task, 'mean'+'sd' (moments) and the landmarking group on a 2-class "
        f"target (its own cross-validated learners, not the same ones), timed on "
        f"{min(args.pymfe_tasks, args.n_tasks)} tasks and scaled to all;\nmax |diff|:"
        " largest difference between ours and the loops (same features)."
    )


if __name__ == "__main__":
    main()
