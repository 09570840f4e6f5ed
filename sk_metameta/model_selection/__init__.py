"""Few-shot evaluation over tasks, and the baselines to compare against.

:func:`few_shot_evaluation` runs the protocol of ``sk-metameta demo`` on any
multi-task data set: every task in turn is a *target* with ``k`` labelled rows,
the other tasks are *sources* with all their rows, and the target's remaining rows
are the test set. :class:`FewShotSplit` is the same protocol as a scikit-learn
cross-validation splitter (``GridSearchCV(..., cv=FewShotSplit(k=5))``).
:class:`PerTaskModel` (one model per task) and
:class:`PooledModel` (one model for all rows, optionally with a per-task
intercept) are the baselines a transfer method has to beat.

Examples
--------
>>> from sklearn.linear_model import Ridge
>>> from sk_metameta import TransferRegressor
>>> from sk_metameta.datasets import make_related_tasks
>>> from sk_metameta.model_selection import (
...     PerTaskModel, PooledModel, few_shot_evaluation)
>>> X, y, tasks = make_related_tasks(n_tasks=12, n_samples_per_task=30,
...                                  random_state=0)
>>> methods = {
...     "target-only": PerTaskModel(Ridge()),
...     "pooled + task intercept": PooledModel(Ridge(), task_intercept=True),
...     "transfer": TransferRegressor(),
... }
>>> result = few_shot_evaluation(X, y, tasks, methods, ks=[5, 10], n_folds=3,
...                              random_state=0)
>>> result.methods
['target-only', 'pooled + task intercept', 'transfer']
>>> result.mean_scores().shape
(3, 2)
"""

from ._baselines import PerTaskModel, PooledModel
from ._few_shot import FewShotResult, few_shot_evaluation
from ._split import FewShotSplit

__all__ = [
    "FewShotResult",
    "FewShotSplit",
    "PerTaskModel",
    "PooledModel",
    "few_shot_evaluation",
]
