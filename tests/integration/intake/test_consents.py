"""The consent service on SQLite, PostgreSQL and MariaDB: stale texts, channels, erasures, phones.

A decision reads one person's records, flags and the erasures under way in one union
statement, whose column typing differs between the three databases.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from personvern.domain.audit.event import AuditActor
from personvern.domain.consent.ledger import ConsentError, ConsentTextChangedError, current_state
from personvern.domain.datamap import DataMap
from personvern.domain.decisions.rules import (
    Decision,
    DecisionReason,
    SubjectFacts,
    combined,
    decide,
)
from personvern.domain.requests.lifecycle import RequestState
from personvern.intake import Channel, FiledRequest, file_request
from personvern.intake import consents as service
from personvern.intake.request_index import index_open_requests
from personvern.settings import Settings
from personvern.store import consents as store_consents
from personvern.store.consents import (
    DECISIONS_APPLICATION,
    READS_PER_STATEMENT,
    ConsentLedger,
    LedgerLookup,
)
from personvern.store.db import read_only_engine
from personvern.store.models import RequestIdentityHash, SubjectFlag
from personvern.store.requests import RequestRepository
from tests.support.event_loops import on_a_loop_of_its_own
from tests.support.servers import fresh_database

subjects_query = store_consents._subjects_query


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The store on each of the three databases (the package's fixture has two)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'home' / 'personvern.db'}"
        return
    with fresh_database(request.param) as url:
        yield url


ACTOR = AuditActor("api-token:1", "privacy_officer", "api_token")
NEWS = "marketing_newsletter"
KARI = "kari@example.no"


def changed_text(datamap: DataMap) -> DataMap:
    """The data map after the newsletter's consent text was reworded."""
    purposes = [
        p.model_copy(update={"consent": {"nb": "Ny tekst.", "en": "New text."}})
        if p.key == NEWS
        else p
        for p in datamap.purposes
    ]
    return datamap.model_copy(update={"purposes": purposes})


def grant(session: Session, settings: Settings, datamap: DataMap, **extra: object) -> None:
    values: dict[str, object] = {
        "identity": ("email", KARI),
        "purpose": NEWS,
        "action": "granted",
        "source": "api",
        "actor": ACTOR,
    }
    values.update(extra)
    service.record_consent(session, settings, datamap, **values)  # type: ignore[arg-type]
    session.commit()


def marketing(session: Session, settings: Settings, datamap: DataMap, **extra: object) -> str:
    """The reason of a marketing decision, read in the session and through the driver.

    The API decides through the driver (LedgerLookup, outside any session): both must
    give the same answer, so what the test committed is what both see.
    """
    session.commit()
    # As the app builds it: on the engine for reads (on SQLite they take no write lock).
    reader = read_only_engine(session.get_bind())
    lookup = LedgerLookup(reader)
    identity = extra.pop("identity", ("email", KARI))
    channel = extra.pop("channel", "email")
    try:
        reasons = {
            service.marketing_decision(
                ledger,
                settings,
                datamap,
                identity=identity,  # type: ignore[arg-type]
                channel=channel,  # type: ignore[arg-type]
                **extra,  # type: ignore[arg-type]
            ).reason.value
            for ledger in (ConsentLedger(session), lookup)
        }
        # As the API asks: the read awaited on an event loop, with any others asked then.
        question = service.marketing_question(
            settings,
            datamap,
            identity=identity,  # type: ignore[arg-type]
            channel=channel,  # type: ignore[arg-type]
            **extra,  # type: ignore[arg-type]
        )
        reasons.add(on_a_loop_of_its_own(lambda: _awaited(lookup, question)).reason.value)
    finally:
        lookup.close()
        if reader.pool is not session.get_bind().pool:
            reader.dispose()  # PostgreSQL's autocommit engine is one of its own
    assert len(reasons) == 1, f"the session and the driver disagree: {reasons}"
    return reasons.pop()


async def _awaited(lookup: LedgerLookup, question: service.DecisionQuestion) -> Decision:
    """``question`` answered from a read awaited on this loop, its connection closed after."""
    subject = question.subject
    try:
        rows = await lookup.one_subject_async(subject.kind, subject.hash, question.purposes)
    finally:
        await lookup.aclose()
    return question.answer(rows)


def erase(
    session: Session, settings: Settings, datamap: DataMap, identities: list[tuple[str, str]]
) -> FiledRequest:
    """File an erasure whose subject staff verified in person: it is under way at once."""
    filed = file_request(
        session,
        settings,
        datamap,
        type="erasure",
        identities=identities,
        language="nb",
        channel=Channel.STAFF,
        actor="agent",
        verification_method="staff_in_person",
        verification_note="passport",
    )
    session.commit()
    return filed


def test_a_consent_to_a_changed_text_is_stale_and_asked_again(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    grant(session, settings, datamap, language="en")
    assert "consent_given" == marketing(session, settings, datamap)
    reworded = changed_text(datamap)
    assert "stale_consent" == marketing(session, settings, reworded)
    states = service.history(session, settings, reworded, ("email", KARI)).states
    assert [(NEWS, True, False)] == [(s.purpose, s.stale, s.granted) for s in states]
    # The old text is still what was consented to, and it is kept to reproduce it.
    old_version = states[0].latest.text_version if states[0].latest else None
    assert old_version is not None

    stored = ConsentLedger(session).text(old_version)
    assert stored is not None
    assert stored.text.startswith("Yes, I want to receive newsletters")
    # A caller still showing the old text is told to show the new one.
    with pytest.raises(ConsentTextChangedError):
        grant(session, settings, reworded, shown_version=old_version)
    grant(session, settings, reworded, language="nb")
    assert "consent_given" == marketing(session, settings, reworded)


def test_a_withdrawal_for_one_channel_leaves_the_others(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    phone = ("phone_number", "912 34 567")
    grant(session, settings, datamap, identity=phone)
    grant(session, settings, datamap, identity=phone, action="withdrawn", channel="sms")
    ask = {"identity": ("phone_number", "+4791234567")}
    assert "consent_withdrawn" == marketing(session, settings, datamap, channel="sms", **ask)
    assert "consent_given" == marketing(session, settings, datamap, channel="phone", **ask)
    # The § 15 exception reaches e-mail and SMS, not calls.
    other = {"identity": ("phone_number", "+4741234567"), "existing_customer": True}
    assert "existing_customer" == marketing(session, settings, datamap, channel="sms", **other)
    assert "no_consent" == marketing(session, settings, datamap, channel="phone", **other)
    with pytest.raises(ConsentError, match="reaches people by phone_number"):
        marketing(session, settings, datamap, channel="sms")
    with pytest.raises(ConsentError, match="given for a phone_number"):
        grant(session, settings, datamap, channel="sms")
    grant(session, settings, datamap, channel="web")


def test_only_a_verified_erasure_that_is_not_finished_stops_marketing(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    grant(session, settings, datamap)
    filed = erase(
        session,
        settings,
        datamap,
        [("email", "KARI@example.no"), ("phone_number", "91234567")],
    )
    assert "erasure_in_progress" == marketing(session, settings, datamap)
    sms = marketing(
        session, settings, datamap, identity=("phone_number", "+47 912 34 567"), channel="sms"
    )
    assert "erasure_in_progress" == sms
    repository = RequestRepository(session)
    request = repository.get(filed.request.id)
    request.state = RequestState.REJECTED
    session.commit()
    assert "consent_given" == marketing(session, settings, datamap)


def test_an_unverified_erasure_does_not_stop_marketing(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    grant(session, settings, datamap)
    file_request(
        session,
        settings,
        datamap,
        type="erasure",
        identities=[("email", KARI)],
        language="nb",
        channel=Channel.PUBLIC,
        actor="subject",
    )
    session.commit()
    # Anyone can file for any address; until its code is entered it decides nothing.
    assert "consent_given" == marketing(session, settings, datamap)


def test_only_an_import_may_date_a_consent(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    past = datetime(2024, 5, 1, tzinfo=UTC)
    with pytest.raises(ConsentError, match="only an import"):
        grant(session, settings, datamap, at=past)
    with pytest.raises(ConsentError, match="future"):
        grant(session, settings, datamap, source="import", at=datetime.now(UTC) + timedelta(1))
    grant(session, settings, datamap, source="import", at=past)
    history = service.history(session, settings, datamap, ("email", KARI))
    assert [past] == [row.at for row in history.records]


def test_bulk_decisions_ask_the_store_a_chunk_at_a_time(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    import sqlalchemy as sa

    from personvern.store.consents import CHUNK

    grant(session, settings, datamap)
    addresses = [f"p{n}@example.no" for n in range(CHUNK * 3)] + [KARI]
    statements: list[str] = []
    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    outcome = service.bulk_marketing(
        session, settings, datamap, addresses=addresses, channel="email"
    )
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # 4 chunks asking who has records, 1 reading theirs, 4 of flags, the erasures under way.
    assert len(selects) == 10
    assert [KARI] == outcome.contactable
    assert {DecisionReason.NO_CONSENT.value: CHUNK * 3, "consent_given": 1} == dict(outcome.counts)


def test_erasures_under_way_are_found_by_identity_hash_without_unsealing(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    import sqlalchemy as sa

    grant(session, settings, datamap)
    erase(session, settings, datamap, [("email", "ola@example.no")])
    statements: list[str] = []
    engine = session.get_bind()

    def listen(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        assert "consent_given" == marketing(session, settings, datamap)
        filed = erase(session, settings, datamap, [("email", KARI)])
        assert "erasure_in_progress" == marketing(session, settings, datamap)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    decisions = [s for s in statements if "consent_records" in s]
    assert decisions
    # Neither the sealed identities nor the plain column of a bare store is read.
    assert not [s for s in decisions if re.search(r"\bidentities(_sealed)?\b", s)]
    # Closed, the request is found by identity no more, and its hashes are gone.
    repository = RequestRepository(session)
    repository.transition(repository.get(filed.request.id), RequestState.REJECTED, "test", "test")
    session.commit()
    assert "consent_given" == marketing(session, settings, datamap)
    hashes = session.scalar(
        sa.select(sa.func.count())
        .select_from(RequestIdentityHash)
        .where(RequestIdentityHash.request_id == filed.request.id)
    )
    assert 0 == hashes


def test_open_requests_filed_before_the_index_are_indexed_on_start(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    import sqlalchemy as sa

    grant(session, settings, datamap)
    filed = erase(session, settings, datamap, [("email", KARI), ("phone_number", "91234567")])
    # As a store migrated to 0023 with this erasure already under way.
    session.execute(sa.delete(RequestIdentityHash))
    session.commit()
    assert "consent_given" == marketing(session, settings, datamap)
    assert 1 == index_open_requests(session, settings)
    session.commit()
    assert "erasure_in_progress" == marketing(session, settings, datamap)
    kinds = session.scalars(
        sa.select(RequestIdentityHash.identity_kind).where(
            RequestIdentityHash.request_id == filed.request.id
        )
    ).all()
    assert ["email", "phone_number"] == sorted(kinds)
    assert 0 == index_open_requests(session, settings)


def test_a_lookup_kept_between_decisions_sees_every_commit(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    session.commit()
    reader = read_only_engine(session.get_bind())
    lookup = LedgerLookup(reader)

    def reason() -> str:
        decision = service.marketing_decision(
            lookup, settings, datamap, identity=("email", KARI), channel="email"
        )
        return decision.reason.value

    try:
        assert "no_consent" == reason()
        grant(session, settings, datamap)
        assert "consent_given" == reason()
        erase(session, settings, datamap, [("email", KARI)])
        assert "erasure_in_progress" == reason()
        lookup.close()
        # Closed, it opens what it needs again.
        assert "erasure_in_progress" == reason()
    finally:
        lookup.close()
        if reader.pool is not session.get_bind().pool:
            reader.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_an_awaited_read_opens_a_new_connection_when_the_server_dropped_its_own(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    import sqlalchemy as sa

    grant(session, settings, datamap)
    reader = read_only_engine(session.get_bind())
    lookup = LedgerLookup(reader)
    question = service.marketing_question(
        settings, datamap, identity=("email", KARI), channel="email"
    )
    subject = question.subject

    async def scenario() -> list[str]:
        answers = []
        try:
            for _ in range(2):
                rows = await lookup.one_subject_async(subject.kind, subject.hash, question.purposes)
                answers.append(question.answer(rows).reason.value)
                # The server ends the decisions' connection (as a restart would).
                with reader.connect() as other:
                    ended = other.execute(
                        sa.text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND application_name = :name"
                        ),
                        {"name": DECISIONS_APPLICATION},
                    ).all()
                    answers.append(f"ended {len(ended)}")
        finally:
            await lookup.aclose()
        return answers

    try:
        # Each read after the first found its connection ended, and opened a new one.
        expected = ["consent_given", "ended 1", "consent_given", "ended 1"]
        assert expected == on_a_loop_of_its_own(scenario)
    finally:
        lookup.close()
        reader.dispose()


def test_reads_asked_together_share_statements_and_each_gets_its_own_answer(
    session: Session, settings: Settings, datamap: DataMap, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 41 reads, more than one statement takes: granted, withdrawn, objecting, being
    # erased, and strangers; Kari asked twice.
    people = [f"person{n}@example.no" for n in range(39)] + [KARI, KARI]
    for n, address in enumerate(people[:20]):
        action = "withdrawn" if n % 4 == 1 else "granted"
        grant(session, settings, datamap, identity=("email", address), action=action)
    for address in people[20:24]:
        hashed = service.hashed(settings, datamap, "email", address)
        session.add(SubjectFlag(kind="objection", identity_kind="email", identity_hash=hashed.hash))
    erase(session, settings, datamap, [("email", people[2]), ("email", people[25])])
    questions = [
        service.marketing_question(settings, datamap, identity=("email", a), channel="email")
        for a in people
    ]
    reader = read_only_engine(session.get_bind())
    lookup = LedgerLookup(reader)
    statements: list[int] = []

    def counted(mark: str, kind: str, hashes: Sequence[str], purposes: Sequence[str]) -> Any:
        statements.append(len(hashes))
        return subjects_query(mark, kind, hashes, purposes)

    async def together() -> list[str]:
        try:
            rows = await asyncio.gather(
                *(lookup.one_subject_async(*question.read) for question in questions)
            )
        finally:
            await lookup.aclose()
        return [q.answer(r).reason.value for q, r in zip(questions, rows, strict=True)]

    try:
        one_at_a_time = [service.decided(lookup, q).reason.value for q in questions]
        monkeypatch.setattr(store_consents, "_subjects_query", counted)
        assert one_at_a_time == on_a_loop_of_its_own(together)
    finally:
        lookup.close()
        if reader.pool is not session.get_bind().pool:
            reader.dispose()
    assert {"consent_given", "consent_withdrawn", "objection", "erasure_in_progress"} <= set(
        one_at_a_time
    )
    assert "no_consent" == one_at_a_time[30]
    # Asked in one go: the first statement reads for as many people as one may, the
    # second for the rest, Kari once.
    assert [READS_PER_STATEMENT, 40 - READS_PER_STATEMENT] == statements


def test_a_read_that_fails_fails_every_read_of_its_statement_and_the_next_go_on(
    session: Session, settings: Settings, datamap: DataMap, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant(session, settings, datamap)
    question = service.marketing_question(
        settings, datamap, identity=("email", KARI), channel="email"
    )
    reader = read_only_engine(session.get_bind())
    lookup = LedgerLookup(reader)
    broken = {"once": True}

    def failing_once(mark: str, kind: str, hashes: Sequence[str], purposes: Sequence[str]) -> Any:
        sql, values = subjects_query(mark, kind, hashes, purposes)
        if broken.pop("once", False):
            return sql.replace("SELECT", "SELEKT", 1), values
        return sql, values

    async def twice() -> list[str]:
        answers = []
        try:
            for _ in range(2):
                asked = [lookup.one_subject_async(*question.read) for _ in range(3)]
                for outcome in await asyncio.gather(*asked, return_exceptions=True):
                    answers.append(
                        "failed"
                        if isinstance(outcome, Exception)
                        else question.answer(outcome).reason.value
                    )
        finally:
            await lookup.aclose()
        return answers

    monkeypatch.setattr(store_consents, "_subjects_query", failing_once)
    try:
        assert ["failed"] * 3 + ["consent_given"] * 3 == on_a_loop_of_its_own(twice)
    finally:
        lookup.close()
        if reader.pool is not session.get_bind().pool:
            reader.dispose()


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_stranger_gets_the_answer_the_rules_give_whatever_was_asked_before(
    session: Session, settings: Settings, datamap: DataMap
) -> None:
    # The answer for someone the ledger does not name is reused (it depends on the data
    # map alone): asked in every order, each must still be the one the rules give.
    marketing_purposes = [p.key for p in datamap.purposes if p.data_use.startswith("marketing")]
    asked = [
        (channel, customer, purpose)
        for channel in ("email", "sms")
        for customer in (False, True)
        for purpose in (None, *marketing_purposes)
    ]
    reader = read_only_engine(session.get_bind())
    lookup = LedgerLookup(reader)
    reasons: set[str] = set()
    try:
        for order in (asked, asked[::-1], asked[1::2] + asked[::2]):
            for channel, customer, purpose in order:
                identity = ("email", KARI) if channel == "email" else ("phone_number", "91234567")
                reused = service.marketing_decision(
                    lookup,
                    settings,
                    datamap,
                    identity=identity,
                    channel=channel,
                    purpose=purpose,
                    existing_customer=customer,
                )
                parsed, _ = service.channel_identity(channel)
                ruled = combined(
                    [
                        decide(
                            p,
                            current_state([], p, parsed),
                            SubjectFacts(existing_customer=customer),
                            parsed,
                        )
                        for p in service.marketing_purposes_for(datamap, purpose)
                    ]
                )
                assert ruled == reused, (channel, customer, purpose)
                reasons.add(reused.reason.value)
    finally:
        lookup.close()
    # Both kinds of answer were asked, or a reuse mixed up between them would pass.
    assert {"no_consent", "existing_customer"} <= reasons
