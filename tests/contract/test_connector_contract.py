"""The contract every connector keeps, asked of each kind of store the same way.

A new connector is done when it passes this file: add its kind to
tests/contract/conftest.py (``KINDS`` and the ``store`` fixture).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

import pytest

from personvern.connectors.port import (
    ConnectorError,
    Criteria,
    ErasureStep,
    IndexedMentions,
    Key,
    Record,
    Redaction,
)
from personvern.domain.datamap import ErasureStrategy
from tests.contract.conftest import CUSTOMERS, Store

KARI = "kari@example.no"


def _pseudonym(dataset: str, field: str, key: Key) -> str:
    return f"pv_{dataset}_{field}_{key}"


def _read(open_: Callable[[], BinaryIO]) -> bytes:
    with open_() as stream:
        return stream.read()


def _keys(records: list[Record]) -> set[int]:
    return {int(r.key) for r in records}


def _find(store: Store, **criteria: object) -> list[Record]:
    return store.connector.locate("customers", Criteria(**criteria))  # type: ignore[arg-type]


def _row(store: Store, key: int) -> dict[str, object] | None:
    found = _find(store, exact={"id": frozenset({key})})
    return dict(found[0].values) if found else None


def test_a_reachable_system_passes_its_check(store: Store) -> None:
    store.connector.check()


def test_an_address_finds_its_records_in_any_letter_case_and_no_other(store: Store) -> None:
    found = _find(store, exact={"email": frozenset({KARI})})
    assert {1, 5} == _keys(found)
    assert all(r.matched_fields == {"email"} for r in found)
    assert {"id", "email", "phone", "name", "notes"} == set(found[0].values)


def test_a_phone_number_finds_the_record_stored_in_another_spelling(store: Store) -> None:
    # The engine asks in the canonical form and the spellings it knows; the store holds
    # "+47 912 34 567". 91234568 (one digit off) is someone else.
    asked = frozenset({"+4791234567", "91234567", "+47 912 34 567"})
    assert {1} == _keys(_find(store, exact={"phone": asked}))


def test_mentions_are_found_whole_and_never_inside_another_address(store: Store) -> None:
    found = _find(store, mentions={"notes": frozenset({KARI, "912 34 567"})})
    assert {2, 4} == _keys(found)
    assert all(r.matched_fields == {"notes"} for r in found)


def test_a_mention_index_narrows_the_search_and_never_changes_the_answer(store: Store) -> None:
    # A mention index (personvern.engine.mention_index) read records 1 to 3: their text
    # mentioned her in 2, and 3 holds a key that is not her mention (a stale entry, a
    # collision). Records past 3 were not read. A connector may search only those, or
    # ignore it; either way the answer is the one without the index.
    indexed = IndexedMentions(keys=frozenset({"2", "3"}), marker="id", after=3)
    found = _find(
        store,
        mentions={"notes": frozenset({KARI, "912 34 567"})},
        indexed={"notes": indexed},
    )
    assert {2, 4} == _keys(found)
    assert all(r.matched_fields == {"notes"} for r in found)
    excluded = _find(
        store,
        mentions={"notes": frozenset({KARI})},
        indexed={"notes": indexed},
        exclude=frozenset({4}),
    )
    assert {2} == _keys(excluded)


def test_exact_values_and_mentions_combine_and_exclusions_hold(store: Store) -> None:
    both = Criteria(
        exact={"email": frozenset({KARI})},
        mentions={"notes": frozenset({KARI})},
        exclude=frozenset({5}),
    )
    assert {1, 2, 4} == _keys(store.connector.locate("customers", both))


def test_nothing_asked_finds_nothing(store: Store) -> None:
    assert [] == _find(store)
    assert [] == _find(store, exact={"email": frozenset()})


def test_what_the_map_does_not_declare_is_refused(store: Store) -> None:
    with pytest.raises(ConnectorError):
        store.connector.locate("orders", Criteria(exact={"id": frozenset({1})}))
    with pytest.raises(ConnectorError):
        _find(store, exact={"password": frozenset({"x"})})


def test_erasure_deletes_erases_fields_and_redacts_once(store: Store) -> None:
    step = ErasureStep(
        "customers",
        delete=(1, 5),
        update=(6,),
        update_fields={
            "name": ErasureStrategy.PSEUDONYMISE,
            "phone": ErasureStrategy.MASK,
            "email": ErasureStrategy.SET_NULL,
        },
        redactions=(Redaction("notes", (2, 4), (KARI, "912 34 567")),),
    )
    first = store.connector.erase([step], _pseudonym)
    assert (2, 1, 2) == (
        first[0].deleted,
        first[0].updated,
        first[0].redacted,
    )
    # Run again (after a crash, say): nothing left to change.
    again = store.connector.erase([step], _pseudonym)
    assert (0, 0, 0) == (again[0].deleted, again[0].updated, again[0].redacted)
    assert _row(store, 1) is None
    assert _row(store, 5) is None
    erased = _row(store, 6)
    assert erased is not None
    assert (None, "pv_customers_name_6") == (erased["email"], erased["name"])
    assert erased["phone"] not in (None, CUSTOMERS[6]["phone"])
    redacted = _row(store, 2)
    assert redacted is not None
    assert "Kona heter Kari ([…]); ring […]" == redacted["notes"]
    # Everyone else as they were.
    assert {"id": 3, **CUSTOMERS[3]} == _row(store, 3)
    assert [] == _find(store, exact={"email": frozenset({KARI})})


def test_rectification_changes_the_fields_once(store: Store) -> None:
    assert 1 == store.connector.rectify("customers", [3], {"name": "Ola Kari Berg"})
    assert 0 == store.connector.rectify("customers", [3], {"name": "Ola Kari Berg"})
    row = _row(store, 3)
    assert row is not None
    assert ("Ola Kari Berg", CUSTOMERS[3]["email"]) == (row["name"], row["email"])
    with pytest.raises(ConnectorError):
        store.connector.rectify("customers", [3], {"id": 99})


def test_files_are_handed_over_as_stored_and_go_with_their_record(store: Store) -> None:
    files = list(store.connector.export_files("customers", [1, 3]))
    if not store.contents:
        assert [] == files  # a store without files hands over none
        return
    assert {1: store.contents[1], 3: store.contents[3]} == {
        int(f.key): _read(f.open) for f in files
    }
    assert {"text/plain"} == {f.media_type for f in files}
    store.connector.erase([ErasureStep("customers", delete=(1,))], _pseudonym)
    assert [3] == [int(f.key) for f in store.connector.export_files("customers", [1, 3])]


def test_closing_twice_is_harmless(store: Store) -> None:
    store.connector.close()
    store.connector.close()
