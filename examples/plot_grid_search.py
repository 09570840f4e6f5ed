"""
Choosing the transfer strength with GridSearchCV
================================================

:class:`~sk_metameta.TransferRegressor`'s default rule, ``"prior"``, pulls each
task's ridge fit toward a prior fitted on its most similar tasks' rows. Its
``strength`` counts like that many extra rows labelled by the prior: 0 is no
transfer, a very large strength is the prior alone. This example chooses one
strength for all schools with :class:`~sklearn.model_selection.GridSearchCV`, with
``tasks`` routed to every split, and compares the choice with the default,
``strength="auto"``, which chooses a strength for each school from its own rows by
generalised cross-validation (closed form), without any search.
"""

# %%
# A few labelled students per school
# ----------------------------------
# Keep 8 students with known scores in each of the 160 schools of High School and
# Beyond; the other students of every school are the test set.
import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import GridSearchCV, KFold

from sk_metameta import TransferRegressor, get_task_scorer
from sk_metameta.datasets import load_hsb
from sk_metameta.transfer import PriorTransfer

X, y, school = load_hsb(return_X_y_tasks=True)
rng = np.random.default_rng(0)
shuffled = rng.permutation(len(y))
by_school = shuffled[np.argsort(school[shuffled], kind="stable")]
first_row = np.searchsorted(school[by_school], school[by_school])
labelled = np.zeros(len(y), dtype=bool)
labelled[by_school[np.arange(len(y)) - first_row < 8]] = True
print(f"{labelled.sum()} labelled students, {(~labelled).sum()} test students")

# %%
# The search
# ----------
# ``tasks`` is metadata: with metadata routing on, ``GridSearchCV`` hands each
# split's school labels to ``fit`` and, through the task-aware scorer, to
# ``predict``. A string scorer (``scoring="neg_mean_squared_error"``) would call
# ``predict`` without them. The folds split students, so every school has
# labelled students in every training fold. The strength is a parameter of the
# rule, hence the nested name ``transfer__strength``.
strengths = [0, 1, 3, 10, 30, 100, 300, 1000, 3000]
search = GridSearchCV(
    TransferRegressor(transfer=PriorTransfer()),
    {"transfer__strength": strengths},
    scoring=get_task_scorer("neg_mean_squared_error"),
    cv=KFold(n_splits=4, shuffle=True, random_state=0),
)
with sklearn.config_context(enable_metadata_routing=True):
    search.fit(X[labelled], y[labelled], tasks=school[labelled])
print("chosen strength:", search.best_params_["transfer__strength"])

# %%
# How good is each strength on the test students? Refit on all labelled students
# with each strength, and with the default per-school choice:
test_mse = []
for strength in strengths:
    model = TransferRegressor(transfer=PriorTransfer(strength=strength))
    model.fit(X[labelled], y[labelled], tasks=school[labelled])
    test_mse.append(
        mean_squared_error(
            y[~labelled], model.predict(X[~labelled], tasks=school[~labelled])
        )
    )
auto = TransferRegressor().fit(X[labelled], y[labelled], tasks=school[labelled])
auto_mse = mean_squared_error(
    y[~labelled], auto.predict(X[~labelled], tasks=school[~labelled])
)

# %%
# The cross-validated error (folds of 6 labelled students per school) and the test
# error (all 8) tell the same story: no transfer (strength 0) is worst, and the
# error falls as the prior gains weight, down to a plateau where more strength
# changes little (with 8 students a school, the prior knows more than the school's
# own rows). The cross-validated choice is near the start of the plateau. The
# default ``strength="auto"`` needs no search and lands close to the best single
# strength. It chooses from each school's own generalised cross-validation errors,
# smoothed toward the average over schools (``smoothing``), which dominates with 8
# rows a school:
strengths_auto = np.unique(auto.strength_.round(1))
print("strengths chosen per school:", strengths_auto)

# %%
# The right panel shows what the strength does to the models: the slope of
# socio-economic status in each school, fitted on its 8 students alone (strength
# 0) and with the prior. Alone, the slopes scatter widely: 8 students cannot pin
# a slope down. The prior pulls them toward those of similar schools.
cv_mse = -search.cv_results_["mean_test_score"]
cv_err = search.cv_results_["std_test_score"]
x = np.array(strengths, dtype=float)
x[0] = 0.3  # show strength 0 on the log axis

fig, (ax, ax_slope) = plt.subplots(
    1, 2, figsize=(11, 4.6), layout="constrained", width_ratios=[3, 2]
)
ax.errorbar(x, cv_mse, yerr=cv_err, marker="o", capsize=3, label="cross-validated")
ax.plot(x, test_mse, marker="s", label="test students")
ax.axhline(auto_mse, color="tab:red", linestyle="--", label='test, strength="auto"')
chosen = strengths.index(search.best_params_["transfer__strength"])
ax.plot(
    x[chosen],
    cv_mse[chosen],
    marker="*",
    markersize=16,
    color="tab:blue",
    linestyle="",
    label="chosen by GridSearchCV",
)
ax.set_xscale("log")
ax.set_xticks(x, ["0"] + [f"{s:g}" for s in strengths[1:]])
ax.minorticks_off()
ax.set_xlabel("prior strength (in rows)")
ax.set_ylabel("mean squared error")
ax.set_title("One strength for every school")
ax.grid(alpha=0.3)
ax.legend(fontsize=9)

ses = 2  # columns of X: Minority, Sex, SES
alone = TransferRegressor(transfer="none")
alone.fit(X[labelled], y[labelled], tasks=school[labelled])
bins = np.linspace(-7, 9, 33)
ax_slope.hist(alone.coef_[:, ses], bins=bins, alpha=0.6, label="each school alone")
ax_slope.hist(auto.coef_[:, ses], bins=bins, alpha=0.8, label="with the prior")
ax_slope.set_xlabel("slope of socio-economic status")
ax_slope.set_ylabel("number of schools")
ax_slope.set_title("Per-school models, 8 students each")
ax_slope.legend(fontsize=9)
plt.show()
