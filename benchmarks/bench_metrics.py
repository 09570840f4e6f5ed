"""Speed of the sample metrics against a plain Python loop over pairs of tasks.

For ``n_tasks`` tasks of ``n_rows`` rows and ``n_features`` features, times the
full ``n_tasks x n_tasks`` distance matrix of

- ``mmd`` exact (blocked Gram sums), with 1 and ``--n-jobs`` threads;
- ``mmd`` with random Fourier features, and its error against the exact one;
- ``energy`` (blocked distance sums);
- ``sliced_wasserstein`` (one vectorized sort for all tasks);

and, as the baseline a user would otherwise write, a Python loop over the
``n_tasks * (n_tasks - 1) / 2`` pairs (scikit-learn ``rbf_kernel``, scipy
``cdist`` or POT per pair). The loop is timed on a random subset of pairs and
extrapolated, as the output says; its results on those pairs are also compared
with the library's.

Run::

    python benchmarks/bench_metrics.py
    python benchmarks/bench_metrics.py --n-tasks 50 --n-rows 100 --n-features 5

Times are wall-clock seconds (best of ``--repeat``) next to the process CPU
time; on a shared machine the wall time depends on the load, shown at the top.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import ot
from scipy.spatial.distance import cdist
from sklearn.metrics.pairwise import rbf_kernel

from sk_metameta.metrics import EnergyMetric, MMDMetric, SlicedWassersteinMetric


def make_tasks(n_tasks, n_rows, n_features, seed):
    """Tasks with their own mean and scale, rows interleaved."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=0.5, size=(n_tasks, n_features))
    scales = rng.uniform(0.7, 1.3, size=(n_tasks, 1))
    X = rng.normal(size=(n_tasks * n_rows, n_features))
    X = X * np.repeat(scales, n_rows, axis=0) + np.repeat(means, n_rows, axis=0)
    tasks = np.repeat(np.arange(n_tasks), n_rows)
    perm = rng.permutation(X.shape[0])
    return X[perm], tasks[perm]


def timed(func, repeat):
    """Best wall time, its CPU time, and the last result of ``func()``."""
    best = (np.inf, np.inf, None)
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = func()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        if wall < best[0]:
            best = (wall, cpu, result)
    return best


def loop_pairs(X, tasks, pairs, pair_distance):
    """The baseline: one call per pair of tasks, on the given pairs."""
    groups = {t: X[tasks == t] for t in np.unique(tasks)}
    return np.array([pair_distance(groups[a], groups[b]) for a, b in pairs])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-tasks", type=int, default=200)
    parser.add_argument("--n-rows", type=int, default=200)
    parser.add_argument("--n-features", type=int, default=20)
    parser.add_argument("--n-components", type=int, default=500)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument(
        "--loop-pairs", type=int, default=300, help="pairs timed for the loop"
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X, tasks = make_tasks(args.n_tasks, args.n_rows, args.n_features, args.seed)
    n_pairs = args.n_tasks * (args.n_tasks - 1) // 2
    gamma = MMDMetric().median_gamma(X)
    print(
        f"{args.n_tasks} tasks x {args.n_rows} rows x {args.n_features} features "
        f"({X.shape[0]} rows, {n_pairs} pairs of tasks, "
        f"{X.shape[0] * (X.shape[0] + 1) // 2:.3g} pairs of rows); "
        f"gamma={gamma:.4g} (median heuristic)"
    )
    print(
        f"cpus={os.cpu_count()}  load average before: "
        + " ".join(f"{v:.2f}" for v in os.getloadavg())
    )

    rows = []  # (method, wall, cpu, note)

    def run(label, metric, note=""):
        wall, cpu, D = timed(lambda: metric.pairwise(X, tasks), args.repeat)
        rows.append((label, wall, cpu, note))
        return D

    exact = run("mmd exact, blocked (n_jobs=1)", MMDMetric(gamma=gamma))
    if args.n_jobs != 1:
        D = run(
            f"mmd exact, blocked (n_jobs={args.n_jobs})",
            MMDMetric(gamma=gamma, n_jobs=args.n_jobs),
        )
        rows[-1] = (
            *rows[-1][:3],
            f"max |diff| vs n_jobs=1: {np.abs(D - exact).max():.1e}",
        )
    off = ~np.eye(args.n_tasks, dtype=bool)
    for n_components in sorted({args.n_components, 4 * args.n_components}):
        approx = MMDMetric(
            gamma=gamma, method="random_features", n_components=n_components
        )
        D = run(f"mmd random features ({n_components})", approx)
        rel = np.abs(D[off] - exact[off]) / exact[off]
        rows[-1] = (
            *rows[-1][:3],
            f"rel. error vs exact: max {rel.max():.3f}, mean {rel.mean():.3f}",
        )
    energy = run("energy, blocked", EnergyMetric())
    sw_metric = SlicedWassersteinMetric(n_projections=50, n_quantiles=args.n_rows)
    sliced = run("sliced_wasserstein (50 proj.)", sw_metric)

    # -- the loop baseline on a random subset of pairs -------------------------
    rng = np.random.default_rng(args.seed + 1)
    iu, ju = np.triu_indices(args.n_tasks, k=1)
    pick = rng.choice(iu.size, min(args.loop_pairs, iu.size), replace=False)
    pairs = list(zip(iu[pick].tolist(), ju[pick].tolist(), strict=True))
    theta = sw_metric.projection_directions(args.n_features)

    def mmd_pair(A, B):
        sq = (
            rbf_kernel(A, A, gamma=gamma).mean()
            + rbf_kernel(B, B, gamma=gamma).mean()
            - 2 * rbf_kernel(A, B, gamma=gamma).mean()
        )
        return np.sqrt(max(sq, 0.0))

    def energy_pair(A, B):
        sq = 2 * cdist(A, B).mean() - cdist(A, A).mean() - cdist(B, B).mean()
        return np.sqrt(max(sq, 0.0))

    def sliced_pair(A, B):
        return ot.sliced_wasserstein_distance(A, B, projections=theta, p=2)

    scale = n_pairs / len(pairs)
    for label, pair_distance, ours in (
        ("loop: sklearn rbf_kernel per pair", mmd_pair, exact),
        ("loop: scipy cdist per pair (energy)", energy_pair, energy),
        ("loop: POT sliced_wasserstein per pair", sliced_pair, sliced),
    ):
        wall, cpu, values = timed(
            lambda f=pair_distance: loop_pairs(X, tasks, pairs, f), 1
        )
        diff = np.abs(values - ours[iu[pick], ju[pick]]).max()
        rows.append(
            (
                label,
                wall * scale,
                cpu * scale,
                f"extrapolated from {len(pairs)} pairs; max |diff| vs library "
                f"{diff:.1e}",
            )
        )

    width = max(len(r[0]) for r in rows)
    print(f"\n{'method'.ljust(width)}  {'wall s':>8}  {'cpu s':>8}  note")
    for label, wall, cpu, note in rows:
        print(f"{label.ljust(width)}  {wall:8.2f}  {cpu:8.2f}  {note}")
    print("\nload average after: " + " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
