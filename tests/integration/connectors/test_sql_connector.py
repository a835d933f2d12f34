"""The SQL connector on SQLite, PostgreSQL and MariaDB, against the seeded demo company."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from personvern.connectors.port import (
    ConnectorError,
    Criteria,
    ErasureOutcome,
    ErasureStep,
    Key,
    Record,
    Redaction,
)
from personvern.connectors.sql import EMAIL_MASK, MASK, SqlConnector
from personvern.demo import ground_truth, schema
from personvern.domain.datamap import ErasureStrategy, IdentityKind
from personvern.domain.requests.identity import SubjectIdentity, phone_forms
from tests.integration.connectors.conftest import Company, Subject, snapshot

Connect = Callable[[str], SqlConnector]

#: A subscription planted by one test, far above the generated and conftest keys.
PLANTED_ACCENTED = 990_001
#: A ticket key no row has.
NO_SUCH_TICKET = 999_999_999


def needles(subject: Subject) -> frozenset[str]:
    """Every written form of the subject's e-mail, phone number and national id."""
    identities = (
        SubjectIdentity(IdentityKind.EMAIL, subject.email),
        SubjectIdentity(IdentityKind.PHONE_NUMBER, subject.phone),
        SubjectIdentity(IdentityKind.NATIONAL_ID, subject.national_id),
    )
    return frozenset(n for identity in identities for n in identity.text_needles())


def pseudonym(dataset: str, field: str, key: Key) -> str:
    """A stable stand-in for the engine's keyed hash."""
    return "pv-" + hashlib.sha256(f"{dataset}.{field}.{key}".encode()).hexdigest()[:20]


def keys(records: Sequence[Record]) -> list[Key]:
    """The sorted keys of located records."""
    return sorted(r.key for r in records)


def warm_up(connector: SqlConnector, dataset: str) -> None:
    """Reflect the system's tables (the first use does, once), so counts below are the work."""
    assert [] == connector.locate(dataset, Criteria())
    assert connector.statements_issued > 0


# -- locate ---------------------------------------------------------------------------


def test_locate_by_email_ignores_case(company: Company, connect: Connect) -> None:
    subject = company.subjects["locate"]
    crm, marketing = connect("crm"), connect("marketing")

    found = crm.locate("customers", Criteria(exact={"email": frozenset({subject.email.upper()})}))
    subscriptions = marketing.locate(
        "newsletter_subscriptions", Criteria(exact={"email": frozenset({subject.email})})
    )

    assert [subject.id] == [r.key for r in found]
    assert frozenset({"email"}) == found[0].matched_fields
    # The planted subscription holds the address as "Kari.nordmann@FIRMA.NO".
    assert subject.mixed_case_subscription in [r.key for r in subscriptions]


def test_locate_by_phone_in_its_written_forms(company: Company, connect: Connect) -> None:
    subject = company.subjects["locate"]

    found = connect("crm").locate(
        "customers", Criteria(exact={"phone": frozenset(phone_forms(subject.phone))})
    )

    assert [subject.id] == [r.key for r in found]
    assert frozenset({"phone"}) == found[0].matched_fields


def test_locate_follows_a_customer_id_given_as_text(company: Company, connect: Connect) -> None:
    subject = company.subjects["locate"]
    truth = ground_truth(company.targets, subject.id)
    billing = connect("billing")

    invoices = billing.locate(
        "invoices",
        Criteria(
            exact={
                "customer_id": frozenset({str(subject.id)}),
                "billing_email": frozenset({subject.email}),
            }
        ),
    )
    lines = billing.locate(
        "invoice_lines", Criteria(exact={"invoice_id": frozenset(str(r.key) for r in invoices)})
    )

    assert truth["billing.invoices"] == keys(invoices)
    assert truth["billing.invoice_lines"] == keys(lines)
    assert all(r.matched_fields <= {"customer_id", "billing_email"} for r in invoices)


def test_locate_tickets_by_identity_reference_and_mention(
    company: Company, connect: Connect
) -> None:
    subject = company.subjects["locate"]
    truth = ground_truth(company.targets, subject.id)

    found = connect("support").locate(
        "tickets",
        Criteria(
            exact={
                "customer_id": frozenset({subject.id}),
                "requester_email": frozenset({subject.email}),
            },
            mentions={"subject": needles(subject), "body": needles(subject)},
        ),
    )

    assert truth["support.tickets"] == keys(found)
    by_key = {r.key: r for r in found}
    for ticket in subject.mentioned_in.values():
        assert frozenset({"body"}) == by_key[ticket].matched_fields


@pytest.mark.parametrize("what", ["email", "phone", "national_id"])
def test_locate_finds_each_written_form_in_free_text(
    company: Company, connect: Connect, what: str
) -> None:
    subject = company.subjects["locate"]
    kind = {
        "email": IdentityKind.EMAIL,
        "phone": IdentityKind.PHONE_NUMBER,
        "national_id": IdentityKind.NATIONAL_ID,
    }[what]
    value = {"email": subject.email, "phone": subject.phone, "national_id": subject.national_id}
    forms = frozenset(SubjectIdentity(kind, value[what]).text_needles())

    found = connect("support").locate("tickets", Criteria(mentions={"body": forms}))

    assert subject.mentioned_in[what] in [r.key for r in found]


def test_an_address_differing_by_an_accent_is_someone_else(
    company: Company, connect: Connect
) -> None:
    marketing = connect("marketing")
    with company.engine.begin() as conn:
        conn.execute(
            schema.newsletter_subscriptions.insert().values(
                id=PLANTED_ACCENTED,
                email="jose.nunez@example.org",
                basis="consent",
                subscribed_at=datetime(2026, 1, 5, 10, 0),
            )
        )

    # MariaDB's collation says 'ñ' = 'n' and returns the row; the connector does not.
    found = marketing.locate(
        "newsletter_subscriptions", Criteria(exact={"email": frozenset({"josé.nuñez@example.org"})})
    )

    assert [] == found


def test_like_wildcards_in_needles_are_literal(company: Company, connect: Connect) -> None:
    found = connect("support").locate("tickets", Criteria(mentions={"body": frozenset({"%", "_"})}))

    assert [] == found


def test_exclude_leaves_out_rows_found_before(company: Company, connect: Connect) -> None:
    subject = company.subjects["locate"]
    support = connect("support")
    criteria = Criteria(mentions={"body": needles(subject)})
    first = support.locate("tickets", criteria)

    again = support.locate(
        "tickets",
        Criteria(mentions=criteria.mentions, exclude=frozenset(str(r.key) for r in first[:1])),
    )

    assert first
    assert keys(first[1:]) == keys(again)


def test_one_statement_per_locate(company: Company, connect: Connect) -> None:
    subject = company.subjects["locate"]
    support = connect("support")

    support.locate(
        "tickets",
        Criteria(
            exact={
                "customer_id": frozenset({subject.id}),
                "requester_email": frozenset({subject.email}),
            },
            mentions={"subject": needles(subject), "body": needles(subject)},
            exclude=frozenset({1, 2, 3}),
        ),
    )
    after_one = support.statements_issued
    nothing = support.locate("tickets", Criteria())
    # Values no Integer column can hold match nothing: no question is asked at all.
    impossible = support.locate(
        "tickets", Criteria(exact={"customer_id": frozenset({"abc", "12x", str(2**70)})})
    )

    # Describing the tables on first use is counted too, but apart.
    assert 1 == after_one - support.schema_statements
    assert ([], []) == (nothing, impossible)
    assert after_one == support.statements_issued
    # The database's time on them is kept beside the count (the benchmarks' floor);
    # no question asked, no time added.
    spent = support.statement_seconds
    assert 0 < spent
    support.locate("tickets", Criteria())
    assert spent == support.statement_seconds


def test_records_hold_the_declared_fields_with_their_python_types(
    company: Company, connect: Connect
) -> None:
    subject = company.subjects["locate"]
    crm_system = company.system("crm")
    declared = {d.name: [f.name for f in d.fields] for d in company.system("billing").datasets} | {
        d.name: [f.name for f in d.fields] for d in crm_system.datasets
    }

    customer = connect("crm").locate("customers", Criteria(exact={"id": frozenset({subject.id})}))
    invoices = connect("billing").locate(
        "invoices", Criteria(exact={"customer_id": frozenset({subject.id})})
    )

    assert declared["customers"] == list(customer[0].values)
    assert subject.email == customer[0].values["email"]
    assert isinstance(customer[0].values["contract_start"], date)
    assert isinstance(customer[0].values["created_at"], datetime)
    assert declared["invoices"] == list(invoices[0].values)
    assert isinstance(invoices[0].values["amount"], Decimal)


def test_email_lookups_are_served_by_a_case_insensitive_index(company: Company) -> None:
    with company.engine.connect() as conn:
        names = {
            str(index["name"])
            for table in schema.TABLES.values()
            for index in sa.inspect(conn).get_indexes(table.name)
        }
        if company.kind == "sqlite":
            query = "SELECT id FROM customers WHERE email COLLATE NOCASE IN ('a', 'b')"
            plan = str(conn.execute(sa.text(f"EXPLAIN QUERY PLAN {query}")).all())
        elif company.kind == "postgresql":
            # Sixty customers fit in one page, where a scan is cheaper; forbid it.
            conn.execute(sa.text("SET enable_seqscan = off"))
            query = "SELECT id FROM customers WHERE lower(email) IN ('a', 'b')"
            plan = str(conn.execute(sa.text(f"EXPLAIN {query}")).all())
        else:
            plan = ""

    suffix = {"sqlite": "nocase", "postgresql": "lower"}.get(company.kind)
    columns = [
        ("customers", "email"),
        ("designated_employees", "email"),
        ("prospects", "email"),
        ("invoices", "billing_email"),
        ("tickets", "requester_email"),
        ("newsletter_subscriptions", "email"),
    ]
    if suffix is None:
        # MariaDB folds case through its collation and uses the plain index.
        assert set() == {n for n in names if n.endswith(("_lower", "_nocase"))}
    else:
        assert {f"ix_{table}_{column}_{suffix}" for table, column in columns} <= names
        assert f"ix_customers_email_{suffix}" in plan


# -- erase ----------------------------------------------------------------------------


def test_erase_deletes_erases_fields_and_redacts_once(company: Company, connect: Connect) -> None:
    subject = company.subjects["erase"]
    truth = ground_truth(company.targets, subject.id)
    before = snapshot(company.engine)
    own_tickets = sorted(
        k
        for k, row in before["support.tickets"].items()
        if k in truth["support.tickets"]
        and (row["customer_id"] == subject.id or row["requester_email"].lower() == subject.email)
    )
    mentioning = sorted(set(truth["support.tickets"]) - set(own_tickets))
    employees = truth["crm.designated_employees"]
    invoices = truth["billing.invoices"]
    subscriptions = truth["marketing.newsletter_subscriptions"]
    # The planted mixed-case subscription is the subject's too; ground truth compares exactly.
    subscriptions = sorted({*subscriptions, subject.mixed_case_subscription})
    # The conftest picked a subject with something to erase in each of these.
    for found in (own_tickets, mentioning, employees, invoices):
        assert found
    plan: dict[str, list[ErasureStep]] = {
        "crm": [
            ErasureStep(
                "designated_employees",
                update=tuple(employees),
                update_fields={
                    "email": ErasureStrategy.MASK,
                    "phone": ErasureStrategy.SET_NULL,
                    "name": ErasureStrategy.PSEUDONYMISE,
                },
            ),
            ErasureStep(
                "customers",
                update=(subject.id,),
                update_fields={
                    "email": ErasureStrategy.MASK,  # unique: pseudonymised
                    "contact_name": ErasureStrategy.SET_NULL,  # NOT NULL: pseudonymised
                    "phone": ErasureStrategy.SET_NULL,
                    "address": ErasureStrategy.MASK,
                    "national_id": ErasureStrategy.SET_NULL,
                    "company_name": ErasureStrategy.KEEP,
                },
            ),
        ],
        "billing": [
            ErasureStep(
                "invoices",
                update=tuple(invoices),
                update_fields={
                    "billing_email": ErasureStrategy.SET_NULL,
                    "billing_name": ErasureStrategy.SET_NULL,
                    "billing_address": ErasureStrategy.MASK,
                },
            )
        ],
        "support": [
            ErasureStep(
                "tickets",
                delete=tuple(own_tickets),
                redactions=(
                    Redaction("subject", tuple(mentioning), tuple(needles(subject))),
                    Redaction("body", tuple(mentioning), tuple(needles(subject))),
                ),
            )
        ],
        "marketing": [ErasureStep("newsletter_subscriptions", delete=tuple(subscriptions))],
    }
    connectors = {system: connect(system) for system in plan}

    def statements() -> dict[str, int]:
        return {s: c.statements_issued - c.schema_statements for s, c in connectors.items()}

    first = {s: connectors[s].erase(steps, pseudonym) for s, steps in plan.items()}
    after = snapshot(company.engine)
    after_first = statements()
    second = {s: connectors[s].erase(steps, pseudonym) for s, steps in plan.items()}
    by_second = {s: n - after_first[s] for s, n in statements().items()}

    assert {
        "crm": [
            ErasureOutcome("designated_employees", updated=len(employees)),
            ErasureOutcome("customers", updated=1),
        ],
        "billing": [ErasureOutcome("invoices", updated=len(invoices))],
        "support": [ErasureOutcome("tickets", deleted=len(own_tickets), redacted=len(mentioning))],
        "marketing": [ErasureOutcome("newsletter_subscriptions", deleted=len(subscriptions))],
    } == first
    assert {
        system: [ErasureOutcome(step.dataset) for step in steps] for system, steps in plan.items()
    } == second
    assert after == snapshot(company.engine)
    # One statement per change and dataset (an executemany for per-row pseudonyms and
    # redactions); the second run asks the same questions and changes nothing.
    assert {"crm": 2, "billing": 1, "support": 3, "marketing": 1} == after_first
    assert {"crm": 2, "billing": 1, "support": 2, "marketing": 1} == by_second

    erased, kept = after["crm.customers"][subject.id], before["crm.customers"][subject.id]
    assert pseudonym("customers", "email", subject.id) == erased["email"]
    assert pseudonym("customers", "contact_name", subject.id) == erased["contact_name"]
    assert (None, None) == (erased["phone"], erased["national_id"])
    # Masking leaves an empty field empty.
    assert (MASK if kept["address"] else None) == erased["address"]
    assert kept["company_name"] == erased["company_name"]
    for employee in employees:
        row = after["crm.designated_employees"][employee]
        name = pseudonym("designated_employees", "name", employee)
        assert (EMAIL_MASK, None, name) == (row["email"], row["phone"], row["name"])
    for invoice in invoices:
        row, was = after["billing.invoices"][invoice], before["billing.invoices"][invoice]
        name = pseudonym("invoices", "billing_name", invoice)
        address = MASK if was["billing_address"] else None
        assert (None, name, address) == (
            row["billing_email"],
            row["billing_name"],
            row["billing_address"],
        )
    for ticket in mentioning:
        row = after["support.tickets"][ticket]
        text = f"{row['subject']} {row['body']}".lower()
        assert "[…]" in text
        assert [] == [n for n in needles(subject) if n.lower() in text]

    # Nothing else changed: every other row of every table is as it was.
    touched = {
        "crm.designated_employees": set(employees),
        "crm.customers": {subject.id},
        "billing.invoices": set(invoices),
        "support.tickets": {*own_tickets, *mentioning},
        "marketing.newsletter_subscriptions": set(subscriptions),
    }
    for name, rows in before.items():
        untouched = {k: v for k, v in rows.items() if k not in touched.get(name, set())}
        assert untouched == {
            k: v for k, v in after[name].items() if k not in touched.get(name, set())
        }, name
    for name in ("support.tickets", "marketing.newsletter_subscriptions"):
        deleted = set(own_tickets) if name == "support.tickets" else set(subscriptions)
        assert set() == deleted & set(after[name])


def test_erase_issues_one_statement_per_change(company: Company, connect: Connect) -> None:
    subject = company.subjects["erase"]
    support = connect("support")
    warm_up(support, "tickets")
    steps = [
        ErasureStep(
            "tickets",
            delete=(NO_SUCH_TICKET,),
            redactions=(
                Redaction("body", tuple(subject.mentioned_in.values()), ("nobody@example.org",)),
            ),
        )
    ]
    before = support.statements_issued

    outcome = support.erase(steps, pseudonym)

    # One DELETE and one SELECT for the redaction, which found nothing to write back.
    assert [ErasureOutcome("tickets")] == outcome
    assert 2 == support.statements_issued - before


def test_erase_is_one_transaction(company: Company, connect: Connect) -> None:
    subject = company.subjects["rollback"]
    crm = connect("crm")
    before = snapshot(company.engine)
    prospect = max(before["crm.prospects"])

    def failing(dataset: str, field: str, key: Key) -> str:
        raise RuntimeError("the key service is down")

    with pytest.raises(RuntimeError, match="key service"):
        crm.erase(
            [
                ErasureStep("prospects", delete=(prospect,)),
                ErasureStep(
                    "customers",
                    update=(subject.id,),
                    update_fields={"contact_name": ErasureStrategy.PSEUDONYMISE},
                ),
            ],
            failing,
        )

    assert before == snapshot(company.engine)


def test_erase_checks_every_step_before_writing(company: Company, connect: Connect) -> None:
    subject = company.subjects["rollback"]
    crm = connect("crm")
    warm_up(crm, "customers")
    before = crm.statements_issued
    steps = [
        ErasureStep("customers", delete=(subject.id,)),
        ErasureStep(
            "customers", update=(subject.id,), update_fields={"shoe_size": ErasureStrategy.SET_NULL}
        ),
    ]

    with pytest.raises(ConnectorError, match=r"crm\.customers\.shoe_size"):
        crm.erase(steps, pseudonym)

    assert before == crm.statements_issued


# -- rectify --------------------------------------------------------------------------


def test_rectify_changes_only_what_differs(company: Company, connect: Connect) -> None:
    subject = company.subjects["rectify"]
    crm = connect("crm")
    changes = {"address": "Storgata 1, 0155 Oslo", "preferred_language": "en"}

    first = crm.rectify("customers", [str(subject.id)], changes)
    second = crm.rectify("customers", [subject.id], changes)
    found = crm.locate("customers", Criteria(exact={"id": frozenset({subject.id})}))

    assert (1, 0) == (first, second)
    assert changes == {k: found[0].values[k] for k in changes}


def test_a_refused_rectification_does_not_quote_the_value(
    company: Company, connect: Connect
) -> None:
    subject = company.subjects["rectify"]
    taken = company.subjects["locate"].email

    # customers.email is unique: the database refuses, and its message names the value.
    with pytest.raises(ConnectorError, match=r"crm\.customers: the database refused") as refused:
        connect("crm").rectify("customers", [subject.id], {"email": taken})

    assert taken not in str(refused.value)
    assert refused.value.__cause__ is None


def test_rectify_refuses_unknown_fields_and_the_key(company: Company, connect: Connect) -> None:
    subject = company.subjects["rectify"]
    crm = connect("crm")

    with pytest.raises(ConnectorError, match=r"crm\.customers\.shoe_size"):
        crm.rectify("customers", [subject.id], {"shoe_size": 44})
    with pytest.raises(ConnectorError, match=r"crm\.customers\.id"):
        crm.rectify("customers", [subject.id], {"id": 1})


# -- the data map against the database -------------------------------------------------


def test_a_declared_field_without_a_column_is_an_error(company: Company) -> None:
    system = company.system("crm")
    datasets = [
        d.model_copy(
            update={
                "fields": [
                    *d.fields,
                    d.fields[0].model_copy(update={"name": "shoe_size", "primary_key": False}),
                ]
            }
        )
        if d.name == "customers"
        else d
        for d in system.datasets
    ]
    connector = SqlConnector(system.model_copy(update={"datasets": datasets}), company.url)
    try:
        with pytest.raises(ConnectorError, match=r"crm\.customers\.shoe_size"):
            connector.locate("customers", Criteria(exact={"id": frozenset({1})}))
    finally:
        connector.close()


def test_a_declared_dataset_without_a_table_is_an_error(company: Company) -> None:
    system = company.system("marketing")
    renamed = [d.model_copy(update={"name": "subscribers"}) for d in system.datasets]
    connector = SqlConnector(system.model_copy(update={"datasets": renamed}), company.url)
    try:
        with pytest.raises(ConnectorError, match=r"marketing\.subscribers"):
            connector.locate("subscribers", Criteria(exact={"id": frozenset({1})}))
    finally:
        connector.close()


def test_export_files_yields_nothing(company: Company, connect: Connect) -> None:
    assert [] == list(connect("crm").export_files("customers", [1, 2]))
