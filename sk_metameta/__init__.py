"""sk-metameta: metric-based meta-learning for scikit-learn.

Describe tasks (groups of rows) by task features, measure how far apart they are
with a task metric, and transfer knowledge to a target task from its most similar
source tasks.
"""

import importlib
import logging

__version__ = "0.1.0"

# the library logs to the "sk_metameta" logger; the application decides where to
logging.getLogger(__name__).addHandler(logging.NullHandler())

# Public names, imported on first use (PEP 562) to keep ``import sk_metameta``
# light: the command line and plugin discovery need none of the estimators.
_LAZY = {
    "TaskDistances": "._task_space",
    "task_distances": "._task_space",
    "TaskIndex": "._tasks",
    "TaskExplanation": "._explain",
    "SourceContribution": "._explain",
    "check_tasks": "._tasks",
    "TransferRegressor": "._transfer_regressor",
    "TransferClassifier": "._transfer_classifier",
    "TasksMissingWarning": ".exceptions",
    "MetricMetaEstimator": "._meta",
    "make_task_scorer": "._scoring",
    "get_task_scorer": "._scoring",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sk_metameta' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
