"""A visitor's cookie banner choice, recorded in the consent ledger.

The banner (GET /banner.js) makes a random first-party visitor id and sends it with
the visitor's per-category choice and the banner version they were shown. Each
purpose of each category becomes a ledger record for identity kind ``cookie_id``
(hashed like any identity): granted with the purpose's consent text in the language
shown, or withdrawn. Refusals are recorded too, so the ledger shows the visitor said
no, not just that nothing is known.

Anyone may call it, so it is limited per client network like public filings
(personvern.intake.rate_limit), and the proof (network, browser family) is reduced
before it is stored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from personvern.domain.audit.event import AuditActor
from personvern.domain.banner import ReadChoice, banner_of, read_choice
from personvern.domain.consent.ledger import (
    ConsentAction,
    ConsentChannel,
    ConsentError,
    ConsentSource,
)
from personvern.domain.datamap import DataMap, IdentityKind
from personvern.intake import rate_limit
from personvern.intake.consents import record_consent
from personvern.security.subject_hash import keyed_hash
from personvern.settings import Settings
from personvern.store.base import utcnow

#: Who records a banner choice: the visitor, not signed in.
VISITOR = AuditActor("banner-visitor", via="banner")


@dataclass(frozen=True)
class RecordedChoice:
    """What was recorded: the choice as read, and the ledger record ids."""

    choice: ReadChoice
    record_ids: tuple[str, ...]


def client_address(ip: str | None) -> str | None:
    """``ip`` when it is an IP address; None for a test client or a unix socket."""
    if not ip:
        return None
    try:
        ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    return ip.strip()


def network_limits(
    settings: Settings, kind: str, maximum: int, client_ip: str | None, message: str
) -> list[rate_limit.Limit]:
    """One limit per network the client is counted in (its /64 and its /48, or its IPv4)."""
    return [
        rate_limit.Limit(
            kind if scale == 1 else f"{kind}-site",
            keyed_hash(settings.secret(), "client", network),
            maximum * scale,
            message,
        )
        for network, scale in rate_limit.client_networks(client_ip or "unknown")
    ]


def window(settings: Settings) -> timedelta:
    """The rate-limit window public callers are counted in."""
    return timedelta(seconds=settings.intake_rate_window_seconds)


def record_choice(
    session: Session,
    settings: Settings,
    datamap: DataMap,
    *,
    visitor_id: str,
    version: str,
    language: str,
    choices: Mapping[str, bool],
    gpc: bool,
    client_ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> RecordedChoice:
    """Record a visitor's banner choice: a grant or withdrawal per purpose of each category.

    Refused as a whole (nothing written) when the version is not the current banner's
    (ConsentTextChangedError), a category is unknown or unanswered, the language is not
    the map's, or the client network sent too many choices lately (RateLimitedError).
    """
    now = now or utcnow()
    banner = banner_of(datamap)
    if language not in banner.languages:
        raise ConsentError(
            f"'{language}' is not a language of the banner",
            hint="one of: " + ", ".join(banner.languages),
        )
    choice = read_choice(banner, version, choices, gpc=gpc)
    rate_limit.take(
        session,
        network_limits(
            settings,
            "banner",
            settings.banner_choices_per_client,
            client_ip,
            "too many cookie choices were sent from your network",
        ),
        window(settings),
        now,
    )
    ip = client_address(client_ip)
    ids: list[str] = []
    for purpose in choice.purposes:
        row = record_consent(
            session,
            settings,
            datamap,
            identity=(IdentityKind.COOKIE_ID.value, visitor_id),
            purpose=purpose.purpose,
            action=ConsentAction.GRANTED if purpose.granted else ConsentAction.WITHDRAWN,
            source=ConsentSource.BANNER,
            actor=VISITOR,
            channel=ConsentChannel.WEB,
            language=language,
            ip=ip,
            user_agent=user_agent,
            now=now,
        )
        ids.append(row.public_id)
    return RecordedChoice(choice, tuple(ids))
