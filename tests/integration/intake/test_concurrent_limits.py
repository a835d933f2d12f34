"""Every intake limit holds under concurrent callers, on SQLite and on PostgreSQL.

Each caller is a thread with its own session, as the server's worker threads are; a
barrier releases them together so their transactions overlap. Before the limits were
taken atomically, 60 parallel guesses got 33 judged and a burst of 40 filings sent 19
codes to one address with a limit of 5.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from personvern.domain.datamap import DataMap
from personvern.intake import Channel, file_request, verify
from personvern.intake.errors import CodeLockedError, RateLimitedError, WrongCodeError
from personvern.settings import Settings
from personvern.store.db import make_session_factory, session_scope
from personvern.store.models import VerificationChallenge
from tests.integration.intake.conftest import make_settings

KARI = "kari.nordmann@example.no"
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


class Outbox:
    """A mailer that keeps what it is given (the real SMTP path is tested elsewhere)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, subject: str, body_text: str) -> None:
        """Keep the message."""
        with self.lock:
            self.sent.append((to, body_text))

    def code_for(self, address: str) -> str:
        """The code in the last message to ``address``."""
        import re

        body = [text for to, text in self.sent if to == address][-1]
        found = re.search(r"\b(\d{6})\b", body)
        assert found
        return found.group(1)


def together(count: int, action: Callable[[int], Any]) -> Counter[str]:
    """Run ``action(i)`` for i in range(count) at once; count outcomes by name."""
    barrier = threading.Barrier(count)

    def call(i: int) -> str:
        barrier.wait()
        try:
            action(i)
        except Exception as exc:  # the outcome is what is counted
            return type(exc).__name__
        return "ok"

    with ThreadPoolExecutor(max_workers=count) as pool:
        return Counter(pool.map(call, range(count)))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with the default limits (5 codes per address, 20 per client network)."""
    return make_settings(tmp_path / "home", None)


def file_public(
    engine: Engine,
    settings: Settings,
    datamap: DataMap,
    outbox: Outbox,
    *,
    address: str = KARI,
    client_ip: str = "198.51.100.7",
) -> str:
    """File an access request as an anonymous subject, in its own transaction."""
    with session_scope(make_session_factory(engine)) as session:
        filed = file_request(
            session,
            settings,
            datamap,
            type="access",
            identities=[("email", address)],
            language="nb",
            channel=Channel.PUBLIC,
            actor="subject",
            client_ip=client_ip,
            mailer=outbox,
            now=T0,
        )
        return filed.request.id


def guess(engine: Engine, settings: Settings, request_id: str, code: str, client_ip: str) -> None:
    """Enter ``code`` for the request, in its own transaction."""
    with session_scope(make_session_factory(engine)) as session:
        verify(session, settings, request_id, code, client_ip=client_ip, now=T0)


def wrong(code: str) -> str:
    """A six-digit code that is not ``code``."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_sixty_parallel_guesses_get_five_judged(
    store_engine: Engine, settings: Settings, datamap: DataMap
) -> None:
    outbox = Outbox()
    request_id = file_public(store_engine, settings, datamap, outbox)
    code = outbox.code_for(KARI)

    # Each from its own address: spreading over clients must not buy more guesses.
    outcomes = together(
        60, lambda i: guess(store_engine, settings, request_id, wrong(code), f"192.0.2.{i}")
    )
    assert {WrongCodeError.__name__: 5, CodeLockedError.__name__: 55} == dict(outcomes)
    with pytest.raises(CodeLockedError):
        guess(store_engine, settings, request_id, code, "192.0.2.200")
    with store_engine.connect() as connection:
        attempts = connection.execute(sa.select(VerificationChallenge.attempts)).scalar_one()
    assert 5 == attempts


def test_a_burst_of_filings_sends_an_address_exactly_its_share_of_codes(
    store_engine: Engine, settings: Settings, datamap: DataMap
) -> None:
    outbox = Outbox()
    # From one network: five codes (the rest are registered, their codes held back).
    outcomes = together(
        20, lambda i: file_public(store_engine, settings, datamap, outbox, client_ip="198.51.100.7")
    )
    assert ({"ok": 20}, 5) == (dict(outcomes), len(outbox.sent))
    # From forty networks at once: the day's share for the address, twenty, and no more.
    outcomes = together(
        40,
        lambda i: file_public(store_engine, settings, datamap, outbox, client_ip=f"203.0.113.{i}"),
    )
    assert ({"ok": 40}, 20) == (dict(outcomes), len(outbox.sent))
    with store_engine.connect() as connection:
        filed = connection.execute(sa.text("SELECT COUNT(*) FROM data_subject_requests"))
        assert 60 == filed.scalar_one()


def test_a_burst_from_one_network_files_exactly_its_share(
    store_engine: Engine, settings: Settings, datamap: DataMap
) -> None:
    outbox = Outbox()
    # Twenty addresses of one IPv6 /64 are one network.
    outcomes = together(
        30,
        lambda i: file_public(
            store_engine,
            settings,
            datamap,
            outbox,
            address=f"person{i}@example.no",
            client_ip=f"2001:db8:1:2::{i + 1:x}",
        ),
    )
    assert {"ok": 20, RateLimitedError.__name__: 10} == dict(outcomes)
    assert 20 == len(outbox.sent)
    # Another /64 is another network.
    file_public(
        store_engine, settings, datamap, outbox, address="x@example.no", client_ip="2001:db8:1:3::1"
    )
    assert 21 == len(outbox.sent)


def test_rotating_through_the_64s_of_one_site_does_not_multiply_the_limit(
    store_engine: Engine, tmp_path: Path, datamap: DataMap
) -> None:
    settings = make_settings(tmp_path / "home", None, intake_codes_per_client=2)
    outbox = Outbox()
    outcomes = together(
        30,
        lambda i: file_public(
            store_engine,
            settings,
            datamap,
            outbox,
            address=f"site{i}@example.no",
            client_ip=f"2001:db8:7:{i:x}::1",  # thirty /64s of one /48
        ),
    )
    # Two per /64, but the site as a whole five clients' worth: ten.
    assert {"ok": 10, RateLimitedError.__name__: 20} == dict(outcomes)
