"""personvern's mention index of free text, on SQLite, PostgreSQL and MariaDB.

A helpdesk whose tickets mention customers by address and phone number in their text,
with ``change_marker: updated_at``, and a chat log that is only ever appended to, with
``change_marker: id``. Built with `index build`'s builder into a store of personvern's
own, the index must give the same answers as reading every text: for a record added,
changed or deleted after the build, before and after the next refresh, and on
generated data (Faker), not only on hand-written rows.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from faker import Faker

from personvern.connectors.port import Criteria, IndexedMentions, Record
from personvern.connectors.sql import SqlConnector
from personvern.datamap.loader import load_datamap
from personvern.domain.change_marker import SETTLE_TIME
from personvern.domain.datamap import DataMap
from personvern.domain.identities import email, phone
from personvern.domain.requests.identity import parse_identity
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.subject_graph import SubjectGraph
from personvern.engine.mention_index import (
    MentionIndexBuilder,
    StoredMentionIndex,
    index_status,
)
from personvern.engine.runner import RequestEngine
from personvern.engine.search import search_subject
from personvern.settings import Settings
from personvern.store.db import SessionFactory, make_engine, make_session_factory, session_scope
from personvern.store.mention_index import MentionIndexRepository
from personvern.store.migrate import upgrade_to_head
from personvern.store.unit_of_work import unit_of_work_factory
from tests.support.company import file_request
from tests.support.servers import fresh_database
from tests.support.small_company import company_preamble

SECRET = "mention-index-test-secret-0123456789abcdef"
KARI = "kari.nordmann@example.no"
KARI_PHONE = "+4797155337"
BASE = datetime(2026, 1, 5, 8, 0)

_MAP = (
    company_preamble("Helpdesk AS", "support")
    + """\
systems:
  - key: helpdesk
    name: Helpdesk
    description: {{en: Customers and their tickets}}
    kind: {kind}
    connection_env: MI_HELPDESK
    datasets:
      - name: customers
        subjects: [customer]
        fields:
          - {{name: id, primary_key: true, identity: customer_id, category: user.unique_id,
              purposes: [support]}}
          - {{name: email, identity: email, category: user.contact.email, purposes: [support]}}
          - {{name: phone, identity: phone_number, category: user.contact.phone_number,
              purposes: [support]}}
      - name: tickets
        subjects: [customer]
        change_marker: updated_at
        fields:
          - {{name: id, primary_key: true}}
          - {{name: updated_at}}
          - {{name: subject, category: user.content, purposes: [support], free_text: true}}
          - {{name: body, category: user.content, purposes: [support], free_text: true}}
      - name: chat_log
        subjects: [customer]
        change_marker: id
        fields:
          - {{name: id, primary_key: true}}
          - {{name: message, category: user.content, purposes: [support], free_text: true}}
"""
)

_metadata = sa.MetaData()
customers = sa.Table(
    "customers",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("email", sa.String(254)),
    sa.Column("phone", sa.String(40)),
)
tickets = sa.Table(
    "tickets",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("updated_at", sa.DateTime, nullable=False, index=True),
    sa.Column("subject", sa.String(200)),
    sa.Column("body", sa.Text),
)
chat_log = sa.Table(
    "chat_log",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("message", sa.Text),
)


@dataclass
class Helpdesk:
    """The helpdesk's database, its data map, and personvern's store with the index."""

    kind: str
    url: str
    datamap: DataMap
    sessions: SessionFactory
    db: sa.Engine

    @property
    def environ(self) -> dict[str, str]:
        return {"MI_HELPDESK": self.url}

    def build(self, *, full: bool = False) -> dict[str, tuple[str, int]]:
        builder = MentionIndexBuilder(
            self.datamap, self.environ, unit_of_work_factory(self.sessions), SECRET, batch=7
        )
        return {b.name: (b.outcome, b.records) for b in builder.build("helpdesk", full=full)}

    def connector(self) -> SqlConnector:
        system = self.datamap.system("helpdesk")
        assert system is not None
        return SqlConnector(system, self.url)

    def index(self) -> StoredMentionIndex:
        return StoredMentionIndex(unit_of_work_factory(self.sessions), SECRET, self.datamap)

    def execute(self, statement: Any, rows: Any = None) -> None:
        with self.db.begin() as conn:
            conn.execute(statement, rows) if rows is not None else conn.execute(statement)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def helpdesk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Helpdesk]:
    kind = str(request.param)
    with ExitStack() as stack:
        if kind == "sqlite":
            url = f"sqlite:///{tmp_path / 'helpdesk.sqlite'}"
        else:
            url = stack.enter_context(fresh_database(kind))
        db = sa.create_engine(url)
        stack.callback(db.dispose)
        _metadata.create_all(db)
        folder = tmp_path / "map"
        folder.mkdir()
        system_kind = {"sqlite": "sqlite", "postgresql": "postgresql", "mariadb": "mysql"}[kind]
        (folder / "map.yaml").write_text(_MAP.format(kind=system_kind), encoding="utf-8")
        datamap = load_datamap(folder).datamap
        store = make_engine(f"sqlite:///{tmp_path / 'home' / 'personvern.db'}")
        stack.callback(store.dispose)
        upgrade_to_head(store)
        yield Helpdesk(kind, url, datamap, make_session_factory(store), db)


def _needles(*identities: tuple[str, str]) -> frozenset[str]:
    """What a walk searches free text for, knowing these identities (subject_graph)."""
    modules = {"email": email, "phone": phone}
    found = set()
    for kind, canonical in identities:
        found |= modules[kind].text_needles(canonical, "NO")
    return frozenset(n for n in found if len(n) >= 6)


KARI_NEEDLES = _needles(("email", KARI), ("phone", KARI_PHONE))


def _tickets(rows: Iterable[tuple[int, int, str | None, str | None]]) -> list[dict[str, Any]]:
    """(id, hours after BASE, subject, body) as rows."""
    return [
        {"id": i, "updated_at": BASE + timedelta(hours=h), "subject": s, "body": b}
        for i, h, s, b in rows
    ]


def _keys(records: Iterable[Record]) -> set[int]:
    return {int(r.key) for r in records}


def _restriction(helpdesk: Helpdesk, field: str = "body") -> IndexedMentions | None:
    return helpdesk.index().restriction("helpdesk", "tickets", field, KARI_NEEDLES)


def _locate(
    helpdesk: Helpdesk,
    needles: frozenset[str],
    *,
    indexed: bool,
    dataset: str = "tickets",
    connector: SqlConnector | None = None,
) -> set[int]:
    """The records mentioning the needles: through the index, or by reading every text."""
    fields = ("subject", "body") if dataset == "tickets" else ("message",)
    restrictions: dict[str, IndexedMentions] = {}
    if indexed:
        index = helpdesk.index()
        for name in fields:
            found = index.restriction("helpdesk", dataset, name, needles)
            assert found is not None, f"no index for {dataset}.{name}"
            restrictions[name] = found
    criteria = Criteria(mentions=dict.fromkeys(fields, needles), indexed=restrictions)
    if connector is not None:
        return _keys(connector.locate(dataset, criteria))
    with helpdesk.connector() as own:
        return _keys(own.locate(dataset, criteria))


def _seed_kari(helpdesk: Helpdesk) -> None:
    helpdesk.execute(
        customers.insert(),
        [
            {"id": 1, "email": KARI, "phone": "971 55 337"},
            {"id": 2, "email": "ola@example.no", "phone": "+47 971 55 338"},
        ],
    )
    helpdesk.execute(
        tickets.insert(),
        _tickets(
            [
                (1, 1, "Faktura", f"Fra {KARI.upper()}: fakturaen er feil"),
                (2, 2, "Ring meg", "Ring 97 15 53 37 etter kl. 16"),
                (3, 3, None, "Skriv til ola.kari.nordmann@example.no, ikke Kari"),
                (4, 4, "Logget", f"GET /skjema?epost={quote(KARI, safe='')}&steg=2"),
                (5, 5, "Ola", "Ring 971 55 338"),
                (6, 6, f"Fra {KARI}", None),
            ]
        ),
    )
    helpdesk.execute(
        chat_log.insert(),
        [
            {"id": i, "message": f"melding {i}" + (" fra +47 971 55 337" if i % 3 == 0 else "")}
            for i in range(1, 11)
        ],
    )


def test_a_build_indexes_every_free_text_field_and_a_search_finds_them_by_key(
    helpdesk: Helpdesk,
) -> None:
    _seed_kari(helpdesk)

    built = helpdesk.build()

    assert {"helpdesk.tickets": ("built", 6), "helpdesk.chat_log": ("built", 10)} == built
    body, subject = _restriction(helpdesk), _restriction(helpdesk, "subject")
    assert body is not None
    assert subject is not None
    assert {"1", "2", "4"} == set(body.keys)
    assert {"6"} == set(subject.keys)
    # The newest ticket's marker, less the time a late commit may take.
    assert BASE + timedelta(hours=6) - SETTLE_TIME == body.after
    assert {1, 2, 4, 6} == _locate(helpdesk, KARI_NEEDLES, indexed=True)
    assert {3, 6, 9} == _locate(helpdesk, KARI_NEEDLES, indexed=True, dataset="chat_log")
    # The store holds keyed hashes, never the text or the mentions.
    with session_scope(helpdesk.sessions) as session:
        stored = session.execute(sa.text("SELECT * FROM mention_index_entries")).all()
    assert stored
    assert not any(
        "kari" in str(value).lower() or "97155337" in str(value) for row in stored for value in row
    )


def test_records_added_changed_and_deleted_after_the_build_are_answered_exactly(
    helpdesk: Helpdesk,
) -> None:
    _seed_kari(helpdesk)
    helpdesk.build()

    # After the build: one new ticket mentions her, one old one is edited to mention
    # her (its updated_at moves), one that did is edited not to, one is deleted.
    helpdesk.execute(tickets.insert(), _tickets([(7, 10, "Ny sak", f"Kontakt: {KARI}")]))
    helpdesk.execute(
        tickets.update()
        .where(tickets.c.id == 5)
        .values(body="Ring 971 55 337", updated_at=BASE + timedelta(hours=11))
    )
    helpdesk.execute(
        tickets.update()
        .where(tickets.c.id == 2)
        .values(body="Nummeret er slettet", updated_at=BASE + timedelta(hours=12))
    )
    helpdesk.execute(tickets.delete().where(tickets.c.id == 1))
    helpdesk.execute(
        chat_log.insert(), [{"id": 11, "message": "Svar til kari.nordmann@example.no"}]
    )

    # Before any refresh: what the index says is stale, and the answer is still exact.
    expected = {4, 5, 6, 7}
    assert expected == _locate(helpdesk, KARI_NEEDLES, indexed=False)
    assert expected == _locate(helpdesk, KARI_NEEDLES, indexed=True)
    assert {3, 6, 9, 11} == _locate(helpdesk, KARI_NEEDLES, indexed=True, dataset="chat_log")

    # A refresh reads the changed records (5, 2, 7) and the newest one read before (6),
    # within the settling time.
    assert {
        "helpdesk.tickets": ("refreshed", 4),
        "helpdesk.chat_log": ("refreshed", 11),
    } == helpdesk.build()
    body = _restriction(helpdesk)
    assert body is not None
    # 5 is found by key now; 2 no longer; 1 is still named, and simply not found.
    assert {"1", "4", "5", "7"} == set(body.keys)
    assert BASE + timedelta(hours=12) - SETTLE_TIME == body.after
    assert expected == _locate(helpdesk, KARI_NEEDLES, indexed=True)
    # A full build forgets the deleted record.
    assert ("built", 6) == helpdesk.build(full=True)["helpdesk.tickets"]
    body = _restriction(helpdesk)
    assert body is not None
    assert {"4", "5", "7"} == set(body.keys)


def test_a_request_search_uses_the_index_and_finds_what_reading_finds(
    helpdesk: Helpdesk,
) -> None:
    _seed_kari(helpdesk)
    helpdesk.build()
    helpdesk.execute(tickets.insert(), _tickets([(8, 20, "Etter", "tlf +47 971 55 337")]))
    graph = SubjectGraph.from_datamap(helpdesk.datamap)
    asked: list[tuple[str, str, bool]] = []

    class Watched(StoredMentionIndex):
        def restriction(
            self, system: str, dataset: str, field: str, needles: Iterable[str]
        ) -> IndexedMentions | None:
            found = super().restriction(system, dataset, field, needles)
            asked.append((dataset, field, found is not None))
            return found

    with helpdesk.connector() as connector:
        identities = [parse_identity("email", KARI, country="NO")]
        plain = search_subject(graph, identities, {"helpdesk": connector})
        indexed = search_subject(
            graph,
            identities,
            {"helpdesk": connector},
            mention_index=Watched(
                unit_of_work_factory(helpdesk.sessions), SECRET, helpdesk.datamap
            ),
        )

    def found(result: Any) -> dict[str, set[Any]]:
        return {name: set(records) for name, records in result.walk.found.items()}

    assert found(plain) == found(indexed)
    assert {1, 2, 4, 6, 8} == set(indexed.walk.found["helpdesk.tickets"])
    assert ("tickets", "body", True) in asked
    assert ("chat_log", "message", True) in asked


def test_without_a_usable_index_the_text_is_read(helpdesk: Helpdesk) -> None:
    _seed_kari(helpdesk)
    assert _restriction(helpdesk) is None  # never built
    helpdesk.build()
    # Another secret key: the hashes would not match; the index is not used.
    other = StoredMentionIndex(
        unit_of_work_factory(helpdesk.sessions), SECRET[::-1], helpdesk.datamap
    )
    assert other.restriction("helpdesk", "tickets", "body", KARI_NEEDLES) is None
    # A needle without a mention key (an identifier with letters) reads the text.
    assert (
        helpdesk.index().restriction("helpdesk", "tickets", "body", {*KARI_NEEDLES, "QQ123456C"})
        is None
    )
    # A build under way (or one that died) is not used.
    with session_scope(helpdesk.sessions) as session:
        state = MentionIndexRepository(session).state("helpdesk", "tickets")
        assert state is not None
        state.complete = False
    assert _restriction(helpdesk) is None
    assert "building" == next(
        s.status
        for s in index_status(helpdesk.datamap, unit_of_work_factory(helpdesk.sessions), SECRET)
        if s.dataset == "tickets"
    )
    # ... and the next build reads it whole again.
    assert ("built", 6) == helpdesk.build()["helpdesk.tickets"]
    assert _restriction(helpdesk) is not None


# -- generated data ------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    address: str
    phone: str

    @property
    def needles(self) -> frozenset[str]:
        return _needles(("email", self.address), ("phone", self.phone))


def _people(fake: Faker, count: int) -> list[Person]:
    people = []
    for i in range(count):
        local = f"{fake.first_name()}.{fake.last_name()}{i}".lower().replace(" ", "")
        address = email.canonical_email_or_none(f"{local}@{fake.free_email_domain()}")
        number = phone.canonical_or_none(f"9{fake.numerify('#######')}", "NO")
        if address is not None and number is not None:
            people.append(Person(address, number))
    return people


def _spelled(rng: random.Random, person: Person) -> str:
    """A mention of the person as people write one, or a near miss that is no mention."""
    address, digits = person.address, person.phone.removeprefix("+47")
    local, _, domain = address.partition("@")
    forms = [
        address,
        address.upper(),
        f"{local.capitalize()}@{domain.upper()}",
        f"https://kunde.example/skjema?epost={quote(address, safe='')}&steg=2",
        f"{digits[:3]} {digits[3:5]} {digits[5:]}",
        " ".join(digits[i : i + 2] for i in range(0, 8, 2)),
        f"+47 {digits}",
        f"(+47) {digits[:3]} {digits[3:5]} {digits[5:]}",
        f"0047{digits}",
        # Near misses: a longer address, a longer number.
        f"x.{address}",
        f"{digits}1",
    ]
    return rng.choice(forms)


def _text(rng: random.Random, fake: Faker, people: list[Person]) -> str | None:
    if rng.random() < 0.1:
        return None
    parts = [fake.sentence()]
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        parts += [
            _spelled(rng, rng.choice(people)),
            rng.choice([".", ",", " -", ";"]),
            fake.sentence(),
        ]
    return " ".join(parts)


def _answers(helpdesk: Helpdesk, people: list[Person], *, indexed: bool) -> list[set[int]]:
    with helpdesk.connector() as connector:
        return [_locate(helpdesk, p.needles, indexed=indexed, connector=connector) for p in people]


def test_with_the_index_and_without_it_the_answers_are_the_same_on_generated_data(
    helpdesk: Helpdesk,
) -> None:
    fake = Faker(["no_NO", "en_GB"])
    fake.seed_instance(9)
    rng = random.Random(9)
    people = _people(fake, 20)
    hours = iter(range(1, 10_000))
    helpdesk.execute(
        tickets.insert(),
        _tickets(
            (i, next(hours), (_text(rng, fake, people) or "")[:200], _text(rng, fake, people))
            for i in range(1, 201)
        ),
    )
    helpdesk.build()
    read = _answers(helpdesk, people, indexed=False)
    assert read == _answers(helpdesk, people, indexed=True)
    assert sum(len(found) for found in read) > 40  # the people are mentioned, often

    # Records inserted, edited (with their marker moved) and deleted since the build.
    for i in range(201, 216):
        row = _tickets([(i, next(hours), "Ny", _text(rng, fake, people))])
        helpdesk.execute(tickets.insert(), row)
    for i in rng.sample(range(1, 201), 30):
        helpdesk.execute(
            tickets.update()
            .where(tickets.c.id == i)
            .values(body=_text(rng, fake, people), updated_at=BASE + timedelta(hours=next(hours)))
        )
    helpdesk.execute(tickets.delete().where(tickets.c.id.in_(rng.sample(range(1, 216), 20))))
    read = _answers(helpdesk, people, indexed=False)
    assert read == _answers(helpdesk, people, indexed=True)
    helpdesk.build()
    assert read == _answers(helpdesk, people, indexed=True)


# -- PostgreSQL's own trigram index, and the store on PostgreSQL ----------------------


@pytest.mark.postgres
def test_a_postgresql_trigram_index_is_used_instead(tmp_path: Path) -> None:
    with fresh_database("postgresql") as url:
        db = sa.create_engine(url)
        try:
            _metadata.create_all(db)
            with db.begin() as conn:
                conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
                conn.execute(
                    sa.text(
                        "CREATE INDEX ix_tickets_body_trgm ON tickets "
                        "USING gin (lower(body) gin_trgm_ops)"
                    )
                )
                conn.execute(tickets.insert(), _tickets([(1, 1, "Hei", f"Fra {KARI}")]))
            folder = tmp_path / "map"
            folder.mkdir()
            (folder / "map.yaml").write_text(_MAP.format(kind="postgresql"), encoding="utf-8")
            datamap = load_datamap(folder).datamap
            store = make_engine(f"sqlite:///{tmp_path / 'home' / 'personvern.db'}")
            upgrade_to_head(store)
            helpdesk = Helpdesk("postgresql", url, datamap, make_session_factory(store), db)
            with helpdesk.connector() as connector:
                assert frozenset({"body"}) == connector.served_by_the_database("tickets")
            builder = MentionIndexBuilder(
                datamap, helpdesk.environ, unit_of_work_factory(helpdesk.sessions), SECRET
            )
            built = {b.name: b for b in builder.build("helpdesk")}
            tickets_built = built["helpdesk.tickets"]
            assert ("built", ("subject",)) == (tickets_built.outcome, tickets_built.fields)
            assert "body served by a trigram index" == tickets_built.note
            assert _restriction(helpdesk) is None
            assert _restriction(helpdesk, "subject") is not None
            # Given a restriction anyway, the connector uses the database's index.
            stale = IndexedMentions(frozenset(), "updated_at", BASE + timedelta(days=1))
            with helpdesk.connector() as connector:
                found = connector.locate(
                    "tickets", Criteria(mentions={"body": KARI_NEEDLES}, indexed={"body": stale})
                )
            assert {1} == _keys(found)
            store.dispose()
        finally:
            db.dispose()


@pytest.mark.postgres
def test_the_index_lives_in_a_postgresql_store_too(tmp_path: Path, postgres_url: str) -> None:
    db = sa.create_engine(f"sqlite:///{tmp_path / 'helpdesk.sqlite'}")
    _metadata.create_all(db)
    folder = tmp_path / "map"
    folder.mkdir()
    (folder / "map.yaml").write_text(_MAP.format(kind="sqlite"), encoding="utf-8")
    store = make_engine(postgres_url)
    try:
        upgrade_to_head(store)
        helpdesk = Helpdesk(
            "sqlite",
            f"sqlite:///{tmp_path / 'helpdesk.sqlite'}",
            load_datamap(folder).datamap,
            make_session_factory(store),
            db,
        )
        _seed_kari(helpdesk)
        assert ("built", 6) == helpdesk.build()["helpdesk.tickets"]
        helpdesk.execute(tickets.insert(), _tickets([(7, 10, "Ny sak", f"Kontakt: {KARI}")]))
        assert ("refreshed", 2) == helpdesk.build()["helpdesk.tickets"]
        assert {1, 2, 4, 6, 7} == _locate(helpdesk, KARI_NEEDLES, indexed=True)
    finally:
        store.dispose()
        db.dispose()


# -- through the request engine --------------------------------------------------------


def test_a_request_run_asks_the_index(tmp_path: Path, settings: Settings) -> None:
    db_path = tmp_path / "helpdesk.sqlite"
    db = sa.create_engine(f"sqlite:///{db_path}")
    _metadata.create_all(db)
    folder = tmp_path / "map"
    folder.mkdir()
    (folder / "map.yaml").write_text(_MAP.format(kind="sqlite"), encoding="utf-8")
    datamap = load_datamap(folder).datamap
    store = make_engine(settings)
    upgrade_to_head(store)
    sessions = make_session_factory(store)
    helpdesk = Helpdesk("sqlite", f"sqlite:///{db_path}", datamap, sessions, db)
    try:
        _seed_kari(helpdesk)
        builder = MentionIndexBuilder(
            datamap, helpdesk.environ, unit_of_work_factory(sessions), settings.secret()
        )
        builder.build()
        engine = RequestEngine(
            settings=settings,
            datamap=datamap,
            unit_of_work=unit_of_work_factory(sessions),
            environ=helpdesk.environ,
            today=lambda: date(2026, 11, 25),
        )
        request_id = file_request(engine, RequestType.ACCESS, [{"kind": "email", "value": KARI}])
        statements: list[str] = []

        def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            statements.append(statement)

        sa.event.listen(sa.Engine, "before_cursor_execute", record)
        try:
            plan = engine.dry_run(request_id)
        finally:
            sa.event.remove(sa.Engine, "before_cursor_execute", record)
        assert {1, 2, 4, 6} == {
            int(k) for part in plan.datasets if part.name == "helpdesk.tickets" for k in part.export
        }
        # The tickets were asked for by key and for what changed since the build.
        asked = [s for s in statements if "FROM tickets" in s and "LIKE" in s]
        assert asked
        assert all("tickets.updated_at >" in s for s in asked)
    finally:
        store.dispose()
        db.dispose()
