"""`GET /healthz`: is the store reachable and migrated, and did the data map load? Public.

`GET /livez`: is the process serving at all? For a liveness probe, which must not fail
when the store does: restarting every instance would not bring the store back.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from personvern.api.deps import ContextDep
from personvern.store.db import ping
from personvern.store.migrate import head_revision

router = APIRouter(tags=["health"])


class StoreHealth(BaseModel):
    """personvern's own database."""

    reachable: bool
    revision: str | None = Field(description="migration revision the store is at")
    head: str = Field(description="newest revision this personvern ships")


class DataMapHealth(BaseModel):
    """The data map the server loaded at start-up."""

    loaded: bool
    error: str | None = Field(None, description="why it did not load")


class Liveness(BaseModel):
    """The process answers."""

    status: Literal["alive"] = "alive"


@router.get("/livez", response_model=Liveness)
async def livez() -> Liveness:
    """Answer at once, reading nothing: the process is up (use /healthz for readiness)."""
    return Liveness()


class HealthReport(BaseModel):
    """``ok``: all well. ``degraded``: serving, but the data map or the schema needs work.
    ``unavailable`` (HTTP 503): the store cannot be reached."""

    status: Literal["ok", "degraded", "unavailable"]
    store: StoreHealth
    datamap: DataMapHealth


@router.get(
    "/healthz",
    response_model=HealthReport,
    responses={503: {"model": HealthReport, "description": "the store cannot be reached"}},
)
def healthz(context: ContextDep, response: Response) -> HealthReport:
    """Report whether the store answers and the data map is loaded."""
    store = ping(context.application.store)
    head = head_revision()
    error = context.application.datamap.error
    datamap = DataMapHealth(
        loaded=context.application.datamap.loaded is not None, error=str(error) if error else None
    )
    if not store.reachable:
        status: Literal["ok", "degraded", "unavailable"] = "unavailable"
        # Load balancers take an instance out of rotation on 503; without its store it
        # cannot authenticate anyone. A bad data map is a configuration problem that
        # every instance shares, so it stays 200 and is reported in the body.
        response.status_code = 503
    elif not datamap.loaded or store.revision != head:
        status = "degraded"
    else:
        status = "ok"
    return HealthReport(
        status=status,
        store=StoreHealth(reachable=store.reachable, revision=store.revision, head=head),
        datamap=datamap,
    )
