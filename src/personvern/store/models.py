"""The tables of personvern's own store.

Every model is imported here so that ``Base.metadata`` is complete for Alembic and for
the test that compares models with migrations. Later tables (requests, consents, audit
events, recipients, breaches, keys) join this module, or a package in its place once it
grows, each with its own migration.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from personvern.domain.requests.lifecycle import RequestLifecycle, RequestState
from personvern.store.base import Base, UTCDateTime, utcnow
from personvern.store.encryption.fields import SealedField, install

__all__ = [
    "ApiToken",
    "AuditChainHead",
    "AuditEventRow",
    "Base",
    "ConsentRecordRow",
    "ConsentText",
    "DataSubjectRequest",
    "DownloadLink",
    "IntakeAttempt",
    "MentionIndexEntry",
    "MentionIndexState",
    "RateLimitKey",
    "RequestArtifact",
    "RequestEvent",
    "RequestStep",
    "RequestTask",
    "SubjectFlag",
    "TableLayout",
    "VerificationChallenge",
    "WebEventRow",
]


class ApiToken(Base):
    """A scoped API token. Only its SHA-256 hash is kept; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # A plain string rather than a database enum: adding a role then needs no schema
    # change, and the application validates the value through domain.roles.Role.
    role: Mapped[str] = mapped_column(sa.String(32))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters of the token: shown in listings so a person can tell tokens
    # apart, and used to find the candidate row before the constant-time hash comparison.
    prefix: Mapped[str] = mapped_column(sa.String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def is_active(self, now: datetime) -> bool:
        """Whether the token may still be used at ``now``."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at

    def __repr__(self) -> str:
        return f"ApiToken(id={self.id!r}, name={self.name!r}, role={self.role!r})"


def _values(enum: type[StrEnum]) -> list[str]:
    """What an enum's members are stored as: their values, not their Python names."""
    return [member.value for member in enum]


class DataSubjectRequest(Base):
    """One data subject request from receipt to its receipt of completion."""

    __tablename__ = "data_subject_requests"

    # A random public identifier: request ids appear in links sent to subjects, so they
    # must not be guessable or reveal how many requests the company receives.
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(32))
    #: Read as a RequestState; a state the lifecycle does not know is refused on write,
    #: here and by the database's CHECK constraint (migration 0012).
    state: Mapped[RequestState] = mapped_column(
        sa.Enum(
            RequestState,
            native_enum=False,
            values_callable=_values,
            validate_strings=True,
            length=32,
            create_constraint=True,
            name="request_state",
        ),
        index=True,
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deadline: Mapped[date] = mapped_column(sa.Date)
    extended_deadline: Mapped[date | None] = mapped_column(sa.Date)
    extension_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: The language personvern writes to the subject in: the one asked for, else the map's
    #: default until a run finds the subject's own (see ``requested_language``).
    language: Mapped[str] = mapped_column(sa.String(8))
    #: The language the subject or staff asked for when filing; None if they did not say.
    requested_language: Mapped[str | None] = mapped_column(sa.String(8))
    #: Who answers (controller), in which language, with which complaint route, and why:
    #: decided from the subject's records when a run or an approval first sees them.
    answer_profile: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    #: The subject's normalised identities, [{"kind": ..., "value": ...}]: sealed under
    #: the subject's data key (personvern.store.encryption.fields); the plain column is
    #: only set on rows from before encryption, or until the next flush.
    identities = SealedField("data_subject_requests", "identities", json=True)
    identities_plain: Mapped[list[dict[str, str]] | None] = mapped_column(
        "identities", sa.JSON(none_as_null=True)
    )
    identities_sealed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    #: Keyed hash of the identities, to find open duplicates without reading every row.
    subject_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    created_by: Mapped[str] = mapped_column(sa.String(200))
    verification_method: Mapped[str | None] = mapped_column(sa.String(32))
    #: How staff verified the subject (may quote their ID document): sealed like identities.
    verification_note = SealedField("data_subject_requests", "verification_note", json=False)
    verification_note_plain: Mapped[str | None] = mapped_column("verification_note", sa.Text)
    verification_note_sealed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    linked_request_id: Mapped[str | None] = mapped_column(sa.ForeignKey("data_subject_requests.id"))
    rejection_reason: Mapped[str | None] = mapped_column(sa.String(32))
    #: Type-specific input: the corrections of a rectification (the subject's new
    #: values), the purposes objected to. Sealed like identities; {} when there is none.
    details = SealedField("data_subject_requests", "details", json=True, empty=dict)
    details_plain: Mapped[dict[str, Any] | None] = mapped_column(
        "details", sa.JSON(none_as_null=True)
    )
    details_sealed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    #: The plan as last computed (what was found and what will be done), JSON. Sealed: it
    #: holds the search needles (identity values) and the keys of the records found.
    plan = SealedField("data_subject_requests", "plan", json=True)
    plan_plain: Mapped[dict[str, Any] | None] = mapped_column("plan", sa.JSON(none_as_null=True))
    plan_sealed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    #: What was found, sent, erased and kept, with hashes of delivered files. Plain on
    #: purpose: it is the proof of what was done and must outlive the subject's data key,
    #: so it holds counts, systems, datasets, hashes and times, never the subject's values.
    receipt: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    #: The records a review asks a person to decide on, and every decision made
    #: (personvern.domain.requests.review), JSON; None until a run first stops for review.
    #: Sealed: the candidates quote the records' values.
    review = SealedField("data_subject_requests", "review", json=True)
    review_plain: Mapped[dict[str, Any] | None] = mapped_column(
        "review", sa.JSON(none_as_null=True)
    )
    review_sealed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    attempts: Mapped[int] = mapped_column(default=0)
    #: Who asked for the request to be run (recorded as the actor of the run's steps).
    run_requested_by: Mapped[str | None] = mapped_column(sa.String(200))
    #: A second person's approval of the plan (four eyes), and who gave it.
    approved_by: Mapped[str | None] = mapped_column(sa.String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: What the run left to people (Art. 19 notifications, manual steps), oldest first.
    tasks: Mapped[list[RequestTask]] = relationship(
        back_populates="request", order_by="RequestTask.id", cascade="all, delete-orphan"
    )

    @property
    def lifecycle(self) -> RequestLifecycle:
        """The request's state machine, where the request is now."""
        return RequestLifecycle(self.state)

    @validates("state")
    def _known_state(self, _key: str, value: str) -> RequestState:
        """A state given as text becomes a RequestState; an unknown one is refused at once."""
        return RequestState(value)

    def __repr__(self) -> str:
        return f"DataSubjectRequest(id={self.id!r}, type={self.type!r}, state={self.state!r})"


install(DataSubjectRequest)


class RequestEvent(Base):
    """One entry in a request's history (state changes, retries); never personal data."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(sa.ForeignKey("data_subject_requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    state: Mapped[str] = mapped_column(sa.String(32))
    message: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(200))


class RequestStep(Base):
    """A unit of a request's run that is done once: its outcome makes a retry skip it."""

    __tablename__ = "request_steps"
    __table_args__ = (sa.UniqueConstraint("request_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(sa.ForeignKey("data_subject_requests.id"))
    step: Mapped[str] = mapped_column(sa.String(200))
    outcome: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RequestTask(Base):
    """Work a run left to a person, open until someone marks it done with a note.

    The description is neutral English for staff; ``kind``, ``key`` and ``details``
    hold the same facts structured, so an answer can say them in the subject's language.
    """

    __tablename__ = "request_tasks"
    # One task per thing to do: a resumed run that finishes again adds nothing.
    __table_args__ = (sa.UniqueConstraint("request_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(sa.ForeignKey("data_subject_requests.id"), index=True)
    #: notify_recipient (Art. 19) or manual_step (personvern.domain.requests.tasks.TaskKind).
    kind: Mapped[str] = mapped_column(sa.String(32))
    #: The recipient's key, or "system.dataset" (a system's key for a whole system).
    key: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: open or done.
    status: Mapped[str] = mapped_column(sa.String(16))
    done_by: Mapped[str | None] = mapped_column(sa.String(200))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: What was done, in the words of whoever did it.
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    request: Mapped[DataSubjectRequest] = relationship(back_populates="tasks")

    def __repr__(self) -> str:
        return f"RequestTask(id={self.id!r}, kind={self.kind!r}, status={self.status!r})"


class RequestArtifact(Base):
    """A file delivered to the subject (report, export), with its SHA-256 for the receipt."""

    __tablename__ = "request_artifacts"
    __table_args__ = (sa.UniqueConstraint("request_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(sa.ForeignKey("data_subject_requests.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    media_type: Mapped[str] = mapped_column(sa.String(100))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    #: Relative to the request's folder under PERSONVERN_HOME/requests/.
    path: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the file was deleted because the answer's retention ended (the hash stays).
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Whether the file on disk is an envelope under the subject's data key (the hash and
    #: size are the plain file's, what the subject receives).
    sealed: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())


class DownloadLink(Base):
    """A signed link handed out for one file of a request: who made it, until when.

    The link's token carries this row's id; a download is allowed only while the row
    is neither expired nor revoked and the API token that created it still works, so
    revoking a token also takes back the links its holder handed out.
    """

    __tablename__ = "download_links"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    request_id: Mapped[str] = mapped_column(sa.ForeignKey("data_subject_requests.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    #: The principal that created the link (``api-token:3``, ``cli:kari``, ...).
    created_by: Mapped[str] = mapped_column(sa.String(200))
    #: The API token it was created with, if any: the link dies with the token.
    token_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_tokens.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    downloads: Mapped[int] = mapped_column(default=0)
    last_downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SubjectFlag(Base):
    """A restriction, objection or consent withdrawal that later decisions must honour.

    The identity is kept only as a keyed hash: deciding "may we e-mail this address"
    needs equality, not the address.
    """

    __tablename__ = "subject_flags"
    __table_args__ = (sa.Index("ix_subject_flags_lookup", "identity_kind", "identity_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    identity_kind: Mapped[str] = mapped_column(sa.String(32))
    identity_hash: Mapped[str] = mapped_column(sa.String(64))
    #: The purpose objected to or consent withdrawn for; None means every purpose.
    purpose: Mapped[str | None] = mapped_column(sa.String(100))
    request_id: Mapped[str | None] = mapped_column(sa.ForeignKey("data_subject_requests.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RequestIdentityHash(Base):
    """The keyed hash of one identity of an open request, to find its requests by identity.

    A marketing decision must know whether an erasure of the person is under way, and a
    request's identities are sealed: this is the lookup that needs no unsealing, one
    indexed row per identity. Written when the request is filed, deleted when it closes
    (or goes, by the foreign key): hashes of people are kept no longer than that.
    """

    __tablename__ = "request_identity_hashes"
    __table_args__ = (
        sa.Index("ix_request_identity_hashes_lookup", "identity_kind", "identity_hash"),
    )

    request_id: Mapped[str] = mapped_column(
        sa.ForeignKey("data_subject_requests.id", ondelete="CASCADE"), primary_key=True
    )
    identity_kind: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    identity_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)


class TableLayout(Base):
    """The layout of a connected system's tables, under the fingerprint of their schema.

    Kept so that a new process (``personvern request run``) rebuilds the tables from it
    instead of reflecting them (personvern.connectors.table_layouts). Holds table and
    column names and types, never a value from the system.
    """

    __tablename__ = "table_layouts"

    #: The system's key in the data map.
    system: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    #: SHA-256 (hex) of what the system's catalogue says about the tables.
    fingerprint: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: The tables' layout, JSON as personvern.connectors.table_layouts writes it.
    layout: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


from personvern.store.audit_events import AuditChainHead, AuditEventRow  # noqa: E402
from personvern.store.consent_models import ConsentRecordRow, ConsentText  # noqa: E402
from personvern.store.mention_models import MentionIndexEntry, MentionIndexState  # noqa: E402
from personvern.store.verification_models import (  # noqa: E402
    IntakeAttempt,
    RateLimitKey,
    VerificationChallenge,
)
from personvern.store.web_event_models import WebEventRow  # noqa: E402
