"""Template sk-metameta plugin: one task metric, one extractor, one transfer rule.

The components are ordinary classes; :mod:`sk_metameta_template.plugin` registers
them with sk-metameta under the names ``canberra``, ``quantiles`` and ``uniform``.
"""

from ._canberra import CanberraMetric
from ._quantiles import QuantileFeatures
from ._uniform import UniformNeighbors

__version__ = "0.1.0"

__all__ = ["CanberraMetric", "QuantileFeatures", "UniformNeighbors", "__version__"]
