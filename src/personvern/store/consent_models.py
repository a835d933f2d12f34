"""Tables of the consent ledger: the records, append-only, and the texts consented to.

A record is never changed by personvern: the history is the proof that a consent was
given (Art. 7(1)). The ORM refuses an update or a delete of a record outright, so a
mistake in later code fails loudly instead of rewriting the proof. The one deletion is
retention's (rule own-consent-proofs, personvern.engine.retention.own_records): a record
superseded longer ago than PERSONVERN_RETENTION_OWN_CONSENT_PROOFS, never the one in force.
The subject is a keyed hash of one normalised identity, like subject flags.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from personvern.store.base import Base, UTCDateTime, utcnow
from personvern.store.errors import StoreError


class ConsentText(Base):
    """The exact text a person was shown, stored once, under its version (its SHA-256)."""

    __tablename__ = "consent_texts"

    version: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    language: Mapped[str] = mapped_column(sa.String(8))
    text: Mapped[str] = mapped_column(sa.Text)
    first_recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsentRecordRow(Base):
    """One grant or withdrawal of consent; never updated, deleted only once long superseded."""

    __tablename__ = "consent_records"
    __table_args__ = (sa.Index("ix_consent_records_subject", "identity_hash", "identity_kind"),)

    #: Insertion order: of two records at the same instant, the later insert is the later word.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random, unguessable: the id a receipt is asked for by.
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    identity_kind: Mapped[str] = mapped_column(sa.String(32))
    #: Keyed hash of the normalised identity (personvern.security.subject_hash.identity_hash).
    identity_hash: Mapped[str] = mapped_column(sa.String(64))
    purpose: Mapped[str] = mapped_column(sa.String(120))
    #: granted or withdrawn.
    action: Mapped[str] = mapped_column(sa.String(16))
    #: When the consent was given or withdrawn (an import's own time, else when recorded).
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: banner, privacy_centre, staff, import or api.
    source: Mapped[str] = mapped_column(sa.String(16))
    #: email, sms, phone or web; None: every channel.
    channel: Mapped[str | None] = mapped_column(sa.String(8))
    language: Mapped[str | None] = mapped_column(sa.String(8))
    text_version: Mapped[str | None] = mapped_column(sa.ForeignKey("consent_texts.version"))
    #: The network the consent came from (IPv4 /24, IPv6 /48), never the address.
    ip_prefix: Mapped[str | None] = mapped_column(sa.String(64))
    #: Browser family and major version ("Firefox 133"), never the user-agent string.
    user_agent_family: Mapped[str | None] = mapped_column(sa.String(64))
    #: The principal that recorded it (``api-token:3``, ``anonymous`` for the banner).
    recorded_by: Mapped[str] = mapped_column(sa.String(200))


class LedgerIsAppendOnlyError(StoreError):
    """Code tried to change or delete a consent record."""

    title = "Consent records cannot be changed"


def _refuse(_mapper: Any, _connection: Any, target: Any) -> None:
    raise LedgerIsAppendOnlyError(
        f"{type(target).__tablename__} rows cannot be changed or deleted: the consent "
        "ledger is append-only",
        hint="record a new grant or withdrawal instead",
    )


event.listen(ConsentRecordRow, "before_update", _refuse)
event.listen(ConsentRecordRow, "before_delete", _refuse)
event.listen(ConsentText, "before_update", _refuse)
event.listen(ConsentText, "before_delete", _refuse)
