"""Shared pytest setup: Hypothesis profiles and a clean plugin registry."""

import os

from hypothesis import HealthCheck, settings

# "ci": deterministic and bounded, for the suite under 15 minutes on 2 cores.
# "dev": the default locally. "thorough": many more examples for slow property
# tests (HYPOTHESIS_PROFILE=thorough pytest -m slow).
settings.register_profile(
    "ci",
    max_examples=40,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "thorough",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)
