"""``sk-metameta similarity`` on a large CSV: 1,000,000 rows, 20,000 tasks.

Writes a CSV of 20,000 stores with 50 rows each (5 features, a target) in a
temporary folder, then runs the command in a child process::

    sk-metameta similarity data.csv --tasks store --target sales -o out.csv

With more than 1,000 tasks the command writes the 10 nearest neighbours of every
task as a long table (never the dense 20,000 x 20,000 matrix). Targets: under a
minute of wall time and under 2 GB of peak memory (the resident set of the child
process, from ``resource.getrusage(RUSAGE_CHILDREN)``). Prints PASS or FAIL for
each.

Run from the repository root::

    python benchmarks/bench_similarity_cli.py
    python benchmarks/bench_similarity_cli.py --rows 200000 --tasks 4000   # smaller
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

TIME_LIMIT_S = 60.0
MEMORY_LIMIT_MB = 2048.0


def write_csv(path: str, n_rows: int, n_tasks: int, seed: int = 0) -> None:
    """Stores that differ in their feature means; sales linear in the features."""
    rng = np.random.default_rng(seed)
    store = np.repeat(np.arange(n_tasks), -(-n_rows // n_tasks))[:n_rows]
    shift = rng.normal(size=(n_tasks, 5))
    X = rng.normal(size=(n_rows, 5)) + shift[store]
    sales = X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + rng.normal(size=n_rows)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["store", "price", "promo", "temp", "fuel", "cpi", "sales"])
        for start in range(0, n_rows, 100_000):
            stop = min(start + 100_000, n_rows)
            block = np.round(np.column_stack([X[start:stop], sales[start:stop]]), 4)
            stores = store[start:stop].tolist()
            writer.writerows(
                [s, *row] for s, row in zip(stores, block.tolist(), strict=True)
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data, out = os.path.join(folder, "data.csv"), os.path.join(folder, "out.csv")
        start = time.perf_counter()
        write_csv(data, args.rows, args.tasks)
        size_mb = os.path.getsize(data) / 2**20
        print(
            f"wrote {args.rows:,} rows, {args.tasks:,} tasks ({size_mb:.0f} MB) in "
            f"{time.perf_counter() - start:.1f} s"
        )
        command = [
            sys.executable,
            "-m",
            "sk_metameta",
            "similarity",
            data,
            "--tasks",
            "store",
            "--target",
            "sales",
            "-o",
            out,
        ]
        print("$ sk-metameta " + " ".join(command[3:]).replace(folder, "$TMP"))
        start = time.perf_counter()
        run = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(run.stdout.strip().replace(folder, "$TMP"))
        if run.returncode:
            print(run.stderr, file=sys.stderr)
            return run.returncode
        with open(out) as handle:
            n_lines = sum(1 for _ in handle) - 1
        print(f"output: {n_lines:,} rows (task, neighbor, distance, rank)")
    print(
        f"{datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    ok_time, ok_memory = seconds < TIME_LIMIT_S, peak_mb < MEMORY_LIMIT_MB
    print(
        f"wall time   {seconds:6.1f} s   (target < {TIME_LIMIT_S:.0f} s)    "
        f"{'PASS' if ok_time else 'FAIL'}"
    )
    print(
        f"peak memory {peak_mb:6.0f} MB  (target < {MEMORY_LIMIT_MB:.0f} MB) "
        f"{'PASS' if ok_memory else 'FAIL'}"
    )
    return 0 if ok_time and ok_memory else 1


if __name__ == "__main__":
    sys.exit(main())
