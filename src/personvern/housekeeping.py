"""personvern keeps its own copies of personal data only as long as it needs them too.

Three kinds of data pile up in personvern's home and store while it answers requests:

- **Answer files** (reports, exports, recordings a subject was sent): deleted once the
  request has been closed for ``PERSONVERN_ANSWER_RETENTION_DAYS`` and no link to them
  still works (a link whose issuer's token was revoked does not), or at once when the
  same subject's erasure has completed since. The receipt keeps each file's SHA-256,
  so what was sent stays provable; the request's history records the deletion.
- **Unverified requests**: someone gave identities but never proved them. After
  ``PERSONVERN_UNVERIFIED_RETENTION_DAYS`` such a request is deleted with its history
  and codes: it is an unproven claim about a person, kept for no purpose.
- **Rate-limit counters** older than their window, and **staff sessions** that have
  ended (past their absolute end or idle too long).

The server sweeps every hour; ``personvern housekeeping`` sweeps now (``--dry-run``
counts without deleting). Unverified requests are also a rule of personvern's own
records (own-unverified-requests), which ``personvern retention run`` enforces with
evidence; both delete them the same way (personvern.store.requests.delete_requests).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.settings import Settings
from personvern.store.encryption.fields import session_vault
from personvern.store.models import (
    ApiToken,
    DataSubjectRequest,
    DownloadLink,
    IntakeAttempt,
    RateLimitKey,
    RequestArtifact,
)
from personvern.store.requests import RequestRepository, delete_requests
from personvern.store.staff_sessions import StaffSessionRepository

log = logging.getLogger(__name__)

_CLOSED = [s.value for s in RequestState if not s.is_open]
_UNVERIFIED = [RequestState.RECEIVED.value, RequestState.AWAITING_VERIFICATION.value]


@dataclass
class HousekeepingReport:
    """What a sweep deleted (or, in a dry run, would delete)."""

    answer_files: int = 0
    answered_requests: list[str] = field(default_factory=list)
    unverified_requests: list[str] = field(default_factory=list)
    counters: int = 0
    staff_sessions: int = 0
    #: Subjects whose erasure completed while their data key lived on (crypto-shredded now).
    shredded_subjects: int = 0

    def summary(self) -> str:
        """One line for people and logs (request ids and counts, nothing personal)."""
        text = (
            f"{self.answer_files} answer file(s) of {len(self.answered_requests)} request(s), "
            f"{len(self.unverified_requests)} unverified request(s), "
            f"{self.counters} rate-limit counter(s)"
        )
        if self.staff_sessions:
            text += f", {self.staff_sessions} ended staff session(s)"
        if self.shredded_subjects:
            text += f", data keys of {self.shredded_subjects} erased subject(s)"
        return text


def sweep(
    session: Session, settings: Settings, now: datetime, *, dry_run: bool = False
) -> HousekeepingReport:
    """Delete what personvern no longer needs; the caller commits."""
    report = HousekeepingReport()
    _answer_files(session, settings, now, report, dry_run=dry_run)
    _unverified_requests(session, settings, now, report, dry_run=dry_run)
    _counters(session, settings, now, report, dry_run=dry_run)
    _staff_sessions(session, settings, now, report, dry_run=dry_run)
    _erased_subjects_keys(session, settings, now, report, dry_run=dry_run)
    if not dry_run and (
        report.answer_files
        or report.unverified_requests
        or report.counters
        or report.staff_sessions
        or report.shredded_subjects
    ):
        log.info("housekeeping deleted %s", report.summary())
    return report


def _answer_files(
    session: Session,
    settings: Settings,
    now: datetime,
    report: HousekeepingReport,
    *,
    dry_run: bool,
) -> None:
    days = settings.answer_retention_days
    # A link whose issuer's token was revoked or has expired no longer works: it keeps
    # nothing alive.
    dead_issuer = (
        sa.select(ApiToken.id)
        .where(
            ApiToken.id == DownloadLink.token_id,
            sa.or_(ApiToken.revoked_at.is_not(None), ApiToken.expires_at <= now),
        )
        .exists()
    )
    live_link = (
        sa.select(DownloadLink.id)
        .where(
            DownloadLink.request_id == RequestArtifact.request_id,
            DownloadLink.revoked_at.is_(None),
            DownloadLink.expires_at > now,
            ~dead_issuer,
        )
        .exists()
    )
    # The subject has since had their data erased: the copies personvern handed them
    # before are personal data too, and go at once, whatever their links.
    erasure = sa.orm.aliased(DataSubjectRequest)
    erased_since = (
        sa.select(erasure.id)
        .where(
            erasure.subject_key == DataSubjectRequest.subject_key,
            erasure.type == RequestType.ERASURE.value,
            erasure.state.in_(_CLOSED),
            erasure.rejection_reason.is_(None),
            erasure.completed_at > RequestArtifact.created_at,
        )
        .exists()
    )
    rows = session.execute(
        sa.select(RequestArtifact, DataSubjectRequest)
        .join(DataSubjectRequest, DataSubjectRequest.id == RequestArtifact.request_id)
        .where(
            RequestArtifact.deleted_at.is_(None),
            DataSubjectRequest.state.in_(_CLOSED),
            sa.or_(
                sa.and_(DataSubjectRequest.completed_at <= now - timedelta(days=days), ~live_link),
                erased_since,
            ),
        )
        .order_by(RequestArtifact.request_id, RequestArtifact.name)
    ).all()
    home = settings.home.resolve()
    by_request: dict[str, list[RequestArtifact]] = {}
    for artifact, request in rows:
        by_request.setdefault(request.id, []).append(artifact)
    repository = RequestRepository(session)
    for request_id, artifacts in by_request.items():
        report.answered_requests.append(request_id)
        report.answer_files += len(artifacts)
        if dry_run:
            continue
        folder = home / "requests" / request_id
        for artifact in artifacts:
            path = (folder / artifact.path).resolve()
            if path.is_relative_to(folder.resolve()):
                path.unlink(missing_ok=True)
            artifact.deleted_at = now
        _remove_if_empty(folder)
        # Copies `personvern request export` made into the home go the same way.
        shutil.rmtree(home / "exports" / request_id, ignore_errors=True)
        repository.add_event(
            repository.get(request_id),
            f"{len(artifacts)} answer file(s) deleted: their retention ended, or the subject's "
            "data has since been erased (their SHA-256 stay in the receipt)",
            "personvern",
            now,
        )
    session.flush()


def _unverified_requests(
    session: Session,
    settings: Settings,
    now: datetime,
    report: HousekeepingReport,
    *,
    dry_run: bool,
) -> None:
    cutoff = now - timedelta(days=settings.unverified_retention_days)
    stale = list(
        session.scalars(
            sa.select(DataSubjectRequest.id).where(
                DataSubjectRequest.state.in_(_UNVERIFIED),
                DataSubjectRequest.verified_at.is_(None),
                DataSubjectRequest.received_at <= cutoff,
            )
        )
    )
    report.unverified_requests.extend(stale)
    if dry_run or not stale:
        return
    # The same deletion `personvern retention run` makes under rule own-unverified-requests.
    delete_requests(session.connection(), stale, keep_flags=False)
    for request_id in stale:
        shutil.rmtree(settings.home.resolve() / "requests" / request_id, ignore_errors=True)


def _counters(
    session: Session,
    settings: Settings,
    now: datetime,
    report: HousekeepingReport,
    *,
    dry_run: bool,
) -> None:
    # The longest window any limit counts in: the per-address day.
    window = max(timedelta(seconds=settings.intake_rate_window_seconds), timedelta(days=1))
    cutoff = now - window
    old = sa.select(sa.func.count()).select_from(IntakeAttempt).where(IntakeAttempt.at <= cutoff)
    report.counters = int(session.execute(old).scalar_one())
    if dry_run:
        return
    session.execute(sa.delete(IntakeAttempt).where(IntakeAttempt.at <= cutoff))
    unused = (
        sa.select(IntakeAttempt.id)
        .where(
            IntakeAttempt.kind == RateLimitKey.kind,
            IntakeAttempt.key_hash == RateLimitKey.key_hash,
        )
        .exists()
    )
    session.execute(sa.delete(RateLimitKey).where(~unused))


def _staff_sessions(
    session: Session,
    settings: Settings,
    now: datetime,
    report: HousekeepingReport,
    *,
    dry_run: bool,
) -> None:
    # Sign-ins forget ended sessions too, but a quiet installation may see none for weeks.
    sessions = StaffSessionRepository(session)
    idle_since = now - timedelta(minutes=settings.staff_session_idle_minutes)
    if dry_run:
        report.staff_sessions = sessions.count_ended(now=now, idle_since=idle_since)
    else:
        report.staff_sessions = sessions.delete_ended(now=now, idle_since=idle_since)


def _erased_subjects_keys(
    session: Session,
    settings: Settings,
    now: datetime,
    report: HousekeepingReport,
    *,
    dry_run: bool,
) -> None:
    """Destroy the data keys of erased subjects once their letter is sent or overdue.

    A completed erasure keeps the subject's key only so the letter confirming it can
    reach them; sending it shreds the key (responses.handover). This catches the rest:
    letters never sent within PERSONVERN_ERASURE_LETTER_DAYS, and sends whose shredding
    did not happen (a process that died after the commit).
    """
    vault = session_vault(session)[0]
    if vault is None:
        return
    overdue = now - timedelta(days=settings.erasure_letter_days)
    erasures = session.execute(
        sa.select(
            DataSubjectRequest.subject_key,
            DataSubjectRequest.completed_at,
            DataSubjectRequest.receipt,
        ).where(
            DataSubjectRequest.type == RequestType.ERASURE.value,
            DataSubjectRequest.state == RequestState.COMPLETED,
        )
    ).all()
    due: dict[str, datetime] = {}
    for subject, completed_at, receipt in erasures:
        if completed_at is None:
            continue
        letter_sent = bool((receipt or {}).get("answers_sent"))
        if letter_sent or completed_at <= overdue:
            due[subject] = max(completed_at, due.get(subject, completed_at))
    live = vault.keys.live_subjects()
    for subject, completed_at in due.items():
        if subject not in live:
            continue
        # Only keys made before the erasure: a subject back since has a new, live key.
        if dry_run or vault.shred(subject, created_before=completed_at):
            report.shredded_subjects += 1


def _remove_if_empty(folder: Path) -> None:
    # Not empty (a file someone put there) or already gone: left as it is.
    with contextlib.suppress(OSError):
        folder.rmdir()
