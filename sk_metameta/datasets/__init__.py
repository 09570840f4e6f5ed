"""Multi-task datasets: real ones shipped with the package, and a generator.

- :func:`load_hsb`: High School and Beyond mathematics achievement, 160 schools
  (regression);
- :func:`load_contraception`: contraceptive use in 60 districts of Bangladesh
  (binary classification);
- :func:`make_related_tasks`: synthetic linear tasks with a known cluster
  structure.
"""

from ._base import load_contraception, load_hsb
from ._synthetic import make_related_tasks

__all__ = ["load_contraception", "load_hsb", "make_related_tasks"]
