"""Tables of personvern's mention index of free text (personvern.engine.mention_index).

Per record and free-text field, the keyed hashes of the mentions its text holds
(personvern.domain.identities.mention_keys: e-mail addresses, phone numbers, national
identity numbers), never the text or the mentions themselves: without the
installation's secret key nobody can test a guess against them. Per dataset, how far
the index has read (the change marker's high-water mark) and under which rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from personvern.store.base import Base, UTCDateTime

#: Characters of a mention's keyed hash kept (128 bits): a collision costs one more
#: record read and confirmed, never a record missed.
HASH_LENGTH = 32
#: The longest record key the index holds; a dataset with a longer one is not indexed.
MAX_ROW_KEY = 255


class MentionIndexState(Base):
    """How far the mention index of one dataset has read, and whether it may be used."""

    __tablename__ = "mention_index_states"

    system: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    dataset: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    #: The change marker the index was read by, and what it holds (integer, datetime, date).
    marker: Mapped[str] = mapped_column(sa.String(120))
    marker_kind: Mapped[str] = mapped_column(sa.String(16))
    #: The free-text fields indexed (a field added to the map later is not, until a build).
    fields: Mapped[list[str]] = mapped_column(sa.JSON)
    #: personvern.domain.identities.mention_keys.RULES when it was built.
    rules: Mapped[str] = mapped_column(sa.String(16))
    #: A keyed hash of a constant: tells whether the secret key is the one it was built with.
    key_check: Mapped[str] = mapped_column(sa.String(HASH_LENGTH))
    #: False while a full build runs (or after one died): the index is not used then.
    complete: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: The build or refresh writing the index now (or last); another one takes it over.
    build_id: Mapped[str] = mapped_column(sa.String(32))
    #: Records whose marker is past this (as text) are searched directly.
    high_water: Mapped[str | None] = mapped_column(sa.String(64))
    #: The newest marker read.
    newest: Mapped[str | None] = mapped_column(sa.String(64))
    #: Records read by the last full build, and by the refreshes since.
    records_read: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"MentionIndexState({self.system!r}, {self.dataset!r}, complete={self.complete!r})"


class MentionIndexEntry(Base):
    """One mention (as its keyed hash) in one free-text field of one record."""

    __tablename__ = "mention_index_entries"
    __table_args__: Any = (
        # The primary key's order serves the search: (system, dataset, field, hash).
        sa.Index("ix_mention_index_entries_row", "system", "dataset", "row_key"),
        # SQLite keeps the rows in the primary key's order, with no second copy of it.
        {"sqlite_with_rowid": False},
    )

    system: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    dataset: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    field: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    hash: Mapped[str] = mapped_column(sa.String(HASH_LENGTH), primary_key=True)
    #: The record's key, as text.
    row_key: Mapped[str] = mapped_column(sa.String(MAX_ROW_KEY), primary_key=True)
