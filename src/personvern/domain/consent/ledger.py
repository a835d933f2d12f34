"""The consent ledger: append-only records of consents given and withdrawn (Art. 7(1)).

The controller must be able to show that a person consented, to what text, when and
how. Each grant or withdrawal is a new record; nothing is ever overwritten. The state
in force for a purpose (and channel) is the latest record that covers it, so the whole
history stays the proof. A consent given to a text that has since changed is *stale*:
it does not cover the new text and the person is asked again.

A record names its subject by a keyed hash of one normalised identity (the same hash
restriction and objection flags use, personvern.security.subject_hash), never by the
identity itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from personvern.domain.datamap import IdentityKind, Purpose
from personvern.domain.errors import DomainError
from personvern.errors import ErrorKind

#: The longest consent text the ledger stores (the data map's texts are a sentence or two).
MAX_TEXT = 10_000


class ConsentAction(StrEnum):
    """What a record says: consent given or withdrawn."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class ConsentSource(StrEnum):
    """Where a record came from."""

    BANNER = "banner"
    PRIVACY_CENTRE = "privacy_centre"
    STAFF = "staff"
    IMPORT = "import"
    API = "api"


class ConsentChannel(StrEnum):
    """The channel a consent is for; a record without one covers every channel."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    WEB = "web"


#: The identity kind a marketing channel reaches a person by.
CHANNEL_IDENTITY: Mapping[ConsentChannel, IdentityKind] = {
    ConsentChannel.EMAIL: IdentityKind.EMAIL,
    ConsentChannel.SMS: IdentityKind.PHONE_NUMBER,
    ConsentChannel.PHONE: IdentityKind.PHONE_NUMBER,
}


class ConsentError(DomainError):
    """A consent record cannot be made as asked."""

    kind = ErrorKind.INVALID
    title = "Invalid consent"


class ConsentTextChangedError(DomainError):
    """The caller showed a consent text that is no longer the purpose's current one."""

    kind = ErrorKind.CONFLICT
    title = "Consent text has changed"


@dataclass(frozen=True)
class ConsentProof:
    """How the consent was given, kept small: a truncated IP address and a browser family."""

    ip_prefix: str | None = None
    user_agent_family: str | None = None


@dataclass(frozen=True)
class ConsentText:
    """The exact text shown, in one language, and its version (SHA-256 of the text)."""

    version: str
    language: str
    text: str


@dataclass(frozen=True)
class ConsentRecord:
    """One entry of the ledger."""

    identity_kind: IdentityKind
    #: Keyed hash of the normalised identity (personvern.security.subject_hash.identity_hash).
    identity_hash: str
    purpose: str
    action: ConsentAction
    at: datetime
    source: ConsentSource
    channel: ConsentChannel | None = None
    #: The version of the text the person saw; None for a withdrawal or opt-out without one.
    text_version: str | None = None
    proof: ConsentProof = ConsentProof()
    #: The stored record's id, once stored.
    id: str | None = None


@dataclass(frozen=True)
class ConsentState:
    """The consent in force for one purpose (and channel), derived from the ledger."""

    purpose: str
    channel: ConsentChannel | None
    #: The latest record that covers it; None when the ledger has none.
    latest: ConsentRecord | None
    #: The consent was given to a text the purpose no longer has.
    stale: bool

    @property
    def granted(self) -> bool:
        """Whether consent is given and covers the purpose's current text."""
        return (
            self.latest is not None
            and self.latest.action is ConsentAction.GRANTED
            and not (self.stale)
        )

    @property
    def withdrawn(self) -> bool:
        """Whether the latest word is a withdrawal."""
        return self.latest is not None and self.latest.action is ConsentAction.WITHDRAWN


# Cached: a decision weighs the versions of the data map's few texts on every call.
@lru_cache(maxsize=1024)
def text_version(text: str) -> str:
    """The version of a consent text: SHA-256 (hex) of its exact UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def current_texts(purpose: Purpose) -> dict[str, ConsentText]:
    """The purpose's consent texts in force, by language (none: it asks for no consent)."""
    return {
        language: ConsentText(text_version(text), language, text)
        for language, text in (purpose.consent or {}).items()
    }


def current_versions(purpose: Purpose) -> frozenset[str]:
    """The versions a consent to ``purpose`` may have been given to and still hold."""
    return frozenset(text_version(text) for text in (purpose.consent or {}).values())


def text_to_show(purpose: Purpose, language: str | None, shown_version: str | None) -> ConsentText:
    """The text a grant is recorded with: the one shown (checked current) or the language's.

    ConsentTextChangedError when the caller showed a text the purpose no longer has:
    recording it would claim consent to words the company no longer uses.
    """
    texts = current_texts(purpose)
    if not texts:
        raise ConsentError(
            f"purpose '{purpose.key}' has no consent text in the data map",
            hint="only a purpose with a `consent:` text can be consented to; "
            "a withdrawal or opt-out needs none",
        )
    if shown_version is not None:
        match = next((t for t in texts.values() if t.version == shown_version), None)
        if match is None:
            raise ConsentTextChangedError(
                f"the consent text shown for '{purpose.key}' is not the current one",
                hint="show the current text (GET the data map's purpose) and ask again",
            )
        return match
    if language is not None and language in texts:
        return texts[language]
    if language is not None:
        raise ConsentError(
            f"purpose '{purpose.key}' has no consent text in '{language}'",
            hint="use one of: " + ", ".join(sorted(texts)),
        )
    return next(iter(texts.values()))


def covers(record: ConsentRecord, channel: ConsentChannel | None) -> bool:
    """Whether ``record`` speaks for ``channel``: a record without channel covers all."""
    return record.channel is None or channel is None or record.channel is channel


def current_state(
    records: Iterable[ConsentRecord],
    purpose: Purpose,
    channel: ConsentChannel | None = None,
) -> ConsentState:
    """The consent in force for ``purpose`` on ``channel``: the latest record that covers it.

    Records are ordered by time, then by the order given (the store's insertion order),
    so two records in the same instant keep the order they were made in.
    """
    latest: ConsentRecord | None = None
    latest_key: tuple[datetime, int] | None = None
    for position, record in enumerate(records):
        if record.purpose != purpose.key or not covers(record, channel):
            continue
        key = (record.at, position)
        if latest_key is None or key >= latest_key:
            latest, latest_key = record, key
    stale = (
        latest is not None
        and latest.action is ConsentAction.GRANTED
        and latest.text_version not in current_versions(purpose)
    )
    return ConsentState(purpose.key, channel, latest, stale)


def current_states(
    records: Iterable[ConsentRecord], purposes: Iterable[Purpose]
) -> list[ConsentState]:
    """The state of each (purpose, channel) the records name, in the data map's order.

    A channel's state counts the records without a channel too; the state without a
    channel counts only those, so a withdrawal for e-mail does not read as one for all.
    """
    listed = list(records)
    states = []
    for purpose in purposes:
        channels = {r.channel for r in listed if r.purpose == purpose.key}
        for channel in sorted(channels, key=lambda c: "" if c is None else c.value):
            scoped = listed if channel is not None else [r for r in listed if r.channel is None]
            states.append(current_state(scoped, purpose, channel))
    return states
