"""The hash chain: an intact chain verifies, and each way of tampering is named."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from personvern.domain.audit.chain import BreakKind, chain_hash, chained, verify_chain
from personvern.domain.audit.event import (
    GENESIS_HASH,
    AuditAction,
    AuditActor,
    AuditEvent,
    ChainedEvent,
    canonical,
)

START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ACTOR = AuditActor("api-token:1", "privacy_officer", "api_token")


def _event(n: int) -> AuditEvent:
    return AuditEvent(
        occurred_at=START + timedelta(seconds=n),
        actor=ACTOR,
        action=AuditAction.PERSONAL_DATA_READ,
        subject_key=f"{n:064x}",
        purpose="legal_compliance",
        detail={"request_id": f"r{n}", "route": "/api/v1/requests/{id}"},
    )


def _chain(length: int) -> list[ChainedEvent]:
    events: list[ChainedEvent] = []
    head_sequence, head_hash = 0, GENESIS_HASH
    for n in range(1, length + 1):
        linked = chained(head_sequence, head_hash, _event(n))
        events.append(linked)
        head_sequence, head_hash = linked.sequence, linked.hash
    return events


def _alter_detail(events: list[ChainedEvent]) -> list[ChainedEvent]:
    third = events[2]
    forged = dataclasses.replace(third.event, detail={"request_id": "someone-else"})
    return [*events[:2], dataclasses.replace(third, event=forged), *events[3:]]


def _alter_and_rehash(events: list[ChainedEvent]) -> list[ChainedEvent]:
    third = events[2]
    forged = dataclasses.replace(third.event, purpose="marketing")
    rehashed = ChainedEvent(
        3, forged, third.previous_hash, chain_hash(third.previous_hash, 3, forged)
    )
    return [*events[:2], rehashed, *events[3:]]


def _delete_middle(events: list[ChainedEvent]) -> list[ChainedEvent]:
    return [*events[:2], *events[3:]]


def _delete_and_renumber(events: list[ChainedEvent]) -> list[ChainedEvent]:
    later = [
        ChainedEvent(
            e.sequence - 1,
            e.event,
            e.previous_hash,
            chain_hash(e.previous_hash, e.sequence - 1, e.event),
        )
        for e in events[3:]
    ]
    return [*events[:2], *later]


def _insert_repeat(events: list[ChainedEvent]) -> list[ChainedEvent]:
    forged = chained(2, events[1].hash, _event(99))
    return [*events[:3], forged, *events[3:]]


def _insert_and_renumber(events: list[ChainedEvent]) -> list[ChainedEvent]:
    forged = chained(2, events[1].hash, _event(99))
    later = [
        ChainedEvent(
            e.sequence + 1,
            e.event,
            e.previous_hash,
            chain_hash(e.previous_hash, e.sequence + 1, e.event),
        )
        for e in events[2:]
    ]
    return [*events[:2], forged, *later]


@pytest.mark.parametrize(
    ("tamper", "sequence", "kind", "last_good"),
    [
        (_alter_detail, 3, BreakKind.ALTERED, 2),
        (_alter_and_rehash, 4, BreakKind.INSERTED, 3),
        (_delete_middle, 4, BreakKind.MISSING, 2),
        (_delete_and_renumber, 3, BreakKind.INSERTED, 2),
        (_insert_repeat, 3, BreakKind.INSERTED, 3),
        (_insert_and_renumber, 4, BreakKind.INSERTED, 3),
    ],
)
def test_verify_names_the_first_broken_event(
    tamper: Callable[[list[ChainedEvent]], list[ChainedEvent]],
    sequence: int,
    kind: BreakKind,
    last_good: int,
) -> None:
    verdict = verify_chain(tamper(_chain(5)))
    assert not verdict.intact
    assert verdict.broken is not None
    assert (sequence, kind) == (verdict.broken.sequence, verdict.broken.kind)
    assert last_good == verdict.head_sequence


def test_an_intact_chain_verifies_to_its_head() -> None:
    events = _chain(5)
    verdict = verify_chain(events)
    assert verdict.intact
    assert (5, 5, events[-1].hash) == (verdict.events, verdict.head_sequence, verdict.head_hash)


def test_an_empty_chain_is_intact_with_the_genesis_head() -> None:
    verdict = verify_chain([])
    assert verdict.intact
    assert (0, GENESIS_HASH) == (verdict.head_sequence, verdict.head_hash)


def test_the_first_event_links_to_the_genesis_hash() -> None:
    assert GENESIS_HASH == _chain(1)[0].previous_hash


def test_canonical_form_is_sorted_compact_utc_json() -> None:
    oslo = timezone(timedelta(hours=1))
    event = dataclasses.replace(_event(1), occurred_at=datetime(2026, 12, 2, 10, 0, 1, tzinfo=oslo))
    text = canonical(1, GENESIS_HASH, event).decode()
    assert text.startswith('{"action":"personal_data.read","actor":{"role":"privacy_officer"')
    assert '"occurred_at":"2026-12-02T09:00:01.000000Z"' in text
    assert " " not in text.replace("{id}", "")


def test_equal_events_hash_alike_whatever_the_order_of_their_detail() -> None:
    one = dataclasses.replace(_event(1), detail={"a": 1, "b": 2})
    two = dataclasses.replace(_event(1), detail={"b": 2, "a": 1})
    assert chain_hash(GENESIS_HASH, 1, one) == chain_hash(GENESIS_HASH, 1, two)


def test_a_naive_time_is_refused() -> None:
    event = dataclasses.replace(_event(1), occurred_at=datetime(2026, 12, 2, 9, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical(1, GENESIS_HASH, event)
