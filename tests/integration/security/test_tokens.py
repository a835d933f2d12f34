"""API tokens: issued once, stored hashed, verified, revoked and expired (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from personvern.domain.roles import Role
from personvern.security.auth import ApiTokenAuthenticator, Authenticator, authenticate
from personvern.security.errors import AuthError, TokenRequestError
from personvern.security.principal import Principal
from personvern.security.tokens import (
    authenticate_token,
    issue_token,
    list_tokens,
    revoke_token,
)
from personvern.store.models import ApiToken

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def test_an_issued_token_has_the_documented_shape(session: Session) -> None:
    issued = issue_token(session, name="CI", role=Role.ADMIN, now=T0)
    assert re.fullmatch(r"pv_[A-Za-z0-9_-]{43}", issued.token)
    assert issued.token[:11] == issued.info.prefix
    assert ("CI", "admin", T0, "active") == (
        issued.info.name,
        issued.info.role,
        issued.info.created_at,
        issued.info.status(T0),
    )


def test_only_the_sha256_hash_is_stored(session: Session) -> None:
    issued = issue_token(session, name="CI", role=Role.ADMIN, now=T0)
    session.commit()
    row = session.execute(sa.select(ApiToken.__table__)).one()
    assert hashlib.sha256(issued.token.encode()).hexdigest() == row.token_hash
    assert all(issued.token not in str(value) for value in row)


def test_two_tokens_differ(session: Session) -> None:
    first = issue_token(session, name="a", role=Role.AGENT, now=T0)
    second = issue_token(session, name="b", role=Role.AGENT, now=T0)
    assert first.token != second.token


def test_a_token_authenticates_as_its_role(session: Session) -> None:
    issued = issue_token(session, name="Marketing", role=Role.MARKETING_SYSTEM, now=T0)
    principal = authenticate_token(session, issued.token, now=T0 + timedelta(minutes=1))
    expected = Principal(
        subject=f"api-token:{issued.info.id}",
        role=Role.MARKETING_SYSTEM,
        via="api_token",
        display_name="Marketing",
        token_id=issued.info.id,
    )
    assert expected == principal


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="last-char-changed"),
        pytest.param(lambda t: t + "x", id="extended"),
        pytest.param(lambda t: t[:11] + "0" * (len(t) - 11), id="right-prefix-wrong-secret"),
    ],
)
def test_a_wrong_token_is_refused(session: Session, mangle: object) -> None:
    issued = issue_token(session, name="t", role=Role.ADMIN, now=T0)
    assert callable(mangle)
    with pytest.raises(AuthError, match="unknown API token"):
        authenticate_token(session, mangle(issued.token), now=T0)


def test_a_revoked_token_stops_working(session: Session) -> None:
    issued = issue_token(session, name="t", role=Role.ADMIN, now=T0)
    info = revoke_token(session, issued.info.id, now=T0 + timedelta(hours=1))
    assert "revoked" == info.status(T0 + timedelta(hours=2))
    with pytest.raises(AuthError, match="was revoked"):
        authenticate_token(session, issued.token, now=T0 + timedelta(hours=2))


def test_a_token_stops_working_when_it_expires(session: Session) -> None:
    expires = T0 + timedelta(days=1)
    issued = issue_token(session, name="t", role=Role.AUDITOR, expires_at=expires, now=T0)
    authenticate_token(session, issued.token, now=expires - timedelta(seconds=1))
    with pytest.raises(AuthError, match="has expired"):
        authenticate_token(session, issued.token, now=expires)
    assert "expired" == list_tokens(session)[0].status(expires)


def test_last_used_is_recorded_at_most_once_a_minute(session: Session) -> None:
    issued = issue_token(session, name="t", role=Role.AUDITOR, now=T0)
    for seconds in (0, 30, 59):
        authenticate_token(session, issued.token, now=T0 + timedelta(seconds=seconds))
    assert T0 == list_tokens(session)[0].last_used_at
    authenticate_token(session, issued.token, now=T0 + timedelta(seconds=60))
    assert T0 + timedelta(seconds=60) == list_tokens(session)[0].last_used_at


def test_a_token_whose_role_no_longer_exists_is_refused(session: Session) -> None:
    issued = issue_token(session, name="t", role=Role.AGENT, now=T0)
    session.execute(sa.update(ApiToken).values(role="superuser"))
    session.expire_all()
    with pytest.raises(AuthError, match="unknown role 'superuser'"):
        authenticate_token(session, issued.token, now=T0)


@pytest.mark.parametrize(
    ("name", "expires_at", "message"),
    [
        ("  ", None, "a token needs a name"),
        ("x" * 201, None, "a token name may have at most 200 characters"),
        ("ok", T0 - timedelta(seconds=1), "the expiry time is in the past"),
    ],
)
def test_bad_token_requests_are_refused(
    session: Session, name: str, expires_at: datetime | None, message: str
) -> None:
    with pytest.raises(TokenRequestError) as caught:
        issue_token(session, name=name, role=Role.ADMIN, expires_at=expires_at, now=T0)
    assert message == caught.value.message
    assert [] == list_tokens(session)


def test_list_tokens_never_exposes_the_hash(session: Session) -> None:
    issue_token(session, name="a", role=Role.ADMIN, now=T0)
    (info,) = list_tokens(session)
    assert not hasattr(info, "token_hash")


@pytest.mark.parametrize(
    ("credential", "message"),
    [
        (None, "this endpoint needs credentials"),
        ("", "this endpoint needs credentials"),
        ("eyJhbGciOiJSUzI1NiJ9.e30.sig", "the credentials are not recognised"),
        ("pv_short", "the credentials are not recognised"),
    ],
)
def test_authenticate_refuses_what_no_authenticator_accepts(
    session: Session, credential: str | None, message: str
) -> None:
    with pytest.raises(AuthError) as caught:
        authenticate(credential, session, [ApiTokenAuthenticator()])
    assert message == caught.value.message


def test_authenticate_asks_each_authenticator_in_turn(session: Session) -> None:
    oidc_user = Principal(subject="oidc:kari", role=Role.PRIVACY_OFFICER, via="oidc")

    class FakeOidc:
        def authenticate(self, credential: str, session: Session) -> Principal | None:
            return oidc_user if credential.startswith("eyJ") else None

    issued = issue_token(session, name="t", role=Role.AGENT, now=T0)
    chain: list[Authenticator] = [ApiTokenAuthenticator(), FakeOidc()]
    assert oidc_user == authenticate("eyJhbGciOiJSUzI1NiJ9.e30.sig", session, chain)
    assert Role.AGENT == authenticate(issued.token, session, chain).role
