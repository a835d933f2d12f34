"""The key store: one data key per subject, wrapped by a key-encryption key.

It is a database of its own (``PERSONVERN_KEY_STORE_URL``, by default the SQLite file
``<home>/keys.db``), never a table of the data store, and is backed up on its own.
That is what makes erasure by crypto-shredding survive a restore: restoring a backup
of the data store brings back ciphertexts, but the key store keeps the erasures done
since, so an erased subject's ciphertexts stay unreadable (docs/encryption.md).

A destroyed key keeps its row as a tombstone (``destroyed_at``, no wrapped key), so a
ciphertext from before the erasure is reported as erased on that date, not as unknown.
A subject erased and later back gets a new key; the old one stays destroyed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from personvern.store.base import NAMING_CONVENTION, UTCDateTime, utcnow


class KeyStoreBase(DeclarativeBase):
    """Base of the key store's tables: a metadata apart from the data store's."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class SubjectKey(KeyStoreBase):
    """A subject's data key, wrapped; or, once destroyed, the tombstone saying when."""

    __tablename__ = "subject_keys"

    #: Random (hex of 16 bytes), the id every envelope under this key names.
    key_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    #: The subject: the keyed hash of their request's identities (DataSubjectRequest.subject_key).
    subject_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: The key-encryption key version that wrapped it (``local:v2``, ``pkcs11:...-v1``).
    kek_id: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    #: The data key wrapped by that KEK; None once destroyed.
    wrapped_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    rewrapped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class KeyStore:
    """Reads and writes subject keys, each call in its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        """Use the key store at ``engine``, creating its table when it has none."""
        self.engine = engine
        # One table whose layout has not changed yet; a change gets its own migrations.
        KeyStoreBase.metadata.create_all(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def session(self) -> Session:
        """A session on the key store (the caller commits)."""
        return self._sessions()

    def get(self, key_id: str) -> SubjectKey | None:
        """The key (or tombstone) with ``key_id``."""
        with self._sessions() as session:
            return session.get(SubjectKey, key_id)

    def active(self, subject_hash: str) -> SubjectKey | None:
        """The subject's key in force (the newest not destroyed), if any."""
        with self._sessions() as session:
            return session.scalars(
                sa.select(SubjectKey)
                .where(SubjectKey.subject_hash == subject_hash, SubjectKey.destroyed_at.is_(None))
                .order_by(SubjectKey.created_at.desc(), SubjectKey.key_id)
                .limit(1)
            ).first()

    def add(self, key: SubjectKey) -> SubjectKey:
        """Store a new key, committed at once (before the data sealed under it)."""
        with self._sessions() as session, session.begin():
            session.add(key)
        return key

    def destroy(
        self,
        subject_hash: str,
        at: datetime | None = None,
        *,
        created_before: datetime | None = None,
    ) -> list[SubjectKey]:
        """Destroy the subject's live keys: drop the wrapped key, keep a tombstone.

        ``created_before``: only keys made before then (an erasure's completion), so the
        key of a subject who came back after their erasure survives.
        """
        at = at or utcnow()
        query = sa.select(SubjectKey).where(
            SubjectKey.subject_hash == subject_hash, SubjectKey.destroyed_at.is_(None)
        )
        if created_before is not None:
            query = query.where(SubjectKey.created_at <= created_before)
        with self._sessions() as session, session.begin():
            keys = list(session.scalars(query))
            for key in keys:
                key.wrapped_key = None
                key.kek_id = None
                key.destroyed_at = at
        return keys

    def live_subjects(self) -> set[str]:
        """The subjects with a live key."""
        with self._sessions() as session:
            query = sa.select(SubjectKey.subject_hash).where(SubjectKey.destroyed_at.is_(None))
            return set(session.scalars(query.distinct()))

    def all(self) -> Sequence[SubjectKey]:
        """Every key and tombstone, oldest first."""
        with self._sessions() as session:
            return session.scalars(
                sa.select(SubjectKey).order_by(SubjectKey.created_at, SubjectKey.key_id)
            ).all()

    def kek_usage(self) -> dict[str, int]:
        """How many live keys each KEK version wraps."""
        with self._sessions() as session:
            rows = session.execute(
                sa.select(SubjectKey.kek_id, sa.func.count())
                .where(SubjectKey.kek_id.is_not(None))
                .group_by(SubjectKey.kek_id)
            ).all()
        return {str(kek): int(count) for kek, count in rows}
