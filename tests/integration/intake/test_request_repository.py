"""RequestRepository on SQLite and PostgreSQL: rows, transitions, steps, files and flags."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from personvern.domain.requests.lifecycle import (
    InvalidTransitionError,
    RejectionReason,
    RequestState,
    RequestType,
)
from personvern.security.subject_hash import identity_hash, subject_key
from personvern.store.errors import RecordNotFoundError
from personvern.store.models import DataSubjectRequest
from personvern.store.requests import RequestRepository

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
SECRET = "repository-test-secret"
KARI = [("email", "kari@example.no"), ("phone_number", "+4791234567")]


def add(
    repository: RequestRepository,
    request_type: RequestType = RequestType.ACCESS,
    identities: list[tuple[str, str]] = KARI,
    received_at: datetime = T0,
) -> DataSubjectRequest:
    return repository.add(
        type=request_type,
        identities=[{"kind": k, "value": v} for k, v in identities],
        identity_hashes=(),
        subject_key=subject_key(SECRET, identities),
        language="nb",
        channel="public",
        created_by="subject",
        deadline=date(2026, 4, 10),
        received_at=received_at,
    )


def test_add_get_and_list(session: Session) -> None:
    repository = RequestRepository(session)
    first = add(repository)
    second = add(repository, RequestType.ERASURE, received_at=T0.replace(hour=10))
    session.commit()
    assert re.fullmatch(r"[0-9a-f]{32}", first.id)
    assert first.id != second.id
    assert ("received", T0, date(2026, 4, 10)) == (
        repository.get(first.id).state,
        repository.get(first.id).received_at,
        repository.get(first.id).deadline,
    )
    assert [second.id, first.id] == [r.id for r in repository.list()]
    assert [second.id] == [r.id for r in repository.list(type=RequestType.ERASURE)]
    assert [] == list(repository.list(state=RequestState.VERIFIED))
    assert [second.id] == [r.id for r in repository.list(limit=1)]
    with pytest.raises(RecordNotFoundError) as caught:
        repository.get("nope")
    assert "no data subject request with id 'nope'" == caught.value.message


def test_transitions_follow_the_lifecycle_and_leave_events(session: Session) -> None:
    repository = RequestRepository(session)
    request = add(repository)
    repository.transition(request, RequestState.VERIFIED, "checked", "agent", at=T0)
    repository.transition(
        request,
        RequestState.REJECTED,
        "rejected: excessive",
        "agent",
        at=T0,
        rejection_reason=RejectionReason.EXCESSIVE,
    )
    session.commit()
    assert ("rejected", "excessive", T0) == (
        request.state,
        request.rejection_reason,
        request.completed_at,
    )
    assert [
        ("received", "received through public"),
        ("verified", "checked"),
        ("rejected", "rejected: excessive"),
    ] == [(e.state, e.message) for e in repository.events(request.id)]
    with pytest.raises(InvalidTransitionError):
        repository.transition(request, RequestState.IN_PROGRESS, "again", "agent")


def test_verified_originals_are_found_by_subject_key_and_type(session: Session) -> None:
    repository = RequestRepository(session)
    original = add(repository)
    key = subject_key(SECRET, KARI[::-1])  # order does not matter
    # Unproven, it is nobody's original.
    assert repository.find_verified_original(key, RequestType.ACCESS) is None
    original.verified_at = original.received_at
    assert original.id == repository.find_verified_original(key, RequestType.ACCESS).id  # type: ignore[union-attr]
    assert repository.find_verified_original(key, RequestType.ACCESS, exclude=original.id) is None
    assert repository.find_verified_original(key, RequestType.ERASURE) is None
    other = subject_key(SECRET, KARI[:1])
    assert repository.find_verified_original(other, RequestType.ACCESS) is None
    repository.transition(original, RequestState.REJECTED, "closed", "agent")
    assert repository.find_verified_original(key, RequestType.ACCESS) is None


def test_steps_are_recorded_once(session: Session) -> None:
    repository = RequestRepository(session)
    request = add(repository)
    assert repository.step(request.id, "erase:crm.customers") is None
    assert {"rows": 3} == repository.record_step(request.id, "erase:crm.customers", {"rows": 3})
    assert {"rows": 3} == repository.record_step(request.id, "erase:crm.customers", {"rows": 0})
    session.commit()
    assert {"rows": 3} == repository.step(request.id, "erase:crm.customers")


def test_plan_receipt_and_artifacts(session: Session) -> None:
    repository = RequestRepository(session)
    request = add(repository)
    repository.save_plan(request, {"datasets": [{"name": "crm.customers", "found": 1}]})
    repository.save_receipt(request, {"found": 1})
    repository.add_artifact(request.id, "report.html", "text/html", "a" * 64, 10, "report.html")
    repository.add_artifact(request.id, "export.zip", "application/zip", "b" * 64, 20, "x.zip")
    repository.add_artifact(request.id, "report.html", "text/html", "c" * 64, 11, "report.html")
    session.commit()
    fresh = repository.get(request.id)
    assert ({"datasets": [{"name": "crm.customers", "found": 1}]}, {"found": 1}) == (
        fresh.plan,
        fresh.receipt,
    )
    assert [("export.zip", 20), ("report.html", 11)] == [
        (a.name, a.size) for a in repository.artifacts(request.id)
    ]


def test_flags_are_found_by_hashed_identity(session: Session) -> None:
    repository = RequestRepository(session)
    request = add(repository, RequestType.OBJECTION)
    hashed = identity_hash(SECRET, "email", "kari@example.no")
    repository.add_flag("objection", "email", hashed, "marketing_newsletter", request.id)
    lifted = repository.add_flag("restriction", "email", hashed, None, request.id)
    lifted.lifted_at = T0
    session.commit()
    assert [("objection", "marketing_newsletter")] == [
        (f.kind, f.purpose) for f in repository.active_flags("email", hashed)
    ]
    assert [] == repository.active_flags("email", identity_hash(SECRET, "email", "x@example.no"))


def test_keyed_hashes_depend_on_the_secret_and_never_contain_the_value() -> None:
    assert identity_hash("a", "email", "kari@example.no") != identity_hash(
        "b", "email", "kari@example.no"
    )
    assert subject_key("a", KARI) == subject_key("a", KARI[::-1])
    assert subject_key("a", [("email", "x")]) != identity_hash("a", "email", "x")
    assert re.fullmatch(r"[0-9a-f]{64}", subject_key("a", KARI))
