"""The figure of ``sk-metameta demo --plot``: task similarity and learning curves."""

from __future__ import annotations

import os

import numpy as np

from ..model_selection import FewShotResult

__all__ = ["check_plot_path", "plot_demo"]


def check_plot_path(path: str) -> None:
    """Refuse a ``--plot`` path before any work: matplotlib missing, no folder."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ValueError(
            "--plot needs matplotlib; install it with `pip install sk-metameta[plot]`."
        ) from None
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"--plot: the folder {folder!r} does not exist.")


def _task_similarity(X, y, tasks):
    """Similarity of every pair of tasks as TransferRegressor's defaults see it."""
    from .. import TransferRegressor

    model = TransferRegressor(n_neighbors=None).fit(X, y, tasks=tasks)
    S = model.similarity_.toarray()
    S = 0.5 * (S + S.T)
    np.fill_diagonal(S, 1.0)
    how = (
        f"{model.kernel} kernel of the {model.metric_.name} distance between "
        f"{model.task_feature_extractor_.name}"
    )
    return S, model.tasks_, how


def plot_demo(
    result: FewShotResult, X, y, tasks, path: str, *, task_name: str = "tasks"
) -> None:
    """Save the demo's figure: task similarity heatmap and learning curves.

    Parameters
    ----------
    result : FewShotResult
        The evaluation to draw; with a score where greater is better (such as the
        explained variance) the curves show ``1 - score``.
    X : array-like of shape (n_samples, n_features)
        Rows of all tasks.
    y : array-like of shape (n_samples,)
        Targets.
    tasks : array-like of shape (n_samples,)
        Task label of each row.
    path : str
        File to write (PNG by its extension).
    task_name : str, default="tasks"
        What the tasks are, for the titles (``"schools"``).
    """
    from matplotlib.figure import Figure
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    S, labels, how = _task_similarity(X, y, tasks)
    D = np.clip(1.0 - S, 0.0, None)
    np.fill_diagonal(D, 0.0)
    order = leaves_list(linkage(squareform(D, checks=False), "average"))
    fig = Figure(figsize=(13, 5.2), layout="constrained")
    ax_sim, ax_curve = fig.subplots(1, 2, width_ratios=[1, 1.15])
    image = ax_sim.imshow(S[np.ix_(order, order)], cmap="viridis", vmin=0, vmax=1)
    ax_sim.set_title(f"Similarity of the {labels.size} {task_name}\n({how})")
    ax_sim.set_xlabel(f"{task_name} (grouped by hierarchical clustering)")
    ax_sim.set_ylabel(task_name)
    fig.colorbar(image, ax=ax_sim, shrink=0.8, label="similarity")
    mean, std = result.scores.mean(axis=2), result.scores.std(axis=2)
    error = 1.0 - mean if result.greater_is_better else mean
    markers = "osD^v<>ph*X"
    for i, name in enumerate(result.methods):
        ax_curve.errorbar(
            result.ks,
            error[i],
            yerr=std[i] if result.n_repeats > 1 else None,
            marker=markers[i % len(markers)],
            linestyle="--" if name.startswith("TransferRegressor") else "-",
            capsize=3,
            label=name,
        )
    ax_curve.set_xticks(result.ks)
    ax_curve.set_xlabel("labelled rows of the target (k)")
    ax_curve.set_ylabel(
        f"1 - {result.label}" if result.greater_is_better else result.label
    )
    ax_curve.set_title("Few-shot learning curves (lower is better)")
    ax_curve.grid(alpha=0.3)
    ax_curve.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.savefig(path, dpi=110)
