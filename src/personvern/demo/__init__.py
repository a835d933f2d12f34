"""The demo company: its operational databases and files, filled with synthetic people.

``personvern demo`` seeds it; data subject request tests compare their results with
:func:`ground_truth`.
"""

from __future__ import annotations

from personvern.demo.seed import DemoSummary, ProgressCallback, seed_demo_company
from personvern.demo.targets import (
    DemoTargets,
    default_targets,
    demo_environment,
    find_example_datamap,
    targets_from_urls,
)
from personvern.demo.truth import ground_truth

__all__ = [
    "DemoSummary",
    "DemoTargets",
    "ProgressCallback",
    "default_targets",
    "demo_environment",
    "find_example_datamap",
    "ground_truth",
    "seed_demo_company",
    "targets_from_urls",
]
