"""Handing the answer over: issuing download links, mailing the answer, serving a download.

Every link is a DownloadLink row (who made it, with which API token, until when) plus
a signed token naming that row (personvern.responses.download_link). A download is
served only while the signature holds, the row is neither expired nor revoked, the
token that created it still works, and the file is still kept; each download is
counted and written into the request's history. So the history says who handed out
what, and revoking a member of staff's token also takes back the links they gave out.

``send_answer`` is the step where staff release the answer: with links (access,
portability; they need PERSONVERN_PUBLIC_BASE_URL, the address subjects reach
personvern at) or as a letter saying what was done (erasure, rectification,
restriction, objection, withdrawal), mailed to the address the subject proved, in
the answer's language. The receipt records when, by whom and with which links.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from personvern.domain.audit.event import AuditAction
from personvern.domain.datamap import DataMap
from personvern.domain.envelope import EncryptionError
from personvern.domain.requests.handlers import handler_for
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.errors import ErrorKind
from personvern.mail import MailDeliveryError, Mailer
from personvern.responses.download_link import sign, verify
from personvern.responses.errors import (
    DownloadLinkError,
    DownloadLinkExpiredError,
    DownloadLinkRevokedError,
)
from personvern.settings import Settings
from personvern.store.encryption.fields import session_vault, shred_after_commit
from personvern.store.encryption.files import open_answer_file
from personvern.store.models import ApiToken, DownloadLink, RequestArtifact
from personvern.store.requests import RequestRepository

log = logging.getLogger(__name__)

#: How long links work unless the caller says otherwise, and at most.
DEFAULT_LINK_DAYS = 7
MAX_LINK_DAYS = 30
#: Where the API serves a link's token.
DOWNLOAD_PATH = "/api/v1/downloads/"
# Request ids are random URL-safe strings; anything else never names a folder.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class DownloadNotFoundError(DownloadLinkError):
    """The link is genuine but names a file the request does not have."""

    kind = ErrorKind.NOT_FOUND
    title = "File not found"


class DownloadGoneError(DownloadLinkError):
    """The link is genuine but the file is no longer kept."""

    kind = ErrorKind.GONE
    title = "File no longer available"


@dataclass(frozen=True)
class IssuedLink:
    """A file of the request and the link the subject downloads it with."""

    link_id: str
    name: str
    media_type: str
    sha256: str
    size: int
    #: The path and token (``/api/v1/downloads/<token>``); prefix the public base URL.
    path: str
    expires_at: datetime


@dataclass(frozen=True)
class Download:
    """A file to stream to the subject."""

    path: Path
    name: str
    media_type: str
    #: The opened content of a sealed file (the file on disk is its envelope); None:
    #: stream ``path`` as it is.
    content: bytes | None = None


def issue_links(
    session: Session,
    secret: str,
    request_id: str,
    *,
    created_by: str,
    token_id: int | None,
    now: datetime,
    days: int = DEFAULT_LINK_DAYS,
) -> list[IssuedLink]:
    """A new link for every file the request delivered, recorded with who asked for it."""
    repository = RequestRepository(session)
    request = repository.get(request_id)
    state = request.state
    if state not in (RequestState.COMPLETED, RequestState.PARTIALLY_COMPLETED):
        raise AnswerNotReadyError(
            f"request {request_id} is {state.value}; links are issued for a finished answer"
        )
    expires_at = now.replace(microsecond=0) + timedelta(days=min(max(days, 1), MAX_LINK_DAYS))
    issued: list[IssuedLink] = []
    for artifact in repository.artifacts(request_id):
        if artifact.deleted_at is not None:
            continue
        row = DownloadLink(
            id=secrets.token_hex(16),
            request_id=request_id,
            name=artifact.name,
            created_by=created_by,
            token_id=token_id,
            created_at=now,
            expires_at=expires_at,
            downloads=0,
        )
        session.add(row)
        token = sign(secret, row.id, request_id, artifact.name, expires_at)
        issued.append(
            IssuedLink(
                link_id=row.id,
                name=artifact.name,
                media_type=artifact.media_type,
                sha256=artifact.sha256,
                size=artifact.size,
                path=f"{DOWNLOAD_PATH}{token}",
                expires_at=expires_at,
            )
        )
    if issued:
        session.flush()
        repository.add_event(
            request,
            f"{len(issued)} download link{'s' if len(issued) != 1 else ''} issued, valid until "
            f"{expires_at.date().isoformat()}",
            created_by,
            now,
        )
    return issued


def revoke_links(session: Session, request_id: str, *, actor: str, now: datetime) -> int:
    """Take back every link of the request that still works; returns how many."""
    repository = RequestRepository(session)
    request = repository.get(request_id)
    result = session.execute(
        sa.update(DownloadLink)
        .where(
            DownloadLink.request_id == request_id,
            DownloadLink.revoked_at.is_(None),
            DownloadLink.expires_at > now,
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(result, "rowcount", 0))
    repository.add_event(request, f"{count} download link(s) withdrawn", actor, now)
    return count


def open_download(session: Session, secret: str, token: str, home: Path, now: datetime) -> Download:
    """The file a link grants, after every check; the download is counted and recorded."""
    target = verify(secret, token, now)
    if not _REQUEST_ID.fullmatch(target.request_id):
        raise DownloadNotFoundError("this link names no request")
    link = session.get(DownloadLink, target.link_id)
    if link is None or (link.request_id, link.name) != (target.request_id, target.name):
        # Signed by us but without its row: made before links were recorded, or forged
        # with a stolen key. Either way it grants nothing.
        raise DownloadLinkError("this download link is not valid", hint="ask us for a new link")
    if link.revoked_at is not None or _creator_token_withdrawn(session, link, now):
        raise DownloadLinkRevokedError(
            "this download link has been withdrawn", hint="ask us for a new link"
        )
    if now >= link.expires_at:
        raise DownloadLinkExpiredError(
            "this download link has expired", hint="ask us for a new link"
        )
    artifact = session.scalars(
        sa.select(RequestArtifact).where(
            RequestArtifact.request_id == link.request_id, RequestArtifact.name == link.name
        )
    ).one_or_none()
    if artifact is None:
        raise DownloadNotFoundError(
            f"request {link.request_id} has no file named {link.name!r}",
            hint="ask us for a new link",
        )
    folder = (home / "requests" / link.request_id).resolve()
    path = (folder / artifact.path).resolve()
    if not path.is_relative_to(folder):
        # A row pointing outside the request's folder is a bug or tampering; never serve it.
        log.error("artifact %s of request %s points outside its folder", artifact.id, folder.name)
        raise DownloadNotFoundError(f"request {link.request_id} has no such file")
    if artifact.deleted_at is not None or not path.is_file():
        raise DownloadGoneError(
            f"the file {artifact.name!r} of request {link.request_id} is no longer kept",
            hint="ask us to send the answer again",
        )
    session.execute(
        sa.update(DownloadLink)
        .where(DownloadLink.id == link.id)
        .values(downloads=DownloadLink.downloads + 1, last_downloaded_at=now)
        .execution_options(synchronize_session=False)
    )
    repository = RequestRepository(session)
    repository.add_event(
        repository.get(link.request_id),
        f"{link.name} downloaded through a link issued by {link.created_by}",
        "subject",
        now,
        audit_action=AuditAction.PERSONAL_DATA_READ,
        audit_detail={"what": "request_file", "file": link.name, "link_id": link.id},
    )
    content = None
    if artifact.sealed:
        vault = session_vault(session)[0]
        if vault is None:
            raise EncryptionError(f"{artifact.name} is encrypted and no key store is open")
        # An erased subject's key is gone: SubjectKeyDestroyedError (410) says so.
        content = open_answer_file(vault, link.request_id, artifact.name, path)
    return Download(path=path, name=artifact.name, media_type=artifact.media_type, content=content)


def _creator_token_withdrawn(session: Session, link: DownloadLink, now: datetime) -> bool:
    if link.token_id is None:
        return False
    token = session.get(ApiToken, link.token_id)
    return token is None or not token.is_active(now)


class AnswerNotReadyError(DownloadLinkError):
    """The request cannot be answered by mail (yet): not finished, no address, no base URL."""

    kind = ErrorKind.CONFLICT
    title = "Answer cannot be sent"


@dataclass(frozen=True)
class SentAnswer:
    """What was mailed, for the caller to show."""

    address: str
    subject: str
    links: tuple[IssuedLink, ...]


def send_answer(
    session: Session,
    settings: Settings,
    datamap: DataMap,
    request_id: str,
    *,
    sender: str,
    token_id: int | None,
    mailer: Mailer,
    now: datetime,
    days: int = DEFAULT_LINK_DAYS,
) -> SentAnswer:
    """Mail the subject their answer (links or a letter) and record it in the receipt."""
    from personvern.intake.verification import verification_address
    from personvern.responses.answer_letter import LinkLine, answer_letter

    repository = RequestRepository(session)
    request = repository.get(request_id)
    state = request.state
    if state not in (RequestState.COMPLETED, RequestState.PARTIALLY_COMPLETED):
        raise AnswerNotReadyError(
            f"request {request_id} is {state.value}; only a finished request has an answer",
            hint="run it first (`personvern request run`)",
        )
    address = verification_address(request)
    if address is None:
        raise AnswerNotReadyError(
            f"request {request_id} has no e-mail address to send the answer to",
            hint="hand the answer over another way (`personvern request export`)",
        )
    request_type = RequestType(request.type)
    links: list[IssuedLink] = []
    base = (settings.public_base_url or "").rstrip("/")
    if handler_for(request_type).hands_over:
        if not base:
            raise AnswerNotReadyError(
                "links can be mailed only when personvern knows its public address",
                hint="set PERSONVERN_PUBLIC_BASE_URL, e.g. https://privacy.example.com",
            )
        links = issue_links(
            session,
            settings.secret(),
            request_id,
            created_by=sender,
            token_id=token_id,
            now=now,
            days=days,
        )
        if not links:
            raise AnswerNotReadyError(f"request {request_id} has no files to send")
    receipt = dict(request.receipt or {})
    if request.answer_profile:
        receipt["answer"] = dict(request.answer_profile)
    letter = answer_letter(
        datamap,
        request_id=request_id,
        request_type=request_type,
        language=request.language,
        receipt=receipt,
        details=request.details or {},
        links=[LinkLine(link.name, link.size, f"{base}{link.path}") for link in links],
        links_expire=links[0].expires_at if links else None,
    )
    receipt.setdefault("answers_sent", []).append(
        {
            "at": now.isoformat(timespec="seconds"),
            "by": sender,
            "language": request.language,
            "links": [link.link_id for link in links],
        }
    )
    repository.save_receipt(request, receipt)
    if request_type is RequestType.ERASURE and state is RequestState.COMPLETED:
        # The letter was the last use of the subject's address: crypto-shred them once
        # this commits (every copy personvern kept, backups included, becomes unreadable).
        shred_after_commit(session, request.subject_key)
    local, _, domain = address.partition("@")
    repository.add_event(
        request,
        f"answer mailed to {local[:1]}***@{domain} in {request.language}"
        + (f" with {len(links)} link(s)" if links else ""),
        sender,
        now,
    )
    # Committed before the mail goes: on the embedded store a transaction holds the one
    # write lock, which must not wait for a mail server. If the mail cannot go, the
    # links are withdrawn and the record says so; staff simply send again.
    session.commit()
    try:
        mailer.send(address, letter.subject, letter.body)
    except MailDeliveryError:
        session.rollback()
        _undo_send(session, request_id, [link.link_id for link in links], sender, now)
        session.commit()
        raise
    return SentAnswer(address=address, subject=letter.subject, links=tuple(links))


def _undo_send(
    session: Session, request_id: str, link_ids: list[str], sender: str, now: datetime
) -> None:
    repository = RequestRepository(session)
    request = repository.get(request_id)
    if link_ids:
        session.execute(
            sa.update(DownloadLink)
            .where(DownloadLink.id.in_(link_ids))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
    receipt = dict(request.receipt or {})
    sent = [
        entry
        for entry in receipt.get("answers_sent", [])
        if entry.get("at") != now.isoformat(timespec="seconds") or entry.get("by") != sender
    ]
    receipt["answers_sent"] = sent
    repository.save_receipt(request, receipt)
    repository.add_event(
        request, "the answer could not be mailed; its links were withdrawn", sender, now
    )
