"""Identities and details with control or invisible characters are refused at the door.

They would reach mail headers (the code is mailed to the address) and staff terminals
(listings, the CLI), so intake answers 422 and stores and sends nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personvern.datamap.loader import load_datamap
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.text_input import UnsafeTextError
from personvern.intake.details import validate_details
from tests.conftest import EXAMPLE_DATAMAP
from tests.integration.intake.conftest import EMPTY, row_counts
from tests.integration.intake.smtp import Inbox

PROBLEM = "application/problem+json"
SLIPPED_IN = {
    "NUL": "\x00",
    "ESC": "\x1b",
    "BEL": "\x07",
    "RLO": "\u202e",
    "LRI": "\u2066",
    "ZWSP": "\u200b",
    "LINE SEPARATOR": "\u2028",
}
IDENTITIES = [
    ("email", "kari.nordmann@example.no"),
    ("phone_number", "+47 912 34 567"),
    ("national_id", "01017012343"),
    ("customer_id", "C-10042"),
]


@pytest.mark.parametrize("name", sorted(SLIPPED_IN))
@pytest.mark.parametrize(("kind", "value"), IDENTITIES)
def test_an_identity_with_a_control_character_is_a_422_and_stores_nothing(
    app: FastAPI, client: TestClient, inbox: Inbox, name: str, kind: str, value: str
) -> None:
    identities = [{"kind": "email", "value": "kari.nordmann@example.no"}]
    slipped = value[:4] + SLIPPED_IN[name] + value[4:]
    identities.append({"kind": kind, "value": slipped})

    response = client.post("/api/v1/requests", json={"type": "access", "identities": identities})

    assert (422, PROBLEM) == (response.status_code, response.headers["content-type"])
    problem = response.json()
    assert "Invisible or control characters" == problem["title"]
    assert "which is not allowed" in problem["detail"]
    assert SLIPPED_IN[name] not in response.text
    assert EMPTY == row_counts(app.state.context.application.store)
    assert [] == inbox.messages


@pytest.mark.parametrize("name", sorted(SLIPPED_IN))
def test_a_correction_with_a_control_character_is_a_422_and_stores_nothing(
    app: FastAPI, client: TestClient, inbox: Inbox, name: str
) -> None:
    corrections = {"user.contact.address": f"Storgata 1{SLIPPED_IN[name]}, 0155 Oslo"}
    body: dict[str, Any] = {
        "type": "rectification",
        "identities": [{"kind": "email", "value": "kari.nordmann@example.no"}],
        "details": {"corrections": corrections},
    }

    response = client.post("/api/v1/requests", json=body)

    assert (422, PROBLEM) == (response.status_code, response.headers["content-type"])
    assert "the new value of 'user.contact.address' contains" in response.json()["detail"]
    assert EMPTY == row_counts(app.state.context.application.store)
    assert [] == inbox.messages


# -- the details themselves ---------------------------------------------------------------

DATAMAP = load_datamap(EXAMPLE_DATAMAP).datamap


@pytest.mark.parametrize("name", sorted(SLIPPED_IN))
def test_correction_keys_values_and_purposes_are_checked(name: str) -> None:
    char = SLIPPED_IN[name]
    with pytest.raises(UnsafeTextError, match="the name of a correction"):
        validate_details(
            RequestType.RECTIFICATION,
            {"corrections": {f"user.contact{char}.address": "Storgata 1"}},
            DATAMAP,
        )
    with pytest.raises(UnsafeTextError, match="the new value"):
        validate_details(
            RequestType.RECTIFICATION,
            {"corrections": {"user.contact.address": f"Storgata{char} 1"}},
            DATAMAP,
        )
    purpose = DATAMAP.purposes[0].key
    with pytest.raises(UnsafeTextError, match="a purpose"):
        validate_details(RequestType.OBJECTION, {"purposes": [purpose + char]}, DATAMAP)


def test_a_new_value_may_span_lines() -> None:
    cleaned = validate_details(
        RequestType.RECTIFICATION,
        {"corrections": {"user.contact.address": "Storgata 1\r\n0155 Oslo"}},
        DATAMAP,
    )
    assert {"corrections": {"user.contact.address": "Storgata 1\r\n0155 Oslo"}} == cleaned


@pytest.mark.parametrize("name", sorted(SLIPPED_IN))
def test_a_staff_note_with_a_control_character_is_a_422_and_stores_nothing(
    app: FastAPI, client: TestClient, inbox: Inbox, make_token: Any, name: str
) -> None:
    from personvern.domain.roles import Role

    token = make_token(Role.AGENT)
    before = row_counts(app.state.context.application.store)
    response = client.post(
        "/api/v1/requests",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "type": "access",
            "identities": [{"kind": "email", "value": "kari.nordmann@example.no"}],
            "verification_method": "staff_in_person",
            "verification_note": f"passport{SLIPPED_IN[name]} checked",
        },
    )
    assert (422, "Invisible or control characters") == (
        response.status_code,
        response.json()["title"],
    )
    assert before == row_counts(app.state.context.application.store)


def test_an_extension_reason_with_an_escape_sequence_is_refused(
    app: FastAPI, client: TestClient, inbox: Inbox, make_token: Any
) -> None:
    from personvern.domain.roles import Role

    headers = {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
    filed = client.post(
        "/api/v1/requests",
        headers=headers,
        json={
            "type": "access",
            "identities": [{"kind": "email", "value": "kari.nordmann@example.no"}],
            "verification_method": "staff_in_person",
            "verification_note": "passport checked",
        },
    ).json()
    response = client.post(
        f"/api/v1/requests/{filed['id']}/extend",
        headers=headers,
        json={"reason": "many systems\x1b]0;pwned\x07 to search"},
    )
    assert 422 == response.status_code
    assert [] == inbox.messages
