"""The SQL connector asks for every spelling of a phone or national id, in one indexed IN.

The CRM here keeps numbers the way real systems do (``971 55 337``, ``0047 97155337``,
``010170 12343``), unlike the demo, which stores E.164. The search sends every spelling
of the subject's identities (personvern.domain.identities), the database answers one
``col IN (...)`` per dataset, and a row counts only if its value reads, in canonical
form, as an identity asked for. Free text is searched for an address URL-encoded, as a
web log keeps it, and erasure redacts it there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from personvern.connectors.port import Criteria, ErasureStep, Redaction
from personvern.connectors.sql import SqlConnector, _like_patterns
from personvern.datamap.loader import load_datamap
from personvern.demo import schema
from personvern.domain.datamap import IdentityKind, System
from personvern.domain.identities.kinds import scheme
from personvern.domain.identities.mentions import mention_pattern
from tests.conftest import EXAMPLE_DATAMAP
from tests.support.servers import fresh_database

KARI_PHONE = "+4797155337"
KARI_ID = "01017012343"
KARI = "kari.nordmann@example.no"
WHEN = datetime(2026, 3, 1, 9, 30)


#: Room for a national id written "DDMMYY NNNNN" (the demo's column holds 11 characters).
_WIDER_NATIONAL_ID = {
    "postgresql": "ALTER TABLE customers ALTER COLUMN national_id TYPE VARCHAR(20)",
    "mariadb": "ALTER TABLE customers MODIFY national_id VARCHAR(20)",
}


def _customer(
    key: int, email: str, phone: str | None, national_id: str | None
) -> dict[str, object]:
    return {
        "id": key,
        "company_name": f"Firma {key}",
        "contact_name": f"Kunde {key}",
        "email": email,
        "phone": phone,
        "national_id": national_id,
        "country": "NO",
        "preferred_language": "nb",
        "contract_start": date(2024, 1, 1),
        "created_at": WHEN,
    }


def _prospect(key: int, phone: str | None, notes: str) -> dict[str, object]:
    return {
        "id": key,
        "name": f"Interessent {key}",
        "email": f"p{key}@example.no",
        "phone": phone,
        "notes": notes,
        "created_at": WHEN,
    }


CUSTOMERS = [
    _customer(1, KARI, "971 55 337", "010170 12343"),
    _customer(2, "ola@example.no", "971 55 338", "01017012424"),
    _customer(3, "per@example.no", "0047 97155337", None),
    _customer(4, "kim@example.no", "(+47) 97 15 53 37", "010170-12343"),
    _customer(5, "eva@example.no", "97155337 ext 2", "ukjent"),
]
PROSPECTS = [
    _prospect(10, "+47 971 55 337", "Ring 97 15 53 37 i morgen."),
    _prospect(
        11, None, "Logget: https://nordavind.no/skjema?epost=kari.nordmann%40example.no&steg=2"
    ),
    _prospect(12, None, "Logget: https://nordavind.no/?epost=per.kari.nordmann%40example.no&x=1"),
    _prospect(13, None, "Ring 1971 55 337 eller 971 55 3370."),
]


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def crm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, System]]:
    """The CRM with these rows, on each kind of database, and its system in the data map."""
    kind = str(request.param)
    with ExitStack() as stack:
        if kind == "sqlite":
            url = f"sqlite:///{tmp_path / 'crm.sqlite'}"
        else:
            url = stack.enter_context(fresh_database(kind))
        engine = sa.create_engine(url)
        try:
            schema.crm.create_all(engine)
            with engine.begin() as conn:
                if kind in _WIDER_NATIONAL_ID:
                    conn.execute(sa.text(_WIDER_NATIONAL_ID[kind]))
                conn.execute(schema.customers.insert(), CUSTOMERS)
                conn.execute(schema.prospects.insert(), PROSPECTS)
        finally:
            engine.dispose()
        system = load_datamap(EXAMPLE_DATAMAP).datamap.system("crm")
        assert system is not None
        yield url, system


def _spellings(kind: IdentityKind, canonical: str) -> frozenset[str]:
    # What the walk sends in a Norwegian company (personvern.domain.requests.subject_graph).
    return scheme(kind).stored_spellings(canonical, "NO")


def _keys(connector: SqlConnector, dataset: str, criteria: Criteria) -> dict[object, list[str]]:
    return {r.key: sorted(r.matched_fields) for r in connector.locate(dataset, criteria)}


def test_a_phone_is_found_in_every_spelling_in_one_statement(crm: tuple[str, System]) -> None:
    url, system = crm
    connector = SqlConnector(system, url)
    try:
        connector.locate("customers", Criteria(exact={"id": frozenset({0})}))  # describe once
        before = connector.statements_issued

        found = _keys(
            connector,
            "customers",
            Criteria(exact={"phone": _spellings(IdentityKind.PHONE_NUMBER, KARI_PHONE)}),
        )

        assert ({1: ["phone"], 3: ["phone"], 4: ["phone"]}, 1) == (
            found,
            connector.statements_issued - before,
        )
    finally:
        connector.close()


def test_a_national_id_is_found_with_a_space_a_hyphen_and_without(
    crm: tuple[str, System],
) -> None:
    url, system = crm
    connector = SqlConnector(system, url)
    try:
        found = _keys(
            connector,
            "customers",
            Criteria(exact={"national_id": _spellings(IdentityKind.NATIONAL_ID, KARI_ID)}),
        )
    finally:
        connector.close()

    assert {1: ["national_id"], 4: ["national_id"]} == found


def test_an_address_url_encoded_in_a_logged_url_is_a_mention(crm: tuple[str, System]) -> None:
    url, system = crm
    connector = SqlConnector(system, url)
    needles = scheme(IdentityKind.EMAIL).text_needles(KARI, "NO")
    try:
        found = _keys(connector, "prospects", Criteria(mentions={"notes": needles}))
    finally:
        connector.close()

    assert {11: ["notes"]} == found


def test_a_phone_in_free_text_is_found_only_as_a_whole_number(crm: tuple[str, System]) -> None:
    url, system = crm
    connector = SqlConnector(system, url)
    needles = scheme(IdentityKind.PHONE_NUMBER).text_needles(KARI_PHONE, "NO")
    try:
        found = _keys(connector, "prospects", Criteria(mentions={"notes": needles}))
    finally:
        connector.close()

    assert {10: ["notes"]} == found


def test_erasure_redacts_the_url_encoded_address_and_leaves_the_query_around_it(
    crm: tuple[str, System],
) -> None:
    url, system = crm
    needles = tuple(scheme(IdentityKind.EMAIL).text_needles(KARI, "NO"))
    connector = SqlConnector(system, url)
    try:
        connector.erase(
            [
                ErasureStep(
                    "prospects",
                    redactions=(Redaction(field="notes", keys=(11, 12), needles=needles),),
                )
            ],
            lambda *_: "x",
        )
    finally:
        connector.close()
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            notes = dict(
                conn.execute(
                    sa.text("SELECT id, notes FROM prospects WHERE id IN (11, 12) ORDER BY id")
                ).all()
            )
    finally:
        engine.dispose()

    assert {
        11: "Logget: https://nordavind.no/skjema?epost=[…]&steg=2",
        12: "Logget: https://nordavind.no/?epost=per.kari.nordmann%40example.no&x=1",
    } == notes


@pytest.mark.parametrize(
    ("text", "mentioned"),
    [
        ("?epost=kari.nordmann%40example.no&steg=2", True),
        ("?epost=kari.nordmann%40EXAMPLE.NO", True),
        ("retur=%2Fside%3Fepost%3Dkari.nordmann%40example.no%26steg%3D2", True),
        ("mailto:kari.nordmann@example.no?subject=hei", True),
        ("?epost=per.kari.nordmann%40example.no", False),
        ("?epost=kari.nordmann%40example.no.evil.example", False),
        ("?epost=ola%2Bkari.nordmann%40example.no", False),
        ("?epost=kari.nordmann%40example.nord.no", False),
    ],
)
def test_equals_and_ampersand_around_a_mention_are_boundaries(text: str, mentioned: bool) -> None:
    pattern = mention_pattern(scheme(IdentityKind.EMAIL).text_needles(KARI, "NO"))
    assert mentioned == (pattern.search(text) is not None)


def test_spellings_of_one_identity_share_one_like_pattern() -> None:
    # Every LIKE pattern is tested on every row of a free-text scan: the spellings a
    # search adds (hyphen, URL-encoded) must not make the scan longer.
    terms = ["010170 12343", "010170-12343", "01017012343", "kari%40example.no", "kari@example.no"]

    assert ["%kari%example.no%", "%010170_12343%", "%01017012343%"] == _like_patterns(terms)


def test_a_like_pattern_matches_wildcard_characters_as_written() -> None:
    assert ["%a/_b/%c//d%"] == _like_patterns(["a_b%c/d"])
