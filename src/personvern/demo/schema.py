"""The demo company's operational tables, one MetaData per system of its data map.

Column names are exactly the field names the data map declares for each dataset in
``examples/workspace-company/systems/``, and nothing personal is stored that the map
does not declare (a test compares the two both ways). Table names are unique across
systems, so every system can share one database when the demo is given a single URL.

Every identity column (email, phone, national_id, cookie_id) and every reference
column (customer_id, invoice_id, employee_id) is indexed, because data subject
requests look rows up by them; e-mail columns also have a case-insensitive index on
PostgreSQL and SQLite (see ``EMAIL_INDEXES``). Foreign keys are declared only inside a system: a
reference to another system (billing.invoices.customer_id -> crm.customers.id)
crosses databases, as it does in the company's real landscape.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    collate,
    func,
)

# Lengths follow the common limits: RFC 5321 for e-mail, E.164 plus formatting for phone.
_EMAIL = 254
_PHONE = 32
_NAME = 200

crm = MetaData()
billing = MetaData()
access_control = MetaData()
support = MetaData()
analytics = MetaData()
marketing = MetaData()

customers = Table(
    "customers",
    crm,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("company_name", String(_NAME), nullable=False),
    Column("organization_number", String(20)),
    Column("contact_name", String(_NAME), nullable=False),
    Column("email", String(_EMAIL), nullable=False, unique=True, index=True),
    Column("phone", String(_PHONE), index=True),
    Column("address", String(300)),
    # ISO 3166-1 alpha-2: the data map matches it to the group company that answers requests.
    Column("country", String(2), nullable=False),
    Column("preferred_language", String(8), nullable=False),
    # Stored in clear in the demo: the data map's `encrypted: true` is for personvern's
    # own field encryption, which later work applies; lookups need the plain value today.
    Column("national_id", String(11), index=True),
    Column("contract_start", Date, nullable=False),
    Column("contract_end", Date),
    Column("last_contact_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    # When processing was restricted (Art. 18): the data map's `restriction` field.
    Column("restricted_at", DateTime),
)

designated_employees = Table(
    "designated_employees",
    crm,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("name", String(_NAME), nullable=False),
    Column("email", String(_EMAIL), nullable=False, index=True),
    Column("phone", String(_PHONE), index=True),
    Column("job_title", String(120)),
    Column("created_at", DateTime, nullable=False),
)

prospects = Table(
    "prospects",
    crm,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(_NAME), nullable=False),
    Column("email", String(_EMAIL), nullable=False, index=True),
    Column("phone", String(_PHONE), index=True),
    Column("company_name", String(_NAME)),
    Column("notes", Text),
    Column("created_at", DateTime, nullable=False),
    Column("last_contact_at", DateTime),
)

invoices = Table(
    "invoices",
    billing,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", Integer, nullable=False, index=True),
    Column("invoice_number", String(32), nullable=False, unique=True),
    Column("issued_on", Date, nullable=False, index=True),
    Column("due_on", Date, nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("billing_name", String(_NAME), nullable=False),
    Column("billing_email", String(_EMAIL), index=True),
    Column("billing_address", String(300)),
    Column("paid_on", Date),
)

invoice_lines = Table(
    "invoice_lines",
    billing,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("invoice_id", Integer, ForeignKey("invoices.id"), nullable=False, index=True),
    Column("description", String(300), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
)

security_cards = Table(
    "security_cards",
    access_control,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", Integer, nullable=False, index=True),
    Column("employee_id", Integer, index=True),
    Column("holder_name", String(_NAME), nullable=False),
    Column("card_number", String(32), nullable=False, unique=True),
    Column("centre", String(120), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("revoked_on", Date),
)

tickets = Table(
    "tickets",
    support,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", Integer, index=True),
    Column("requester_email", String(_EMAIL), nullable=False, index=True),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("closed_at", DateTime),
)

web_events = Table(
    "web_events",
    analytics,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("cookie_id", String(64), nullable=False, index=True),
    Column("customer_id", Integer, index=True),
    Column("occurred_at", DateTime, nullable=False, index=True),
    Column("ip_address", String(45)),
    Column("user_agent", String(400)),
    Column("url", String(1000), nullable=False),
    Column("referrer", String(1000)),
    Column("event_type", String(40), nullable=False),
    Column("channel", String(10), nullable=False),
)

newsletter_subscriptions = Table(
    "newsletter_subscriptions",
    marketing,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("email", String(_EMAIL), nullable=False, index=True),
    Column("customer_id", Integer, index=True),
    Column("basis", String(40), nullable=False),
    Column("consent_text", Text),
    Column("subscribed_at", DateTime, nullable=False),
    Column("unsubscribed_at", DateTime),
)


def _case_insensitive_indexes(table: Table, column: str) -> tuple[Index, Index]:
    """The indexes that serve case-insensitive lookups of ``column`` on PostgreSQL and SQLite."""
    # Requests match e-mail addresses case-insensitively, which the plain index cannot
    # serve. PostgreSQL gets an index on lower(column), matching lower(column) IN (...).
    # SQLite gets a NOCASE index instead, matching column COLLATE NOCASE IN (...): the
    # same ASCII-only folding as its lower(), but SQLite can reflect it (an expression
    # index it cannot, and SQLAlchemy warns). MySQL and MariaDB compare case-insensitively
    # through their default collation and use the plain index.
    return (
        Index(f"ix_{table.name}_{column}_lower", func.lower(table.c[column])).ddl_if(
            dialect="postgresql"
        ),
        Index(f"ix_{table.name}_{column}_nocase", collate(table.c[column], "NOCASE")).ddl_if(
            dialect="sqlite"
        ),
    )


#: The case-insensitive indexes of every e-mail identity column of the data map.
EMAIL_INDEXES = (
    *_case_insensitive_indexes(customers, "email"),
    *_case_insensitive_indexes(designated_employees, "email"),
    *_case_insensitive_indexes(prospects, "email"),
    *_case_insensitive_indexes(invoices, "billing_email"),
    *_case_insensitive_indexes(tickets, "requester_email"),
    *_case_insensitive_indexes(newsletter_subscriptions, "email"),
)


#: MetaData per SQL system, keyed by the system's key in the data map.
SYSTEMS: dict[str, MetaData] = {
    "crm": crm,
    "billing": billing,
    "access_control": access_control,
    "support": support,
    "analytics": analytics,
    "marketing": marketing,
}

#: Every demo table by "system.dataset", in an order where parents come before children.
TABLES: dict[str, Table] = {
    f"{system}.{table.name}": table
    for system, metadata in SYSTEMS.items()
    for table in metadata.sorted_tables
}

#: The file systems of the demo, keyed by system key, with their dataset name.
FILE_DATASETS: dict[str, str] = {
    "telephony": "call_recordings",
    "identity_documents": "identity_documents",
}

# A marker per database recording what was seeded there, so a re-run can skip it. It
# lives in its own MetaData because every system writes a row into the same table when
# they share one database. It holds no personal data.
demo_meta_metadata = MetaData()
demo_meta = Table(
    "personvern_demo_meta",
    demo_meta_metadata,
    Column("system", String(64), primary_key=True),
    Column("seed", Integer, nullable=False),
    Column("customers", Integer, nullable=False),
    Column("reference_date", Date, nullable=False),
    Column("row_counts", Text, nullable=False),
    Column("seeded_at", DateTime, nullable=False),
)
