"""Seeding the demo company into SQLite, PostgreSQL and MariaDB (one URL for every system)."""

from __future__ import annotations

import json
import wave
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import phonenumbers
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from stdnum.no import fodselsnummer as stdnum_fnr

from personvern.datamap.loader import load_datamap
from personvern.demo import (
    DemoTargets,
    demo_environment,
    ground_truth,
    schema,
    seed_demo_company,
    targets_from_urls,
)
from personvern.demo.errors import DemoError
from personvern.demo.generator import DemoCompanyGenerator
from personvern.demo.identifiers import written_forms
from personvern.demo.mailbox import messages as mailbox_messages
from personvern.demo.seed import sidecar_path
from personvern.demo.truth import FREE_TEXT_FIELDS
from personvern.domain.datamap import DataMap

CUSTOMERS = 50
REFERENCE = date(2026, 3, 16)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def company_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """One database URL for all the demo's SQL systems, on each supported engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'company.sqlite'}"
    elif request.param == "postgresql":
        yield request.getfixturevalue("postgres_url")
    else:
        yield request.getfixturevalue("mariadb_url")


@pytest.fixture
def targets(company_url: str, tmp_path: Path) -> DemoTargets:
    return targets_from_urls(tmp_path / "home", company_db_url=company_url)


@pytest.fixture
def datamap(example_datamap_path: Path) -> DataMap:
    return load_datamap(example_datamap_path).datamap


def _seed(targets: DemoTargets, customers: int = CUSTOMERS) -> dict[str, int]:
    return seed_demo_company(targets, customers=customers, seed=7, reference_date=REFERENCE).rows


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _rows(engine: sa.Engine, table: sa.Table) -> list[sa.Row[tuple[object, ...]]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(table)))


def _mail(targets: DemoTargets) -> list[sa.Row[tuple[object, ...]]]:
    engine = sa.create_engine(f"sqlite:///{targets.mailbox_path}")
    try:
        return _rows(engine, mailbox_messages)
    finally:
        engine.dispose()


@pytest.fixture
def engine(targets: DemoTargets) -> Iterator[sa.Engine]:
    engine = sa.create_engine(targets.url("crm"))
    yield engine
    engine.dispose()


def test_columns_are_exactly_the_data_maps_fields(
    targets: DemoTargets, engine: sa.Engine, datamap: DataMap
) -> None:
    _seed(targets)
    inspector = sa.inspect(engine)
    declared = {
        f"{system.key}.{dataset.name}": {field.name for field in dataset.fields}
        for system in datamap.systems
        if system.key in schema.SYSTEMS
        for dataset in system.datasets
    }
    assert set(schema.TABLES) == set(declared)
    for name, fields in declared.items():
        columns = {c["name"] for c in inspector.get_columns(name.split(".", 1)[1])}
        assert fields == columns, name


def test_identity_and_reference_columns_are_indexed(
    targets: DemoTargets, engine: sa.Engine, datamap: DataMap
) -> None:
    _seed(targets)
    inspector = sa.inspect(engine)
    for system in datamap.systems:
        for dataset in system.datasets:
            if system.key not in schema.SYSTEMS:
                continue
            indexed = {
                index["column_names"][0] for index in inspector.get_indexes(dataset.name)
            } | {
                constraint["column_names"][0]
                for constraint in inspector.get_unique_constraints(dataset.name)
            }
            indexed |= set(inspector.get_pk_constraint(dataset.name)["constrained_columns"])
            wanted = {f.name for f in dataset.fields if f.identity or f.references}
            assert wanted <= indexed, f"{system.key}.{dataset.name}: {wanted - indexed}"


def test_free_text_fields_match_the_data_map(datamap: DataMap) -> None:
    declared = {
        f"{system.key}.{dataset.name}": tuple(f.name for f in dataset.fields if f.free_text)
        for system in datamap.systems
        if system.key in schema.SYSTEMS
        for dataset in system.datasets
    }
    assert FREE_TEXT_FIELDS == {name: cols for name, cols in declared.items() if cols}


def test_row_counts_match_the_summary_and_a_rerun_does_not_duplicate(
    targets: DemoTargets, engine: sa.Engine
) -> None:
    first = seed_demo_company(targets, customers=CUSTOMERS, seed=7, reference_date=REFERENCE)
    for name, table in schema.TABLES.items():
        assert first.rows[name] == _count(engine, table), name
    assert CUSTOMERS == first.rows["crm.customers"]
    assert round(CUSTOMERS * 0.2) == first.rows["crm.prospects"]
    wavs = list(targets.recordings_dir.glob("recordings/**/*.wav"))
    bins = list(targets.identity_documents_dir.glob("identity-documents/**/*.bin"))
    assert first.rows["telephony.call_recordings"] == len(wavs)
    assert first.rows["identity_documents.identity_documents"] == len(bins)
    assert first.rows["email.messages"] == len(_mail(targets))
    assert "email" in first.seeded

    again = seed_demo_company(targets, customers=CUSTOMERS, seed=7)
    assert () == again.seeded
    assert set(first.seeded) == set(again.skipped)
    assert first.rows == again.rows
    assert REFERENCE == again.reference_date
    for name, table in schema.TABLES.items():
        assert first.rows[name] == _count(engine, table), name
    assert len(wavs) == len(list(targets.recordings_dir.glob("recordings/**/*.wav")))
    assert first.rows["email.messages"] == len(_mail(targets))


def test_a_home_seeded_before_the_mailbox_gets_only_the_mailbox(
    targets: DemoTargets, engine: sa.Engine
) -> None:
    first = seed_demo_company(targets, customers=CUSTOMERS, seed=7, reference_date=REFERENCE)
    messages = _mail(targets)
    targets.mailbox_path.unlink()
    tickets = _rows(engine, schema.tickets)

    again = seed_demo_company(targets, customers=CUSTOMERS, seed=7)

    assert ("email",) == again.seeded
    assert "email" not in again.skipped
    assert first.rows == again.rows
    assert messages == _mail(targets)
    assert tickets == _rows(engine, schema.tickets)


def test_a_different_customer_count_recreates(targets: DemoTargets, engine: sa.Engine) -> None:
    _seed(targets)
    rows = _seed(targets, customers=20)
    assert 20 == _count(engine, schema.customers)
    assert rows["billing.invoices"] == _count(engine, schema.invoices)
    assert rows["email.messages"] == len(_mail(targets))
    assert rows["telephony.call_recordings"] == len(
        list(targets.recordings_dir.glob("recordings/**/*.wav"))
    )


def test_people_have_valid_unique_identifiers(targets: DemoTargets, engine: sa.Engine) -> None:
    _seed(targets, customers=200)
    people = (
        _rows(engine, schema.customers)
        + _rows(engine, schema.designated_employees)
        + _rows(engine, schema.prospects)
    )
    emails = [p.email for p in people]
    assert len(emails) == len(set(emails))
    assert all(email == email.lower() and email.isascii() for email in emails)
    phones = [p.phone for p in people if p.phone]
    assert len(phones) == len(set(phones))
    for phone in phones:
        parsed = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(parsed), phone
        assert phonenumbers.region_code_for_number(parsed) in {"NO", "GB"}
    customers = _rows(engine, schema.customers)
    national_ids = [c.national_id for c in customers if c.national_id]
    assert national_ids, "some customers have a national identity number"
    assert len(national_ids) < len(customers) / 2, "only some customers have one"
    assert all(stdnum_fnr.is_valid(n) for n in national_ids)
    norwegian = sum(c.preferred_language == "nb" for c in customers) / len(customers)
    assert 0.55 < norwegian < 0.85


def test_invoices_span_seven_years_and_some_are_past_the_bookkeeping_hold(
    targets: DemoTargets, engine: sa.Engine
) -> None:
    _seed(targets, customers=200)
    issued = [row.issued_on for row in _rows(engine, schema.invoices)]
    # bokføringsloven § 13: kept until five years after the end of the financial year.
    past_hold = [d for d in issued if date(d.year + 5, 12, 31) < REFERENCE]
    assert past_hold
    assert len(past_hold) < len(issued) / 2
    assert min(issued) >= date(REFERENCE.year - 7, 1, 1)
    assert max(issued) <= REFERENCE
    per_customer = len(issued) / 200
    assert 4 <= per_customer <= 6


def test_tickets_mention_their_requester_and_sometimes_someone_else(
    targets: DemoTargets, engine: sa.Engine
) -> None:
    _seed(targets, customers=200)
    tickets = _rows(engine, schema.tickets)
    customers = {c.id: c for c in _rows(engine, schema.customers)}
    own = [t for t in tickets if t.requester_email.lower() in t.body.lower()]
    typed_in_mixed_case = [t for t in own if t.requester_email not in t.body]
    others = [
        (t, c)
        for t in tickets
        for c in customers.values()
        if c.id != t.customer_id and c.email in t.body.lower()
    ]
    assert own
    assert typed_in_mixed_case
    assert others
    assert any("+47 " in t.body or "+44 " in t.body for t in tickets), (
        "phone numbers written in international form"
    )


def test_sidecars_parse_and_reference_existing_customers(
    targets: DemoTargets, engine: sa.Engine, datamap: DataMap
) -> None:
    _seed(targets, customers=100)
    customer_ids = {row.id for row in _rows(engine, schema.customers)}
    roots = {
        "telephony": targets.recordings_dir,
        "identity_documents": targets.identity_documents_dir,
    }
    for key, root in roots.items():
        system = datamap.system(key)
        assert system is not None
        (dataset,) = system.datasets
        assert dataset.files is not None
        files = sorted(root.glob(dataset.files.pattern))
        assert files, key
        for file in files:
            sidecar = json.loads(sidecar_path(file).read_text(encoding="utf-8"))
            assert {f.name for f in dataset.fields} == set(sidecar), file
            assert sidecar["customer_id"] is None or sidecar["customer_id"] in customer_ids
            assert file.stem == sidecar[next(f.name for f in dataset.fields if f.primary_key)]
        with_customer = [
            json.loads(sidecar_path(f).read_text(encoding="utf-8"))["customer_id"] for f in files
        ]
        assert any(c is not None for c in with_customer)
    for file in targets.recordings_dir.glob("recordings/**/*.wav"):
        with wave.open(str(file)) as audio:
            assert (1, 8000) == (audio.getnchannels(), audio.getframerate())
            assert 0.4 < audio.getnframes() / 8000 < 0.6
        assert file.stat().st_size < 10_000


def test_identity_documents_are_encrypted(targets: DemoTargets, engine: sa.Engine) -> None:
    _seed(targets, customers=100)
    assert 0o600 == targets.key_file.stat().st_mode & 0o777
    fernet = Fernet(targets.key_file.read_bytes().strip())
    names = {row.id: row.contact_name for row in _rows(engine, schema.customers)}
    documents = list(targets.identity_documents_dir.glob("identity-documents/**/*.bin"))
    assert documents
    for document in documents:
        sidecar = json.loads(sidecar_path(document).read_text(encoding="utf-8"))
        raw = document.read_bytes()
        name = names[sidecar["customer_id"]]
        assert name.encode() not in raw
        assert b"DOCUMENT" not in raw
        clear = fernet.decrypt(raw).decode()
        assert f"NAME: {name}" in clear


def test_ground_truth_finds_the_customer_in_every_related_table(
    targets: DemoTargets, engine: sa.Engine
) -> None:
    # Enough customers that each kind of record (5% have identity documents) occurs.
    _seed(targets, customers=120)
    truths = {cid: ground_truth(targets, cid) for cid in range(1, 121)}
    expected_keys = {*schema.TABLES, "telephony.call_recordings"}
    expected_keys |= {"identity_documents.identity_documents", "email.messages"}
    for truth in truths.values():
        assert expected_keys == set(truth)
    # Every dataset a customer can appear in is reached for some customer.
    reachable = {name for truth in truths.values() for name, ids in truth.items() if ids}
    assert expected_keys - {"crm.prospects"} <= reachable

    invoices = {row.id: row for row in _rows(engine, schema.invoices)}
    for cid, truth in truths.items():
        assert [cid] == truth["crm.customers"]
        own_invoices = sorted(i for i, row in invoices.items() if row.customer_id == cid)
        assert own_invoices == truth["billing.invoices"]
        if own_invoices:
            assert truth["billing.invoice_lines"]
        events = truth["analytics.web_events"]
        assert events, "every customer has browsed the site"

    # Each file belongs to exactly the customer named in its sidecar (or to a prospect).
    recordings = {
        json.loads(p.read_text(encoding="utf-8"))["call_id"]: json.loads(
            p.read_text(encoding="utf-8")
        )["customer_id"]
        for p in targets.recordings_dir.glob("recordings/**/*.json")
    }
    for call_id, owner in recordings.items():
        holders = [
            cid for cid, truth in truths.items() if call_id in truth["telephony.call_recordings"]
        ]
        assert ([owner] if owner else []) == holders

    assert [] == ground_truth(targets, 10_000_000)["crm.customers"]


def test_ground_truth_includes_tickets_of_others_that_mention_the_customer(
    targets: DemoTargets, engine: sa.Engine
) -> None:
    _seed(targets, customers=200)
    customers = _rows(engine, schema.customers)
    mentioned = [
        (customer, ticket)
        for ticket in _rows(engine, schema.tickets)
        for customer in customers
        if customer.id != ticket.customer_id and customer.email in ticket.body.lower()
    ]
    assert mentioned
    for customer, ticket in mentioned:
        assert ticket.id in ground_truth(targets, customer.id)["support.tickets"]


def test_demo_environment_follows_the_data_map(
    targets: DemoTargets, datamap: DataMap, example_datamap_path: Path
) -> None:
    env = demo_environment(targets, example_datamap_path)
    crm = datamap.system("crm")
    telephony = datamap.system("telephony")
    assert crm is not None
    assert telephony is not None
    assert crm.connection_env is not None
    assert telephony.connection_env is not None
    assert targets.url("crm") == env[crm.connection_env]
    assert str(targets.recordings_dir) == env[telephony.connection_env]
    # The e-mail system is reached only while a served demo runs its mailbox.
    assert "PERSONVERN_M365_WEBHOOK_URL" not in env
    assert 8 == len(env)

    served = demo_environment(
        targets, example_datamap_path, "http://127.0.0.1:8000/demo/mailbox", "s" * 32
    )
    assert {**env, "PERSONVERN_M365_WEBHOOK_URL": "http://127.0.0.1:8000/demo/mailbox"} == {
        k: v for k, v in served.items() if not k.endswith("_SECRET")
    }
    assert "s" * 32 == served["PERSONVERN_M365_WEBHOOK_URL_SECRET"]


def test_generation_is_deterministic(tmp_path: Path) -> None:
    def rows(folder: str) -> list[tuple[object, ...]]:
        targets = targets_from_urls(tmp_path / folder)
        seed_demo_company(targets, customers=30, seed=3, reference_date=REFERENCE)
        engine = sa.create_engine(targets.url("support"))
        try:
            return [tuple(r) for r in _rows(engine, schema.tickets) + _mail(targets)]
        finally:
            engine.dispose()

    assert rows("a") == rows("b")


def test_mail_draws_from_its_own_random_stream() -> None:
    # Whatever the mailbox draws, every other table's rows stay as they were for the seed.
    def rows(mail_seed: str) -> tuple[dict[str, list[object]], list[object]]:
        generator = DemoCompanyGenerator(60, 5, REFERENCE)
        generator.mail_rng.seed(mail_seed)
        other: dict[str, list[object]] = {}
        mail: list[object] = []
        for bundle in generator.bundles():
            for name, batch in bundle.rows.items():
                (mail if name == "email.messages" else other.setdefault(name, [])).extend(batch)
        return other, mail

    first, first_mail = rows("one")
    second, second_mail = rows("two")
    assert first == second
    assert first_mail != second_mail


def test_mail_comes_from_customers_and_mentions_them_and_others(
    targets: DemoTargets, engine: sa.Engine, datamap: DataMap
) -> None:
    _seed(targets, customers=300)
    email = datamap.system("email")
    assert email is not None
    (dataset,) = email.datasets
    assert [f.name for f in dataset.fields] == [c.name for c in mailbox_messages.columns]

    messages = _mail(targets)
    customers = _rows(engine, schema.customers)
    contacts = {c.email: c for c in customers}
    employees = {e.email for e in _rows(engine, schema.designated_employees)}
    senders = [m.sender for m in messages]
    assert len({m.message_id for m in messages}) == len(messages)
    writers = {s.lower() for s in senders} & set(contacts)
    assert 0.2 < len(writers) / len(customers) < 0.4, "about three in ten customers write"
    assert any(s != s.lower() for s in senders), "some senders as typed, in mixed case"
    assert {s.lower() for s in senders} & employees, "designated employees write too"
    assert any(
        c.phone and any(form in m.body for form in written_forms(c.phone))
        for m in messages
        for c in (contacts.get(m.sender.lower()),)
        if c is not None
    ), "some mention the sender's phone number"
    assert any(
        address in m.body.lower() and address != m.sender.lower()
        for m in messages
        for address in contacts
    ), "some mention another customer"
    assert all(m.sent_at is not None and m.sent_at.date() <= REFERENCE for m in messages)


def test_refuses_to_clear_a_folder_it_did_not_create(tmp_path: Path) -> None:
    stranger = tmp_path / "calls"
    (stranger / "recordings").mkdir(parents=True)
    (stranger / "recordings" / "keep-me.wav").write_bytes(b"RIFF")
    targets = targets_from_urls(tmp_path / "home", recordings_dir=stranger)
    with pytest.raises(DemoError, match="did not create"):
        seed_demo_company(targets, customers=5)
    assert (stranger / "recordings" / "keep-me.wav").exists()
