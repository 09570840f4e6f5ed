"""The sk-metameta plugin: registers the optimal-transport task metrics.

Found through the entry point ``ot`` of the ``sk_metameta`` group (see this
package's ``pyproject.toml``).
"""

from __future__ import annotations

from sk_metameta.hookspecs import MetricRecord, hookimpl

from ._otdd import OTDDMetric
from ._wasserstein import WassersteinMetric

__all__ = ["sk_metameta_register_metrics"]


@hookimpl
def sk_metameta_register_metrics():
    """Register ``wasserstein`` and ``otdd``.

    Returns
    -------
    records : list of MetricRecord
    """
    return [
        MetricRecord(WassersteinMetric.name, WassersteinMetric),
        MetricRecord(OTDDMetric.name, OTDDMetric),
    ]
