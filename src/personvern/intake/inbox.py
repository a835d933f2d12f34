"""The privacy office's inbox: every request that needs work, the nearest deadline first.

Each row says what the request is, how urgent it is and what it waits for. Nothing of
the subject is decrypted for the list: identities are shown only on the request's own
page. A search by identity hashes what was typed the way requests are keyed, so it
finds requests filed with exactly that identity without reading any sealed value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from personvern.domain.datamap import IdentityKind
from personvern.domain.identities.errors import InvalidIdentityError
from personvern.domain.requests.identity import parse_identity
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.domain.requests.urgency import Urgency, WaitingFor, urgency, waiting_for
from personvern.intake.approval import approval_needed
from personvern.intake.service import parse_request_state, parse_request_type
from personvern.intake.views import deadline_in_force
from personvern.security.subject_hash import subject_key
from personvern.settings import Settings
from personvern.store.errors import RecordNotFoundError
from personvern.store.models import DataSubjectRequest
from personvern.store.requests import RequestRepository

#: What a request id looks like (personvern.store.requests.new_request_id).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{6,32}$")


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox is narrowed to, as the user chose it."""

    type: str | None = None
    state: str | None = None
    system: str | None = None
    urgency: str | None = None
    search: str | None = None


@dataclass(frozen=True)
class InboxRow:
    """One open request as the inbox lists it."""

    id: str
    type: RequestType
    state: RequestState
    received: date
    deadline: date
    days_left: int | None
    extended: bool
    urgency: Urgency
    waiting_for: WaitingFor
    #: The systems its open manual steps (or the outage it waits out) are in.
    systems: tuple[str, ...]


def inbox(
    session: Session,
    settings: Settings,
    chosen: InboxFilter,
    *,
    today: date,
    country: str = "NO",
    may_search_identities: bool = False,
) -> list[InboxRow]:
    """The open requests matching ``chosen``, the nearest deadline first."""
    repository = RequestRepository(session)
    search = (chosen.search or "").strip()
    requests: Sequence[DataSubjectRequest]
    if search and _REQUEST_ID.match(search) and "@" not in search:
        requests = _by_id(repository, search)
        if not requests and may_search_identities:
            requests = _by_identity(repository, settings, search, country)
    elif search and may_search_identities:
        requests = _by_identity(repository, settings, search, country)
    elif search:
        requests = []
    else:
        requests = repository.open_by_deadline(
            state=parse_request_state(chosen.state) if chosen.state else None,
            type=parse_request_type(chosen.type) if chosen.type else None,
        )
    tasks = repository.open_task_keys([r.id for r in requests])
    rows = [_row(r, settings, tasks.get(r.id, []), today) for r in requests]
    if chosen.system:
        rows = [row for row in rows if chosen.system in row.systems]
    if chosen.urgency:
        rows = [row for row in rows if row.urgency.value == chosen.urgency]
    return rows


def _by_id(repository: RequestRepository, request_id: str) -> list[DataSubjectRequest]:
    try:
        return [repository.get(request_id)]
    except RecordNotFoundError:
        return []


def _by_identity(
    repository: RequestRepository, settings: Settings, typed: str, country: str
) -> list[DataSubjectRequest]:
    """Requests filed with exactly the identity typed (an e-mail, phone or national id)."""
    # The shapes tried in turn: an address has "@", a national id 11 digits, a phone the rest.
    for kind in (IdentityKind.EMAIL, IdentityKind.NATIONAL_ID, IdentityKind.PHONE_NUMBER):
        try:
            identity = parse_identity(kind.value, typed, country=country)
        except InvalidIdentityError:
            continue
        key = subject_key(settings.secret(), [identity])
        return list(repository.open_by_deadline(subject_key=key))
    return []


def _row(
    request: DataSubjectRequest, settings: Settings, task_keys: list[str], today: date
) -> InboxRow:
    # Every request listed needs work, a partially completed one's tasks included.
    left = (deadline_in_force(request) - today).days
    systems = {key.split(".", 1)[0] for key in task_keys}
    return InboxRow(
        id=request.id,
        type=RequestType(request.type),
        state=request.state,
        received=request.received_at.date(),
        deadline=deadline_in_force(request),
        days_left=left,
        extended=request.extended_deadline is not None,
        urgency=urgency(left),
        waiting_for=waiting_for(
            request.state,
            awaits_approval=request.approved_at is None and approval_needed(request, settings),
            open_tasks=len(task_keys),
        ),
        systems=tuple(sorted(systems)),
    )
