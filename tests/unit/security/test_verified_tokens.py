"""Tokens verified a moment ago are trusted again for a short while, never past their expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from personvern.domain.roles import Role
from personvern.security import verified_tokens
from personvern.security.principal import Principal
from personvern.security.verified_tokens import VerifiedTokens

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
TOKEN = "pv_" + "a" * 43
PRINCIPAL = Principal(subject="api-token:1", role=Role.MARKETING_SYSTEM, via="api_token")


def test_a_verified_token_is_trusted_on_the_same_store_only() -> None:
    tokens = VerifiedTokens()
    tokens.remember("sqlite:///a.db", TOKEN, PRINCIPAL, None)
    assert PRINCIPAL == tokens.principal("sqlite:///a.db", TOKEN, NOW)
    assert tokens.principal("sqlite:///b.db", TOKEN, NOW) is None
    assert tokens.principal("sqlite:///a.db", TOKEN + "x", NOW) is None


def test_trust_ends_after_its_time_and_at_the_tokens_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr(verified_tokens.time, "monotonic", lambda: clock[0])
    tokens = VerifiedTokens(timedelta(seconds=5))
    tokens.remember("s", TOKEN, PRINCIPAL, NOW + timedelta(minutes=1))
    clock[0] = 104.9
    assert PRINCIPAL == tokens.principal("s", TOKEN, NOW)
    assert tokens.principal("s", TOKEN, NOW + timedelta(minutes=1)) is None
    tokens.remember("s", TOKEN, PRINCIPAL, None)
    clock[0] = 110.0
    assert tokens.principal("s", TOKEN, NOW) is None


def test_a_revocation_forgets_every_token_and_the_memory_is_bounded() -> None:
    tokens = VerifiedTokens()
    tokens.remember("s", TOKEN, PRINCIPAL, None)
    tokens.forget_all()
    assert tokens.principal("s", TOKEN, NOW) is None
    for n in range(verified_tokens.CAPACITY + 5):
        tokens.remember("s", f"pv_{n}", PRINCIPAL, None)
    assert len(tokens._entries) <= verified_tokens.CAPACITY
