"""A small, complete data map built in memory for the document rules (no files read)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from personvern.domain.datamap import DataMap

_BASE: dict[str, Any] = {
    "organization": {
        "name": "Testkonsern",
        "languages": ["nb", "en"],
        "controllers": [
            {
                "key": "tk-no",
                "name": "Testkonsern AS",
                "organization_number": "999888777",
                "address": "Storgata 1, 0155 Oslo",
                "country": "NO",
                "email": "personvern@test.example",
                "phone": "+47 12 34 56 78",
            },
            {
                "key": "tk-se",
                "name": "Testkonsern AB",
                "organization_number": "556000-0000",
                "address": "Drottninggatan 1, Stockholm",
                "country": "SE",
            },
        ],
        "contact": {"name": "Privacy team", "email": "personvern@test.example"},
        "dpo": {"name": "DPO", "email": "dpo@test.example"},
        "supervisory_authority": {
            "name": "Datatilsynet",
            "country": "NO",
            "url": "https://www.datatilsynet.no",
        },
        "security_measures": [{"nb": "Alt er kryptert.", "en": "Everything is encrypted."}],
        "risk_statement": {"nb": "Risiko finnes alltid.", "en": "Risk always remains."},
        "retention_principle": {"nb": "Så kort som mulig.", "en": "As short as possible."},
    },
    "taxonomy": {
        "data_categories": [
            {
                "key": "user.content.call_recording",
                "parent": "user.content",
                "name": {"nb": "Samtaleopptak", "en": "Call recording"},
            }
        ]
    },
    "subjects": [{"key": "customer", "name": {"nb": "Kunde", "en": "Customer"}}],
    "purposes": [
        {
            "key": "contract",
            "name": {"nb": "Avtale", "en": "Contract"},
            "description": {"nb": "Levere tjenesten.", "en": "Deliver the service."},
            "data_use": "essential.service",
            "legal_basis": "contract",
        },
        {
            "key": "bookkeeping",
            "name": {"nb": "Bokføring", "en": "Bookkeeping"},
            "description": {"nb": "Regnskap.", "en": "Accounts."},
            "data_use": "essential.legal_obligation",
            "legal_basis": "legal_obligation",
            "legal_reference": "bokføringsloven § 13",
        },
        {
            "key": "newsletter",
            "name": {"nb": "Nyhetsbrev", "en": "Newsletter"},
            "description": {"nb": "Sende nyhetsbrev.", "en": "Send newsletters."},
            "data_use": "marketing.communications.email",
            "legal_basis": "consent",
            "consent": {"nb": "Ja, send meg nyhetsbrev.", "en": "Yes, send me newsletters."},
        },
        {
            "key": "call_quality",
            "name": {"nb": "Samtalekvalitet", "en": "Call quality"},
            "description": {"nb": "Opptak av samtaler.", "en": "Recording calls."},
            "data_use": "essential.service.operations.improve",
            "legal_basis": "legitimate_interests",
            "legitimate_interest": {"nb": "Opplæring.", "en": "Training."},
        },
        {
            "key": "security",
            "name": {"nb": "Sikkerhet", "en": "Security"},
            "description": {"nb": "Sikre nettsiden.", "en": "Secure the site."},
            "data_use": "essential.service.security",
            "legal_basis": "legitimate_interests",
            "legitimate_interest": {"nb": "Vern mot angrep.", "en": "Protection from attacks."},
        },
    ],
    "systems": [
        {
            "key": "crm",
            "name": "CRM",
            "kind": "postgresql",
            "connection_env": "CRM_URL",
            "controller": "tk-no",
            "hosting_country": "NO",
            "description": {"nb": "Kunderegister.", "en": "Customer register."},
            "datasets": [
                {
                    "name": "customers",
                    "subjects": ["customer"],
                    "fields": [
                        {"name": "id", "primary_key": True},
                        {
                            "name": "email",
                            "identity": "email",
                            "category": "user.contact.email",
                            "purposes": ["contract", "newsletter"],
                        },
                        {
                            "name": "national_id",
                            "category": "user.government_id.national_identification_number",
                            "purposes": ["contract"],
                            "encrypted": True,
                        },
                        {
                            "name": "ip",
                            "category": "user.device.ip_address",
                            "purposes": ["security"],
                            "source": "observed",
                        },
                    ],
                },
                {
                    "name": "invoices",
                    "subjects": ["customer"],
                    "fields": [
                        {"name": "id", "primary_key": True},
                        {
                            "name": "amount",
                            "category": "user.financial",
                            "purposes": ["bookkeeping"],
                            "source": "derived",
                        },
                    ],
                },
            ],
        },
        {
            "key": "telephony",
            "name": "Telephony",
            "kind": "files",
            "connection_env": "REC_DIR",
            "controller": "tk-no",
            "description": {"nb": "Samtaleopptak.", "en": "Call recordings."},
            "collection_notice": {
                "nb": "Samtalen blir tatt opp.",
                "en": "The call is recorded.",
            },
            "datasets": [
                {
                    "name": "recordings",
                    "subjects": ["customer"],
                    "files": {
                        "pattern": "**/*.wav",
                        "content_category": "user.content.call_recording",
                        "content_purposes": ["call_quality"],
                    },
                    "fields": [{"name": "call_id", "primary_key": True}],
                }
            ],
        },
        {
            "key": "website",
            "name": "test.example",
            "kind": "web",
            "description": {"nb": "Nettside.", "en": "Web site."},
            "cookies": [
                {
                    "name": "sid",
                    "provider": "test.example",
                    "category": "strictly_necessary",
                    "duration": "session",
                    "description": {"nb": "Økt.", "en": "Session."},
                },
                {
                    "name": "stats",
                    "provider": "Stats Inc",
                    "category": "analytics",
                    "duration": "13 months",
                    "purpose": "security",
                    "third_party": True,
                    "description": {"nb": "Statistikk.", "en": "Statistics."},
                },
            ],
        },
    ],
    "retention": [
        {
            "key": "invoices",
            "dataset": "crm.invoices",
            "trigger": "financial_year_end",
            "period": "P5Y",
            "legal_hold": {
                "reference": "bokføringsloven § 13",
                "description": {"nb": "Primærdokumentasjon.", "en": "Primary documentation."},
            },
            "description": {"nb": "Fakturaer beholdes.", "en": "Invoices are kept."},
        },
        {
            "key": "recordings",
            "dataset": "telephony.recordings",
            "trigger": "collected",
            "period": "P90D",
            "description": {"nb": "Opptak slettes.", "en": "Recordings are deleted."},
        },
    ],
    "recipients": [
        {
            "key": "tk-in",
            "name": "Testkonsern India Pvt Ltd",
            "role": "group_entity",
            "country": "IN",
            "transfer": "scc_2021_module_2",
            "purposes": ["contract"],
            "categories": ["user.contact.email"],
            "recipient_category": {"nb": "Konsernselskaper", "en": "Group companies"},
        },
        {
            "key": "mailer",
            "name": "Mailer GmbH",
            "role": "processor",
            "country": "DE",
            "transfer": "eea",
            "purposes": ["newsletter"],
            "categories": ["user.contact.email"],
            "recipient_category": {"nb": "Utsendelse", "en": "Mailing"},
        },
        {
            "key": "phone-co",
            "name": "Phone Co",
            "role": "processor",
            "country": "NO",
            "transfer": "eea",
            "purposes": ["call_quality"],
            "categories": ["user.content.call_recording"],
            "recipient_category": {"nb": "Telefoni", "en": "Telephony"},
        },
    ],
}


def sample_datamap(change: Callable[[dict[str, Any]], None] | None = None) -> DataMap:
    """The sample map, optionally edited in its raw form by ``change`` before validation."""
    raw = copy.deepcopy(_BASE)
    if change is not None:
        change(raw)
    return DataMap.model_validate(raw)


def without_system(key: str) -> Callable[[dict[str, Any]], None]:
    """An edit that removes a system and the retention rules naming its datasets."""

    def change(raw: dict[str, Any]) -> None:
        raw["systems"] = [s for s in raw["systems"] if s["key"] != key]
        raw["retention"] = [
            r for r in raw["retention"] if not str(r.get("dataset", "")).startswith(f"{key}.")
        ]

    return change


def without_recipient(key: str) -> Callable[[dict[str, Any]], None]:
    """An edit that removes one recipient."""

    def change(raw: dict[str, Any]) -> None:
        raw["recipients"] = [r for r in raw["recipients"] if r["key"] != key]

    return change
