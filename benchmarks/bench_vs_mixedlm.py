"""Fit time as the number of tasks grows: TransferRegressor, a loop of Ridge, MixedLM.

Synthetic regression tasks (``make_related_tasks``: 20 rows and 3 features per
task, 5 clusters) from 10 to 100,000 tasks. For each size the script times

- ``TransferRegressor()`` with its defaults (one fit on all tasks);
- a Python loop of per-task ``sklearn.linear_model.Ridge`` fits, what a user
  would otherwise write (rows grouped once beforehand, not timed);
- statsmodels ``MixedLM`` with a random intercept and a random slope on the first
  feature (REML), the usual multilevel model.

A method stops growing when its next fit is predicted (linear extrapolation from
its last fit) to take longer than ``--budget`` seconds; the table says where each
stopped. Times are wall-clock seconds of one fit (the best of ``--repeats``).

Run from the repository root::

    python benchmarks/bench_vs_mixedlm.py
    python benchmarks/bench_vs_mixedlm.py --sizes 10 100 1000 --budget 30
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
import warnings
from functools import partial

import numpy as np
from bench_real_data import MixedLMRegressor, machine
from sklearn.linear_model import Ridge

from sk_metameta import TransferRegressor, check_tasks
from sk_metameta.datasets import make_related_tasks


def time_fit(fit, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fit()
        best = min(best, time.perf_counter() - start)
    return best


def ridge_loop(X, y, groups):
    return [Ridge(alpha=1.0).fit(X[rows], y[rows]) for rows in groups]


def mixedlm(X, y, tasks):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MixedLMRegressor(random_slopes=(0,)).fit(X, y, tasks=tasks)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="+", type=int, default=[10, 100, 1000, 10_000, 100_000]
    )
    parser.add_argument("--rows-per-task", type=int, default=20)
    parser.add_argument("--features", type=int, default=3)
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"machine: {machine()}")
    print(f"command: python benchmarks/bench_vs_mixedlm.py {' '.join(sys.argv[1:])}")
    methods = ["TransferRegressor", "Ridge loop", "MixedLM"]
    last = {m: None for m in methods}  # (n_tasks, seconds) of the last fit
    stopped = {}
    rows = []
    for n_tasks in sorted(args.sizes):
        X, y, tasks = make_related_tasks(
            n_tasks=n_tasks,
            n_samples_per_task=args.rows_per_task,
            n_features=args.features,
            n_clusters=5,
            random_state=0,
        )
        index = check_tasks(tasks)
        groups = [index.rows(t) for t in range(index.n_tasks)]
        fits = {
            "TransferRegressor": partial(TransferRegressor().fit, X, y, tasks=tasks),
            "Ridge loop": partial(ridge_loop, X, y, groups),
            "MixedLM": partial(mixedlm, X, y, tasks),
        }
        row = {"n_tasks": n_tasks, "n_rows": X.shape[0]}
        for name in methods:
            if name in stopped:
                row[name] = None
                continue
            if last[name] is not None:
                n0, s0 = last[name]
                if s0 * n_tasks / n0 > args.budget:
                    stopped[name] = (
                        f"{name}: stopped before {n_tasks:,} tasks (predicted "
                        f"{s0 * n_tasks / n0:.0f} s > budget {args.budget:.0f} s; "
                        f"{n0:,} tasks took {s0:.1f} s)"
                    )
                    row[name] = None
                    continue
            repeats = args.repeats if (last[name] or (0, 0))[1] < 10 else 1
            seconds = time_fit(fits[name], repeats)
            last[name] = (n_tasks, seconds)
            row[name] = seconds
            print(f"  {n_tasks:>7,} tasks  {name:<18} {seconds:9.3f} s", flush=True)
        rows.append(row)

    header = ["tasks", "rows"]
    for name in methods:
        header += [f"{name} s", "ms/task"]
    header += ["Ridge loop / TR", "MixedLM / TR"]
    table = []
    for row in rows:
        cells = [f"{row['n_tasks']:,}", f"{row['n_rows']:,}"]
        for name in methods:
            s = row[name]
            cells += (
                ["-", "-"]
                if s is None
                else [f"{s:.3f}", f"{1000 * s / row['n_tasks']:.3f}"]
            )
        tr = row["TransferRegressor"]
        for other in ("Ridge loop", "MixedLM"):
            s = row[other]
            cells.append("-" if s is None or tr is None else f"{s / tr:.1f}x")
        table.append(cells)
    widths = [max(len(r[c]) for r in [header, *table]) for c in range(len(header))]
    print()
    for r in [header, *table]:
        print("  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)))
    for note in stopped.values():
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
