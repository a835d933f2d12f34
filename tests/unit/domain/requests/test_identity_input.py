"""Intake refuses identities carrying control characters, over-long or confusable addresses."""

from __future__ import annotations

import re

import pytest

from personvern.domain.datamap import IdentityKind
from personvern.domain.requests.identity import (
    InvalidIdentityError,
    SubjectIdentity,
    parse_identities,
    parse_identity,
)
from personvern.domain.text_input import UnsafeTextError
from personvern.errors import ErrorKind

#: A valid example of every kind, with a place where a character can be slipped in.
VALID = [
    ("email", "kari.nordmann@example.no"),
    ("phone_number", "+47 912 34 567"),
    ("national_id", "01017012343"),
    ("customer_id", "C-10042"),
    ("cookie_id", "a1b2c3d4e5"),
    ("account_id", "kari.n"),
]
SLIPPED_IN = {
    "NUL": "\x00",
    "ESC": "\x1b",
    "BEL": "\x07",
    "RLO": "\u202e",
    "LRI": "\u2066",
    "ZWSP": "\u200b",
    "LINE SEPARATOR": "\u2028",
    "line feed": "\n",
    "tab": "\t",
}


@pytest.mark.parametrize(("kind", "value"), VALID)
def test_every_kind_accepts_its_example(kind: str, value: str) -> None:
    assert kind == parse_identity(kind, value).kind.value


@pytest.mark.parametrize(("kind", "value"), VALID)
@pytest.mark.parametrize("where", ["start", "middle", "end"])
@pytest.mark.parametrize("name", sorted(SLIPPED_IN))
def test_control_and_invisible_characters_are_refused_in_every_kind(
    kind: str, value: str, where: str, name: str
) -> None:
    char = SLIPPED_IN[name]
    middle = len(value) // 2
    slipped = {
        "start": char + value,
        "middle": value[:middle] + char + value[middle:],
        "end": value + char,
    }[where]
    with pytest.raises(UnsafeTextError) as refused:
        parse_identity(kind, slipped)
    assert ErrorKind.INVALID is refused.value.kind
    # The message names what was refused and never repeats the value.
    assert value not in refused.value.message


@pytest.mark.parametrize("name", sorted(SLIPPED_IN))
def test_the_identity_type_is_checked_too(name: str) -> None:
    with pytest.raises(UnsafeTextError):
        parse_identity(f"email{SLIPPED_IN[name]}", "kari@example.no")


def test_one_bad_identity_refuses_the_request() -> None:
    with pytest.raises(UnsafeTextError):
        parse_identities([("email", "kari@example.no"), ("phone_number", "+47 912 34 567\x1b")])


def test_surrounding_spaces_are_still_trimmed() -> None:
    assert "kari@example.no" == parse_identity("email", "  Kari@Example.NO ").value


# -- e-mail addresses --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Kari@Example.NO", "kari@example.no"),
        ("eivind.nil\u017fen@example.no", "eivind.nil\u017fen@example.no"),
        ("Ørjan@Example.NO", "Ørjan@example.no"),
        ("rene\u0301@example.no", "ren\u00e9@example.no"),
    ],
)
def test_intake_stores_the_canonical_address(given: str, stored: str) -> None:
    assert SubjectIdentity(IdentityKind.EMAIL, stored) == parse_identity("email", given)


def test_a_long_s_address_is_not_the_plain_s_address() -> None:
    long_s = parse_identity("email", "eivind.nil\u017fen@example.no")
    plain = parse_identity("email", "eivind.nilsen@example.no")
    assert long_s != plain
    assert 2 == len(parse_identities([("email", long_s.value), ("email", plain.value)]))


def test_the_kelvin_sign_is_refused_at_intake() -> None:
    with pytest.raises(InvalidIdentityError, match="Kelvin sign"):
        parse_identity("email", "\u212aari.nordmann@example.no")


@pytest.mark.parametrize(
    ("local", "accepted"),
    [("a" * 64, True), ("a" * 65, False), ("å" * 32, True), ("å" * 32 + "a", False)],
)
def test_the_part_before_the_at_sign_is_limited_to_64_octets_at_intake(
    local: str, accepted: bool
) -> None:
    if accepted:
        assert f"{local}@example.no" == parse_identity("email", f"{local}@example.no").value
    else:
        with pytest.raises(
            InvalidIdentityError,
            match=re.escape("the part before @ is longer than 64 characters"),
        ):
            parse_identity("email", f"{local}@example.no")


def test_an_address_over_254_octets_is_refused_at_intake() -> None:
    domain = ".".join(["a" * 63, "b" * 63, "c" * 60])  # 188 octets
    assert 254 == len(f"{'k' * 64}@{domain}x")
    assert f"{'k' * 64}@{domain}x" == parse_identity("email", f"{'k' * 64}@{domain}x").value
    with pytest.raises(InvalidIdentityError, match="longer than 254"):
        parse_identity("email", f"{'k' * 64}@{domain}xy")
