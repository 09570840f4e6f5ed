"""
Which schools are alike? Task similarity on High School and Beyond
==================================================================

The High School and Beyond survey measured the mathematics achievement of 7,185
students in 160 US high schools. Each school is a task. Before transferring
anything between schools, look at how similar they are: describe each school by
the moments of its students' features (share of minority students, share of girls,
socio-economic status), and compare the schools with a task metric.
"""

# %%
# Task features and distances
# ---------------------------
# ``"moments"`` describes each school by the mean and the standard deviation of
# each student feature: 6 task features per school, from ``X`` alone (no scores
# needed). ``"standardized_euclidean"`` divides each task feature by its spread
# across schools, so that the six count alike.
import matplotlib.pyplot as plt
import numpy as np

from sk_metameta import TransferRegressor, task_distances
from sk_metameta.datasets import load_hsb
from sk_metameta.task_features import MomentFeatures

data = load_hsb()
X, school = data.data, data.tasks
D, labels, features = task_distances(
    X, tasks=school, task_features="moments", metric="standardized_euclidean"
)
print(f"{len(labels)} schools, {features.shape[1]} task features each")

# %%
# From distance to similarity
# ---------------------------
# Transfer weighs sources by a similarity that decreases with the distance. The
# estimators use a Gaussian kernel ``exp(-(d / h)**2 / 2)`` whose bandwidth ``h``
# is the median distance from every task to its sources. Fitting a
# :class:`~sk_metameta.TransferRegressor` with the same task features and metric,
# and every other school as a source (``n_neighbors=None``), gives the similarity
# matrix it works with. A school is never its own source, so ``similarity_`` is
# zero on its diagonal; the heatmap below shows 1 there instead, as the heatmap of
# ``sk-metameta demo --plot`` does: the kernel of a zero distance, a school being
# fully similar to itself.
model = TransferRegressor(
    task_features="moments", metric="standardized_euclidean", n_neighbors=None
).fit(X, data.target, tasks=school)
S = model.similarity_.toarray()
np.fill_diagonal(S, 1.0)  # the heatmaps' convention: each school with itself is 1
print(f"bandwidth h = {model.bandwidth_:.2f}")

# %%
# The schools are sorted by sector (public, then Catholic) and, within a sector,
# by the mean socio-economic status of their students. Bright blocks along the
# diagonal are groups of schools whose students look alike.
task_table = dict(zip(data.task_data_names, data.task_data.T, strict=True))
sector, meanses = task_table["Sector"], task_table["MEANSES"]
order = np.lexsort((meanses, sector))
n_public = int((sector == 0).sum())

fig, ax = plt.subplots(figsize=(6.4, 5.2), layout="constrained")
image = ax.imshow(S[np.ix_(order, order)], cmap="viridis", vmin=0, vmax=1)
ax.axhline(n_public - 0.5, color="white", linewidth=1.5)
ax.axvline(n_public - 0.5, color="white", linewidth=1.5)
ax.set_xticks([n_public / 2, n_public + (len(labels) - n_public) / 2])
ax.set_xticklabels(["public", "Catholic"])
ax.set_yticks([n_public / 2, n_public + (len(labels) - n_public) / 2])
ax.set_yticklabels(["public", "Catholic"], rotation=90, va="center")
ax.set_xlabel("school (by sector, then mean SES)")
ax.set_ylabel("school (by sector, then mean SES)")
ax.set_title("Similarity of the 160 schools")
fig.colorbar(image, ax=ax, shrink=0.9, label="similarity (diagonal: 1, itself)")
plt.show()

# %%
# Nearest neighbours of one school
# --------------------------------
# The ten schools most similar to one target school, placed by two of the six
# task features: the mean socio-economic status of the students and the share of
# minority students. The neighbours gather around the target (they are close in
# the other four task features too, which this plane does not show).
target = int(np.argmin(np.abs(meanses - np.median(meanses))))  # a typical school
neighbours = model.neighbors_[target, :10]  # nearest first
names = MomentFeatures().fit(X, tasks=school).get_feature_names_out(data.feature_names)
mean_ses = features[:, list(names).index("mean_SES")]
minority_share = features[:, list(names).index("mean_Minority")]

fig, ax_nn = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
ax_nn.scatter(mean_ses, minority_share, s=14, color="0.75", label="other schools")
ax_nn.scatter(
    mean_ses[neighbours],
    minority_share[neighbours],
    s=36,
    color="tab:blue",
    label="10 nearest schools",
)
ax_nn.scatter(
    mean_ses[target],
    minority_share[target],
    s=160,
    marker="*",
    color="tab:red",
    label=f"target school {labels[target]}",
)
ax_nn.set_xlabel("mean socio-economic status of the school's students")
ax_nn.set_ylabel("share of minority students")
ax_nn.set_title("A school and its nearest neighbours")
ax_nn.legend(loc="upper right", fontsize=9)
plt.show()
