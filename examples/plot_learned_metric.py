"""
Which task properties make knowledge transfer? A learned task metric
=====================================================================

A fixed task metric counts every task feature alike, though only some of them say
whether two tasks' models are alike. ``metric="learned"``
(:class:`~sk_metameta.metrics.LearnedMetric`) learns a weight per task feature
from the tasks' own fitted models, so that tasks close in the metric are tasks
whose models are close, and the weights tell which properties of a task make its
knowledge carry over. This example learns them on tasks built so that the answer
is known, then on the schools of High School and Beyond.
"""

# %%
# Tasks whose models depend on some of their properties only
# -----------------------------------------------------------
# 120 tasks of 30 rows with 4 input features. Each task has its own centre of
# every feature; the task's model (slope of ``x0`` and intercept) depends on the
# centres of ``x0`` and ``x1`` only. The centres of ``x2`` and ``x3`` vary three
# times as much between tasks but decide nothing. The task features
# ``"moments"`` are the mean and standard deviation of each input feature.
import matplotlib.pyplot as plt
import numpy as np

from sk_metameta import TransferRegressor
from sk_metameta.datasets import load_hsb

rng = np.random.default_rng(0)
n_tasks, n_rows = 120, 30
centres = rng.normal(size=(n_tasks, 4)) * np.array([1.0, 1.0, 3.0, 3.0])
tasks = np.repeat(np.arange(n_tasks), n_rows)
X = centres[tasks] + rng.normal(size=(tasks.size, 4))
slope = 2.0 * np.sin(1.5 * centres[:, 0])
intercept = 2.0 * np.cos(1.5 * centres[:, 1])
y = intercept[tasks] + slope[tasks] * X[:, 0] + 0.5 * rng.normal(size=tasks.size)

model = TransferRegressor(metric="learned").fit(X, y, tasks=tasks)
metric = model.metric_
relevant = np.isin(metric.feature_names_in_, ["mean_x0", "mean_x1"])
print(
    f"leave-one-out error of the tasks' models from their neighbours: "
    f"{metric.initial_loss_:.2f} with every task feature alike, "
    f"{metric.loss_:.2f} with the learned weights"
)

# %%
# The schools of High School and Beyond
# -------------------------------------
# 160 schools; each student has a minority indicator, a sex indicator and a
# socio-economic status (SES). Which properties of a school tell whether another
# school's model of mathematics achievement carries over to it?
data = load_hsb()
hsb = TransferRegressor(metric="learned").fit(data.data, data.target, tasks=data.tasks)
hsb_names = [
    name.replace("x0", "minority").replace("x1", "female").replace("x2", "SES")
    for name in hsb.metric_.feature_names_in_
]
for name, weight in zip(hsb_names, hsb.metric_.feature_weights_, strict=True):
    print(f"{name:14s} {weight:.3f}")

# %%
# The learned weight of each task feature
# ---------------------------------------
# Left: the two relevant task features (the centres of ``x0`` and ``x1``) take
# nearly all the weight; the wide but irrelevant centres and every spread get
# almost none. Right: between schools, the mean SES of the students is what
# tells most about how a school's model differs from another's.
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
colors = np.where(relevant, "tab:green", "tab:gray")
left.bar(metric.feature_names_in_, metric.feature_weights_, color=colors)
left.set_title("synthetic tasks (green: the relevant features)")
right.bar(hsb_names, hsb.metric_.feature_weights_, color="tab:blue")
right.set_title("High School and Beyond schools")
for ax in (left, right):
    ax.set_xlabel("task feature")
    ax.set_ylabel("learned weight (sums to 1)")
    ax.tick_params(axis="x", labelrotation=60)
    ax.set_ylim(0, 1)
plt.show()
