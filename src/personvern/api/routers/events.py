"""`POST /api/v1/events`: page views and clicks from the company's sites and apps. Public.

Stored only with the visitor's analytics consent in the ledger, and only reduced
(personvern.intake.web_events): 201 with ``stored: true``, else 202 with
``stored: false`` and nothing written. CORS from any origin, no credentials
(personvern.api.public_cors).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from personvern.api.deps import DataMapDep, SessionDep, SettingsDep
from personvern.domain.web_events import MAX_URL, EventType
from personvern.intake import web_events

EVENTS_PATH = "/events"

router = APIRouter(tags=["events"])


class EventIn(BaseModel):
    """A page view or a click, as the banner's ``personvern.track`` or an app sends it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "visitor_id": "3f2a6c1e9b8d4f7a0c5e2b1d9f8a7c6e",
                    "type": "page_view",
                    "url": "https://www.example.com/booking?room=3",
                    "referrer": "https://www.example.com/",
                }
            ]
        },
    )

    visitor_id: str = Field(
        pattern=r"^[0-9a-f]{32}$", description="the banner's visitor id (identity kind cookie_id)"
    )
    type: EventType
    url: str = Field(min_length=1, max_length=MAX_URL)
    referrer: str | None = Field(None, max_length=MAX_URL)
    time: datetime | None = Field(None, description="when it happened; default: now")
    resource: str | None = Field(
        None, max_length=MAX_URL, description="what was clicked: a link, or an element's id"
    )


class EventOut(BaseModel):
    """Whether the event was stored: only with the visitor's analytics consent."""

    stored: bool


@router.post(
    EVENTS_PATH,
    status_code=202,
    response_model=EventOut,
    responses={201: {"model": EventOut, "description": "stored, reduced"}},
)
def collect_event(
    body: EventIn,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    datamap: DataMapDep,
    user_agent: Annotated[str | None, Header(max_length=1000)] = None,
) -> EventOut:
    """Take one event; store it, reduced, only if the visitor consented to analytics."""
    collected = web_events.collect(
        session,
        settings,
        datamap,
        visitor_id=body.visitor_id,
        event_type=body.type,
        url=body.url,
        referrer=body.referrer,
        resource=body.resource,
        occurred_at=body.time,
        client_ip=request.client.host if request.client else None,
        user_agent=user_agent,
    )
    if collected.stored:
        response.status_code = 201
    return EventOut(stored=collected.stored)
