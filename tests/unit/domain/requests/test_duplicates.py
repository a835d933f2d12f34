"""Person records of one subject kept twice are one; records sharing one identity are not."""

from __future__ import annotations

from typing import Any

from personvern.domain.datamap import IdentityKind
from personvern.domain.identities.kinds import scheme
from personvern.domain.requests.duplicates import same_subject

IDENTITIES = {
    "id": IdentityKind.CUSTOMER_ID,
    "email": IdentityKind.EMAIL,
    "phone": IdentityKind.PHONE_NUMBER,
    "national_id": IdentityKind.NATIONAL_ID,
}
ASTRID = {
    "id": 100010,
    "name": "Astrid Myhre",
    "email": "astrid.myhre@altibox.no",
    "phone": "+4747838275",
    "national_id": None,
}


def _canonical(kind: IdentityKind, value: Any) -> str | None:
    return scheme(kind).canonical_or_none(value, "NO")


def _same(first: dict[str, Any], second: dict[str, Any]) -> bool:
    return same_subject(IDENTITIES, "id", ("name",), first, second, _canonical)


def test_the_same_record_in_capitals_and_another_phone_spelling_is_the_same_subject() -> None:
    twin = ASTRID | {
        "id": 100011,
        "name": "ASTRID  MYHRE",
        "email": "Astrid.Myhre@Altibox.No",
        "phone": "478 38 275",
    }
    assert (True, True) == (_same(ASTRID, twin), _same(twin, ASTRID))


def test_a_record_holding_less_with_the_same_name_is_the_same_subject() -> None:
    less = {"id": 100013, "name": "astrid myhre", "email": None, "phone": "0047 47838275"}
    assert _same(ASTRID, less)


def test_a_record_holding_less_without_a_name_says_nothing_about_whose_it_is() -> None:
    less = {"id": 100013, "name": None, "email": None, "phone": "+4747838275"}
    assert not _same(ASTRID, less)


def test_a_shared_mailbox_under_another_name_is_another_person() -> None:
    partner = ASTRID | {"id": 100020, "name": "Ola Myhre"}
    assert not _same(ASTRID, partner)


def test_different_national_identity_numbers_are_different_people() -> None:
    first = ASTRID | {"national_id": "01017012343"}
    second = ASTRID | {"id": 2, "national_id": "010170 12343"}
    other = ASTRID | {"id": 3, "national_id": "02017012345"}
    assert (True, False) == (_same(first, second), _same(first, other))


def test_a_value_that_cannot_be_read_may_be_anyones() -> None:
    broken = ASTRID | {"id": 100011, "phone": "not a number"}
    assert not _same(ASTRID, broken)


def test_records_carrying_only_their_keys_are_never_merged() -> None:
    assert not _same({"id": 1, "name": "A"}, {"id": 2, "name": "A"})


def test_a_switchboard_number_two_firms_share_does_not_make_them_one() -> None:
    firm_a = {"id": 1, "name": None, "email": "post@a.example", "phone": "+4722000000"}
    firm_b = {"id": 2, "name": None, "email": "post@b.example", "phone": "+4722000000"}
    assert not _same(firm_a, firm_b)
