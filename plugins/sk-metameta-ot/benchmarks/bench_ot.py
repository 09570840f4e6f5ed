"""Speed of the exact optimal-transport metrics, next to the built-in approximation.

For the 160 schools of High School and Beyond (14 to 67 rows each) and for
synthetic tasks of growing size, times the full ``n_tasks x n_tasks`` matrix of

- ``wasserstein`` (this plugin: one exact LP per pair of tasks, POT's ``emd2``);
- ``otdd`` (this plugin: one LP per pair of tasks plus one per pair of their label
  groups; needs ``y``);
- ``sliced_wasserstein`` (built in: random 1-D projections, one sort for all
  tasks), the fast approximation of ``wasserstein``;
- ``energy`` (built in), another metric between samples;

and reports how well ``sliced_wasserstein`` follows ``wasserstein`` (Spearman
correlation of the pairwise distances). Times are wall-clock seconds, best of
``--repeat``; on a shared machine they are noisy.

Run from the repository root, with the plugin installed::

    python plugins/sk-metameta-ot/benchmarks/bench_ot.py
    python plugins/sk-metameta-ot/benchmarks/bench_ot.py --sizes 20:50 40:100
"""

import argparse
import platform
import time

import numpy as np
import ot
import scipy
import sk_metameta_ot
from scipy.stats import spearmanr
from sklearn.preprocessing import StandardScaler

import sk_metameta
from sk_metameta import task_distances
from sk_metameta.datasets import load_hsb, make_related_tasks

METRICS = ["wasserstein", "otdd", "sliced_wasserstein", "energy"]


def best_time(func, repeat):
    """Smallest wall-clock time of ``repeat`` calls, and the last result."""
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def run(name, X, y, tasks, repeat):
    """One row of the table: the time of every metric on one dataset."""
    row = {"data": name, "tasks": len(np.unique(tasks)), "rows": len(X)}
    distances = {}
    for metric in METRICS:
        seconds, D = best_time(
            lambda m=metric: task_distances(X, y, tasks=tasks, metric=m).distances,
            repeat,
        )
        row[metric] = seconds
        distances[metric] = D
    upper = np.triu_indices(row["tasks"], k=1)
    row["spearman"] = spearmanr(
        distances["wasserstein"][upper], distances["sliced_wasserstein"][upper]
    ).statistic
    return row


def main(argv=None):
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        nargs="*",
        default=["20:50", "50:50", "50:200"],
        help="synthetic sizes as n_tasks:n_rows (default: 20:50 50:50 50:200)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of (default 3)")
    args = parser.parse_args(argv)

    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, POT {ot.__version__}, sk-metameta "
        f"{sk_metameta.__version__}, sk-metameta-ot {sk_metameta_ot.__version__}"
    )
    data = load_hsb()
    X = StandardScaler().fit_transform(data.data)
    rows = [run("HSB schools", X, data.target, data.tasks, args.repeat)]
    for size in args.sizes:
        n_tasks, n_rows = (int(v) for v in size.split(":"))
        X, y, tasks = make_related_tasks(
            n_tasks=n_tasks, n_samples_per_task=n_rows, n_features=3, random_state=0
        )
        rows.append(run("synthetic", X, y, tasks, args.repeat))

    header = f"{'data':12} {'tasks':>5} {'rows':>6} " + " ".join(
        f"{m:>18}" for m in METRICS
    )
    print("\nseconds for the full task distance matrix (best of", args.repeat, "runs)")
    print(header + f" {'spearman(SW, W)':>16}")
    for row in rows:
        cells = " ".join(f"{row[m]:18.3f}" for m in METRICS)
        print(
            f"{row['data']:12} {row['tasks']:5d} {row['rows']:6d} {cells} "
            f"{row['spearman']:16.3f}"
        )


if __name__ == "__main__":
    main()
