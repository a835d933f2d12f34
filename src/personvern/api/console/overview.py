"""`GET /staff/overview`: weekly requests, days to completion, requests at risk, systems."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from personvern.api.console.charts import (
    ENGLISH,
    NORWEGIAN,
    completion_chart,
    english_number,
    norwegian_number,
    system_strain_chart,
    weekly_requests_chart,
)
from personvern.api.console.language import Language
from personvern.api.console.pages import language_of, page_requires, render
from personvern.api.deps import DataMapDep, SessionDep, SettingsDep
from personvern.domain.requests.urgency import Urgency
from personvern.domain.roles import Permission
from personvern.intake.request_statistics import request_statistics
from personvern.security.principal import Principal
from personvern.store.base import utcnow

router = APIRouter()


@router.get("/overview", name="staff_overview")
def overview(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    datamap: DataMapDep,
    principal: Annotated[Principal, Depends(page_requires(Permission.REQUESTS_READ))],
    weeks: Annotated[int, Query(ge=4, le=104)] = 12,
) -> Response:
    """The figures of the last ``weeks`` weeks as server-drawn charts (no personal data)."""
    stats = request_statistics(
        session, today=utcnow().date(), weeks=weeks, systems=[s.key for s in datamap.systems]
    )
    norwegian = language_of(request) is Language.NB
    labels, number = (NORWEGIAN, norwegian_number) if norwegian else (ENGLISH, english_number)
    return render(
        request,
        settings,
        "overview.html.j2",
        principal=principal,
        title_key="overview.title",
        stats=stats,
        weeks=weeks,
        weekly_chart=weekly_requests_chart(stats.weekly, labels, number),
        completion_chart=completion_chart(stats.completion, labels, number),
        systems_chart=system_strain_chart(stats.systems, labels, number),
        urgency_overdue=Urgency.OVERDUE,
        urgency_soon=Urgency.AT_RISK,
        urgency_fine=Urgency.FINE,
    )
