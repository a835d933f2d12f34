"""A subject's collected data, shaped like the example company's data map, built by hand.

Åse Ødegård is a customer (crm.customers) with two invoices, one support ticket of her
own with a hostile subject line, one recorded call (a real, tiny WAV file) and a
mention in a ticket another person wrote.
"""

from __future__ import annotations

import wave
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import BinaryIO

from personvern.connectors.port import ExportedFile, Record
from personvern.datamap.loader import load_datamap
from personvern.domain.datamap import DataMap, IdentityKind
from personvern.domain.requests.collected import CollectedData, CollectedDataset
from personvern.domain.requests.identity import SubjectIdentity
from personvern.domain.requests.lifecycle import RequestType
from tests.conftest import EXAMPLE_DATAMAP

RECEIVED = datetime(2025, 3, 3, 9, 15, tzinfo=UTC)
GENERATED = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert('x')</script> & «hei»"
MENTION = "Kunden Åse ringte fra +47 912 34 567 om nøkkelkortet § 3"

CUSTOMER = Record(
    key=4711,
    values={
        "id": 4711,
        "company_name": "Blåbær & Co AS",
        "organization_number": "912345678",
        "contact_name": "Åse Ødegård",
        "email": "ase.odegard@example.no",
        "phone": "+4791234567",
        "address": "Storgata 5, 0155 Oslo",
        "preferred_language": "nb",
        "national_id": "01019012345",
        "contract_start": date(2021, 1, 1),
        "contract_end": None,
        "last_contact_at": datetime(2025, 2, 28, 14, 30, tzinfo=UTC),
        "created_at": datetime(2020, 12, 15, 8, 0, tzinfo=UTC),
    },
    matched_fields=frozenset({"email"}),
)
INVOICES = (
    Record(
        key=9002,
        values={
            "id": 9002,
            "customer_id": 4711,
            "invoice_number": "2024-0042",
            "issued_on": date(2024, 11, 30),
            "due_on": date(2024, 12, 14),
            "amount": Decimal("12500.50"),
            "currency": "NOK",
            "billing_name": "Åse Ødegård",
            "billing_email": "faktura@blabaer.example",
            "billing_address": "Postboks 12, 0101 Oslo",
            "paid_on": None,
        },
        matched_fields=frozenset({"customer_id"}),
    ),
    Record(
        key=9001,
        values={
            "id": 9001,
            "customer_id": 4711,
            "invoice_number": "2024-0007",
            "issued_on": date(2024, 2, 29),
            "due_on": date(2024, 3, 14),
            "amount": Decimal("980.00"),
            "currency": "NOK",
            "billing_name": "Åse Ødegård",
            "billing_email": "faktura@blabaer.example",
            "billing_address": "Postboks 12, 0101 Oslo",
            "paid_on": date(2024, 3, 10),
        },
        matched_fields=frozenset({"customer_id"}),
    ),
)
OWN_TICKET = Record(
    key=501,
    values={
        "id": 501,
        "customer_id": 4711,
        "requester_email": "ase.odegard@example.no",
        "subject": HOSTILE,
        "body": "Møterommet på Aker Brygge var dobbeltbooket.",
        "created_at": datetime(2025, 1, 10, 10, 0, tzinfo=UTC),
        "closed_at": None,
    },
    matched_fields=frozenset({"requester_email", "customer_id"}),
)
# Another customer's ticket that mentions Åse: only the body may be shown to her.
MENTIONING_TICKET = Record(
    key=777,
    values={
        "id": 777,
        "customer_id": 5000,
        "requester_email": "kari.nordmann@other.example",
        "subject": "Kari sin private sak",
        "body": MENTION,
        "created_at": datetime(2025, 1, 12, 9, 0, tzinfo=UTC),
        "closed_at": None,
    },
    matched_fields=frozenset({"body"}),
)
RECORDING = Record(
    key="call-001",
    values={
        "call_id": "call-001",
        "customer_id": 4711,
        "phone_number": "+4791234567",
        "started_at": datetime(2025, 2, 28, 14, 30, tzinfo=UTC),
        "duration_seconds": 95,
        "agent": "agent-7",
        "direction": "inbound",
    },
    matched_fields=frozenset({"phone_number"}),
)


@cache
def example_datamap() -> DataMap:
    """The example company's data map, loaded once per test session."""
    return load_datamap(EXAMPLE_DATAMAP).datamap


def write_wav(path: Path) -> bytes:
    """A real, tiny WAV file (0.01 s of silence); returns its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 80)
    return path.read_bytes()


def recording_file(path: Path) -> ExportedFile:
    """The call recording as the files connector hands it over."""

    def opener() -> BinaryIO:
        return path.open("rb")

    return ExportedFile(
        dataset="call_recordings",
        key="call-001",
        name=path.name,
        media_type="audio/wav",
        size=path.stat().st_size,
        open=opener,
    )


def collected(
    recording: Path | None = None,
    *,
    language: str = "nb",
    request_type: RequestType = RequestType.ACCESS,
    with_recordings: bool = True,
) -> CollectedData:
    """Åse's data; without ``recording`` (or with_recordings=False) no telephony at all."""
    datasets = [
        CollectedDataset("crm", "customers", (CUSTOMER,)),
        CollectedDataset("billing", "invoices", INVOICES, kept_reason="bokføringsloven § 13"),
        CollectedDataset("support", "tickets", (OWN_TICKET, MENTIONING_TICKET)),
    ]
    if with_recordings and recording is not None:
        datasets.append(
            CollectedDataset(
                "telephony", "call_recordings", (RECORDING,), files=(recording_file(recording),)
            )
        )
    return CollectedData(
        request_id="req_Q2xh9vY3pT",
        request_type=request_type,
        language=language,
        received_at=RECEIVED,
        identities=(
            SubjectIdentity(IdentityKind.EMAIL, "ase.odegard@example.no"),
            SubjectIdentity(IdentityKind.PHONE_NUMBER, "+4791234567"),
        ),
        datasets=tuple(datasets),
    )


def nobody(language: str = "en") -> CollectedData:
    """A request whose identities matched nobody."""
    return CollectedData(
        request_id="req_nobody0001",
        request_type=RequestType.ACCESS,
        language=language,
        received_at=RECEIVED,
        identities=(SubjectIdentity(IdentityKind.EMAIL, "ukjent@example.no"),),
        datasets=(CollectedDataset("crm", "customers", ()),),
    )
