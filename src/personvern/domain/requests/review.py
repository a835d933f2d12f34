"""The way out of ``needs_review``: a person decides, record by record, and the run goes on.

A run stops for review when it cannot be sure whose records it found (two person
records the subject's identities point at that are not one person kept twice, a
person record reached only through an identity found on the way), or when a record it
must read cannot be read. The stop names the records in question: the candidates.

A privacy officer decides every candidate, with a reason: *attach* (the record is the
subject's: it is answered, erased, and lends its identities to the search) or
*exclude* (it is not: it is left as any other person's record, found at most as a
mention to redact). A record that cannot be read can only be excluded; the run then
leaves it out of the search, the receipt says it was not covered, and a task asks a
person to check it by hand, so the request cannot end ``completed`` while it is open.

Decisions are kept with the request and apply to every later run and preview of it;
a later run that finds records nobody decided on stops for review again. A review that
names no record (an identity that fails today's checks, a record whose key cannot be
read) is sent back to run with a reason alone, once the cause is fixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from personvern.domain.errors import DomainError
from personvern.domain.requests.dataset_plan import DatasetPlan
from personvern.domain.requests.handlers import handler_for
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.request_plan import ManualReason, ManualStep
from personvern.domain.text_input import refuse_control_characters
from personvern.errors import ErrorKind

#: The longest reason kept (it is a line in the request's history, not a letter).
MAX_REASON = 2000
#: The longest record reference accepted ("system.dataset:key").
MAX_RECORD = 500


class ReviewError(DomainError):
    """A review decision was refused; nothing was recorded."""

    kind = ErrorKind.INVALID
    title = "Review decision refused"


class NotUnderReviewError(DomainError):
    """Only a request that stopped for review can be resolved."""

    kind = ErrorKind.CONFLICT
    title = "Request is not waiting for review"


class Decision(StrEnum):
    """What a person decided about one candidate record."""

    #: The record is the subject's.
    ATTACH = "attach"
    #: The record is not the subject's (or, unreadable, is left out of the request).
    EXCLUDE = "exclude"


class CandidateKind(StrEnum):
    """Why a record is a candidate of a review."""

    #: A person record the search cannot be sure is the subject's.
    CONFLICT = "conflict"
    #: A record that cannot be read.
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Candidate:
    """A record a review asks a person to decide on."""

    dataset: str
    key: str
    kind: CandidateKind = CandidateKind.CONFLICT

    @property
    def record(self) -> str:
        """The record as it is named on the command line: "system.dataset:key"."""
        return f"{self.dataset}:{self.key}"


@dataclass(frozen=True)
class ReviewDecision:
    """One decision of a review: which record, what, why, by whom and when."""

    dataset: str
    key: str
    decision: Decision
    reason: str
    decided_by: str
    decided_at: str
    kind: CandidateKind = CandidateKind.CONFLICT

    @property
    def record(self) -> str:
        """The record as it is named on the command line: "system.dataset:key"."""
        return f"{self.dataset}:{self.key}"

    @property
    def note(self) -> str:
        """The decision as a line of the request's history."""
        what = {
            (Decision.ATTACH, CandidateKind.CONFLICT): "attached to the subject",
            (Decision.EXCLUDE, CandidateKind.CONFLICT): "excluded: not the subject's",
            (Decision.EXCLUDE, CandidateKind.UNREADABLE): "excluded: cannot be read, "
            "left out of the request",
        }[self.decision, self.kind]
        return f"review: {self.record} {what} ({self.reason})"


@dataclass(frozen=True)
class Review:
    """A request's review: the candidates open now, and every decision made so far."""

    candidates: tuple[Candidate, ...] = ()
    decisions: tuple[ReviewDecision, ...] = ()

    def _decided(self, decision: Decision, kind: CandidateKind | None) -> dict[str, frozenset[str]]:
        keys: dict[str, set[str]] = {}
        for made in self.decisions:
            if made.decision is decision and (kind is None or made.kind is kind):
                keys.setdefault(made.dataset, set()).add(made.key)
        return {dataset: frozenset(found) for dataset, found in keys.items()}

    def attached(self) -> dict[str, frozenset[str]]:
        """Per dataset, the keys of records a person attached to the subject."""
        return self._decided(Decision.ATTACH, None)

    def set_aside(self) -> dict[str, frozenset[str]]:
        """Per dataset, the keys of readable records a person said are not the subject's."""
        return self._decided(Decision.EXCLUDE, CandidateKind.CONFLICT)

    def left_out(self) -> dict[str, frozenset[str]]:
        """Per dataset, the keys of unreadable records left out of the request."""
        return self._decided(Decision.EXCLUDE, CandidateKind.UNREADABLE)

    def opened(self, candidates: Iterable[Candidate]) -> Review:
        """This review with ``candidates`` open (earlier decisions stand)."""
        return replace(self, candidates=tuple(candidates))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "candidates": [
                {"dataset": c.dataset, "key": c.key, "kind": c.kind.value} for c in self.candidates
            ],
            "decisions": [
                {
                    "dataset": d.dataset,
                    "key": d.key,
                    "decision": d.decision.value,
                    "kind": d.kind.value,
                    "reason": d.reason,
                    "decided_by": d.decided_by,
                    "decided_at": d.decided_at,
                }
                for d in self.decisions
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Review:
        """Read a review back from :meth:`to_json` (None: no review yet)."""
        if not data:
            return cls()
        return cls(
            candidates=tuple(
                Candidate(c["dataset"], c["key"], CandidateKind(c["kind"]))
                for c in data.get("candidates", ())
            ),
            decisions=tuple(
                ReviewDecision(
                    dataset=d["dataset"],
                    key=d["key"],
                    decision=Decision(d["decision"]),
                    reason=d["reason"],
                    decided_by=d["decided_by"],
                    decided_at=d["decided_at"],
                    kind=CandidateKind(d["kind"]),
                )
                for d in data.get("decisions", ())
            ),
        )


def parse_record(text: str) -> tuple[str, str]:
    """("system.dataset", "key") of "system.dataset:key", or ReviewError saying what is wrong."""
    if not isinstance(text, str) or len(text) > MAX_RECORD:
        raise ReviewError(
            f"a record is named by at most {MAX_RECORD} characters",
            hint="name it as SYSTEM.DATASET:KEY, as the review lists it",
        )
    refuse_control_characters(text, "the record")
    dataset, colon, key = text.partition(":")
    system, dot, name = dataset.partition(".")
    if not colon or not dot or not system or not name or "." in name or not key.strip():
        raise ReviewError(
            f"'{text}' does not name a record",
            hint="name it as SYSTEM.DATASET:KEY, as the review lists it "
            "(`personvern request show ID`)",
        )
    return dataset, key


def check_reason(reason: str) -> str:
    """The reason, trimmed; ReviewError if it is empty, too long or holds control characters."""
    if not isinstance(reason, str) or not reason.strip():
        raise ReviewError(
            "a review decision needs a reason",
            hint="say why the records are or are not the subject's (--reason)",
        )
    if len(reason) > MAX_REASON:
        raise ReviewError(f"the reason is longer than {MAX_REASON} characters")
    return refuse_control_characters(reason.strip(), "the reason")


def decide(
    review: Review,
    *,
    attach: Sequence[str],
    exclude: Sequence[str],
    reason: str,
    decided_by: str,
    decided_at: datetime,
) -> tuple[Review, tuple[ReviewDecision, ...]]:
    """The review with a decision on every open candidate, and the new decisions.

    Every candidate must be attached or excluded, none both; a record the review does
    not name, a record that cannot be read attached, an empty reason: ReviewError, and
    nothing is decided.
    """
    why = check_reason(reason)
    attached = [parse_record(text) for text in attach]
    excluded = [parse_record(text) for text in exclude]
    open_ = {(c.dataset, c.key): c for c in review.candidates}
    listed = ", ".join(sorted(c.record for c in review.candidates)) or "none"
    for dataset, key in [*attached, *excluded]:
        if (dataset, key) not in open_:
            raise ReviewError(
                f"{dataset}:{key} is not a record this review asks about",
                hint=f"the records to decide on are: {listed}",
            )
    both = sorted(f"{d}:{k}" for d, k in set(attached) & set(excluded))
    if both:
        raise ReviewError(
            f"{', '.join(both)} cannot be both attached and excluded",
            hint="decide each record once",
        )
    unreadable = sorted(
        f"{d}:{k}" for d, k in set(attached) if open_[d, k].kind is CandidateKind.UNREADABLE
    )
    if unreadable:
        raise ReviewError(
            f"{', '.join(unreadable)} cannot be read, so it cannot be attached",
            hint="exclude it (the request then leaves it out, and a task asks to check it "
            "by hand), or fix the record and resolve with a reason alone",
        )
    undecided = sorted(c.record for key, c in open_.items() if key not in {*attached, *excluded})
    if undecided:
        raise ReviewError(
            f"every record of the review must be decided; not decided: {', '.join(undecided)}",
            hint="attach (--attach) or exclude (--exclude) each of them",
        )
    at = decided_at.isoformat(timespec="seconds")
    made = tuple(
        ReviewDecision(dataset, key, decision, why, decided_by, at, open_[dataset, key].kind)
        for decision, records in ((Decision.ATTACH, attached), (Decision.EXCLUDE, excluded))
        for dataset, key in sorted(set(records))
    )
    return Review(candidates=(), decisions=review.decisions + made), made


def left_out_steps(review: Review, request_type: RequestType) -> tuple[ManualStep, ...]:
    """A manual step per unreadable record left out: the request did not cover it."""
    return tuple(
        ManualStep(
            key=made.record,
            reason=ManualReason.NOT_READABLE.value,
            description=f"the record with key {made.key} in {made.dataset} could not be read "
            f"and was left out of this request ({made.reason}); fix it, then "
            + handler_for(request_type).by_hand_left_out,
            records=1,
        )
        for made in review.decisions
        if made.decision is Decision.EXCLUDE and made.kind is CandidateKind.UNREADABLE
    )


def leave_out(part: DatasetPlan, keys: frozenset[str]) -> DatasetPlan:
    """A stored dataset plan without the records ``keys`` (left out after it was made)."""
    if not keys:
        return part

    def kept(keys_of: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(k for k in keys_of if str(k) not in keys)

    return replace(
        part,
        export=kept(part.export),
        delete=kept(part.delete),
        erase_fields=kept(part.erase_fields),
        redact=kept(part.redact),
        keep=kept(part.keep),
        rectify=kept(part.rectify),
        stop_marketing=kept(part.stop_marketing),
        restrict=kept(part.restrict),
    )
