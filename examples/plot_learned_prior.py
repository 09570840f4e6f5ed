"""
How much does each school borrow? A prior learned across schools
================================================================

:class:`~sk_metameta.TransferRegressor` fits one linear model per task, each the
posterior under a prior learned from all tasks at once (``transfer="hierarchical"``,
the default): a local prior mean from each school's most similar schools, and a
between-school covariance of the coefficients, learned by empirical Bayes. How
strongly a school is pulled toward its prior is not a parameter: it follows from
what the 160 schools say about how much schools differ, and from the school's own
number of students. This example shows that pull against the size of the school,
on the High School and Beyond data.
"""

# %%
# Fit
# ---
# One fit learns the prior from all 160 schools and gives each school its model.
import matplotlib.pyplot as plt
import numpy as np

from sk_metameta import TransferRegressor
from sk_metameta.datasets import load_hsb

X, y, school = load_hsb(return_X_y_tasks=True)
model = TransferRegressor().fit(X, y, tasks=school)
n_rows = np.array([model.explain(label).n_rows for label in model.tasks_])
print("between-school standard deviations (intercept, Minority, Sex, SES):")
print(np.sqrt(np.diag(model.prior_covariance_)).round(2))
print(f"noise standard deviation: {np.sqrt(model.noise_variance_):.2f}")

# %%
# The pull toward the prior, school by school
# -------------------------------------------
# ``strength_`` is the share of the prior in each school's posterior: 1 means the
# school's model is its prior, 0 that it is its own least-squares fit. Small
# schools lean on their neighbours; large ones mostly on their own students.
# Each school's own least-squares slope of SES and its posterior slope show the
# same thing: the small schools' slopes move most toward their prior.
alone = TransferRegressor(transfer="none", alpha=1e-6).fit(X, y, tasks=school)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.scatter(n_rows, model.strength_, s=12)
left.set_xlabel("students in the school")
left.set_ylabel("share of the prior in the school's model")
left.set_title("The pull toward the prior falls with the school's size")
shift = np.abs(alone.coef_[:, 2] - model.coef_[:, 2])
right.scatter(n_rows, shift, s=12)
right.set_xlabel("students in the school")
right.set_ylabel("|own SES slope - posterior SES slope|")
right.set_title("Small schools' slopes move most")
fig.tight_layout()
plt.show()
