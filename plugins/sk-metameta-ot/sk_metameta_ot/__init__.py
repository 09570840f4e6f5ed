"""Optimal-transport task metrics for sk-metameta, computed with POT.

Installing this package registers two metrics with sk-metameta:

- ``"wasserstein"``: :class:`WassersteinMetric`, the exact Wasserstein-p distance
  between the tasks' samples (a metric);
- ``"otdd"``: :class:`OTDDMetric`, a label-aware dataset distance in the spirit of
  OTDD (a pseudometric; needs ``y``).
"""

from ._otdd import OTDDMetric
from ._wasserstein import WassersteinMetric

__version__ = "0.1.0"

__all__ = ["OTDDMetric", "WassersteinMetric", "__version__"]
