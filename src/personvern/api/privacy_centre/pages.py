"""The privacy centre's pages: file a request, prove the address, follow the requests.

Anyone may file; the code we e-mail proves the address, and entering it opens a short
proof (a signed cookie, personvern.security.subject_session) that lets the person see
the state and deadline of their requests. Every form carries a CSRF token; nothing
personal appears in a URL (pages are addressed by request id only); a person is told
the same thing whether or not we hold data about them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from jinja2 import ChoiceLoader, Environment, PackageLoader
from sqlalchemy.orm import Session

from personvern.api.console.pages import (
    console_environment,
    first,
    form_fields,
    language_of,
    redirect,
    render,
)
from personvern.api.csrf import require_csrf
from personvern.api.deps import DataMapDep, SessionDep, SettingsDep
from personvern.domain.audit.event import AuditActor
from personvern.domain.consent.ledger import ConsentSource, current_texts
from personvern.domain.datamap import DataMap
from personvern.domain.localized_names import localized
from personvern.domain.requests.lifecycle import RequestType
from personvern.errors import ErrorKind, PersonvernError
from personvern.intake import service
from personvern.intake.consents import history, record_consent
from personvern.intake.details import correctable_keys
from personvern.intake.errors import RateLimitedError
from personvern.intake.views import deadline_in_force, readable_identities
from personvern.security.subject_session import LIFETIME, seal_subject, verified_request
from personvern.settings import Settings
from personvern.store.base import utcnow
from personvern.store.errors import RecordNotFoundError
from personvern.store.models import DataSubjectRequest
from personvern.store.requests import RequestRepository

#: Where the pages are mounted in the API's application.
MOUNT_PATH = "/privacy"
SUBJECT_COOKIE = "personvern-subject"
router = APIRouter()
RequestId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
TypePath = Annotated[str, Path(pattern=r"^[a-z-]{1,32}$")]
#: Errors the person can fix by changing what they typed: shown on the form again.
_THEIRS = frozenset({ErrorKind.INVALID, ErrorKind.CONFLICT})


@cache
def centre_environment() -> Environment:
    """The console's environment with the privacy centre's templates in front."""
    shared = console_environment()
    assert shared.loader is not None
    return shared.overlay(
        loader=ChoiceLoader(
            [PackageLoader("personvern.api.privacy_centre", "templates"), shared.loader]
        )
    )


def page(request: Request, settings: Settings, template: str, **values: Any) -> Response:
    """A privacy centre page in the visitor's language."""
    return render(request, settings, template, templates=centre_environment(), **values)


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _request_type(value: str) -> RequestType:
    try:
        return RequestType(value)
    except ValueError:
        raise RecordNotFoundError(
            f"there is no request type '{value}'", hint="choose one on /privacy/"
        ) from None


@router.get("/", name="privacy_home")
def home(request: Request, settings: SettingsDep) -> Response:
    """What a person can do here: each right, following a request, the documents."""
    return page(
        request,
        settings,
        "privacy/home.html.j2",
        title_key="pc.title",
        types=list(RequestType),
        lang_now=language_of(request).value,
    )


@router.get("/file/{request_type}", name="privacy_file_form")
def file_form(
    request: Request, request_type: TypePath, settings: SettingsDep, datamap: DataMapDep
) -> Response:
    """The form for one type of request."""
    chosen = _request_type(request_type)
    return _file_page(request, settings, datamap, chosen, error=None, status_code=200)


def _file_page(
    request: Request,
    settings: Settings,
    datamap: DataMap,
    chosen: RequestType,
    *,
    error: PersonvernError | None,
    status_code: int,
) -> Response:
    categories, _ = correctable_keys(datamap)
    return page(
        request,
        settings,
        "privacy/file.html.j2",
        status_code=status_code,
        title_key="pc.file_title",
        type=chosen,
        error=error,
        categories=sorted(categories),
    )


@router.post("/file/{request_type}", name="privacy_file", dependencies=[Depends(require_csrf)])
async def file(
    request: Request,
    request_type: TypePath,
    session: SessionDep,
    settings: SettingsDep,
    datamap: DataMapDep,
) -> Response:
    """File the request and mail the code; then ask for the code."""
    chosen = _request_type(request_type)
    fields = await form_fields(request)
    details = None
    if chosen is RequestType.RECTIFICATION:
        details = {"corrections": {first(fields, "what")[:200]: first(fields, "value")[:2000]}}
    try:
        filed = service.file_request(
            session,
            settings,
            datamap,
            type=chosen.value,
            identities=[("email", first(fields, "email")[:320])],
            language=language_of(request).value,
            channel=service.Channel.PUBLIC,
            actor=service.SUBJECT_ACTOR,
            client_ip=_client_ip(request),
            details=details,
        )
    except RateLimitedError as limited:
        # Answered, not raised: the counters the filing took must be committed.
        return _file_page(request, settings, datamap, chosen, error=limited, status_code=429)
    except PersonvernError as refused:
        if refused.kind not in _THEIRS:
            raise
        session.rollback()
        return _file_page(request, settings, datamap, chosen, error=refused, status_code=422)
    return redirect(f"{MOUNT_PATH}/verify/{filed.request.id}")


@router.get("/verify/{request_id}", name="privacy_verify_form")
def verify_form(request: Request, request_id: RequestId, settings: SettingsDep) -> Response:
    """Where the person types the code we mailed them."""
    return page(
        request,
        settings,
        "privacy/verify.html.j2",
        title_key="pc.verify_title",
        request_id=request_id,
        error=None,
        sent=False,
    )


@router.post("/verify/{request_id}", name="privacy_verify", dependencies=[Depends(require_csrf)])
async def verify(
    request: Request, request_id: RequestId, session: SessionDep, settings: SettingsDep
) -> Response:
    """Check the code; the person may then follow their requests for a while."""
    fields = await form_fields(request)
    try:
        service.verify(
            session, settings, request_id, first(fields, "code")[:64], client_ip=_client_ip(request)
        )
    except PersonvernError as refused:
        if refused.kind not in _THEIRS | {ErrorKind.TOO_MANY, ErrorKind.NOT_FOUND, ErrorKind.GONE}:
            raise
        if not isinstance(refused, RateLimitedError):
            session.rollback()
        return page(
            request,
            settings,
            "privacy/verify.html.j2",
            status_code=429 if refused.kind is ErrorKind.TOO_MANY else 422,
            title_key="pc.verify_title",
            request_id=request_id,
            error=refused,
            sent=False,
        )
    response = redirect(f"{MOUNT_PATH}/status")
    response.set_cookie(
        SUBJECT_COOKIE,
        seal_subject(settings.secret(), request_id, utcnow()),
        max_age=int(LIFETIME.total_seconds()),
        path=MOUNT_PATH,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


@router.post(
    "/verify/{request_id}/resend",
    name="privacy_resend",
    dependencies=[Depends(require_csrf)],
)
def resend(
    request: Request,
    request_id: RequestId,
    session: SessionDep,
    settings: SettingsDep,
    datamap: DataMapDep,
) -> Response:
    """Mail a new code; the old one stops working."""
    error: PersonvernError | None = None
    try:
        service.resend_code(session, settings, datamap, request_id, client_ip=_client_ip(request))
    except PersonvernError as refused:
        if refused.kind not in _THEIRS | {ErrorKind.TOO_MANY, ErrorKind.NOT_FOUND}:
            raise
        error = refused
    return page(
        request,
        settings,
        "privacy/verify.html.j2",
        status_code=200 if error is None else 422,
        title_key="pc.verify_title",
        request_id=request_id,
        error=error,
        sent=error is None,
    )


@router.get("/status", name="privacy_status")
def status(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The person's requests, with state and deadline, while their proof lasts."""
    proven = verified_request(settings.secret(), request.cookies.get(SUBJECT_COOKIE), utcnow())
    requests = _their_requests(session, proven) if proven else ()
    return page(
        request,
        settings,
        "privacy/status.html.j2",
        title_key="pc.status_title",
        requests=[(r, deadline_in_force(r)) for r in requests],
        proven=proven is not None,
    )


def _their_requests(session: Session, request_id: str) -> Sequence[DataSubjectRequest]:
    """Every proven request filed with the same identities as the one the person proved."""
    repository = RequestRepository(session)
    try:
        proven = repository.get(request_id)
    except RecordNotFoundError:
        return []
    return repository.verified_for_subject(proven.subject_key)


def _proven_email(session: Session, settings: Settings, request: Request) -> str | None:
    """The e-mail address of the request the visitor proved with their code, if any."""
    proven = verified_request(settings.secret(), request.cookies.get(SUBJECT_COOKIE), utcnow())
    if proven is None:
        return None
    try:
        identities = readable_identities(RequestRepository(session).get(proven)) or []
    except RecordNotFoundError:
        return None
    return next((i["value"] for i in identities if i.get("kind") == "email"), None)


@router.get("/consents", name="privacy_consents")
def consents(
    request: Request, session: SessionDep, settings: SettingsDep, datamap: DataMapDep
) -> Response:
    """The person's consents per purpose, each given or withdrawn with one button."""
    address = _proven_email(session, settings, request)
    lang = language_of(request).value
    rows = []
    if address is not None:
        states = {
            s.purpose: s for s in history(session, settings, datamap, ("email", address)).states
        }
        for purpose in datamap.purposes:
            texts = current_texts(purpose)
            if not texts:
                continue
            shown = texts.get(lang) or next(iter(texts.values()))
            rows.append((purpose, shown, states.get(purpose.key)))
    return page(
        request,
        settings,
        "privacy/consents.html.j2",
        title_key="pc.consents_title",
        proven=address is not None,
        rows=rows,
        localized=lambda text: localized(text, lang),
    )


@router.post("/consents", name="privacy_consent", dependencies=[Depends(require_csrf)])
async def change_consent(
    request: Request, session: SessionDep, settings: SettingsDep, datamap: DataMapDep
) -> Response:
    """Give or withdraw one consent: the same single click either way."""
    fields = await form_fields(request)
    address = _proven_email(session, settings, request)
    if address is None:
        return redirect(f"{MOUNT_PATH}/consents")
    record_consent(
        session,
        settings,
        datamap,
        identity=("email", address),
        purpose=first(fields, "purpose")[:100],
        action=first(fields, "action")[:16],
        source=ConsentSource.PRIVACY_CENTRE,
        actor=AuditActor(service.SUBJECT_ACTOR, via="privacy_centre"),
        channel=None,
        language=language_of(request).value,
        shown_version=first(fields, "version")[:64] or None,
        ip=_client_ip(request),
        user_agent=request.headers.get("user-agent", "")[:500],
    )
    return redirect(f"{MOUNT_PATH}/consents")
