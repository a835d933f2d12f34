"""The consent ledger's rules: latest record wins, channels, stale texts, proof reduction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personvern.domain.consent.ledger import (
    ConsentAction,
    ConsentChannel,
    ConsentError,
    ConsentRecord,
    ConsentSource,
    ConsentTextChangedError,
    current_state,
    current_states,
    text_to_show,
    text_version,
)
from personvern.domain.consent.proof import proof_of, truncate_ip, user_agent_family
from personvern.domain.datamap import IdentityKind, Purpose
from personvern.domain.legal_basis import LegalBasis

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NEWS = Purpose(
    key="news",
    name={"en": "News"},
    description={"en": "Newsletter"},
    data_use="marketing.communications.email",
    legal_basis=LegalBasis.CONSENT,
    consent={"nb": "Ja, send meg nyhetsbrev.", "en": "Yes, send me newsletters."},
)
CURRENT = text_version("Yes, send me newsletters.")
OLD = text_version("Yes, send me letters.")

A = ConsentAction.GRANTED
W = ConsentAction.WITHDRAWN
E = ConsentChannel.EMAIL
S = ConsentChannel.SMS


def rec(
    action: ConsentAction,
    minutes: int,
    channel: ConsentChannel | None = None,
    version: str | None = CURRENT,
    purpose: str = "news",
) -> ConsentRecord:
    return ConsentRecord(
        identity_kind=IdentityKind.EMAIL,
        identity_hash="h" * 64,
        purpose=purpose,
        action=action,
        at=T0 + timedelta(minutes=minutes),
        source=ConsentSource.API,
        channel=channel,
        text_version=version if action is A else None,
    )


# (records, channel asked, granted, withdrawn, stale)
CASES = [
    ([], E, False, False, False),
    ([rec(A, 0)], E, True, False, False),
    ([rec(A, 0), rec(W, 1)], E, False, True, False),
    ([rec(W, 0), rec(A, 1)], E, True, False, False),
    ([rec(A, 0, version=OLD)], E, False, False, True),
    ([rec(A, 0, version=OLD), rec(A, 1)], E, True, False, False),
    ([rec(A, 0, E), rec(W, 1, S)], E, True, False, False),
    ([rec(A, 0, E), rec(W, 1, S)], S, False, True, False),
    ([rec(A, 0), rec(W, 1, E)], S, True, False, False),
    ([rec(A, 0, E), rec(W, 1)], E, False, True, False),
    ([rec(A, 0, purpose="other")], E, False, False, False),
    # Out of order in the input: time decides.
    ([rec(W, 5), rec(A, 1)], E, False, True, False),
    # Same instant: the later insert wins.
    ([rec(A, 1), rec(W, 1)], E, False, True, False),
]


@pytest.mark.parametrize(("records", "channel", "granted", "withdrawn", "stale"), CASES)
def test_current_state_table(
    records: list[ConsentRecord],
    channel: ConsentChannel,
    granted: bool,
    withdrawn: bool,
    stale: bool,
) -> None:
    state = current_state(records, NEWS, channel)
    assert (granted, withdrawn, stale) == (state.granted, state.withdrawn, state.stale)


def test_states_per_channel_keep_channel_wide_records_apart() -> None:
    states = current_states([rec(A, 0), rec(W, 1, E)], [NEWS])
    assert [(None, True), (E, False)] == [(s.channel, s.granted) for s in states]


def test_text_to_show_picks_language_or_checks_the_version_shown() -> None:
    assert "Ja, send meg nyhetsbrev." == text_to_show(NEWS, "nb", None).text
    assert CURRENT == text_to_show(NEWS, None, CURRENT).version
    with pytest.raises(ConsentTextChangedError):
        text_to_show(NEWS, None, OLD)
    with pytest.raises(ConsentError, match="'de'"):
        text_to_show(NEWS, "de", None)
    silent = NEWS.model_copy(update={"consent": None})
    with pytest.raises(ConsentError, match="no consent text"):
        text_to_show(silent, None, None)


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("192.0.2.155", "192.0.2.0/24"),
        ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.7", "198.51.100.0/24"),
    ],
)
def test_ip_is_truncated(address: str, network: str) -> None:
    assert network == truncate_ip(address)


def test_a_bad_ip_is_refused_with_a_hint() -> None:
    with pytest.raises(ConsentError) as refused:
        truncate_ip("not an ip")
    assert refused.value.hint


@pytest.mark.parametrize(
    ("agent", "family"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox 133",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
            "Edge 131",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36",
            "Chrome 131",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari 17",
        ),
        ("curl/8.5.0", "Other"),
    ],
)
def test_user_agent_family(agent: str, family: str) -> None:
    assert family == user_agent_family(agent)


@given(st.text(max_size=2000))
def test_any_user_agent_reduces_to_a_short_family(agent: str) -> None:
    family = user_agent_family(agent)
    assert len(family) <= 25
    assert agent not in family or len(agent) <= 25


@given(st.ip_addresses())
def test_any_ip_truncates_to_a_network_containing_it(address: object) -> None:
    import ipaddress

    network = ipaddress.ip_network(truncate_ip(str(address)))
    ip = ipaddress.ip_address(str(address))
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    assert ip in network
    assert network.prefixlen in {24, 48}


def test_proof_keeps_nothing_when_nothing_given() -> None:
    proof = proof_of(None, None)
    assert (None, None) == (proof.ip_prefix, proof.user_agent_family)
