"""Lookalike addresses are different people in every connector, however loosely the store compares.

A code proving ``eivind.nilſen@…`` (long s) once returned ``eivind.nilsen@…``'s data:
intake lower-cased, the connectors case-folded. Each connector is asked here for each
canonical address of a table of lookalikes (long s, Kelvin sign, fullwidth and dotless
letters, case outside ASCII, combining marks) and must answer with exactly that
address's record, by exact match and by mention in free text, and redact only it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from personvern.connectors.files import FileConnector
from personvern.connectors.port import Criteria, ErasureStep, Key, Record, Redaction
from personvern.connectors.sql import SqlConnector
from personvern.connectors.webhook import WebhookConnector
from personvern.demo.seed import sidecar_path
from personvern.domain.datamap import System
from personvern.domain.identities.errors import InvalidIdentityError
from personvern.domain.requests.identity import parse_identity
from tests.integration.connectors.test_files_connector import notes_system
from tests.integration.connectors.test_webhook_connector import (
    SECRET,
    Receiver,
    email,
    receiver,
)
from tests.support.servers import fresh_database

__all__ = ["email", "receiver"]

LONG_S = "\u017f"
KELVIN = "\u212a"
NILSEN = "eivind.nilsen@example.no"
NILSEN_LONG_S = f"eivind.nil{LONG_S}en@example.no"
KARI = "kari.nordmann@example.no"
KARI_KELVIN = f"{KELVIN}ari.nordmann@example.no"
KARI_FULLWIDTH = "\uff4b\uff41\uff52\uff49.nordmann@example.no"
KARI_DOTLESS = "kar\u0131.nordmann@example.no"
ORJAN = "Ørjan@example.no"
ORJAN_LOWER = "ørjan@example.no"
RENE_DECOMPOSED = "rene\u0301@example.no"

#: key -> (address as stored, free text about someone else)
PEOPLE: dict[int, tuple[str, str | None]] = {
    1: (NILSEN, f"Send a copy to {NILSEN_LONG_S}, please."),
    2: (NILSEN_LONG_S, f"Send a copy to {NILSEN.upper()}, please."),
    3: (KARI, f"Also {KARI_KELVIN} wrote."),
    4: (KARI_KELVIN, "Also KARI.NORDMANN@EXAMPLE.NO wrote."),
    5: (KARI_FULLWIDTH, None),
    6: (KARI_DOTLESS, None),
    7: (ORJAN, f"Ask {ORJAN_LOWER}."),
    8: (ORJAN_LOWER, "Ask Ørjan@EXAMPLE.NO."),
    9: (RENE_DECOMPOSED, None),
}

#: The address a subject gives (parsed as intake does) -> the only record that is theirs.
OWN = [
    (NILSEN, 1),
    (NILSEN.upper(), 1),
    (NILSEN_LONG_S, 2),
    (KARI, 3),
    (KARI_FULLWIDTH, 5),
    (KARI_DOTLESS, 6),
    (ORJAN, 7),
    (ORJAN_LOWER, 8),
    ("ren\u00e9@example.no", 9),  # composed or decomposed: one address
    ("rene\u0301@EXAMPLE.NO", 9),
    ("REN\u00c9@example.no", None),  # upper case outside ASCII: another address
]
#: Needle -> the records that mention it (never the lookalike's).
MENTIONED = [
    (NILSEN, {2}),
    (NILSEN_LONG_S, {1}),
    (KARI, {4}),
    (ORJAN, {8}),
    (ORJAN_LOWER, {7}),
]


def canonical(address: str) -> str:
    """The address as intake stores it."""
    return parse_identity("email", address).value


def test_the_kelvin_sign_address_cannot_be_asked_for() -> None:
    # NFC would turn it into the ASCII "Kari": intake refuses it instead, so only the
    # stores still hold it, and it matches no canonical address (see below).
    with pytest.raises(InvalidIdentityError, match="Kelvin sign"):
        canonical(KARI_KELVIN)


def matched(records: list[Record]) -> dict[Key, set[str]]:
    """Keys and the fields that matched."""
    return {r.key: set(r.matched_fields) for r in records}


# -- SQL: SQLite, PostgreSQL, MariaDB ----------------------------------------------------

PEOPLE_SYSTEM = System.model_validate(
    {
        "key": "crm",
        "name": "CRM",
        "kind": "postgresql",
        "connection_env": "CRM_URL",
        "description": {"en": "CRM.", "nb": "CRM."},
        "datasets": [
            {
                "name": "people",
                "subjects": ["customer"],
                "fields": [
                    {"name": "id", "primary_key": True},
                    {"name": "email", "identity": "email"},
                    {"name": "notes", "free_text": True},
                ],
            }
        ],
    }
)
metadata = sa.MetaData()
people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("email", sa.String(254)),
    sa.Column("notes", sa.Text),
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def people_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database holding the lookalikes, on each kind of server."""
    kind = str(request.param)
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('people') / 'people.sqlite'}"
        _fill(url)
        yield url
        return
    with fresh_database(kind) as url:
        _fill(url)
        yield url


def _fill(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                people.insert(),
                [{"id": k, "email": e, "notes": n} for k, (e, n) in PEOPLE.items()],
            )
    finally:
        engine.dispose()


@pytest.fixture
def sql(people_url: str) -> Iterator[SqlConnector]:
    """A SQL connector on the lookalikes."""
    connector = SqlConnector(PEOPLE_SYSTEM, people_url)
    yield connector
    connector.close()


@pytest.mark.parametrize(("given", "own"), OWN)
def test_sql_finds_each_address_and_never_its_lookalike(
    sql: SqlConnector, given: str, own: int | None
) -> None:
    found = sql.locate("people", Criteria(exact={"email": frozenset({canonical(given)})}))
    assert ({own: {"email"}} if own else {}) == matched(found)


@pytest.mark.parametrize(("needle", "mentioning"), MENTIONED)
def test_sql_finds_mentions_of_each_address_and_never_of_its_lookalike(
    sql: SqlConnector, needle: str, mentioning: set[int]
) -> None:
    found = sql.locate("people", Criteria(mentions={"notes": frozenset({canonical(needle)})}))
    assert {key: {"notes"} for key in mentioning} == matched(found)


def test_sql_redacts_the_address_and_leaves_the_lookalike(people_url: str) -> None:
    connector = SqlConnector(PEOPLE_SYSTEM, people_url)
    step = ErasureStep("people", redactions=(Redaction("notes", (1, 2), (NILSEN,)),))
    try:
        outcome = connector.erase([step], lambda *_: "x")
    finally:
        connector.close()
    engine = sa.create_engine(people_url)
    try:
        with engine.begin() as conn:
            notes = {row.id: row.notes for row in conn.execute(sa.select(people))}
            # Put it back for the tests that follow on the same database.
            conn.execute(people.update().where(people.c.id == 2).values(notes=PEOPLE[2][1]))
    finally:
        engine.dispose()
    assert 1 == outcome[0].redacted
    assert PEOPLE[1][1] == notes[1]
    assert "Send a copy to […], please." == notes[2]


# -- files -------------------------------------------------------------------------------


@pytest.fixture
def letters(tmp_path: Path) -> FileConnector:
    """A file store of letters, one per lookalike, and a connector on it."""
    folder = tmp_path / "letters"
    folder.mkdir()
    for key, (address, notes) in PEOPLE.items():
        pdf = folder / f"{key}.pdf"
        pdf.write_bytes(b"%PDF-1.4")
        payload = {"letter_id": key, "sender": address, "summary": notes}
        sidecar_path(pdf).write_text(json.dumps(payload), encoding="utf-8")
    return FileConnector(notes_system(), tmp_path)


@pytest.mark.parametrize(("given", "own"), OWN)
def test_files_find_each_address_and_never_its_lookalike(
    letters: FileConnector, given: str, own: int | None
) -> None:
    found = letters.locate("letters", Criteria(exact={"sender": frozenset({canonical(given)})}))
    assert ({own: {"sender"}} if own else {}) == matched(found)


@pytest.mark.parametrize(("needle", "mentioning"), MENTIONED)
def test_files_find_mentions_of_each_address_and_never_of_its_lookalike(
    letters: FileConnector, needle: str, mentioning: set[int]
) -> None:
    criteria = Criteria(mentions={"summary": frozenset({canonical(needle)})})
    assert {key: {"summary"} for key in mentioning} == matched(letters.locate("letters", criteria))


def test_files_redact_the_address_and_leave_the_lookalike(
    letters: FileConnector, tmp_path: Path
) -> None:
    step = ErasureStep("letters", redactions=(Redaction("summary", (1, 2), (NILSEN,)),))
    letters.erase([step], lambda *_: "x")

    def summary(key: int) -> Any:
        return json.loads((tmp_path / "letters" / f"{key}.json").read_text("utf-8"))["summary"]

    assert PEOPLE[1][1] == summary(1)
    assert "Send a copy to […], please." == summary(2)


# -- webhook -----------------------------------------------------------------------------


@pytest.fixture
def mailbox(email: System, receiver: Receiver) -> WebhookConnector:
    """A connector on a receiver that holds the lookalikes and compares by Unicode case folding."""
    receiver.messages = {
        f"m-{key}": {
            "message_id": f"m-{key}",
            "sender": address,
            "recipients": "support@nws.example",
            "body": notes,
            "sent_at": "2026-03-01T09:00:00",
        }
        for key, (address, notes) in PEOPLE.items()
    }
    return WebhookConnector(email, receiver.url, SECRET, timeout=5.0)


@pytest.mark.parametrize(("given", "own"), OWN)
def test_webhook_finds_each_address_and_never_its_lookalike(
    mailbox: WebhookConnector, given: str, own: int | None
) -> None:
    found = mailbox.locate("messages", Criteria(exact={"sender": frozenset({canonical(given)})}))
    assert ({f"m-{own}": {"sender"}} if own else {}) == matched(found)


@pytest.mark.parametrize(("needle", "mentioning"), MENTIONED)
def test_webhook_finds_mentions_of_each_address_and_never_of_its_lookalike(
    mailbox: WebhookConnector, needle: str, mentioning: set[int]
) -> None:
    criteria = Criteria(mentions={"body": frozenset({canonical(needle)})})
    expected = {f"m-{key}": {"body"} for key in mentioning}
    assert expected == matched(mailbox.locate("messages", criteria))
