"""
A third-party metric: optimal transport from the sk-metameta-ot plugin
======================================================================

Installing the separate package ``sk-metameta-ot`` registers two task metrics
through sk-metameta's plugin hooks: ``"wasserstein"``, the exact Wasserstein-2
distance between the tasks' samples, and ``"otdd"``, a label-aware dataset
distance in the spirit of OTDD (Alvarez-Melis and Fusi, 2020). Nothing is
imported from the plugin: once installed, its metrics are selected by name, like
the built-in ones.
"""

# %%
# The plugin's metrics are in the registry
# ----------------------------------------
# ``sk-metameta plugins`` on the command line prints the same information.
import matplotlib.pyplot as plt
import numpy as np

from sk_metameta import TransferRegressor, task_distances
from sk_metameta.datasets import make_related_tasks
from sk_metameta.plugins import get_registry

for component in get_registry().components("metric"):
    if component.provider == "sk-metameta-ot":
        print(f"{component.name:12} {component.provider} {component.version}")
        print(f"{'':12} {component.summary}")

# %%
# Tasks that differ only in their labels
# --------------------------------------
# 24 regression tasks in three clusters. Every task draws its features from the
# same distribution; the clusters differ in the linear relation between the
# features and the target. Knowing which tasks share a relation is what transfer
# needs, and the features alone cannot tell.
X, y, tasks, truth = make_related_tasks(
    n_tasks=24,
    n_samples_per_task=40,
    n_features=2,
    n_clusters=3,
    feature_shift=0.0,
    cluster_std=0.2,
    noise=0.3,
    random_state=0,
    return_structure=True,
)

D_w, labels, _ = task_distances(X, tasks=tasks, metric="wasserstein")
D_otdd = task_distances(X, y, tasks=tasks, metric="otdd").distances

# %%
# ``"wasserstein"`` compares the tasks' rows only, and sees no structure.
# ``"otdd"`` compares the pairs (row, target): each task's targets are cut into
# quartiles that act as labels, and a row of one task is matched to a row of
# another at a cost that adds, to their feature distance, the distance between the
# features (and mean targets) of their two quartiles. Tasks that share a relation
# come out close: the blocks on the diagonal.
order = np.argsort(truth.clusters, kind="stable")
bounds = np.flatnonzero(np.diff(truth.clusters[order])) + 0.5

fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.6), layout="constrained")
for ax, D, title in [
    (axes[0], D_w, '"wasserstein": features only'),
    (axes[1], D_otdd, '"otdd": features and targets'),
]:
    image = ax.imshow(D[np.ix_(order, order)], cmap="magma_r")
    for b in bounds:
        ax.axhline(b, color="white", linewidth=1.5)
        ax.axvline(b, color="white", linewidth=1.5)
    ax.set_title(title, fontsize=12)
    ax.set_xlabel("task (sorted by true cluster)")
    ax.set_ylabel("task (sorted by true cluster)")
    fig.colorbar(image, ax=ax, shrink=0.85, label="distance between tasks")
plt.show()

# %%
# The metric in an estimator
# --------------------------
# The plugin's metric is selected by name. Each task's model draws on its 5
# nearest tasks; with ``"otdd"`` nearly all of the weight comes from tasks of the
# same cluster, with ``"wasserstein"`` about what chance gives (7 of the 23 other
# tasks share a cluster).
same_cluster = truth.clusters[:, None] == truth.clusters[None, :]
share = {}
for metric in ["wasserstein", "otdd"]:
    model = TransferRegressor(metric=metric, n_neighbors=5).fit(X, y, tasks=tasks)
    weights = model.source_weights_.toarray()
    share[metric] = (weights * same_cluster).sum() / weights.sum()
    print(
        f"{metric:12} share of source weight from the same cluster: {share[metric]:.2f}"
    )

chance = (same_cluster.sum() - len(labels)) / (len(labels) * (len(labels) - 1))
fig, ax = plt.subplots(figsize=(5.6, 3.6), layout="constrained")
ax.bar(
    [f'metric="{m}"' for m in share],
    list(share.values()),
    color=["tab:gray", "tab:purple"],
    width=0.55,
)
ax.axhline(chance, color="black", linestyle="--", linewidth=1)
ax.text(0.5, chance + 0.02, "chance", ha="center", va="bottom")
ax.set_ylim(0, 1)
ax.set_ylabel("share of source weight\nfrom the task's own cluster")
ax.set_xlabel("task metric of TransferRegressor(n_neighbors=5)")
ax.set_title("Where each task's model borrows from")
plt.show()
