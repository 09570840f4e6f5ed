"""The result of a few-shot evaluation: scores, their spread, and what won."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["FewShotResult"]


@dataclass
class FewShotResult:
    """Scores of a :func:`few_shot_evaluation`, method by method and ``k`` by ``k``.

    Attributes
    ----------
    methods : list of str
        Method names, in the order given.
    ks : list of int
        Numbers of labelled rows per target.
    scoring : str
        Name of the score.
    label : str
        Readable name of the score.
    greater_is_better : bool
        Whether a greater score is better.
    average : {"rows", "tasks"}
        Pooled over all test rows, or the mean over target tasks.
    scores : ndarray of shape (n_methods, n_ks, n_repeats)
        Score of each method at each ``k`` in each repeat.
    fit_times : ndarray of shape (n_methods, n_ks, n_repeats)
        Seconds spent in ``fit``, summed over the folds.
    n_targets : ndarray of shape (n_ks,)
        Number of target tasks evaluated at each ``k``.
    n_tasks : int
        Number of tasks.
    n_folds : int
        Number of folds of tasks.
    task_labels : ndarray of shape (n_tasks,)
        Task labels, sorted.
    task_scores : ndarray of shape (n_methods, n_ks, n_repeats, n_tasks) or None
        Score of each target task (NaN where a task was not a target at that
        ``k``); only with ``average="tasks"``.
    """

    methods: list
    ks: list
    scoring: str
    label: str
    greater_is_better: bool
    average: str
    scores: np.ndarray
    fit_times: np.ndarray
    n_targets: np.ndarray
    n_tasks: int
    n_folds: int
    task_labels: np.ndarray
    task_scores: np.ndarray | None = None

    @property
    def n_repeats(self) -> int:
        """Number of repeats."""
        return int(self.scores.shape[2])

    def mean_scores(self) -> np.ndarray:
        """Mean score over repeats, of shape ``(n_methods, n_ks)``."""
        return self.scores.mean(axis=2)

    def best(self) -> list:
        """Name of the best method at each ``k`` (by mean score)."""
        mean = self.mean_scores()
        pick = np.argmax if self.greater_is_better else np.argmin
        return [self.methods[i] for i in pick(mean, axis=0)]

    def identical_methods(self) -> list[list[str]]:
        """Groups of methods whose scores agree in every ``k`` and repeat.

        Such methods made the same predictions on this data (for example
        ``TransferRegressor(transfer="none")`` and a per-task model of the same
        ridge): a table shows them as separate rows with equal numbers.

        Returns
        -------
        groups : list of list of str
            Each group in the order of ``methods``; methods alone are left out.
        """
        flat = self.scores.reshape(len(self.methods), -1)
        groups, seen = [], set()
        for i in range(len(self.methods)):
            if i in seen:
                continue
            same = [
                j
                for j in range(i, len(self.methods))
                if np.allclose(flat[j], flat[i], rtol=1e-9, atol=1e-12, equal_nan=True)
            ]
            seen.update(same)
            if len(same) > 1:
                groups.append([self.methods[j] for j in same])
        return groups

    def verdict(self, *, digits: int = 3, alpha: float = 0.05) -> list[str]:
        """What won at each ``k``, by how much, and whether it is beyond noise.

        The best method (by mean score) is compared with the best method that
        scored differently (the runner-up). All methods see the same folds and
        labelled rows in a repeat, so their scores are paired: the difference
        between the two is beyond noise when a paired t-test over the repeats
        finds it significant at level ``alpha``. The noise measured is that of
        the protocol's random folds and labelled rows on this data set (the
        repeats share the data, so this is not a test over new data sets).

        Parameters
        ----------
        digits : int, default=3
            Decimals of the scores.
        alpha : float, default=0.05
            Significance level of the paired t-test.

        Returns
        -------
        lines : list of str
            One line per ``k``.
        """
        sign = 1.0 if self.greater_is_better else -1.0
        mean, std = self.scores.mean(axis=2), self.scores.std(axis=2)
        twins = {name: set(g) for g in self.identical_methods() for name in g}
        lines = []
        for j, k in enumerate(self.ks):
            order = np.argsort(-sign * mean[:, j], kind="stable")
            best = self.methods[order[0]]
            line = f"k={k}: {best} is best, {self.label} {mean[order[0], j]:.{digits}f}"
            if self.n_repeats > 1:
                line += f" ± {std[order[0], j]:.{digits}f}"
            others = [
                i for i in order[1:] if self.methods[i] not in twins.get(best, ())
            ]
            if not others:
                lines.append(line + ".")
                continue
            diff = sign * (self.scores[order[0], j] - self.scores[others[0], j])
            line += (
                f"; {diff.mean():.{digits}f} better than the runner-up, "
                f"{self.methods[others[0]]} at {mean[others[0], j]:.{digits}f}: "
                + _noise(diff, alpha)
            )
            lines.append(line + ".")
        return lines

    def table(self, *, digits: int = 3) -> str:
        """The results as one text table: a row per method, a column per ``k``.

        Parameters
        ----------
        digits : int, default=3
            Decimals of the scores.

        Returns
        -------
        table : str
            Title lines and the table; with several repeats every cell is
            ``mean±std``. The last column is the fit time in seconds, summed over
            folds and ``k``, averaged over repeats.
        """
        better = "higher" if self.greater_is_better else "lower"
        over = (
            "pooled over the test rows"
            if self.average == "rows"
            else ("averaged over target tasks")
        )
        spread = " (cells: mean±sd over repeats)" if self.n_repeats > 1 else ""
        lines = [
            f"{self.label} on the targets' held-out rows, {over} ({better} is better)",
            f"{self.n_tasks} tasks, {self.n_folds} folds of target tasks, "
            f"{self.n_repeats} repeat(s){spread}; targets per k: "
            + ", ".join(
                f"k={k}: {n}" for k, n in zip(self.ks, self.n_targets, strict=True)
            ),
        ]
        mean, std = self.scores.mean(axis=2), self.scores.std(axis=2)
        header = ["method", *[f"k={k}" for k in self.ks], "fit s"]
        rows = []
        for i, name in enumerate(self.methods):
            cells = [name]
            for j in range(len(self.ks)):
                cell = f"{mean[i, j]:.{digits}f}"
                if self.n_repeats > 1:
                    cell += f"±{std[i, j]:.{digits}f}"
                cells.append(cell)
            cells.append(f"{self.fit_times[i].sum(axis=0).mean():.2f}")
            rows.append(cells)
        widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
        for r in [header, *rows]:
            lines.append(
                "  ".join(
                    cell.ljust(w) if c == 0 else cell.rjust(w)
                    for c, (cell, w) in enumerate(zip(r, widths, strict=True))
                ).rstrip()
            )
        return "\n".join(lines)

    def to_frame(self):
        """The scores as a long pandas DataFrame (needs pandas).

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``method``, ``k``, ``repeat``, the score and ``fit_time``.
        """
        import pandas as pd

        m, k, r = np.meshgrid(
            np.arange(len(self.methods)),
            np.arange(len(self.ks)),
            np.arange(self.n_repeats),
            indexing="ij",
        )
        return pd.DataFrame(
            {
                "method": np.asarray(self.methods, dtype=object)[m.ravel()],
                "k": np.asarray(self.ks)[k.ravel()],
                "repeat": r.ravel(),
                self.scoring: self.scores.ravel(),
                "fit_time": self.fit_times.ravel(),
            }
        )


def _noise(diff: np.ndarray, alpha: float) -> str:
    """Whether the paired differences ``diff`` (one per repeat) exceed noise."""
    n = diff.size
    if n < 2:
        return "noise unknown: one repeat has no spread (use more repeats)"
    sd = diff.std(ddof=1)
    if sd == 0:
        return f"the same difference in all {n} repeats"
    t = diff.mean() / (sd / np.sqrt(n))
    p = 2.0 * stats.t.sf(abs(t), n - 1)
    within = "beyond noise" if p < alpha else "within noise"
    return f"{within} (paired t-test over {n} repeats: p = {p:.2g})"
