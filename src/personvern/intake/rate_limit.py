"""How many codes an address receives and a client asks for, in a sliding window.

Codes cost the company nothing but cost a subject their inbox: without a limit anyone
could flood an address with mail from us. Counting per hashed address stops that;
counting per hashed client network stops one client spreading the flood over many
addresses (or guessing codes for many requests).

Every limit is taken atomically: the key's row in ``rate_limit_keys`` is locked (a
row lock on PostgreSQL; SQLite transactions take the write lock when they begin)
before the events in the window are counted and the new one is added, so concurrent
callers queue and the limit holds exactly. A burst of 40 filings at once used to send
19 codes to one address with a limit of 5.

Clients are keyed by network, not by address: IPv4 by the address, IPv6 by its /64,
the block one household or server is normally given, so that rotating through the
addresses of one's own /64 does not multiply the limit; an IPv6 site (/48) is also
counted, at five clients' worth, so that rotating through its /64s does not either.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from personvern.intake.errors import RateLimitedError
from personvern.store.models import IntakeAttempt, RateLimitKey

#: Prefix length IPv6 clients are grouped by.
IPV6_CLIENT_PREFIX = 64


@dataclass(frozen=True)
class Limit:
    """At most ``maximum`` events for one hashed key of ``kind`` within the window."""

    kind: str
    key_hash: str
    maximum: int
    message: str


def client_network(client_ip: str) -> str:
    """The network a client is counted as: the IPv4 address, or the IPv6 /64."""
    try:
        address = ipaddress.ip_address(client_ip.strip().split("%", 1)[0])
    except ValueError:
        # Not an address (a test client, a proxy's placeholder): counted as given.
        return client_ip.strip()
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


#: A site (an IPv6 /48, what a provider gives a company or a hosting customer) counts
#: this many clients' worth: rotating through the /64s of one's own /48 (or a 6to4 /48)
#: must not multiply the limit by 65,536.
SITE_PREFIX = 48
SITE_SCALE = 5


def client_networks(client_ip: str) -> list[tuple[str, int]]:
    """The networks a client is counted in, each with how many clients' worth it may use."""
    network = client_network(client_ip)
    try:
        address = ipaddress.ip_address(client_ip.strip().split("%", 1)[0])
    except ValueError:
        return [(network, 1)]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        site = str(ipaddress.ip_network(f"{address}/{SITE_PREFIX}", strict=False))
        return [(network, 1), (site, SITE_SCALE)]
    return [(network, 1)]


def take(session: Session, limits: Sequence[Limit], window: timedelta, now: datetime) -> list[int]:
    """Count one event against every limit (returning the events' ids), or RateLimitedError."""
    _lock(session, limits)
    for limit in limits:
        wait = _wait(session, limit, window, now)
        if wait is not None:
            raise _limited(limit, wait)
    return _record(session, [(limit.kind, limit.key_hash) for limit in limits], window, now)


def try_take(
    session: Session, limit: Limit, window: timedelta, now: datetime
) -> timedelta | list[int]:
    """Count one event if the limit allows it (its ids); else how long until a slot frees."""
    _lock(session, [limit])
    wait = _wait(session, limit, window, now)
    if wait is not None:
        return wait
    return _record(session, [(limit.kind, limit.key_hash)], window, now)


def wait_for(session: Session, limit: Limit, window: timedelta, now: datetime) -> timedelta | None:
    """How long until ``limit`` allows another event (None: it does now); counts nothing."""
    return _wait(session, limit, window, now)


def limited(limit: Limit, wait: timedelta) -> RateLimitedError:
    """The error telling a caller over ``limit`` how long to wait."""
    return _limited(limit, wait)


def forget(session: Session, event_ids: Sequence[int]) -> None:
    """Take back counted events (what they counted did not happen after all)."""
    if event_ids:
        session.execute(sa.delete(IntakeAttempt).where(IntakeAttempt.id.in_(event_ids)))


def _lock(session: Session, limits: Iterable[Limit]) -> None:
    keys = sorted({(limit.kind, limit.key_hash) for limit in limits})
    if not keys:
        return
    table = RateLimitKey
    rows = [{"kind": kind, "key_hash": key} for kind, key in keys]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(table).values(rows).on_conflict_do_nothing())
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(table).values(rows).on_conflict_do_nothing())
    else:  # pragma: no cover - the store runs on PostgreSQL or SQLite
        for row in rows:
            with session.begin_nested():
                exists = session.get(RateLimitKey, (row["kind"], row["key_hash"]))
                if exists is None:
                    session.add(RateLimitKey(**row))
    # In a fixed order, so two callers locking the same keys cannot deadlock.
    for kind, key in keys:
        session.execute(
            sa.select(RateLimitKey.kind)
            .where(RateLimitKey.kind == kind, RateLimitKey.key_hash == key)
            .with_for_update()
        )


def _wait(session: Session, limit: Limit, window: timedelta, now: datetime) -> timedelta | None:
    # Core, not the ORM: every authenticated API call asks this first.
    times = (
        session.connection()
        .scalars(
            sa.select(IntakeAttempt.at)
            .where(
                IntakeAttempt.kind == limit.kind,
                IntakeAttempt.key_hash == limit.key_hash,
                IntakeAttempt.at > now - window,
            )
            .order_by(IntakeAttempt.at)
        )
        .all()
    )
    if len(times) < limit.maximum:
        return None
    # The event that frees a slot is the one that leaves the window first.
    return times[len(times) - limit.maximum] + window - now


def _limited(limit: Limit, wait: timedelta) -> RateLimitedError:
    return RateLimitedError(limit.message, retry_after=wait.total_seconds(), hint=wait_hint(wait))


def wait_hint(wait: timedelta) -> str:
    """``try again in N minutes`` for a wait."""
    minutes = max(1, round(wait.total_seconds() / 60))
    return f"try again in {minutes} minute{'s' if minutes != 1 else ''}"


def _record(
    session: Session, keys: Iterable[tuple[str, str]], window: timedelta, now: datetime
) -> list[int]:
    keys = list(keys)
    for kind, key in keys:
        # Only this key's expired events: the lock covers them, and a global delete
        # would make every caller contend for every other key's rows.
        session.execute(
            sa.delete(IntakeAttempt).where(
                IntakeAttempt.kind == kind,
                IntakeAttempt.key_hash == key,
                IntakeAttempt.at <= now - window,
            )
        )
    events = [IntakeAttempt(kind=kind, key_hash=key, at=now) for kind, key in keys]
    session.add_all(events)
    session.flush()
    return [event.id for event in events]
