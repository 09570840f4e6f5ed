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
        f"{model.kernel} kernel of the {model.metric_.name} distance\nbetween "
        f"{model.task_feature_extractor_.name} task features"
    )
    return S, model.tasks_, how


#: Distinct looks of the learning curves: no two of the first 44 methods share a
#: marker and a line style, and each is drawn a little to the side of the others.
_MARKERS = "osD^v<>phX*P"
_LINESTYLES = ("-", "--", "-.", ":")


def curve_styles(n_methods: int) -> list[dict]:
    """The look of each method's learning curve: colour, marker, line style, offset.

    Parameters
    ----------
    n_methods : int
        Number of curves.

    Returns
    -------
    styles : list of dict
        ``color``, ``marker``, ``linestyle`` (for matplotlib) and ``offset``: the
        horizontal shift of the curve, in units of the distance between two
        ``k``, so that equal scores of two methods are drawn side by side, never
        one over the other.

    Examples
    --------
    >>> from sk_metameta.cli import curve_styles
    >>> [style["offset"] for style in curve_styles(3)]
    [-0.035, 0.0, 0.035]
    """
    width = min(0.035, 0.5 / max(n_methods, 1))
    styles = []
    for i in range(n_methods):
        styles.append(
            {
                "color": f"C{i % 10}",
                "marker": _MARKERS[i % len(_MARKERS)],
                "linestyle": _LINESTYLES[i % len(_LINESTYLES)],
                "offset": round((i - (n_methods - 1) / 2) * width, 6),
            }
        )
    return styles


def plot_demo(
    result: FewShotResult, X, y, tasks, path: str, *, task_name: str = "tasks"
):
    """Save the demo's figure: task similarity heatmap and learning curves.

    The curves show the score of the table itself, in its own direction (the
    explained variance, higher is better, for the demo), mean and standard
    deviation over the repeats. Every method has its own colour, marker and line
    style, and is shifted a little sideways, so that methods with equal scores
    (``target-only ridge`` and ``TransferRegressor (none)``) are both visible.
    The heatmap shows the similarity that :class:`~sk_metameta.TransferRegressor`
    computes with its defaults and every other task as a source, made symmetric;
    its diagonal is 1, a task being fully similar to itself (the estimators never
    use a task as its own source, which the heatmap does not show).

    Parameters
    ----------
    result : FewShotResult
        The evaluation to draw.
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

    Returns
    -------
    figure : matplotlib.figure.Figure
        The figure written to ``path``.
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
    ax_sim.set_title(
        f"Similarity of the {labels.size} {task_name}\n({how})", fontsize="medium"
    )
    ax_sim.set_xlabel(f"{task_name} (grouped by hierarchical clustering)")
    ax_sim.set_ylabel(task_name)
    fig.colorbar(image, ax=ax_sim, shrink=0.8, label="similarity (diagonal: 1, itself)")
    _draw_curves(ax_curve, result)
    fig.savefig(path, dpi=110)
    return fig


def _draw_curves(ax, result: FewShotResult) -> None:
    """The learning curves: mean score over repeats against ``k``, with the sd."""
    mean, std = result.scores.mean(axis=2), result.scores.std(axis=2)
    positions = np.arange(len(result.ks), dtype=float)
    for i, (name, style) in enumerate(
        zip(result.methods, curve_styles(len(result.methods)), strict=True)
    ):
        ax.errorbar(
            positions + style["offset"],
            mean[i],
            yerr=std[i] if result.n_repeats > 1 else None,
            color=style["color"],
            marker=style["marker"],
            linestyle=style["linestyle"],
            capsize=3,
            label=name,
        )
    better = "higher" if result.greater_is_better else "lower"
    ax.set_xticks(positions, [str(k) for k in result.ks])
    ax.set_xlabel("labelled rows of the target (k)")
    ax.set_ylabel(f"{result.label} ({better} is better)")
    spread = f", mean ± sd over {result.n_repeats} repeats" * (result.n_repeats > 1)
    ax.set_title(f"Few-shot learning curves ({better} is better{spread})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
