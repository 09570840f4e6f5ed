"""The estimators log what they learned to the ``sk_metameta`` logger."""

import logging

import numpy as np

from sk_metameta import TransferClassifier, TransferRegressor
from sk_metameta.datasets import make_related_tasks


def test_fits_log_what_they_learned(caplog):
    X, y, tasks = make_related_tasks(8, 12, random_state=0)
    with caplog.at_level(logging.INFO, logger="sk_metameta"):
        TransferRegressor().fit(X, y, tasks=tasks)
        TransferClassifier().fit(X, y > np.median(y), tasks=tasks)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("learned prior of 8 tasks") for m in messages)
    assert any("fitted 8 logistic task models (2 classes)" in m for m in messages)
    assert all(r.name.startswith("sk_metameta.") for r in caplog.records)


def test_nothing_is_printed_without_a_handler(capsys):
    X, y, tasks = make_related_tasks(4, 10, random_state=0)
    TransferRegressor().fit(X, y, tasks=tasks)
    assert capsys.readouterr() == ("", "")
