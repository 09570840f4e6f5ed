"""MetricMetaEstimator with its defaults, against the baselines, in one run.

Three parts, each ending with PASS / FAIL lines against its target:

1. Contraception, Bangladesh (binary, 60 districts, 1,934 women): the default
   ``MetricMetaEstimator(LogisticRegression(solver="newton-cholesky"))``
   against per-district, pooled, and pooled + district intercept logistic
   regression (the same logistic regression in all). Target: a lower log loss
   than each at every k, and a mean fit time under 2 s.
2. High School and Beyond (160 schools, 7,185 students):
   ``MetricMetaEstimator(Ridge())`` against target-only ridge, pooled ridge and
   pooled ridge with a per-school intercept (penalty by generalised
   cross-validation). Target: explained variance at least the best baseline's
   at every k.
3. Speed: 2,000 tasks x 30 rows x 5 features, ``LogisticRegression()``, every
   task with 15 rows of each class. Target: the default fit at most 2.5 times
   ``transfer="none"``, and no slower with the default BLAS threads than with
   ``OPENBLAS_NUM_THREADS=1`` (each measured in a child process of this run,
   the two alternating; best of ``--speed-repeats`` fits each).

The few-shot protocol of parts 1 and 2 is
``sk_metameta.model_selection.few_shot_evaluation`` (the splits of
``FewShotSplit``): the tasks with k + 5 rows are dealt into 5 folds; in turn the
tasks of a fold are targets with k labelled rows, all other tasks sources with
all their rows; the score pools the targets' other rows.

Run from the repository root::

    python benchmarks/bench_meta_estimator.py            # 3 repeats
    python benchmarks/bench_meta_estimator.py --quick    # 1 repeat, 1 speed fit
    python benchmarks/bench_meta_estimator.py --only speed
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge

from sk_metameta import MetricMetaEstimator
from sk_metameta.cli import demo_methods
from sk_metameta.datasets import load_contraception, load_hsb, make_related_tasks
from sk_metameta.model_selection import PerTaskModel, PooledModel, few_shot_evaluation

DEFAULT = "MetricMetaEstimator (defaults)"

#: The logistic regression of every contraception method, as in
#: ``bench_real_data.py``: Newton's method converges on the survey's unscaled
#: features (lbfgs stops at its iteration limit on some fits).
LOGISTIC = LogisticRegression(solver="newton-cholesky")


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.machine()}, {os.cpu_count()} logical cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}, "
        f"load average {load:.1f}"
    )


def check(ok: bool, text: str) -> str:
    return f"[{'PASS' if ok else 'FAIL'}] {text}"


def fit_time_per_fit(result) -> np.ndarray:
    """Mean seconds of one fit of each method."""
    n_fits = result.n_folds * len(result.ks) * result.n_repeats
    return result.fit_times.sum(axis=(1, 2)) / n_fits


def evaluate(X, y, tasks, methods, args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return few_shot_evaluation(
            X,
            y,
            tasks,
            methods,
            args.k,
            n_folds=5,
            n_repeats=args.repeats,
            random_state=args.random_state,
            progress=False,
            **kwargs,
        )


def contraception(args) -> list[str]:
    X, y, tasks = load_contraception(return_X_y_tasks=True)
    logistic = LOGISTIC
    methods = {
        "per-district logistic": PerTaskModel(logistic),
        "pooled logistic": PooledModel(logistic),
        "pooled + district intercept": PooledModel(logistic, task_intercept=True),
        DEFAULT: MetricMetaEstimator(logistic),
    }
    start = time.perf_counter()
    result = evaluate(X, y, tasks, methods, args, scoring="log_loss")
    print("\n== Contraception, Bangladesh (60 districts, 1,934 women) ==")
    print(result.table())
    per_fit = fit_time_per_fit(result)
    print(
        "mean fit time (s): "
        + ", ".join(
            f"{name} {t:.3f}" for name, t in zip(result.methods, per_fit, strict=True)
        )
    )
    print(f"(wall time {time.perf_counter() - start:.0f} s)")
    mean, names = result.mean_scores(), result.methods
    me = names.index(DEFAULT)
    lines = []
    for base in names[:3]:
        b = names.index(base)
        for j, k in enumerate(result.ks):
            lines.append(
                check(
                    mean[me, j] < mean[b, j],
                    f"contraception k={k}: default log loss {mean[me, j]:.4f} < "
                    f"{base} {mean[b, j]:.4f}",
                )
            )
    lines.append(
        check(
            per_fit[me] < 2.0, f"contraception: default fit {per_fit[me]:.2f} s < 2 s"
        )
    )
    return lines


def hsb(args) -> list[str]:
    X, y, tasks = load_hsb(return_X_y_tasks=True)
    demo = demo_methods()
    baselines = ["target-only ridge", "pooled ridge", "pooled + task intercept"]
    methods = {name: demo[name] for name in baselines}
    methods["MetricMetaEstimator(Ridge()) (defaults)"] = MetricMetaEstimator(Ridge())
    start = time.perf_counter()
    result = evaluate(X, y, tasks, methods, args)
    print("\n== High School and Beyond (160 schools, 7,185 students) ==")
    print(result.table())
    per_fit = fit_time_per_fit(result)
    print(
        "mean fit time (s): "
        + ", ".join(
            f"{name} {t:.3f}" for name, t in zip(result.methods, per_fit, strict=True)
        )
    )
    print(f"(wall time {time.perf_counter() - start:.0f} s)")
    mean = result.mean_scores()
    best = mean[:3].max(axis=0)
    return [
        check(
            mean[3, j] >= best[j],
            f"HSB k={k}: MetricMetaEstimator(Ridge()) explained variance "
            f"{mean[3, j]:.4f} >= best baseline {best[j]:.4f}",
        )
        for j, k in enumerate(result.ks)
    ]


# -- speed ---------------------------------------------------------------------------
def speed_data():
    """2,000 tasks x 30 rows x 5 features, 15 rows of each class in every task."""
    X, y, tasks = make_related_tasks(2000, 30, 5, noise=1.0, random_state=0)
    order = np.argsort(tasks, kind="stable")
    median = np.median(y[order].reshape(2000, 30), axis=1)
    return X, (y > median[tasks]).astype(int), tasks


def speed_child(repeats: int) -> None:
    """Best fit times of transfer='none' and the defaults, alternating (JSON)."""
    X, y, tasks = speed_data()
    times = {"none": [], "default": [], "none cpu": [], "default cpu": []}
    for _ in range(repeats):
        for name, params in (("none", {"transfer": "none"}), ("default", {})):
            model = MetricMetaEstimator(LogisticRegression(), random_state=0, **params)
            start, cpu = time.perf_counter(), time.process_time()
            model.fit(X, y, tasks=tasks)
            times[name].append(time.perf_counter() - start)
            times[f"{name} cpu"].append(time.process_time() - cpu)
    times["rule"] = model.transfer_rule_.name
    print(json.dumps(times))


def run_child(env_update: dict, repeats: int) -> dict:
    env = {**os.environ, **env_update}
    out = subprocess.run(
        [sys.executable, __file__, "--speed-child", str(repeats)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def speed(args) -> list[str]:
    print("\n== Speed: 2,000 tasks x 30 rows x 5 features, LogisticRegression() ==")
    runs = {"default BLAS threads": [], "OPENBLAS_NUM_THREADS=1": []}
    envs = {
        "default BLAS threads": {},
        "OPENBLAS_NUM_THREADS=1": {"OPENBLAS_NUM_THREADS": "1"},
    }
    for _ in range(args.speed_rounds):
        for name in runs:
            runs[name].append(run_child(envs[name], args.speed_repeats))
    best = {}
    print("wall time of a fit, best of the runs (CPU time of the process, best):")
    print(
        f"{'environment':<26}{'none s':>9}{'default s':>11}{'ratio':>8}"
        f"{'none cpu':>10}{'default cpu':>13}{'ratio':>8}  rule"
    )
    for name, found in runs.items():
        none, default, none_cpu, default_cpu = (
            min(t for run in found for t in run[key])
            for key in ("none", "default", "none cpu", "default cpu")
        )
        best[name] = (none, default)
        print(
            f"{name:<26}{none:>9.2f}{default:>11.2f}{default / none:>7.2f}x"
            f"{none_cpu:>10.2f}{default_cpu:>13.2f}{default_cpu / none_cpu:>7.2f}x  "
            f"{found[0]['rule']}"
        )
    none, default = best["default BLAS threads"]
    _, default_one = best["OPENBLAS_NUM_THREADS=1"]
    return [
        check(
            default / none <= 2.5,
            f"speed: default fit {default:.2f} s <= 2.5 x transfer='none' {none:.2f} s "
            f"({default / none:.2f}x)",
        ),
        check(
            default <= 1.1 * default_one,
            f"speed: default fit with default BLAS threads {default:.2f} s no slower "
            f"than with OPENBLAS_NUM_THREADS=1 {default_one:.2f} s (10% for noise)",
        ),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", nargs="+", type=int, default=[5, 10, 20])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--speed-repeats", type=int, default=2)
    parser.add_argument("--speed-rounds", type=int, default=2)
    parser.add_argument("--only", choices=["contraception", "hsb", "speed"])
    parser.add_argument("--quick", action="store_true", help="1 repeat, 1 speed fit")
    parser.add_argument("--speed-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.speed_child:
        speed_child(args.speed_child)
        return 0
    if args.quick:
        args.repeats, args.speed_repeats, args.speed_rounds = 1, 1, 1
    print(f"date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"machine: {machine()}")
    arguments = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"command: python benchmarks/bench_meta_estimator.py {arguments}".rstrip())
    checks = []
    for part, run in (("contraception", contraception), ("hsb", hsb), ("speed", speed)):
        if args.only in (None, part):
            checks += run(args)
    print("\n== targets ==")
    print("\n".join(checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
