"""The bulk decision's input parsers: any body gives a checked list or a clear refusal."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personvern.api.routers.decisions import CSV, JSON, BulkIn, _bulk_input, _csv_addresses
from personvern.domain.consent.ledger import ConsentError


@given(st.binary(max_size=2000), st.sampled_from([CSV, JSON, "text/plain", ""]))
def test_any_body_is_read_or_refused_with_a_hint(body: bytes, media: str) -> None:
    outcome: object
    try:
        outcome = _bulk_input(body, media, "email", None)
    except ConsentError as refused:
        outcome = refused
    if isinstance(outcome, ConsentError):
        assert outcome.hint
    else:
        assert isinstance(outcome, BulkIn)
        assert outcome.channel == "email"
        assert all(len(a) <= 254 for a in outcome.addresses)


@given(st.lists(st.from_regex(r"[a-z0-9.+\-]{1,20}@[a-z]{1,10}\.no", fullmatch=True), max_size=50))
def test_a_csv_list_reads_back_every_address(addresses: list[str]) -> None:
    body = ("address\n" + "\n".join(addresses)).encode()
    assert (addresses, []) == _csv_addresses(body)


def test_a_csv_list_marks_customers_and_skips_blank_lines() -> None:
    body = b"\xef\xbb\xbfemail,existing_customer\nkari@example.no,yes\n\nola@example.no,\n"
    assert (["kari@example.no", "ola@example.no"], ["kari@example.no"]) == _csv_addresses(body)


@pytest.mark.parametrize(
    ("body", "media"),
    [
        (b"kari@example.no", CSV),  # no channel in the query
        (json.dumps({"channel": "fax", "addresses": []}).encode(), JSON),
        (json.dumps({"channel": "email", "addresses": ["x" * 300]}).encode(), JSON),
        (json.dumps({"channel": "email", "addresses": [], "extra": 1}).encode(), JSON),
        (b"[" * 100_000, JSON),
    ],
)
def test_refusals(body: bytes, media: str) -> None:
    with pytest.raises(ConsentError):
        _bulk_input(body, media, None, None)
