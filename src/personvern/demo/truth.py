"""Ground truth: every record the demo company holds about one customer, found by plain SQL.

This is deliberately independent of personvern's connectors and request engine, so
end-to-end request tests can compare what a request found with what is really there.
It knows the demo's schema and follows the same rules a request must:

- rows reached from the customer id through the data map's references (customer ->
  designated employees, invoices -> invoice lines, security cards, tickets, web events,
  newsletter subscriptions, call recordings, identity documents);
- rows matched by the customer's own identities (e-mail, phone number) and identities
  found on the way (the cookie ids of the customer's signed-in web events);
- free-text fields (ticket subject and body, prospect notes) that mention the
  customer's e-mail (any case), phone number in its written forms, or national
  identity number with or without the space;
- e-mail in the demo mailbox (``email.messages``) sent from the customer's address
  (any case) or whose body mentions the customer as above, read straight from the
  mailbox's SQLite file rather than through its webhook.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from personvern.demo import mailbox, schema
from personvern.demo.generator import MAILBOX_DATASET, national_id_forms
from personvern.demo.identifiers import written_forms
from personvern.demo.seed import FILE_FOLDERS, SIDECAR_SUFFIX
from personvern.demo.targets import DemoTargets

#: Fields the data map marks free_text in the demo's SQL systems.
FREE_TEXT_FIELDS = {
    "crm.prospects": ("notes",),
    "support.tickets": ("subject", "body"),
}


def _mentions(
    table: sa.Table, columns: tuple[str, ...], needles: list[str]
) -> sa.ColumnElement[bool]:
    clauses = [
        sa.func.lower(table.c[column]).contains(needle.lower(), autoescape=True)
        for column in columns
        for needle in needles
    ]
    return sa.or_(*clauses) if clauses else sa.false()


def _ids(conn: Connection, table: sa.Table, where: sa.ColumnElement[bool]) -> list[Any]:
    pk = next(iter(table.primary_key.columns))
    return sorted(conn.execute(sa.select(pk).where(where)).scalars())


def _sidecars(root: Path, system: str) -> list[dict[str, Any]]:
    folder = root / FILE_FOLDERS[system]
    if not folder.exists():
        return []
    return [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.rglob(f"*{SIDECAR_SUFFIX}"))
    ]


def ground_truth(targets: DemoTargets, customer_id: int) -> dict[str, list[Any]]:
    """Primary keys of every record about ``customer_id``, per "system.dataset" (all listed)."""
    truth: dict[str, list[Any]] = {name: [] for name in schema.TABLES}
    for system, dataset in schema.FILE_DATASETS.items():
        truth[f"{system}.{dataset}"] = []
    truth[MAILBOX_DATASET] = []
    engines: dict[str, sa.Engine] = {}

    def connect(system: str) -> Connection:
        url = targets.url(system)
        if url not in engines:
            engines[url] = sa.create_engine(url)
        return engines[url].connect()

    try:
        with connect("crm") as conn:
            customer = conn.execute(
                sa.select(schema.customers).where(schema.customers.c.id == customer_id)
            ).one_or_none()
            if customer is None:
                return truth
            needles = [customer.email]
            if customer.phone:
                needles += written_forms(customer.phone)
            if customer.national_id:
                needles += national_id_forms(customer.national_id)
            truth["crm.customers"] = [customer_id]
            employees = schema.designated_employees
            truth["crm.designated_employees"] = _ids(
                conn, employees, employees.c.customer_id == customer_id
            )
            prospects = schema.prospects
            truth["crm.prospects"] = _ids(
                conn,
                prospects,
                sa.or_(
                    prospects.c.email == customer.email,
                    prospects.c.phone == customer.phone if customer.phone else sa.false(),
                    _mentions(prospects, FREE_TEXT_FIELDS["crm.prospects"], needles),
                ),
            )
        employee_ids = truth["crm.designated_employees"]

        with connect("billing") as conn:
            invoices, lines = schema.invoices, schema.invoice_lines
            truth["billing.invoices"] = _ids(
                conn,
                invoices,
                sa.or_(
                    invoices.c.customer_id == customer_id,
                    invoices.c.billing_email == customer.email,
                ),
            )
            truth["billing.invoice_lines"] = (
                _ids(conn, lines, lines.c.invoice_id.in_(truth["billing.invoices"]))
                if truth["billing.invoices"]
                else []
            )

        with connect("access_control") as conn:
            cards = schema.security_cards
            truth["access_control.security_cards"] = _ids(
                conn,
                cards,
                sa.or_(
                    cards.c.customer_id == customer_id,
                    cards.c.employee_id.in_(employee_ids) if employee_ids else sa.false(),
                ),
            )

        with connect("support") as conn:
            tickets = schema.tickets
            truth["support.tickets"] = _ids(
                conn,
                tickets,
                sa.or_(
                    tickets.c.customer_id == customer_id,
                    tickets.c.requester_email == customer.email,
                    _mentions(tickets, FREE_TEXT_FIELDS["support.tickets"], needles),
                ),
            )

        with connect("analytics") as conn:
            events = schema.web_events
            own_cookies = sa.select(events.c.cookie_id).where(events.c.customer_id == customer_id)
            truth["analytics.web_events"] = _ids(
                conn,
                events,
                sa.or_(events.c.customer_id == customer_id, events.c.cookie_id.in_(own_cookies)),
            )

        with connect("marketing") as conn:
            subscriptions = schema.newsletter_subscriptions
            truth["marketing.newsletter_subscriptions"] = _ids(
                conn,
                subscriptions,
                sa.or_(
                    subscriptions.c.customer_id == customer_id,
                    subscriptions.c.email == customer.email,
                ),
            )
    finally:
        for engine in engines.values():
            engine.dispose()

    truth["telephony.call_recordings"] = sorted(
        sidecar["call_id"]
        for sidecar in _sidecars(targets.recordings_dir, "telephony")
        if sidecar["customer_id"] == customer_id
        or (customer.phone and sidecar["phone_number"] == customer.phone)
    )
    truth["identity_documents.identity_documents"] = sorted(
        sidecar["document_id"]
        for sidecar in _sidecars(targets.identity_documents_dir, "identity_documents")
        if sidecar["customer_id"] == customer_id
    )
    truth[MAILBOX_DATASET] = _messages(targets.mailbox_path, customer.email, needles)
    return truth


def _messages(database: Path, email: str, needles: list[str]) -> list[Any]:
    """Ids of the messages sent from ``email`` (any case) or mentioning a needle."""
    if not database.exists():
        return []  # never seeded: no mailbox, nothing in it (and no empty file created)
    engine = sa.create_engine(f"sqlite:///{database}")
    messages = mailbox.messages
    try:
        with engine.connect() as conn:
            return _ids(
                conn,
                messages,
                sa.or_(
                    sa.func.lower(messages.c.sender) == email.lower(),
                    _mentions(messages, ("body",), needles),
                ),
            )
    finally:
        engine.dispose()
