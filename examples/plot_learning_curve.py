"""
Few-shot learning curves of every transfer rule
===============================================

A new school joins the High School and Beyond study with only ``k`` students whose
mathematics scores are known. How well can the scores of its other students be
predicted? Each school in turn is the *target*, with ``k`` labelled students; the
other schools are *sources* with all their students. The curves show the explained
variance of the targets' other students (higher is better, the quantity of
``sk-metameta demo``) as ``k`` grows, for every transfer rule of
:class:`~sk_metameta.TransferRegressor` and for the two baselines a user would
otherwise write: one pooled model for all schools, and one pooled model with a
per-school intercept.

This is the protocol of ``sk-metameta demo``, run here with five folds of target
schools and three repeats (new folds and labelled students each time).
"""

# %%
# The methods
# -----------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge

from sk_metameta import TransferRegressor
from sk_metameta.datasets import load_hsb
from sk_metameta.model_selection import PooledModel, few_shot_evaluation

X, y, school = load_hsb(return_X_y_tasks=True)

rules = ["none", "additive", "interpolate", "select", "ensemble", "instance", "prior"]
methods = {rule: TransferRegressor(transfer=rule) for rule in rules}
methods["pooled + school intercept"] = PooledModel(Ridge(), task_intercept=True)
methods["pooled"] = Ridge()

result = few_shot_evaluation(
    X,
    y,
    school,
    methods,
    ks=[3, 5, 10, 20],
    n_folds=5,
    n_repeats=3,
    scoring="explained_variance",
    random_state=0,
    progress=False,
)
print(result.table())
print("\n".join(result.verdict()))

# %%
# The curves
# ----------
# ``"none"`` fits each school on its ``k`` students alone: far worse than pooling
# when ``k`` is small. The pooled model ignores the schools' differences, so its
# explained variance hardly grows with ``k``. The rules that borrow rows or a prior
# from similar schools (``"prior"``, ``"instance"``, ``"ensemble"``) stay close to
# the pooled model even at ``k = 3`` and keep improving as ``k`` grows; they beat
# the pooled model with a per-school intercept (the usual multilevel baseline)
# while ``k`` is small. The textbook ``"additive"`` rule hardly improves on no
# transfer. The right panel zooms in on the best methods. Every curve is shifted a
# little sideways, so that curves with equal scores stay visible side by side.
styles = {
    "pooled": {"color": "black", "linestyle": "--", "marker": "s"},
    "pooled + school intercept": {"color": "0.45", "linestyle": "--", "marker": "d"},
}
markers = dict(zip(rules, "os^vDPX", strict=True))
colors = dict(zip(rules, plt.get_cmap("tab10").colors, strict=False))
mean = result.scores.mean(axis=2)  # (n_methods, n_ks), averaged over repeats
best = ["prior", "instance", "ensemble", "pooled + school intercept", "pooled"]

fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
for ax, shown in [(axes[0], result.methods), (axes[1], best)]:
    for position, name in enumerate(shown):
        i = result.methods.index(name)
        if name in styles:
            style = styles[name]
        else:
            style = {"linestyle": "-", "marker": markers[name], "color": colors[name]}
        shift = 1.0 + 0.02 * (position - (len(shown) - 1) / 2)  # log axis: a factor
        ax.plot(
            np.asarray(result.ks) * shift,
            mean[i],
            label=name,
            linewidth=2,
            markersize=7,
            **style,
        )
    ax.set_xscale("log")
    ax.set_xticks(result.ks, [str(k) for k in result.ks])
    ax.minorticks_off()
    ax.set_xlabel("labelled students of the target school (k)")
    ax.set_ylabel("explained variance of its other students (higher is better)")
    ax.grid(alpha=0.3)
axes[0].set_title("Every rule and baseline")
axes[0].legend(fontsize=9, ncols=2)
axes[1].set_title("The best methods, zoomed in")
axes[1].legend(fontsize=9)
fig.suptitle("High School and Beyond: 160 schools, each in turn the target")
plt.show()
