"""Web and app events as personvern keeps them: reduced before anything is written.

Policy §1 collects browser, IP address, URLs and clicks with their time. Before an
event is stored (and only with the visitor's analytics consent, see
personvern.intake.web_events) it is reduced to what the statistics need (Art. 5(1)(c)):

- the IP address to its network: IPv4 /24, IPv6 /48 (personvern.domain.consent.proof);
- the user agent to browser family and major version ("Firefox 133");
- every URL (page, referrer, clicked resource) loses its user name and password, its
  fragment, and every query parameter whose name or value reads as an e-mail address,
  a phone number or a national identity number; a path segment that reads as one is
  replaced by ``-``. What "reads as" means is the identity modules' own reading
  (personvern.domain.identities: the same one requests and the mention index use), in
  the data map's controllers' countries, never a pattern of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from personvern.domain.consent.ledger import ConsentError
from personvern.domain.consent.proof import truncate_ip, user_agent_family
from personvern.domain.errors import DomainError
from personvern.domain.identities import email, national_id, phone
from personvern.errors import ErrorKind

#: The longest URL kept (browsers send longer ones; statistics need none of that).
MAX_URL = 2048
#: The longest clicked resource kept when it is not a URL (an element id or label).
MAX_RESOURCE = 200
#: How old an event may be when it arrives (a page left open, a phone offline).
MAX_AGE = timedelta(days=1)
#: How far ahead of the server's clock a device's clock may be.
CLOCK_SKEW = timedelta(minutes=5)
#: Characters that end a word in a query value ("kari@x.no,ola@y.no", "tel:91234567").
_SEPARATORS = str.maketrans(dict.fromkeys(",;:<>()[]{}\"'/|\\&=?!*\t\r\n", " "))
#: The schemes an event's URL may have ("" for a path, as apps send their screens).
_SCHEMES = frozenset({"http", "https", ""})
#: Replaces a path segment that reads as personal data.
REDACTED_SEGMENT = "-"


class EventType(StrEnum):
    """What the visitor did."""

    PAGE_VIEW = "page_view"
    CLICK = "click"


class WebEventError(DomainError):
    """An event cannot be taken as sent."""

    kind = ErrorKind.INVALID
    title = "Invalid event"


@dataclass(frozen=True)
class WebEvent:
    """One event, reduced: this is all that is ever written."""

    cookie_id: str
    event_type: EventType
    url: str
    referrer: str | None
    resource: str | None
    occurred_at: datetime
    ip_prefix: str | None
    user_agent_family: str | None
    channel: str = "web"


def _words(value: str) -> list[str]:
    """The value whole and its words: an address may stand inside a longer text."""
    whole = value.strip()
    words = whole.translate(_SEPARATORS).split()
    return [whole, *words] if whole else words


def _decoded(value: str) -> str:
    """``value`` URL-decoded until it no longer changes (a URL inside a URL, twice encoded)."""
    for _ in range(3):
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    return value


def looks_personal(value: str, countries: Sequence[str]) -> bool:
    """Whether ``value`` (or a word of it) reads as an e-mail, phone or national id number.

    ``countries`` are where phone numbers without a country code and national identity
    numbers are read (the data map's controllers' countries).
    """
    text = _decoded(value)
    if not text.strip():
        return False
    national_countries = [c for c in countries if c.upper() in national_id.RULES]
    phone_countries = [*countries, ""]
    for word in _words(text):
        if "@" in word and email.canonical_email_or_none(word) is not None:
            return True
        if not any(ch.isdigit() for ch in word):
            continue
        if any(phone.canonical_or_none(word, c) is not None for c in phone_countries):
            return True
        if any(national_id.canonical_or_none(word, c) is not None for c in national_countries):
            return True
    return False


def scrub_url(url: str, countries: Sequence[str]) -> str:
    """``url`` without credentials, fragment, and query parameters that read as personal data.

    A path segment that reads as personal data becomes ``-``. Refuses (WebEventError)
    what is no page's URL: another scheme than http(s), neither a scheme nor a leading
    ``/``, or longer than :data:`MAX_URL`.
    """
    text = url.strip()
    if not text or len(text) > MAX_URL:
        raise WebEventError(
            f"a URL must be 1 to {MAX_URL} characters", hint="send the page's location.href"
        )
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise WebEventError("a URL cannot contain control characters", hint="encode the URL")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise WebEventError("that is not a URL", hint="send the page's location.href") from None
    if parts.scheme.lower() not in _SCHEMES or (not parts.scheme and not text.startswith("/")):
        # javascript: and data: URLs are no pages; one stored would wait for a viewer to
        # click it.
        raise WebEventError(
            "a URL must be absolute (http:// or https://) or a path (/...)",
            hint="send the page's location.href, or an app screen as a path",
        )
    netloc = host or ""
    if host and ":" in host:
        netloc = f"[{host}]"
    if port is not None:
        netloc += f":{port}"
    segments = [
        REDACTED_SEGMENT if looks_personal(segment, countries) else segment
        for segment in parts.path.split("/")
    ]
    kept = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not looks_personal(name, countries) and not looks_personal(value, countries)
    ]
    query = urlencode(kept, quote_via=quote)
    return urlunsplit((parts.scheme.lower(), netloc, "/".join(segments), query, ""))


def scrub_resource(resource: str, countries: Sequence[str]) -> str | None:
    """A clicked resource: a URL scrubbed, other text kept unless it reads as personal data."""
    text = resource.strip()
    if not text:
        return None
    if "://" in text or text.startswith("/"):
        return scrub_url(text, countries)
    if len(text) > MAX_RESOURCE:
        raise WebEventError(
            f"a resource that is no URL must be at most {MAX_RESOURCE} characters",
            hint="send the clicked element's id or link",
        )
    return None if looks_personal(text, countries) else text


def _network(ip: str | None) -> str | None:
    """The client's network, or None for no address (a test client, a unix socket)."""
    if not ip:
        return None
    try:
        return truncate_ip(ip)
    except ConsentError:
        return None


def reduce_event(
    *,
    cookie_id: str,
    event_type: EventType | str,
    url: str,
    referrer: str | None,
    resource: str | None,
    occurred_at: datetime | None,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
    countries: Iterable[str],
) -> WebEvent:
    """The event as personvern may store it: reduced, scrubbed and checked."""
    where = list(countries)
    try:
        kind = EventType(event_type)
    except ValueError:
        raise WebEventError(
            f"unknown event type '{event_type}'",
            hint="one of: " + ", ".join(t.value for t in EventType),
        ) from None
    when = occurred_at or now
    if when.tzinfo is None or not (now - MAX_AGE <= when <= now + CLOCK_SKEW):
        raise WebEventError(
            "an event's time must carry a time zone and lie within the last day",
            hint="send new Date().toISOString(), or leave the time out",
        )
    return WebEvent(
        cookie_id=cookie_id,
        event_type=kind,
        url=scrub_url(url, where),
        referrer=scrub_url(referrer, where) if referrer else None,
        resource=scrub_resource(resource, where) if resource else None,
        occurred_at=when,
        ip_prefix=_network(ip),
        user_agent_family=user_agent_family(user_agent) if user_agent else None,
    )
