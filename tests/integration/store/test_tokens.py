"""The api_tokens repository against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from personvern.errors import ErrorKind
from personvern.store.errors import RecordNotFoundError
from personvern.store.models import ApiToken
from personvern.store.tokens import ApiTokenRepository

T0 = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


def add(repository: ApiTokenRepository, n: int, *, prefix: str | None = None) -> ApiToken:
    return repository.add(
        name=f"token {n}",
        role="auditor",
        token_hash=f"{n:064x}",
        prefix=prefix or f"pv_{n:08d}",
        created_at=T0,
    )


def test_add_assigns_an_id_and_the_row_reads_back_unchanged(session: Session) -> None:
    repository = ApiTokenRepository(session)
    expires = T0 + timedelta(days=30)
    token = repository.add(
        name="CI pipeline",
        role="admin",
        token_hash="ab" * 32,
        prefix="pv_abcdefgh",
        created_at=T0,
        expires_at=expires,
    )
    session.commit()
    session.expunge_all()

    stored = repository.get(token.id)
    assert (stored.name, stored.role, stored.token_hash, stored.prefix) == (
        "CI pipeline",
        "admin",
        "ab" * 32,
        "pv_abcdefgh",
    )
    assert (T0, expires, None, None) == (
        stored.created_at,
        stored.expires_at,
        stored.last_used_at,
        stored.revoked_at,
    )
    # Aware UTC on every backend, SQLite included.
    assert timedelta(0) == stored.created_at.utcoffset()


def test_timestamps_in_other_zones_are_stored_as_the_same_instant(session: Session) -> None:
    oslo_summer = timezone(timedelta(hours=2))
    repository = ApiTokenRepository(session)
    token = repository.add(
        name="t",
        role="agent",
        token_hash="cd" * 32,
        prefix="pv_x",
        created_at=datetime(2025, 6, 1, 12, 0, tzinfo=oslo_summer),
    )
    session.commit()
    session.expunge_all()
    assert datetime(2025, 6, 1, 10, 0, tzinfo=UTC) == repository.get(token.id).created_at


def test_naive_timestamps_are_refused(session: Session) -> None:
    repository = ApiTokenRepository(session)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        repository.add(
            name="t",
            role="agent",
            token_hash="ef" * 32,
            prefix="pv_x",
            created_at=datetime(2025, 1, 1, 12, 0),  # naive: the point of the test
        )


def test_get_of_an_unknown_id_says_where_to_find_ids(session: Session) -> None:
    with pytest.raises(RecordNotFoundError) as caught:
        ApiTokenRepository(session).get(4711)
    assert "no API token with id 4711" == caught.value.message
    assert ErrorKind.NOT_FOUND is caught.value.kind


def test_find_by_prefix_returns_every_token_sharing_the_prefix(session: Session) -> None:
    repository = ApiTokenRepository(session)
    first = add(repository, 1, prefix="pv_same0000")
    second = add(repository, 2, prefix="pv_same0000")
    add(repository, 3, prefix="pv_other000")
    session.commit()
    assert [first.id, second.id] == sorted(t.id for t in repository.find_by_prefix("pv_same0000"))
    assert [] == list(repository.find_by_prefix("pv_missing0"))


def test_two_tokens_cannot_share_a_hash(session: Session) -> None:
    repository = ApiTokenRepository(session)
    add(repository, 7)
    with pytest.raises(sa.exc.IntegrityError):
        repository.add(
            name="dup", role="admin", token_hash=f"{7:064x}", prefix="pv_dup", created_at=T0
        )


def test_list_all_is_oldest_first(session: Session) -> None:
    repository = ApiTokenRepository(session)
    for n in (1, 2, 3):
        add(repository, n)
    session.commit()
    assert ["token 1", "token 2", "token 3"] == [t.name for t in repository.list_all()]


def test_revoking_twice_keeps_the_first_time(session: Session) -> None:
    repository = ApiTokenRepository(session)
    token = add(repository, 1)
    repository.revoke(token, T0 + timedelta(hours=1))
    repository.revoke(token, T0 + timedelta(hours=2))
    session.commit()
    session.expunge_all()
    assert T0 + timedelta(hours=1) == repository.get(token.id).revoked_at


def test_mark_used_records_the_time(session: Session) -> None:
    repository = ApiTokenRepository(session)
    token = add(repository, 1)
    repository.mark_used(token, T0 + timedelta(minutes=5))
    session.commit()
    session.expunge_all()
    assert T0 + timedelta(minutes=5) == repository.get(token.id).last_used_at


@pytest.mark.parametrize(
    ("revoked", "expires", "active"),
    [
        (None, None, True),
        (None, T0 + timedelta(seconds=1), True),
        (None, T0, False),
        (T0 - timedelta(days=1), None, False),
    ],
)
def test_is_active(revoked: datetime | None, expires: datetime | None, active: bool) -> None:
    token = ApiToken(revoked_at=revoked, expires_at=expires)
    assert active == token.is_active(T0)
