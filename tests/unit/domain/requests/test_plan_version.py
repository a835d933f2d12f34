"""A stored plan says its version; a run reads only a version it understands."""

from __future__ import annotations

from datetime import date

import pytest

from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.request_plan import (
    PLAN_VERSION,
    RequestPlan,
    UnknownPlanVersionError,
)

PLAN = RequestPlan(request_type=RequestType.ERASURE, computed_on=date(2026, 12, 1))


def test_a_stored_plan_says_its_version() -> None:
    assert PLAN_VERSION == PLAN.to_json()["version"]
    assert PLAN == RequestPlan.from_json(PLAN.to_json())


def test_a_plan_stored_before_plans_had_versions_reads_as_the_first() -> None:
    stored = PLAN.to_json()
    del stored["version"]

    assert PLAN == RequestPlan.from_json(stored)


def test_a_plan_of_an_unknown_version_is_refused_with_what_to_do() -> None:
    with pytest.raises(UnknownPlanVersionError, match=f"version {PLAN_VERSION + 1}") as refused:
        RequestPlan.from_json({**PLAN.to_json(), "version": PLAN_VERSION + 1})
    assert "planned afresh" in (refused.value.hint or "")
