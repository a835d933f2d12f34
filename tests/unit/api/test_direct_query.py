"""A direct route reads its query as Starlette would: the same pairs, the last one winning."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from hypothesis import example, given
from hypothesis import strategies as st
from starlette.requests import Request

from personvern.api.direct_route import bearer_token, query_values

# Everything a client may send, escaped or not: '=', '&', '%', '+', ';', blanks, non-ASCII.
_TEXT = st.text(alphabet=st.characters(codec="latin-1"), max_size=40)


def _request(query: bytes, authorization: bytes | None = None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization)]
    return Request({"type": "http", "query_string": query, "headers": headers})


@given(_TEXT)
@example("email=kari@example.no&channel=email")
@example("a&a=1&=x&b=c=d&&")
@example("email=kari%2Bnews@example.no&channel=sms")
@example("phone=+4791234567&channel=sms")
def test_the_query_as_starlette_reads_it(text: str) -> None:
    query = text.encode("latin-1")
    expected = dict(Request({"type": "http", "query_string": query}).query_params)
    assert expected == query_values(_request(query))
    assert dict(parse_qsl(text, keep_blank_values=True)) == query_values(_request(query))


@given(st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=5))
def test_an_encoded_query_reads_back(values: dict[str, str]) -> None:
    assert values == query_values(_request(urlencode(values).encode()))


def test_the_bearer_token_as_httpbearer_reads_it() -> None:
    assert "pv_abc" == bearer_token(_request(b"", b"Bearer pv_abc"))
    assert "pv_abc" == bearer_token(_request(b"", b"bearer pv_abc"))
    assert bearer_token(_request(b"", b"Basic dXNlcjpwdw==")) is None
    assert bearer_token(_request(b"", b"Bearer")) is None
    assert bearer_token(_request(b"")) is None
