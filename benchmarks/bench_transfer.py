"""Learned transfer for linear models: accuracy against MixedLM and baselines, speed.

(a) Related tasks. 20 source tasks of 200 rows and one target task with 5, 10 or
20 labelled rows, 5 features, all drawn around a common centre (see
``related_tasks``: tasks with similar inputs have similar models); error: mean
squared error on 2,000 held-out rows of the target, over ``--repeats`` seeds.
Methods: ``TransferRegressor()`` (default: the hierarchical prior learned across
tasks), target-only ridge, pooled ridge, biased regularisation toward the pooled
sources (strength by leave-one-out on the target's rows), statsmodels ``MixedLM``
(random intercept and slopes on every feature, REML). Fit times of the default
and of MixedLM are reported side by side.

(m) Mixed-relevance sources. 30 source tasks of 150 rows, 8 features, source
coefficients ``w0 + s_k N(0, I)`` and intercepts ``c0 + s_k N(0, 1)`` with
``s_k`` evenly spread from 0.05 to 3; a target ``w0 + 0.25 N(0, I)`` (intercept
likewise) with k = 4, 8 or 16 labelled rows; every task's rows ``N(0, I)``
(so task features carry no information: relevance must be learned from the
models); noise sd 0.5; 1,000 test rows of the target; ``--repeats`` seeds.
Baselines: target-only ridge, pooled ridge, ridge pulled with a fixed strength
(1, as ``adapt.RegularTransferLR``'s default) toward the pooled fit and toward the
single best source (the one of least error on the target's rows), and MixedLM
with random slopes.

(b) Speed. ``TransferRegressor()`` against a loop of per-task ``Ridge`` on 2,000
tasks x 50 rows x 20 features; ``TransferRegressor()`` on 100,000 tasks x 20 rows
x 10 features; ``TransferClassifier()`` against a loop of per-task
``LogisticRegression`` on 2,000 tasks x 30 rows x 5 features.

Run from the repository root (timings on a shared machine are noisy)::

    python benchmarks/bench_transfer.py                 # every part
    python benchmarks/bench_transfer.py --only accuracy --repeats 20
    python benchmarks/bench_transfer.py --only mixed
    python benchmarks/bench_transfer.py --only speed
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
import warnings

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression, Ridge

from sk_metameta import TransferClassifier, TransferRegressor, check_tasks
from sk_metameta.transfer import PriorTransfer

#: The grid of strengths of the biased-regularisation baseline.
STRENGTHS = np.concatenate(([0.0], np.logspace(-2, 5, 15)))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.node()}: {cpu}, {os.cpu_count()} logical cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


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


def mixed_relevance(seed, p=8, n_sources=30, n_rows=150, n_test=1000, k_max=16):
    """Sources of widely varying relevance around a centre, and a target near it."""
    rng = np.random.default_rng(seed)
    w0, c0 = rng.normal(size=p), rng.normal()
    scales = np.linspace(0.05, 3.0, n_sources)
    Xs, ys, ts = [], [], []
    for k, s in enumerate(scales):
        w, c = w0 + s * rng.normal(size=p), c0 + s * rng.normal()
        X = rng.normal(size=(n_rows, p))
        Xs.append(X)
        ys.append(c + X @ w + 0.5 * rng.normal(size=n_rows))
        ts.append(np.full(n_rows, k))
    w, c = w0 + 0.25 * rng.normal(size=p), c0 + 0.25 * rng.normal()
    Xt = rng.normal(size=(k_max + n_test, p))
    yt = c + Xt @ w + 0.5 * rng.normal(size=Xt.shape[0])
    return np.vstack(Xs), np.concatenate(ys), np.concatenate(ts), Xt, yt


# -- baselines ------------------------------------------------------------------------
def biased_regularisation(Xs, ys, Xt, yt, grid=STRENGTHS):
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


def pulled_toward(X, y, coef, intercept, strength=1.0):
    """Ridge pulled toward ``(intercept, coef)`` with a fixed strength (both terms)."""
    Z = np.column_stack([np.ones(len(X)), X])
    prior = np.r_[intercept, coef]
    A = Z.T @ Z + strength * np.eye(Z.shape[1])
    theta = np.linalg.solve(A, Z.T @ y + strength * prior)
    return theta[1:], theta[0]


def mixedlm_predict(X, y, tasks, target, X_test):
    """statsmodels MixedLM (random intercept and slopes); the target's BLUP model."""
    import statsmodels.api as sm

    exog = np.column_stack([np.ones(X.shape[0]), X])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sm.MixedLM(y, exog, tasks, exog).fit(reml=True)
    re = np.asarray(result.random_effects[target])
    beta = np.asarray(result.fe_params)
    Z = np.column_stack([np.ones(X_test.shape[0]), X_test])
    return Z @ (beta + re)


def timed(func, *args, **kwargs):
    start = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - start


def summary(errors, names, sizes, label):
    header = ["method"] + [f"{label}={k}" for k in sizes]
    rows = [
        [name] + [f"{errors[name][i].mean():.3f}" for i in range(len(sizes))]
        for name in names
    ]
    return _table(header, rows)


# -- (a) related tasks ---------------------------------------------------------------
def accuracy(args) -> list[str]:
    sizes = (5, 10, 20)
    names = [
        "TransferRegressor()",
        "target-only ridge",
        "pooled ridge",
        "biased reg. to pooled source",
        "MixedLM",
    ]
    errors = {name: np.zeros((len(sizes), args.repeats)) for name in names}
    seconds = {"TransferRegressor()": 0.0, "MixedLM": 0.0}
    for seed in range(args.repeats):
        rng = np.random.default_rng(seed)
        X, y, tasks = related_tasks([200] * 20 + [20 + 2000], rng=rng)
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
            model, s = timed(TransferRegressor().fit, Xtr, ytr, tasks=ttr)
            seconds["TransferRegressor()"] += s
            preds[names[0]] = model.predict(Xte, tasks=np.full(test.size, target))
            preds[names[1]] = Ridge(alpha=1.0).fit(X[lab], y[lab]).predict(Xte)
            preds[names[2]] = Ridge(alpha=1.0).fit(Xtr, ytr).predict(Xte)
            w, c = biased_regularisation(X[src], y[src], X[lab], y[lab])
            preds[names[3]] = Xte @ w + c
            preds[names[4]], s = timed(mixedlm_predict, Xtr, ytr, ttr, target, Xte)
            seconds["MixedLM"] += s
            for name, pred in preds.items():
                errors[name][i, seed] = np.mean((pred - yte) ** 2)
    fits = len(sizes) * args.repeats
    tr, mixed = errors[names[0]], errors["MixedLM"]
    lines = [
        "(a) related tasks: test MSE of the target (20 sources x 200 rows, 5 "
        f"features, noise variance 1), mean over {args.repeats} seeds; lower is better",
        summary(errors, names, sizes, "k"),
    ]
    for i, k in enumerate(sizes):
        d = tr[i] - mixed[i]
        se = d.std(ddof=1) / np.sqrt(d.size)
        best = min(names[1:], key=lambda n: errors[n][i].mean())
        ok = tr[i].mean() < errors[best][i].mean()
        lines.append(
            f"[{verdict(ok)}] k={k}: TransferRegressor() {tr[i].mean():.3f} < best "
            f"other ({best}) {errors[best][i].mean():.3f} (vs MixedLM: "
            f"{d.mean():+.4f} +- {se:.4f} paired se)"
        )
    ratio = seconds["MixedLM"] / seconds["TransferRegressor()"]
    lines.append(
        f"[{verdict(ratio >= 20)}] fit time: TransferRegressor() "
        f"{1000 * seconds['TransferRegressor()'] / fits:.1f} ms, MixedLM "
        f"{1000 * seconds['MixedLM'] / fits:.1f} ms per fit: {ratio:.1f}x (target >= "
        "20x)"
    )
    return lines


# -- (m) mixed-relevance sources ------------------------------------------------------
def mixed(args) -> list[str]:
    sizes = (4, 8, 16)
    names = [
        "TransferRegressor()",
        "target-only ridge",
        "pooled ridge",
        "pulled toward pooled (strength 1)",
        "pulled toward best source (strength 1)",
        "MixedLM",
    ]
    errors = {name: np.zeros((len(sizes), args.repeats)) for name in names}
    for seed in range(args.repeats):
        Xs, ys, ts, Xt, yt = mixed_relevance(seed)
        Xte, yte = Xt[16:], yt[16:]
        sources = [Ridge(alpha=1.0).fit(Xs[ts == a], ys[ts == a]) for a in range(30)]
        pooled_sources = Ridge(alpha=1.0).fit(Xs, ys)
        for i, k in enumerate(sizes):
            Xl, yl = Xt[:k], yt[:k]
            X, y = np.vstack([Xs, Xl]), np.r_[ys, yl]
            tasks = np.r_[ts, np.full(k, 99)]
            preds = {}
            model = TransferRegressor().fit(X, y, tasks=tasks)
            preds[names[0]] = model.predict(Xte, tasks=np.full(len(Xte), 99))
            preds[names[1]] = Ridge(alpha=1.0).fit(Xl, yl).predict(Xte)
            preds[names[2]] = Ridge(alpha=1.0).fit(X, y).predict(Xte)
            w, c = pulled_toward(
                Xl, yl, pooled_sources.coef_, pooled_sources.intercept_
            )
            preds[names[3]] = Xte @ w + c
            best = min(sources, key=lambda m: np.mean((m.predict(Xl) - yl) ** 2))
            w, c = pulled_toward(Xl, yl, best.coef_, best.intercept_)
            preds[names[4]] = Xte @ w + c
            preds[names[5]] = mixedlm_predict(X, y, tasks, 99, Xte)
            for name, pred in preds.items():
                errors[name][i, seed] = np.mean((pred - yte) ** 2)
    lines = [
        "(m) mixed-relevance sources: test MSE of the target (30 sources x 150 rows, "
        f"8 features, noise sd 0.5), mean over {args.repeats} seeds; lower is better",
        summary(errors, names, sizes, "k"),
    ]
    for i, k in enumerate(sizes):
        best = min(names[1:], key=lambda n: errors[n][i].mean())
        ours = errors[names[0]][i].mean()
        lines.append(
            f"[{verdict(ours < errors[best][i].mean())}] k={k}: TransferRegressor() "
            f"{ours:.3f} < best other ({best}) {errors[best][i].mean():.3f}"
        )
    return lines


# -- (b) speed ------------------------------------------------------------------------
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
    rows = [["loop of per-task Ridge", f"{loop:.3f}", "1.0x"]]
    ratios = {}
    for label, params in [
        ("TransferRegressor() (defaults)", {}),
        ("TransferRegressor(transfer='none')", dict(transfer="none")),
        (
            "TransferRegressor(transfer=PriorTransfer(strength=10))",
            dict(transfer=PriorTransfer(strength=10.0)),
        ),
    ]:
        seconds = best_time(
            lambda params=params: TransferRegressor(**params).fit(X, y, tasks=tasks),
            args.time_repeats,
        )
        ratios[label] = loop / seconds
        rows.append([label, f"{seconds:.3f}", f"{loop / seconds:.1f}x"])
    lines.append(f"(b) speed: {n_tasks:,} tasks x {n_rows} rows x {p} features")
    lines.append(_table(["method", "fit s", "vs Ridge loop"], rows))
    label = "TransferRegressor() (defaults)"
    lines.append(
        f"[{verdict(ratios[label] >= 20)}] {label}: {ratios[label]:.1f}x faster than "
        "the loop (target >= 20x)"
    )
    n_tasks, n_rows, p = 100_000, 20, 10
    X, y, tasks = related_tasks([n_rows] * n_tasks, p, rng=rng)
    # ten sources per task: the approximate neighbour search of 100,000 tasks
    # costs about k^2 per task, and 50 (the default beyond 51 tasks) dominates
    _, seconds = timed(TransferRegressor(n_neighbors=10).fit, X, y, tasks=tasks)
    lines.append(
        f"(b) speed: {n_tasks:,} tasks x {n_rows} rows x {p} features, "
        f"TransferRegressor(n_neighbors=10): {seconds:.1f} s"
    )
    lines.append(f"[{verdict(seconds < 10)}] {seconds:.1f} s < 10 s")
    lines += classifier_speed(args)
    return lines


def classifier_speed(args) -> list[str]:
    rng = np.random.default_rng(1)
    n_tasks, n_rows, p = 2000, 30, 5
    centre = rng.normal(size=p + 1)
    theta = centre + 0.5 * rng.normal(size=(n_tasks, p + 1))
    tasks = np.repeat(np.arange(n_tasks), n_rows)
    X = rng.normal(size=(tasks.size, p))
    eta = theta[tasks, 0] + np.einsum("ij,ij->i", X, theta[tasks, 1:])
    y = (rng.random(tasks.size) < expit(eta)).astype(int)
    index = check_tasks(tasks)
    groups = [index.rows(t) for t in range(n_tasks)]
    fittable = [r for r in groups if np.unique(y[r]).size == 2]
    loop = best_time(
        lambda: [LogisticRegression().fit(X[r], y[r]) for r in fittable],
        args.time_repeats,
    )
    loop *= n_tasks / len(fittable)  # per task, as if every task had two classes
    ours = best_time(
        lambda: TransferClassifier().fit(X, y, tasks=tasks), args.time_repeats
    )
    return [
        f"(b) speed: {n_tasks:,} tasks x {n_rows} rows x {p} features, binary",
        _table(
            ["method", "fit s", "vs loop"],
            [
                ["loop of per-task LogisticRegression", f"{loop:.3f}", "1.0x"],
                [
                    "TransferClassifier() (defaults)",
                    f"{ours:.3f}",
                    f"{loop / ours:.1f}x",
                ],
            ],
        ),
        f"[{verdict(loop / ours >= 10)}] TransferClassifier(): {loop / ours:.1f}x "
        "faster than the loop (target >= 10x)",
    ]


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
    parser.add_argument("--only", choices=["accuracy", "mixed", "speed"])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--time-repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"machine: {machine()}")
    print(f"command: python benchmarks/bench_transfer.py {' '.join(sys.argv[1:])}")
    parts = {"accuracy": accuracy, "mixed": mixed, "speed": speed}
    for name, part in parts.items():
        if args.only in (None, name):
            print("\n".join(part(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
