"""Events reduced before they are written: networks, browser families, URLs without identities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personvern.domain.web_events import (
    EventType,
    WebEventError,
    looks_personal,
    reduce_event,
    scrub_url,
)

NO = ["NO"]
NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)
#: Valid identities of each kind the scrubber must catch.
EMAILS = ["kari.nordmann@example.no", "Ola+news@Firma.NO"]
PHONES = ["+4741234567", "412 34 567", "004741234567"]
NATIONAL_IDS = ["01019010046"]
PERSONAL = [*EMAILS, *PHONES, *NATIONAL_IDS]


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("192.0.2.123", "192.0.2.0/24"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.7", "198.51.100.0/24"),
        ("testclient", None),
        (None, None),
    ],
)
def test_the_address_is_cut_to_its_network_before_it_is_kept(
    ip: str | None, network: str | None
) -> None:
    event = reduce_event(
        cookie_id="a" * 32,
        event_type="page_view",
        url="https://example.no/",
        referrer=None,
        resource=None,
        occurred_at=None,
        now=NOW,
        ip=ip,
        user_agent=None,
        countries=NO,
    )
    assert network == event.ip_prefix


@pytest.mark.parametrize(
    ("agent", "family"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.6778.85 Safari/537.36",
            "Chrome 131",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70",
            "Edge 131",
        ),
        ("curl/8.5.0", "Other"),
    ],
)
def test_the_user_agent_is_reduced_to_browser_family_and_major_version(
    agent: str, family: str
) -> None:
    event = reduce_event(
        cookie_id="a" * 32,
        event_type=EventType.CLICK,
        url="/",
        referrer=None,
        resource=None,
        occurred_at=None,
        now=NOW,
        ip=None,
        user_agent=agent,
        countries=NO,
    )
    assert family == event.user_agent_family


@pytest.mark.parametrize(
    ("url", "scrubbed"),
    [
        (
            "https://www.example.no/booking?room=3&email=kari%40example.no&lang=nb",
            "https://www.example.no/booking?room=3&lang=nb",
        ),
        ("https://example.no/?tel=%2B4741234567&page=2", "https://example.no/?page=2"),
        ("https://example.no/?fnr=01019010046", "https://example.no/"),
        ("https://example.no/?q=send+to+ola%40firma.no+please&x=1", "https://example.no/?x=1"),
        ("https://user:secret@Example.NO:8443/a#section", "https://example.no:8443/a"),
        ("https://example.no/profile/kari%40example.no/edit", "https://example.no/profile/-/edit"),
        ("/search?kari%40example.no", "/search"),
        (
            "https://example.no/?next=https%3A%2F%2Fx.no%2F%3Fe%3Dkari%2540x.no",
            "https://example.no/",
        ),
        (
            "https://example.no/?page=2&sort=price&id=12",
            "https://example.no/?page=2&sort=price&id=12",
        ),
    ],
)
def test_query_parameters_that_read_as_personal_data_are_stripped(url: str, scrubbed: str) -> None:
    assert scrubbed == scrub_url(url, NO)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "example.no/page",
        "x" * 3000,
        "https://e.no/\x00",
        "javascript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "https://[::1/",
    ],
)
def test_what_is_no_url_is_refused(url: str) -> None:
    with pytest.raises(WebEventError) as refused:
        scrub_url(url, NO)
    assert refused.value.hint


@pytest.mark.parametrize("when", [NOW - timedelta(days=2), NOW + timedelta(hours=1)])
def test_an_event_from_far_in_the_past_or_the_future_is_refused(when: datetime) -> None:
    with pytest.raises(WebEventError):
        reduce_event(
            cookie_id="a" * 32,
            event_type="page_view",
            url="/",
            referrer=None,
            resource=None,
            occurred_at=when,
            now=NOW,
            ip=None,
            user_agent=None,
            countries=NO,
        )


def test_a_clicked_resource_that_reads_as_personal_data_is_dropped() -> None:
    event = reduce_event(
        cookie_id="a" * 32,
        event_type="click",
        url="/contact",
        referrer="https://search.example/?q=kari%40example.no",
        resource="mailto-kari@example.no",
        occurred_at=NOW,
        now=NOW,
        ip=None,
        user_agent=None,
        countries=NO,
    )
    assert None is event.resource
    assert "https://search.example/" == event.referrer
    assert (
        "book-button"
        == reduce_event(
            cookie_id="a" * 32,
            event_type="click",
            url="/",
            referrer=None,
            resource="book-button",
            occurred_at=None,
            now=NOW,
            ip=None,
            user_agent=None,
            countries=NO,
        ).resource
    )


_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
_harmless = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", max_size=12),
    st.integers(min_value=0, max_value=9999).map(str),
)
_personal = st.sampled_from(PERSONAL)


@settings(max_examples=200, deadline=None)
@given(
    params=st.lists(st.tuples(_names, st.one_of(_harmless, _personal), st.booleans()), max_size=6),
    path=st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", max_size=6), max_size=3),
)
def test_no_personal_value_survives_and_every_harmless_one_does(
    params: list[tuple[str, str, bool]], path: list[str]
) -> None:
    query = "&".join(
        f"{name}={quote(value, safe='') if encode else value}" for name, value, encode in params
    )
    url = "https://www.example.no/" + "/".join(path) + ("?" + query if query else "")
    scrubbed = scrub_url(url, NO)
    kept = parse_qsl(urlsplit(scrubbed).query, keep_blank_values=True)
    assert not any(looks_personal(value, NO) for _, value in kept)
    assert not any(p.lower() in scrubbed.lower() for p in PERSONAL)
    harmless = [(n, v) for n, v, _ in params if v not in PERSONAL]
    assert harmless == kept
    # Scrubbing is stable: a scrubbed URL has nothing more to lose.
    assert scrubbed == scrub_url(scrubbed, NO)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_scrubbed_or_refused_clearly_never_crashes(text: str) -> None:
    try:
        scrubbed = scrub_url("https://example.no/?" + text, NO)
    except WebEventError as refused:
        hint = refused.hint
        assert hint
    else:
        assert len(scrubbed) <= 2048 * 3
        kept = parse_qsl(urlsplit(scrubbed).query, keep_blank_values=True)
        assert not any(looks_personal(v, NO) or looks_personal(n, NO) for n, v in kept)
