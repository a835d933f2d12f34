"""Encrypted columns of the store's models: sealed on flush, opened on first read.

A session whose ``info`` holds a vault (sessions made by ``make_session_factory`` with
one, i.e. everything bootstrap builds) seals a model's sensitive values before they
are written: the plain column is emptied and the sealed column gets the envelope. A
row written before encryption (plain column set) is sealed the next time it changes,
or by ``personvern keys encrypt-existing``. Values are opened when first read, so a
listing of an erased subject's requests still works; only reading their sealed
values raises SubjectKeyDestroyedError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from personvern.domain.envelope import EncryptionError, field_purpose

if TYPE_CHECKING:
    from personvern.store.encryption.vault import KeyCache, SubjectVault

#: Where a session's vault and its per-unit-of-work key cache live in ``Session.info``.
VAULT = "personvern_vault"
KEY_CACHE = "personvern_key_cache"
#: Where an instance keeps the vault it was loaded with, and its opened values.
_INSTANCE_VAULT = "_personvern_vault"
_OPENED = "_personvern_opened"


class SealedField:
    """One sensitive value of a model, kept in ``<name>_plain`` or ``<name>_sealed``.

    Used as a class attribute: reading opens the sealed value, writing stores the plain
    value until the next flush seals it.
    """

    def __init__(
        self, table: str, column: str, *, json: bool, empty: Callable[[], Any] | None = None
    ) -> None:
        """A sealed value of ``table.column``; ``json`` for structured values.

        ``empty`` makes the value read when neither column holds one (``dict`` for a
        column that used to default to ``{}``).
        """
        self.table = table
        self.column = column
        self.json = json
        self.empty = empty

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        plain = getattr(instance, f"{self.name}_plain")
        sealed: bytes | None = getattr(instance, f"{self.name}_sealed")
        if plain is not None:
            return plain
        if sealed is None:
            return None if self.empty is None else self.empty()
        opened: dict[str, tuple[bytes, Any]] = instance.__dict__.setdefault(_OPENED, {})
        hit = opened.get(self.name)
        if hit is not None and hit[0] == sealed:
            return hit[1]
        vault, cache = _vault_of(instance)
        purpose = field_purpose(self.table, self.column, str(instance.id))
        value = (
            vault.open_json(purpose, sealed, cache)
            if self.json
            else vault.open(purpose, sealed, cache).decode("utf-8")
        )
        opened[self.name] = (sealed, value)
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        setattr(instance, f"{self.name}_plain", value)
        if value is None:
            # Cleared: the old envelope must not read back as the value.
            setattr(instance, f"{self.name}_sealed", None)

    def seal(self, instance: Any, vault: SubjectVault, cache: KeyCache) -> bool:
        """Move the plain value into the sealed column; whether there was one to move."""
        plain = getattr(instance, f"{self.name}_plain")
        if plain is None:
            return False
        purpose = field_purpose(self.table, self.column, str(instance.id))
        subject = instance.subject_key
        sealed = (
            vault.seal_json(subject, purpose, plain, cache)
            if self.json
            else vault.seal(subject, purpose, str(plain).encode("utf-8"), cache)
        )
        setattr(instance, f"{self.name}_sealed", sealed)
        setattr(instance, f"{self.name}_plain", None)
        instance.__dict__.setdefault(_OPENED, {})[self.name] = (sealed, plain)
        return True


def session_vault(session: Session) -> tuple[SubjectVault | None, KeyCache]:
    """The session's vault (None if it has none) and its key cache."""
    return session.info.get(VAULT), session.info.setdefault(KEY_CACHE, {})


def shred_after_commit(session: Session, subject_hash: str) -> None:
    """Destroy the subject's data keys once ``session`` commits (an erasure completed).

    After, not before: a transaction that fails leaves the key, and with it the data
    the erasure still needs; housekeeping shreds for any completion this misses.
    """
    vault = session_vault(session)[0]
    if vault is None:
        return

    def shred(_session: Session) -> None:
        vault.shred(subject_hash)

    event.listen(session, "after_commit", shred, once=True)


def _vault_of(instance: Any) -> tuple[SubjectVault, KeyCache]:
    session = object_session(instance)
    if session is not None:
        vault, cache = session_vault(session)
        if vault is not None:
            return vault, cache
    vault = instance.__dict__.get(_INSTANCE_VAULT)
    if vault is None:
        raise EncryptionError(
            "this value is encrypted and no key store is configured to open it",
            hint="open the store through personvern (bootstrap), which sets up the key store",
        )
    # Detached (used after its transaction): no cache outlives the unit of work.
    return vault, {}


def sealed_fields(cls: type) -> list[SealedField]:
    """The sealed fields a model declares."""
    return [v for v in vars(cls).values() if isinstance(v, SealedField)]


def install(cls: type) -> None:
    """Seal ``cls``'s fields on flush and remember the vault each instance was loaded with."""
    fields = sealed_fields(cls)

    @event.listens_for(cls, "load")
    def _loaded(target: Any, context: Any) -> None:
        vault = context.session.info.get(VAULT)
        if vault is not None:
            target.__dict__[_INSTANCE_VAULT] = vault

    @event.listens_for(Session, "before_flush")
    def _seal(session: Session, _context: object, _instances: object) -> None:
        vault, cache = session_vault(session)
        if vault is None:
            return
        for instance in [*session.new, *session.dirty]:
            if isinstance(instance, cls):
                instance.__dict__[_INSTANCE_VAULT] = vault
                for sealed_field in fields:
                    sealed_field.seal(instance, vault, cache)
