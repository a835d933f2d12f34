"""`GET /staff/`: the inbox, every open request with the nearest deadline first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from personvern.api.console.pages import first, form_fields, page_requires, render
from personvern.api.csrf import require_csrf
from personvern.api.deps import DataMapDep, SessionDep, SettingsDep
from personvern.domain.datamap import DataMap
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.domain.requests.urgency import Urgency
from personvern.domain.roles import Permission
from personvern.intake.inbox import InboxFilter, inbox
from personvern.security.principal import Principal
from personvern.settings import Settings
from personvern.store.base import utcnow

router = APIRouter()

_Choice = Annotated[str | None, Query(max_length=64)]


@router.get("/", name="staff_inbox")
def inbox_page(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    datamap: DataMapDep,
    principal: Annotated[Principal, Depends(page_requires(Permission.REQUESTS_READ))],
    type: _Choice = None,
    state: _Choice = None,
    system: _Choice = None,
    urgency: _Choice = None,
) -> Response:
    """Open requests with type, state, days left, extension and what each waits for."""
    chosen = InboxFilter(
        type=type or None, state=state or None, system=system or None, urgency=urgency or None
    )
    return _inbox(request, settings, session, datamap, principal, chosen)


@router.post("/", name="staff_inbox_search", dependencies=[Depends(require_csrf)])
async def inbox_search(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    datamap: DataMapDep,
    principal: Annotated[Principal, Depends(page_requires(Permission.REQUESTS_READ))],
) -> Response:
    """The inbox filtered as the form says; posted, so a searched identity stays out of URLs."""
    fields = await form_fields(request)
    chosen = InboxFilter(
        **{name: first(fields, name)[:320] or None for name in ("type", "state", "system")},
        urgency=first(fields, "urgency")[:32] or None,
        search=first(fields, "q")[:320] or None,
    )
    return _inbox(request, settings, session, datamap, principal, chosen)


def _inbox(
    request: Request,
    settings: Settings,
    session: Session,
    datamap: DataMap,
    principal: Principal,
    chosen: InboxFilter,
) -> Response:
    rows = inbox(
        session,
        settings,
        chosen,
        today=utcnow().date(),
        country=datamap.organization.controllers[0].country,
        may_search_identities=principal.can(Permission.PERSONAL_DATA_READ),
    )
    return render(
        request,
        settings,
        "inbox.html.j2",
        principal=principal,
        title_key="inbox.title",
        rows=rows,
        chosen=chosen,
        types=list(RequestType),
        states=[s for s in RequestState if s.is_open],
        urgencies=[u for u in Urgency if u is not Urgency.CLOSED],
        systems=[system.key for system in datamap.systems],
    )
