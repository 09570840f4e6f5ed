"""scikit-learn's estimator checks over every estimator the package exports.

No check is expected to fail. This is ``parametrize_with_checks`` spelled out with
the public ``estimator_checks_generator``, for one reason: scikit-learn's
``check_array_api_input`` runs only when ``SCIPY_ARRAY_API=1`` was set before SciPy
was imported, and reports a skip otherwise. It is left out when the variable is not
set, instead of being reported as a skipped test.
"""

import os
from functools import partial

import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import estimator_checks_generator

from sk_metameta import MetricMetaEstimator, TransferClassifier, TransferRegressor
from sk_metameta.model_selection import PerTaskModel, PooledModel


def estimators():
    return [
        TransferRegressor(),
        TransferClassifier(),
        MetricMetaEstimator(Ridge()),
        MetricMetaEstimator(LogisticRegression()),
        MetricMetaEstimator(LogisticRegression(), transfer="instance"),
        PerTaskModel(Ridge()),
        PerTaskModel(LogisticRegression()),
        PooledModel(Ridge(), task_intercept=True),
        PooledModel(LogisticRegression(), task_intercept=True),
    ]


def check_name(check):
    while isinstance(check, partial):
        check = check.func
    return check.__name__


def all_checks():
    array_api = os.environ.get("SCIPY_ARRAY_API") == "1"
    for estimator in estimators():
        for est, check in estimator_checks_generator(estimator, legacy=True):
            if check_name(check).startswith("check_array_api") and not array_api:
                continue
            yield pytest.param(est, check, id=f"{est!r}-{check_name(check)}")


@pytest.mark.parametrize("estimator, check", list(all_checks()))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
