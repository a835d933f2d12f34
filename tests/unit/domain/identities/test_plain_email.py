"""The bulk fast path for plain addresses gives exactly canonical_email's answer, or none."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import example, given
from hypothesis import strategies as st

from personvern.domain.identities.email import (
    _PLAIN_ADDRESS,
    canonical_email,
    plain_canonical_email,
)
from personvern.domain.identities.errors import InvalidIdentityError
from personvern.domain.requests.identity import parse_identity
from personvern.errors import PersonvernError
from personvern.security.subject_hash import identity_hash, identity_hashes


def _canonical(value: str) -> str | None:
    try:
        return canonical_email(value)
    except InvalidIdentityError:
        return None


@given(st.from_regex(_PLAIN_ADDRESS, fullmatch=True))
@example("Kari.Nordmann@Example.COM")
@example("a@xn--b-5ga.no")
@example(("a" * 65) + "@example.com")
@example("a@" + ("b" * 64) + ".no")
def test_a_plain_address_is_canonical_once_lower_cased(value: str) -> None:
    quick = plain_canonical_email(value)
    if quick is not None:
        assert _canonical(value) == quick


@given(st.text(max_size=300))
@example(" kari@example.com")
@example("kari@example.com\n")
@example("kari..x@example.com")
@example("kari@exa_mple.com")
def test_any_text_is_either_left_to_canonical_email_or_answered_alike(value: str) -> None:
    quick = plain_canonical_email(value)
    if quick is not None:
        assert _canonical(value) == quick


def test_the_common_spellings_take_the_fast_path() -> None:
    assert "kari.nordmann@example.com" == plain_canonical_email("Kari.Nordmann@Example.COM")
    assert plain_canonical_email("ørjan@example.com") is None
    assert plain_canonical_email("a@xn--b-5ga.no") is None


@given(st.lists(st.text(max_size=40), max_size=20), st.sampled_from(["email", "phone_number"]))
def test_bulk_hashes_equal_one_by_one_hashes(values: list[str], kind: str) -> None:
    secret = "s" * 40
    assert [identity_hash(secret, kind, v) for v in values] == identity_hashes(secret, kind, values)


@given(st.text(max_size=40), st.text(min_size=1, max_size=60), st.sampled_from(["email", "x"]))
def test_an_identity_hash_is_the_stored_hmac_whatever_the_secret(
    value: str, secret: str, kind: str
) -> None:
    # The hashes in every store were made so: a faster way must give the same.
    message = f"identity\x1f{kind}\x1f{value}".encode()
    expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    assert expected == identity_hash(secret, kind, value)


def _parsed(kind: str, value: str) -> str:
    try:
        return parse_identity(kind, value).value
    except PersonvernError as exc:
        return f"{type(exc).__name__}: {exc.message}"


@given(st.one_of(st.from_regex(_PLAIN_ADDRESS, fullmatch=True), st.text(max_size=300)))
@example(" Kari@Example.com ")
@example("kari@example.com\u200b")
@example("KARI@EXAMPLE.NO")
def test_parse_identity_takes_the_fast_path_with_the_full_paths_answer(value: str) -> None:
    # "EMAIL" is the same kind spelled otherwise: it skips the fast path.
    assert _parsed("EMAIL", value) == _parsed("email", value)
