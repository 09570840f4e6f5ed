"""Conformance kit for plugin authors: Hypothesis strategies and checks.

A plugin's own tests call the checks on its components; the project's tests run
them over every registered component::

    from sk_metameta.testing import check_plugin

    def test_my_plugin_conforms():
        check_plugin("my_package.plugin")

Each check draws inputs with Hypothesis under the active settings profile and
raises an ``AssertionError`` naming the component, the property it breaks and a
counter-example:

- :func:`check_metric`: exactly the axioms a task metric declares, and the shape
  and consistency of its distances;
- :func:`check_task_features`: one finite row per task, invariant to the order of
  rows and of tasks, with the declared number of feature names and the declared
  need of ``y``;
- :func:`check_transfer_rule`: well-formed source weights;
- :func:`check_plugin`: the plugin's hooks and records, then every component.

The strategies (:func:`multitask_data`, :func:`task_features_arrays`, ...) draw
bounded floats only: no NaN, no infinity, no subnormal numbers.

The kit needs Hypothesis, which sk-metameta itself does not: install it with
``pip install "sk-metameta[testing]"``.
"""

try:
    import hypothesis  # noqa: F401
except ImportError as exc:  # pragma: no cover - tested in a subprocess
    raise ImportError(
        "sk_metameta.testing (the conformance kit) needs Hypothesis, which is not "
        'installed; install the extra: pip install "sk-metameta[testing]".'
    ) from exc

from ._metric_checks import check_metric
from ._plugin_checks import check_component, check_plugin
from ._strategies import (
    DEFAULT_BOUNDS,
    finite_floats,
    multitask_data,
    similarity_matrices,
    task_features_arrays,
    task_labels,
)
from ._task_feature_checks import check_task_features
from ._transfer_checks import check_transfer_rule

__all__ = [
    "DEFAULT_BOUNDS",
    "check_component",
    "check_metric",
    "check_plugin",
    "check_task_features",
    "check_transfer_rule",
    "finite_floats",
    "multitask_data",
    "similarity_matrices",
    "task_features_arrays",
    "task_labels",
]
