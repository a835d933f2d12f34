"""A small company whose files have no sidecars, as data: its data map, rows and files.

ID documents are owned by their path (``ids/{customer_id}/{document_id}.pdf``), call
recordings by the ``telephony.calls.recording_path`` column naming them. Kari has two
recorded calls, one unrecorded call and two documents; Ola one recorded call, one call
whose recording is missing and one document; Per a customer record and nothing else.
The integration tests seed it into SQLite, PostgreSQL or MariaDB and two folders
(tests/integration/connectors/files_company_seed.py); the unit tests search it in memory.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from personvern.domain.datamap import DataMap

KARI = "kari.nordmann@example.no"
OLA = "ola.hansen@example.no"
PER = "per.berg@example.no"
#: What each system's connection_env is called.
CONNECTIONS = {
    "crm": "PV_FILES_CRM_URL",
    "telephony": "PV_FILES_TELEPHONY_URL",
    "recordings": "PV_FILES_RECORDINGS_DIR",
    "documents": "PV_FILES_DOCUMENTS_DIR",
}
RECORDINGS = "recordings.call_recordings"
DOCUMENTS = "documents.id_documents"

_NAMES = {"nb": "Navn", "en": "Name"}


def _label(nb: str, en: str) -> dict[str, str]:
    return {"nb": nb, "en": en}


def _system(key: str, kind: str, datasets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "key": key,
        "name": key.title(),
        "kind": kind,
        "connection_env": CONNECTIONS[key],
        "controller": "lyd-no",
        "hosting_country": "NO",
        "description": _label(key, key),
        "datasets": datasets,
    }


_DOCUMENT: dict[str, Any] = {
    "organization": {
        "name": "Lyd og Bilde AS",
        "languages": ["nb", "en"],
        "controllers": [
            {
                "key": "lyd-no",
                "name": "Lyd og Bilde AS",
                "organization_number": "999888777",
                "address": "Storgata 1, 0155 Oslo",
                "country": "NO",
            }
        ],
        "contact": {"name": "Personvern", "email": "personvern@lyd.example"},
        "supervisory_authority": {
            "name": "Datatilsynet",
            "country": "NO",
            "url": "https://www.datatilsynet.no",
        },
    },
    "taxonomy": {
        "data_categories": [
            {
                "key": "user.content.call_recording",
                "parent": "user.content",
                "name": _label("Samtaleopptak", "Call recording"),
            }
        ]
    },
    "subjects": [{"key": "customer", "name": _label("Kunde", "Customer")}],
    "purposes": [
        {
            "key": "contract",
            "name": _label("Avtale", "Contract"),
            "description": _label("Levere tjenesten.", "Deliver the service."),
            "data_use": "essential.service",
            "legal_basis": "contract",
        },
        {
            "key": "identity_check",
            "name": _label("Identitetskontroll", "Identity check"),
            "description": _label("Kontroll av legitimasjon.", "Checking identity."),
            "data_use": "essential.legal_obligation",
            "legal_basis": "legal_obligation",
            "legal_reference": "hvitvaskingsloven § 12",
        },
    ],
    "systems": [
        _system(
            "crm",
            "postgresql",
            [
                {
                    "name": "customers",
                    "subjects": ["customer"],
                    "fields": [
                        {"name": "customer_id", "primary_key": True, "identity": "customer_id"},
                        {
                            "name": "name",
                            "label": _NAMES,
                            "category": "user.name",
                            "purposes": ["contract"],
                        },
                        {
                            "name": "email",
                            "identity": "email",
                            "category": "user.contact.email",
                            "purposes": ["contract"],
                        },
                        {
                            "name": "phone",
                            "identity": "phone_number",
                            "category": "user.contact.phone_number",
                            "purposes": ["contract"],
                        },
                    ],
                }
            ],
        ),
        _system(
            "telephony",
            "postgresql",
            [
                {
                    "name": "calls",
                    "subjects": ["customer"],
                    "fields": [
                        {"name": "call_id", "primary_key": True},
                        {"name": "customer_id", "references": "crm.customers.customer_id"},
                        {
                            "name": "phone",
                            "identity": "phone_number",
                            "category": "user.contact.phone_number",
                            "purposes": ["contract"],
                        },
                        {
                            "name": "started_at",
                            "category": "user.behavior",
                            "purposes": ["contract"],
                        },
                        {"name": "recording_path"},
                    ],
                }
            ],
        ),
        _system(
            "recordings",
            "files",
            [
                {
                    "name": "call_recordings",
                    "subjects": ["customer"],
                    "files": {
                        "pattern": "calls/**/*.wav",
                        "owner": {"column": "telephony.calls.recording_path"},
                        "content_category": "user.content.call_recording",
                        "content_purposes": ["contract"],
                        "media_type": "audio/wav",
                    },
                    "fields": [
                        {"name": "path", "primary_key": True},
                        {"name": "modified_at"},
                    ],
                }
            ],
        ),
        _system(
            "documents",
            "files",
            [
                {
                    "name": "id_documents",
                    "subjects": ["customer"],
                    "files": {
                        "pattern": "ids/**/*.pdf",
                        "owner": {"path": "ids/{customer_id}/{document_id}.pdf"},
                        "content_category": "user.government_id",
                        "content_purposes": ["identity_check"],
                        "media_type": "application/pdf",
                    },
                    "fields": [
                        {"name": "document_id", "primary_key": True},
                        {"name": "customer_id", "references": "crm.customers.customer_id"},
                        {"name": "modified_at"},
                    ],
                }
            ],
        ),
    ],
}

#: A legal hold on the calls: every call is kept ten years from when it started.
CALLS_HELD = {
    "key": "calls",
    "dataset": "telephony.calls",
    "trigger": "collected",
    "trigger_field": "started_at",
    "period": "P10Y",
    "legal_hold": {"reference": "tvisteloven § 26-6", "description": _label("Bevis.", "Proof.")},
    "description": _label("Ti år.", "Ten years."),
}
#: A legal hold on the recordings of their own: kept ten years from the file's time.
RECORDINGS_HELD = {
    "key": "recordings",
    "dataset": RECORDINGS,
    "trigger": "collected",
    "trigger_field": "modified_at",
    "period": "P10Y",
    "legal_hold": {
        "reference": "opptaksforskriften § 3",
        "description": _label("Bevis.", "Proof."),
    },
    "description": _label("Ti år.", "Ten years."),
}


def datamap_document(retention: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The data map as one YAML document's content, with these retention rules."""
    document = copy.deepcopy(_DOCUMENT)
    document["retention"] = [dict(rule) for rule in retention]
    return document


def datamap(retention: Iterable[Mapping[str, Any]] = ()) -> DataMap:
    """The data map, validated as the loader's model does (no files read)."""
    return DataMap.model_validate(datamap_document(retention))


def rows() -> dict[str, list[dict[str, Any]]]:
    """Every row, by "system.dataset"."""
    return {
        "crm.customers": [
            {"customer_id": 1, "name": "Kari Nordmann", "email": KARI, "phone": "+4791234567"},
            {"customer_id": 2, "name": "Ola Hansen", "email": OLA, "phone": "+4798765432"},
            {"customer_id": 3, "name": "Per Berg", "email": PER, "phone": None},
        ],
        "telephony.calls": [
            _call(10, 1, "+4791234567", datetime(2026, 1, 5, 9, 0), "calls/2026/01/call-10.wav"),
            _call(11, 1, "+4791234567", datetime(2026, 2, 7, 14, 30), "calls/2026/02/call-11.wav"),
            _call(12, 2, "+4798765432", datetime(2026, 1, 9, 11, 15), "calls/2026/01/call-12.wav"),
            _call(13, 1, "+4791234567", datetime(2026, 3, 1, 8, 45), None),
            # Its recording was never stored (or was lost): the row names a missing file.
            _call(14, 2, "+4798765432", datetime(2026, 3, 2, 16, 0), "calls/2026/03/call-14.wav"),
        ],
    }


def _call(
    call_id: int, customer_id: int, phone: str, started_at: datetime, path: str | None
) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "customer_id": customer_id,
        "phone": phone,
        "started_at": started_at,
        "recording_path": path,
    }


#: The recordings store's files by path (call 14's is missing).
RECORDING_FILES = {
    "calls/2026/01/call-10.wav": b"RIFF call 10",
    "calls/2026/02/call-11.wav": b"RIFF call 11",
    "calls/2026/01/call-12.wav": b"RIFF call 12",
}
#: The documents store's files by path.
DOCUMENT_FILES = {
    "ids/1/pass-1.pdf": b"%PDF pass of Kari",
    "ids/1/licence-2.pdf": b"%PDF licence of Kari",
    "ids/2/pass-3.pdf": b"%PDF pass of Ola",
}
