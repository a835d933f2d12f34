"""The hash chain: each event's hash covers its content and its predecessor's hash.

Changing a stored event changes its hash; deleting one leaves a gap in the sequence
and a predecessor hash nothing matches; inserting one breaks the link of the event
after it. Deleting events at the end leaves a shorter chain that is intact in itself:
only an anchor kept elsewhere (`personvern audit anchor`) shows that. Retention
deletes the oldest events (a prefix) and keeps the last deleted event's place and hash,
so the rest is verified from there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from personvern.domain.audit.event import GENESIS_HASH, AuditEvent, ChainedEvent, canonical


class BreakKind(StrEnum):
    """How the chain is broken at an event."""

    ALTERED = "altered"
    MISSING = "missing"
    INSERTED = "inserted"


@dataclass(frozen=True)
class ChainBreak:
    """The first event where the chain does not hold, and why."""

    sequence: int
    kind: BreakKind
    reason: str


@dataclass(frozen=True)
class ChainVerdict:
    """The result of re-computing the chain: intact, or the first break."""

    events: int
    head_sequence: int
    head_hash: str
    broken: ChainBreak | None = None

    @property
    def intact(self) -> bool:
        """Whether every event's hash and link were as computed."""
        return self.broken is None


def chain_hash(previous_hash: str, sequence: int, event: AuditEvent) -> str:
    """SHA-256 (hex) of the event's canonical form, which includes its predecessor's hash."""
    return hashlib.sha256(canonical(sequence, previous_hash, event)).hexdigest()


def chained(head_sequence: int, head_hash: str, event: AuditEvent) -> ChainedEvent:
    """``event`` linked after the head (sequence 0 and GENESIS_HASH: the chain is empty)."""
    sequence = head_sequence + 1
    return ChainedEvent(sequence, event, head_hash, chain_hash(head_hash, sequence, event))


def verify_chain(
    events: Iterable[ChainedEvent],
    *,
    first_sequence: int = 1,
    previous_hash: str = GENESIS_HASH,
) -> ChainVerdict:
    """Re-compute the chain over ``events`` (in stored order) and name the first break.

    A chain whose oldest events were pruned by retention starts after them: at
    ``first_sequence``, linked to ``previous_hash``, the last pruned event's hash.
    """
    expected_sequence = first_sequence
    count = 0
    head_sequence, head_hash = first_sequence - 1, previous_hash
    for stored in events:
        count += 1
        broken = _first_problem(stored, expected_sequence, previous_hash)
        if broken is not None:
            return ChainVerdict(count - 1, head_sequence, head_hash, broken)
        expected_sequence = stored.sequence + 1
        previous_hash = stored.hash
        head_sequence, head_hash = stored.sequence, stored.hash
    return ChainVerdict(count, head_sequence, head_hash)


def _first_problem(
    stored: ChainedEvent, expected_sequence: int, previous_hash: str
) -> ChainBreak | None:
    sequence = stored.sequence
    if sequence < expected_sequence:
        return ChainBreak(
            sequence,
            BreakKind.INSERTED,
            f"sequence {sequence} repeats or goes back (expected {expected_sequence})",
        )
    if sequence > expected_sequence:
        missing = (
            f"event {expected_sequence}"
            if sequence == expected_sequence + 1
            else f"events {expected_sequence}-{sequence - 1}"
        )
        return ChainBreak(sequence, BreakKind.MISSING, f"{missing} before it are missing")
    if chain_hash(stored.previous_hash, sequence, stored.event) != stored.hash:
        return ChainBreak(sequence, BreakKind.ALTERED, "its stored hash does not match its content")
    if stored.previous_hash != previous_hash:
        return ChainBreak(
            sequence,
            BreakKind.INSERTED,
            "its predecessor hash does not match the event before it "
            "(an event was inserted, replaced or removed)",
        )
    return None
