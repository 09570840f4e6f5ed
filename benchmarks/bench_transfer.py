"""TransferRegressor: few-shot accuracy on related tasks, and fit time at scale.

(a) Accuracy. 20 source tasks of 200 rows and one target task with 5, 10 or 20
labelled rows, all drawn around a common centre (see ``related_tasks``); the
error is the mean squared error on 2,000 held-out rows of the target, averaged
over ``--repeats`` seeds. Methods:

- ``TransferRegressor()`` with its defaults (fitted on the sources' and the
  target's labelled rows; the target predicted with its own model);
- target-only ridge (``Ridge(alpha=1)`` on the target's rows);
- pooled ridge (``Ridge(alpha=1)`` on all rows, sources and target);
- biased regularisation toward a single pooled source: the target's fit
  ``argmin ||y - c - X w||^2 + lam ||w - w0||^2`` (free intercept), with
  ``w0`` the ridge fit on all the sources' rows pooled and ``lam`` chosen on
  the target's rows by exact leave-one-out over the grid of ``PriorTransfer``;
- statsmodels' ``MixedLM`` (random intercept and slopes) when installed.

(b) Speed. Fit time of ``TransferRegressor`` against a Python loop of per-task
``sklearn.linear_model.Ridge`` fits (rows grouped beforehand, not timed), on
2,000 tasks x 50 rows x 20 features, and of ``TransferRegressor`` alone on
100,000 tasks x 20 rows x 10 features with ``n_neighbors=10``.

Run from the repository root (timings on a shared machine are noisy)::

    python benchmarks/bench_transfer.py                 # both parts
    python benchmarks/bench_transfer.py --only accuracy --repeats 20
    python benchmarks/bench_transfer.py --only speed
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time

import numpy as np
from sklearn.linear_model import Ridge, RidgeCV

from sk_metameta import TransferRegressor, check_tasks
from sk_metameta.transfer import PriorTransfer
from sk_metameta.transfer._rules import DEFAULT_STRENGTHS


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.node()}: {cpu}, {os.cpu_count()} logical cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )


# -- data -----------------------------------------------------------------------------
def related_tasks(n_rows, n_features=5, *, rng, shift=0.5, spread=0.3, noise=1.0):
    """Tasks around a common centre; tasks with similar inputs are similar.

    Every task ``t`` has a feature mean ``m_t ~ N(0, shift^2 I)`` and rows
    ``x ~ N(m_t, I)``. Its parameters depend smoothly on ``m_t`` around the
    common centre ``(c, w)``: ``w_t = w + A m_t / sqrt(p) + spread * e_t`` and
    ``c_t = c + a . m_t + spread * e'_t``, with ``A``, ``a`` fixed for the
    draw and ``e_t``, ``e'_t`` standard normal. ``y = c_t + x . w_t + noise * e``.
    """
    p = n_features
    w = rng.normal(size=p)
    c = rng.normal()
    A = rng.normal(size=(p, p))
    a = rng.normal(size=p)
    Xs, ys, ts = [], [], []
    for t, n in enumerate(n_rows):
        m = shift * rng.normal(size=p)
        w_t = w + A @ m / np.sqrt(p) + spread * rng.normal(size=p)
        c_t = c + a @ m / np.sqrt(p) + spread * rng.normal()
        X = m + rng.normal(size=(n, p))
        Xs.append(X)
        ys.append(c_t + X @ w_t + noise * rng.normal(size=n))
        ts.append(np.full(n, t))
    return np.vstack(Xs), np.concatenate(ys), np.concatenate(ts)


# -- baselines ------------------------------------------------------------------------
def biased_regularisation(Xs, ys, Xt, yt, grid=DEFAULT_STRENGTHS):
    """Target fit pulled toward one pooled source model, lam by leave-one-out."""
    w0 = Ridge(alpha=1.0).fit(Xs, ys).coef_
    xm, ym = Xt.mean(axis=0), yt.mean()
    Xc, yc = Xt - xm, yt - ym
    n, p = Xc.shape
    best = (np.inf, w0)
    for lam in grid:
        A = Xc.T @ Xc + lam * np.eye(p)
        if lam == 0:
            A += 1e-10 * np.eye(p)
        A_inv = np.linalg.inv(A)
        w = A_inv @ (Xc.T @ yc + lam * w0)
        # free intercept: the hat matrix of the centred fit plus 1/n
        lev = 1.0 / n + np.einsum("ij,jk,ik->i", Xc, A_inv, Xc)
        resid = yc - Xc @ w
        with np.errstate(divide="ignore", invalid="ignore"):
            loo = np.mean((resid / (1.0 - lev)) ** 2)
        if np.isfinite(loo) and loo < best[0]:
            best = (loo, w)
    w = best[1]
    return w, ym - xm @ w


def mixedlm_predict(X, y, tasks, target, X_test):
    import warnings

    import statsmodels.api as sm

    exog = np.column_stack([np.ones(X.shape[0]), X])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sm.MixedLM(y, exog, tasks, exog).fit(reml=True)
    re = np.asarray(result.random_effects[target])
    beta = np.asarray(result.fe_params)
    Z = np.column_stack([np.ones(X_test.shape[0]), X_test])
    return Z @ (beta + re)


def accuracy(args) -> list[str]:
    sizes = (5, 10, 20)
    try:
        import statsmodels  # noqa: F401

        with_mixed = not args.no_mixedlm
    except ImportError:
        with_mixed = False
    names = ["TransferRegressor()", "target-only ridge", "pooled ridge"]
    names += ["biased reg. to pooled source"]
    names += ["MixedLM"] if with_mixed else []
    errors = {name: np.zeros((len(sizes), args.repeats)) for name in names}
    for seed in range(args.repeats):
        rng = np.random.default_rng(seed)
        n_rows = [200] * 20 + [20 + 2000]
        X, y, tasks = related_tasks(n_rows, rng=rng)
        target = 20
        rows_t = np.flatnonzero(tasks == target)
        test = rows_t[20:]
        src = tasks != target
        for i, k in enumerate(sizes):
            lab = rows_t[:k]
            train = np.concatenate([np.flatnonzero(src), lab])
            Xtr, ytr, ttr = X[train], y[train], tasks[train]
            Xte, yte = X[test], y[test]
            preds = {}
            model = TransferRegressor().fit(Xtr, ytr, tasks=ttr)
            preds[names[0]] = model.predict(Xte, tasks=np.full(test.size, target))
            preds[names[1]] = Ridge(alpha=1.0).fit(X[lab], y[lab]).predict(Xte)
            preds[names[2]] = Ridge(alpha=1.0).fit(Xtr, ytr).predict(Xte)
            w, c = biased_regularisation(X[src], y[src], X[lab], y[lab])
            preds[names[3]] = Xte @ w + c
            if with_mixed:
                preds["MixedLM"] = mixedlm_predict(Xtr, ytr, ttr, target, Xte)
            for name, pred in preds.items():
                errors[name][i, seed] = np.mean((pred - yte) ** 2)
    header = ["method"] + [f"k={k}" for k in sizes]
    rows = [
        [name] + [f"{errors[name][i].mean():.3f}" for i in range(len(sizes))]
        for name in names
    ]
    table = _table(header, rows)
    tr = errors[names[0]].mean(axis=1)
    checks = []
    for i, k in enumerate(sizes):
        others = {n: errors[n][i].mean() for n in names[1:4]}
        best = min(others, key=others.get)
        ok = tr[i] < others[best]
        checks.append(
            f"[{'PASS' if ok else 'FAIL'}] k={k}: TransferRegressor() {tr[i]:.3f} < "
            f"best baseline ({best}) {others[best]:.3f}"
        )
    return [
        f"(a) accuracy: test MSE of the target (20 sources x 200 rows, 5 features, "
        f"noise variance 1), mean over {args.repeats} seeds; lower is better",
        table,
        *checks,
    ]


# -- speed ----------------------------------------------------------------------------
def best_time(func, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def speed(args) -> list[str]:
    lines = []
    rng = np.random.default_rng(0)
    n_tasks, n_rows, p = 2000, 50, 20
    X, y, tasks = related_tasks([n_rows] * n_tasks, p, rng=rng)
    index = check_tasks(tasks)
    groups = [index.rows(t) for t in range(index.n_tasks)]
    loop = best_time(
        lambda: [Ridge(alpha=1.0).fit(X[r], y[r]) for r in groups], args.time_repeats
    )
    # the like-for-like baseline of the defaults, which choose a strength per task
    loop_cv = best_time(
        lambda: [
            RidgeCV(alphas=DEFAULT_STRENGTHS[DEFAULT_STRENGTHS > 0]).fit(X[r], y[r])
            for r in groups
        ],
        1,
    )
    rows = [
        ["loop of per-task Ridge", f"{loop:.3f}", "1.0x", ""],
        [
            "loop of per-task RidgeCV (LOO strength)",
            f"{loop_cv:.3f}",
            f"{loop / loop_cv:.1f}x",
            "1.0x",
        ],
    ]
    ratios = {}
    for label, params in [
        ("TransferRegressor(transfer='none')", dict(transfer="none")),
        (
            "TransferRegressor(transfer=PriorTransfer(strength=10))",
            dict(transfer=PriorTransfer(strength=10.0)),
        ),
        ("TransferRegressor() (defaults)", {}),
        ("TransferRegressor(n_neighbors=10)", dict(n_neighbors=10)),
    ]:
        seconds = best_time(
            lambda params=params: TransferRegressor(**params).fit(X, y, tasks=tasks),
            args.time_repeats,
        )
        ratios[label] = loop / seconds
        rows.append(
            [
                label,
                f"{seconds:.3f}",
                f"{loop / seconds:.1f}x",
                f"{loop_cv / seconds:.1f}x",
            ]
        )
    lines.append(f"(b) speed: {n_tasks:,} tasks x {n_rows} rows x {p} features")
    lines.append(_table(["method", "fit s", "vs Ridge loop", "vs RidgeCV loop"], rows))
    for label, ratio in ratios.items():
        ok = ratio >= 20
        lines.append(
            f"[{'PASS' if ok else 'FAIL'}] {label}: {ratio:.1f}x faster than the "
            "loop (target >= 20x)"
        )
    n_tasks, n_rows, p = 100_000, 20, 10
    X, y, tasks = related_tasks([n_rows] * n_tasks, p, rng=rng)
    start = time.perf_counter()
    TransferRegressor(n_neighbors=10).fit(X, y, tasks=tasks)
    seconds = time.perf_counter() - start
    lines.append(
        f"(b) speed: {n_tasks:,} tasks x {n_rows} rows x {p} features, "
        f"TransferRegressor(n_neighbors=10): {seconds:.1f} s"
    )
    lines.append(
        f"[{'PASS' if seconds < 30 else 'FAIL'}] {seconds:.1f} s < 30 s "
        "(one fit, neighbour index)"
    )
    return lines


def _table(header, rows) -> str:
    widths = [max(len(str(r[c])) for r in [header, *rows]) for c in range(len(header))]
    out = []
    for r in [header, *rows]:
        cells = [str(r[0]).ljust(widths[0])]
        cells += [str(v).rjust(w) for v, w in zip(r[1:], widths[1:], strict=True)]
        out.append("  ".join(cells))
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["accuracy", "speed"])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--time-repeats", type=int, default=3)
    parser.add_argument("--no-mixedlm", action="store_true")
    args = parser.parse_args(argv)
    print(f"date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"machine: {machine()}")
    print(f"command: python benchmarks/bench_transfer.py {' '.join(sys.argv[1:])}")
    lines = []
    if args.only in (None, "accuracy"):
        lines += accuracy(args)
    if args.only in (None, "speed"):
        lines += speed(args)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
