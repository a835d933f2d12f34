"""The consent service: record consents, show a person's history, and decide.

Identities are checked and normalised exactly as requests do
(personvern.domain.requests.identity, the first controller's country for phone
numbers) and kept only as keyed hashes (personvern.security.subject_hash), so a consent
recorded for " Kari@Example.com " is found for "kari@example.com", and the restriction,
objection and withdrawal flags the requests recorded for that address are found too.

A decision reads the ledger and what the person's requests left in force: their flags,
and an erasure that is verified and not finished (found by the keyed hashes of the
identities of open requests, personvern.store.models.RequestIdentityHash). Bulk
decisions hash every address, then ask the store a chunk of hashes per query.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from personvern.domain.audit.event import AuditActor
from personvern.domain.consent.ledger import (
    CHANNEL_IDENTITY,
    ConsentAction,
    ConsentChannel,
    ConsentError,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentText,
    current_state,
    current_states,
    text_to_show,
)
from personvern.domain.consent.proof import proof_of
from personvern.domain.datamap import DataMap, IdentityKind, Purpose
from personvern.domain.decisions.rules import (
    Decision,
    DecisionReason,
    Flag,
    SubjectFacts,
    combined,
    decide,
    declares,
    is_marketing,
    marketing_purposes,
)
from personvern.domain.identities.email import plain_canonical_email
from personvern.domain.identities.errors import InvalidIdentityError
from personvern.domain.policy_lint import effective_taxonomy
from personvern.domain.requests.identity import SubjectIdentity, parse_identity
from personvern.domain.taxonomy import TaxonomyKind, fides_taxonomy
from personvern.security.consent_receipt import SignedReceipt, kantara_claims, sign_receipt
from personvern.security.subject_hash import identity_hash, identity_hashes
from personvern.settings import Settings
from personvern.store.base import utcnow
from personvern.store.consent_models import ConsentRecordRow
from personvern.store.consents import ConsentLedger, SubjectRows, to_record
from personvern.store.errors import RecordNotFoundError

#: The most addresses one bulk decision takes.
MAX_BULK = 1_000_000
#: How far in the future an imported consent's time may lie (clock skew), no more.
CLOCK_SKEW = timedelta(minutes=5)


class SubjectLedger(Protocol):
    """Where a decision about one person reads: a ConsentLedger, or a LedgerLookup."""

    def one_subject(
        self, identity_kind: str, identity_hash: str, purposes: Collection[str]
    ) -> SubjectRows:
        """The person's records for ``purposes``, flags and erasures under way."""
        ...


class ConsentNotFoundError(RecordNotFoundError):
    """No consent record with the id asked for."""

    title = "Consent record not found"


@dataclass(frozen=True)
class HashedIdentity:
    """A normalised identity and its keyed hash: what the ledger and the flags are keyed by."""

    identity: SubjectIdentity
    hash: str

    @property
    def kind(self) -> str:
        """The identity's kind, as stored."""
        return self.identity.kind.value


@dataclass(frozen=True)
class History:
    """A person's ledger for one identity: every record, and the state of each purpose."""

    identity: HashedIdentity
    records: list[ConsentRecordRow]
    states: list[ConsentState]


@dataclass
class BulkOutcome:
    """Which addresses may be contacted, and how many were refused for each reason."""

    contactable: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    #: Addresses that are not addresses at all (never contacted).
    invalid: int = 0
    #: Addresses given more than once (decided once, listed once).
    duplicates: int = 0


def hashed(settings: Settings, datamap: DataMap, kind: str, value: str) -> HashedIdentity:
    """Normalise ``value`` as a ``kind`` identity, as requests do, and hash it."""
    identity = parse_identity(kind, value, country=_country(datamap))
    return HashedIdentity(
        identity, identity_hash(settings.secret(), identity.kind.value, identity.value)
    )


def _country(datamap: DataMap) -> str:
    return datamap.organization.controllers[0].country


def declared_purpose(datamap: DataMap, key: str) -> Purpose:
    """The data map's purpose ``key``; ConsentError naming the valid keys otherwise."""
    purpose = datamap.purpose(key.strip())
    if purpose is None:
        raise ConsentError(
            f"'{key}' is not a purpose of the data map",
            hint="one of: " + ", ".join(sorted(p.key for p in datamap.purposes)),
        )
    return purpose


def record_consent(
    session: Session,
    settings: Settings,
    datamap: DataMap,
    *,
    identity: tuple[str, str],
    purpose: str,
    action: ConsentAction | str,
    source: ConsentSource | str,
    actor: AuditActor,
    channel: ConsentChannel | str | None = None,
    language: str | None = None,
    shown_version: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    at: datetime | None = None,
    now: datetime | None = None,
) -> ConsentRecordRow:
    """Append a grant or a withdrawal to the ledger, with the text shown and the proof.

    A grant is recorded with the purpose's current text: the one the caller showed
    (``shown_version``, refused if it is no longer current) or the one in ``language``.
    A withdrawal needs no text (withdrawing must be as easy as giving). Only an import
    may say when the consent was given (``at``); every other record is made now.
    """
    now = now or utcnow()
    declared = declared_purpose(datamap, purpose)
    consent_action = _enum(ConsentAction, action, "action")
    consent_source = _enum(ConsentSource, source, "source")
    consent_channel = _enum(ConsentChannel, channel, "channel") if channel is not None else None
    if at is not None and consent_source is not ConsentSource.IMPORT:
        raise ConsentError(
            "only an import may give the time of a consent",
            hint="leave `at` out: the consent is recorded as given now",
        )
    when = at or now
    if when.tzinfo is None or when > now + CLOCK_SKEW:
        raise ConsentError(
            "the time of an imported consent must carry a time zone and not lie in the future",
            hint="e.g. 2024-05-01T12:00:00Z",
        )
    if language is not None and language not in datamap.organization.languages:
        raise ConsentError(
            f"'{language}' is not a language of the data map",
            hint="one of: " + ", ".join(datamap.organization.languages),
        )
    text: ConsentText | None = None
    if consent_action is ConsentAction.GRANTED:
        text = text_to_show(declared, language, shown_version)
    subject = hashed(settings, datamap, *identity)
    reaches = CHANNEL_IDENTITY.get(consent_channel) if consent_channel is not None else None
    if consent_channel is not None and reaches is not None and subject.identity.kind is not reaches:
        # Decisions for the channel ask by that kind of identity: this record would
        # never be read.
        raise ConsentError(
            f"a consent for {consent_channel.value} is given for a {reaches.value}, "
            f"not a {subject.identity.kind.value}",
            hint="record it for the address the channel reaches, or without a channel",
        )
    record = ConsentRecord(
        identity_kind=subject.identity.kind,
        identity_hash=subject.hash,
        purpose=declared.key,
        action=consent_action,
        at=when,
        source=consent_source,
        channel=consent_channel,
        text_version=text.version if text is not None else None,
        proof=proof_of(ip, user_agent),
    )
    return ConsentLedger(session).add(record, text=text, recorded_by=actor, recorded_at=now)


def history(
    session: Session, settings: Settings, datamap: DataMap, identity: tuple[str, str]
) -> History:
    """Every record of one identity, and the state in force for each purpose it names."""
    subject = hashed(settings, datamap, *identity)
    rows = ConsentLedger(session).history(subject.kind, subject.hash)
    states = current_states([to_record(row) for row in rows], datamap.purposes)
    return History(subject, rows, states)


def facts_of(
    ledger: SubjectLedger,
    subject: HashedIdentity,
    *,
    existing_customer: bool = False,
    rows: SubjectRows | None = None,
) -> SubjectFacts:
    """What the requests left in force for one identity: flags and an erasure under way.

    ``rows``: what ``ledger.one_subject`` just read for the identity, if the caller has
    it (else it is read here).
    """
    if rows is None:
        rows = ledger.one_subject(subject.kind, subject.hash, ())
    return _facts(rows, existing_customer)


def marketing_purposes_for(datamap: DataMap, purpose: str | None) -> Sequence[Purpose]:
    """The purposes a marketing decision weighs: the one named (a marketing one), else all."""
    if purpose is None:
        found = _every_marketing_purpose(datamap)
        if not found:
            raise ConsentError(
                "the data map declares no marketing purpose",
                hint="a purpose whose data_use is marketing... (e.g. "
                "marketing.communications.email)",
            )
        return found
    declared = declared_purpose(datamap, purpose)
    if not is_marketing(declared):
        raise ConsentError(
            f"'{declared.key}' is not a marketing purpose (its data use is {declared.data_use})",
            hint="ask GET /api/v1/decisions/processing for other purposes",
        )
    return (declared,)


#: The last data map asked about and its marketing purposes: a server has one data map,
#: and a decision asks for them before every message (a tuple, replaced whole).
_LAST_MARKETING: tuple[DataMap, tuple[Purpose, ...]] | None = None


def _every_marketing_purpose(datamap: DataMap) -> tuple[Purpose, ...]:
    global _LAST_MARKETING  # noqa: PLW0603  (one slot, replaced whole: no lock needed)
    last = _LAST_MARKETING
    if last is not None and last[0] is datamap:
        return last[1]
    found = tuple(marketing_purposes(datamap))
    _LAST_MARKETING = (datamap, found)
    return found


#: Answers for a person the ledger, the flags and the erasures do not name, by the
#: purposes weighed (their identities, the purposes kept with them so no id is reused),
#: channel and § 15 status: the rules then depend on the data map alone, and most
#: people asked about have no record (as bulk_marketing's plain answers).
_PLAIN: dict[tuple[tuple[int, ...], ConsentChannel, bool], tuple[Sequence[Purpose], Decision]] = {}
#: Answers kept at most (a data map has a few marketing purposes; reloads make new ones).
_PLAIN_KEPT = 64


def _plain_answer(
    purposes: Sequence[Purpose], channel: ConsentChannel, existing_customer: bool
) -> Decision:
    """The marketing answer for a person without records, flags or erasures."""
    key = (tuple(map(id, purposes)), channel, existing_customer)
    kept = _PLAIN.get(key)
    if kept is not None:
        return kept[1]
    decision = _marketing(purposes, [], SubjectFacts(existing_customer=existing_customer), channel)
    if len(_PLAIN) >= _PLAIN_KEPT:
        _PLAIN.clear()
    _PLAIN[key] = (purposes, decision)
    return decision


def channel_identity(channel: ConsentChannel | str) -> tuple[ConsentChannel, IdentityKind]:
    """The channel and the identity kind it reaches people by (e-mail, or phone for SMS)."""
    parsed = _enum(ConsentChannel, channel, "channel")
    kind = CHANNEL_IDENTITY.get(parsed)
    if kind is None:
        raise ConsentError(
            f"marketing is decided for e-mail, SMS and phone, not '{parsed.value}'",
            hint="channel=email, sms or phone",
        )
    return parsed, kind


@dataclass(frozen=True)
class DecisionQuestion:
    """What a decision asks of the ledger, and how it answers from the rows read.

    A decision is split so its one read can be made wherever suits the store (in this
    thread, in a worker thread, or awaited on the event loop; see the decisions API):
    the question normalises and hashes the identity, the answer applies the rules.
    """

    subject: HashedIdentity
    #: The purposes whose records the answer weighs.
    purposes: frozenset[str]
    answer: Callable[[SubjectRows], Decision]

    @property
    def read(self) -> tuple[str, str, frozenset[str]]:
        """What to read: ``SubjectLedger.one_subject``'s arguments."""
        return self.subject.kind, self.subject.hash, self.purposes


def decided(ledger: SubjectLedger, question: DecisionQuestion | Decision) -> Decision:
    """The answer to ``question`` (read from ``ledger`` here), or the decision already made."""
    if isinstance(question, Decision):
        return question
    return question.answer(ledger.one_subject(*question.read))


def marketing_question(
    settings: Settings,
    datamap: DataMap,
    *,
    identity: tuple[str, str],
    channel: ConsentChannel | str,
    purpose: str | None = None,
    existing_customer: bool = False,
) -> DecisionQuestion:
    """The question of a marketing decision (see marketing_decision)."""
    parsed, kind = channel_identity(channel)
    if identity[0] != kind.value:
        raise ConsentError(
            f"the {parsed.value} channel reaches people by {kind.value}, not {identity[0]}",
            hint="email=... for channel=email, phone=... for sms and phone",
        )
    purposes = marketing_purposes_for(datamap, purpose)
    subject = hashed(settings, datamap, *identity)

    def answer(rows: SubjectRows) -> Decision:
        if not (rows.records or rows.flags or rows.erasures):
            return _plain_answer(purposes, parsed, existing_customer)
        facts = _facts(rows, existing_customer)
        return _marketing(purposes, rows.records, facts, parsed)

    return DecisionQuestion(subject, frozenset(p.key for p in purposes), answer)


def marketing_decision(
    ledger: SubjectLedger,
    settings: Settings,
    datamap: DataMap,
    *,
    identity: tuple[str, str],
    channel: ConsentChannel | str,
    purpose: str | None = None,
    existing_customer: bool = False,
) -> Decision:
    """May the company send marketing to this person on ``channel``, and why (not)."""
    return decided(
        ledger,
        marketing_question(
            settings,
            datamap,
            identity=identity,
            channel=channel,
            purpose=purpose,
            existing_customer=existing_customer,
        ),
    )


def processing_question(
    settings: Settings,
    datamap: DataMap,
    *,
    identity: tuple[str, str],
    purpose: str,
    category: str | None = None,
) -> DecisionQuestion | Decision:
    """The question of a processing decision (see processing_decision), or its answer.

    The answer when no read is needed: the purpose does not process the category.
    """
    declared = declared_purpose(datamap, purpose)
    if category is not None:
        taxonomy = effective_taxonomy(datamap, fides_taxonomy())
        if not taxonomy.knows(TaxonomyKind.DATA_CATEGORY, category):
            close = taxonomy.suggest(TaxonomyKind.DATA_CATEGORY, category)
            raise ConsentError(
                f"'{category}' is not a data category of the taxonomy or the data map",
                hint=f"did you mean '{close[0]}'?" if close else "e.g. user.contact.email",
            )
        if not declares(datamap, taxonomy, declared.key, category):
            return Decision(declared.key, False, DecisionReason.NOT_DECLARED)
    subject = hashed(settings, datamap, *identity)

    def answer(rows: SubjectRows) -> Decision:
        return decide(declared, current_state(rows.records, declared), _facts(rows, False))

    return DecisionQuestion(subject, frozenset({declared.key}), answer)


def processing_decision(
    ledger: SubjectLedger,
    settings: Settings,
    datamap: DataMap,
    *,
    identity: tuple[str, str],
    purpose: str,
    category: str | None = None,
) -> Decision:
    """May the company process this person's data (of ``category``) for ``purpose``, and why.

    With a data category, the data map must say that category is processed for the
    purpose, or the answer is deny (``not_declared``) whatever the person said.
    """
    return decided(
        ledger,
        processing_question(
            settings, datamap, identity=identity, purpose=purpose, category=category
        ),
    )


def _facts(rows: SubjectRows, existing_customer: bool) -> SubjectFacts:
    return SubjectFacts(
        flags=tuple(Flag(kind, purpose) for kind, purpose in rows.flags),
        erasure_in_progress=bool(rows.erasures),
        existing_customer=existing_customer,
    )


def bulk_marketing(
    session: Session,
    settings: Settings,
    datamap: DataMap,
    *,
    addresses: Sequence[str],
    channel: ConsentChannel | str,
    purpose: str | None = None,
    existing_customers: Iterable[str] = (),
) -> BulkOutcome:
    """Decide for many addresses at once: who may be contacted, and counts per reason.

    Each address is normalised and hashed; the ledger and the flags are read a chunk
    of hashes per query; an address that is no address is counted as invalid, never
    contacted. ``existing_customers`` are addresses (in any spelling) the caller says
    are customers, for the § 15 exception.
    """
    if len(addresses) > MAX_BULK:
        raise ConsentError(
            f"at most {MAX_BULK} addresses per bulk decision (got {len(addresses)})",
            hint="split the list",
        )
    parsed_channel, kind = channel_identity(channel)
    purposes = marketing_purposes_for(datamap, purpose)
    country = _country(datamap)
    outcome = BulkOutcome()
    plain = plain_canonical_email if kind is IdentityKind.EMAIL else None

    def normalised(raw: str) -> str | None:
        quick = plain(raw) if plain is not None else None
        if quick is not None:
            return quick
        try:
            return parse_identity(kind.value, raw, country=country).value
        except InvalidIdentityError:
            return None

    customers = {n for n in map(normalised, existing_customers) if n is not None}
    values: dict[str, str] = {}
    for raw in addresses:
        value = normalised(raw)
        if value is None:
            outcome.invalid += 1
        elif value in values:
            outcome.duplicates += 1
        else:
            values[value] = raw.strip()
    order = identity_hashes(settings.secret(), kind.value, values)
    ledger = ConsentLedger(session)
    records = ledger.records_of(kind.value, order, {p.key for p in purposes})
    flags = ledger.flags_of(kind.value, order)
    # Of the (few) identities erasures under way name: membership is all this needs.
    erasing = ledger.erasing(kind.value)
    # Most people have no record, flag or erasure: their answer depends on nothing but
    # whether they are customers, so it is decided once for each of the two.
    plain_answers = {
        customer: _plain_answer(purposes, parsed_channel, customer) for customer in (False, True)
    }
    for key, (value, address) in zip(order, values.items(), strict=True):
        mine = records.get(key)
        flagged = flags.get(key)
        customer = value in customers
        if mine is None and flagged is None and key not in erasing:
            decision = plain_answers[customer]
        else:
            facts = SubjectFacts(
                flags=tuple(Flag(k, p) for k, p in flagged or ()),
                erasure_in_progress=key in erasing,
                existing_customer=customer,
            )
            decision = _marketing(purposes, mine or [], facts, parsed_channel)
        outcome.counts[decision.reason.value] += 1
        if decision.allowed:
            outcome.contactable.append(address)
    return outcome


def _marketing(
    purposes: Sequence[Purpose],
    records: Sequence[ConsentRecord],
    facts: SubjectFacts,
    channel: ConsentChannel,
) -> Decision:
    """The marketing answer over ``purposes`` for one person's records and facts."""
    decision = combined(
        [decide(p, current_state(records, p, channel), facts, channel) for p in purposes]
    )
    assert decision is not None  # marketing_purposes_for never answers an empty list
    return decision


def receipt(
    session: Session, settings: Settings, datamap: DataMap, record_id: str
) -> SignedReceipt:
    """The record ``record_id`` as a signed Kantara consent receipt (JWT)."""
    ledger = ConsentLedger(session)
    row = ledger.get(record_id)
    if row is None:
        raise ConsentNotFoundError(
            f"no consent record {record_id}", hint="GET /api/v1/consents?identity=... lists them"
        )
    declared = datamap.purpose(row.purpose)
    if declared is None:
        raise ConsentError(
            f"the record's purpose '{row.purpose}' is no longer in the data map",
            hint="a receipt describes the purpose from the data map: restore it to issue one",
        )
    text = ledger.text(row.text_version) if row.text_version else None
    claims = kantara_claims(
        to_record(row),
        declared,
        datamap,
        language=row.language,
        text=text.text if text is not None else None,
    )
    return sign_receipt(settings.home, claims)


_E = TypeVar("_E", ConsentAction, ConsentSource, ConsentChannel)


def _enum(kind: type[_E], value: _E | str, what: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        raise ConsentError(
            f"unknown {what} '{value}'", hint="use one of: " + ", ".join(m.value for m in kind)
        ) from None


__all__ = [
    "MAX_BULK",
    "BulkOutcome",
    "ConsentNotFoundError",
    "DecisionReason",
    "History",
    "bulk_marketing",
    "history",
    "marketing_decision",
    "processing_decision",
    "receipt",
    "record_consent",
]
