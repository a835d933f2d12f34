"""A handful of the example company's records, shaped like its data map, for the walk tests."""

from __future__ import annotations

from datetime import date
from typing import Any

ANN = "ann.berg@kunde.example"
ANN_PHONE = "+4791234567"
# A valid fødselsnummer: one failing its check digits is unreadable, and searched for nowhere.
ANN_NATIONAL_ID = "01017012343"
TODAY = date(2026, 11, 25)


def company_rows() -> dict[str, list[dict[str, Any]]]:
    """Two customers, one designated employee, invoices old and new, tickets, web events."""
    return {
        "crm.customers": [
            {
                "id": 1,
                "company_name": "Berg AS",
                "contact_name": "Ann Berg",
                "email": ANN,
                "phone": ANN_PHONE,
                "national_id": ANN_NATIONAL_ID,
                "address": "Gata 1",
            },
            {
                "id": 2,
                "company_name": "Dahl AS",
                "contact_name": "Bo Dahl",
                "email": "bo@dahl.example",
                "phone": "+4798765432",
                "national_id": None,
                "address": "Vei 2",
            },
        ],
        "crm.designated_employees": [
            {
                "id": 10,
                "customer_id": 1,
                "name": "Eva Ek",
                "email": "eva@kunde.example",
                "phone": None,
            },
            {
                "id": 11,
                "customer_id": 2,
                "name": "Kim Ko",
                "email": "kim@dahl.example",
                "phone": None,
            },
        ],
        "crm.prospects": [
            {"id": 50, "name": "Ann Berg", "email": ANN.upper(), "phone": None, "notes": None},
            {
                "id": 51,
                "name": "Per Pan",
                "email": "per@pan.example",
                "phone": None,
                "notes": "Kjenner Ann, ring 912 34 567.",
            },
        ],
        "billing.invoices": [
            {
                "id": 100,
                "customer_id": 1,
                "issued_on": date(2025, 3, 1),
                "billing_email": "accounts@kunde.example",
                "billing_name": "Ann Berg",
            },
            {
                "id": 101,
                "customer_id": 1,
                "issued_on": date(2019, 6, 1),
                "billing_email": ANN,
                "billing_name": "Ann Berg",
            },
            {
                "id": 102,
                "customer_id": 2,
                "issued_on": date(2025, 3, 1),
                "billing_email": "bo@dahl.example",
                "billing_name": "Bo Dahl",
            },
        ],
        "billing.invoice_lines": [
            {"id": 1000, "invoice_id": 100, "description": "Kontor", "amount": 10},
            {"id": 1001, "invoice_id": 101, "description": "Post", "amount": 5},
            {"id": 1002, "invoice_id": 102, "description": "Kontor", "amount": 10},
        ],
        "access_control.security_cards": [
            {"id": 7, "customer_id": 1, "employee_id": 10, "holder_name": "Eva Ek"},
            {"id": 8, "customer_id": 2, "employee_id": None, "holder_name": "Bo Dahl"},
        ],
        "support.tickets": [
            {
                "id": 300,
                "customer_id": 1,
                "requester_email": "eva@kunde.example",
                "subject": "Nøkkelkort",
                "body": "Hei",
            },
            {
                "id": 301,
                "customer_id": 2,
                "requester_email": "bo@dahl.example",
                "subject": "Faktura",
                "body": f"Spør {ANN.upper()} om dette",
            },
            {
                "id": 302,
                "customer_id": 2,
                "requester_email": "bo@dahl.example",
                "subject": "Annet",
                "body": "Fnr 010170 12343 står her",
            },
        ],
        "analytics.web_events": [
            {"id": 1, "cookie_id": "c-ann", "customer_id": 1, "url": "/min-side"},
            {"id": 2, "cookie_id": "c-ann", "customer_id": None, "url": "/"},
            {"id": 3, "cookie_id": "c-other", "customer_id": None, "url": "/"},
        ],
        "marketing.newsletter_subscriptions": [
            {"id": 1, "email": ANN, "customer_id": 1, "unsubscribed_at": None},
            {"id": 2, "email": "eva@kunde.example", "customer_id": None, "unsubscribed_at": None},
        ],
        "telephony.call_recordings": [
            {"call_id": "call-a", "customer_id": None, "phone_number": ANN_PHONE},
            {"call_id": "call-b", "customer_id": 2, "phone_number": "+4798765432"},
        ],
        "identity_documents.identity_documents": [
            {"document_id": "doc-a", "customer_id": 1, "document_type": "passport"},
        ],
    }
