"""Web forms signed in their text: the sender sees them whole, a neighbour only the text.

On Nordavind Strøm AS (tests/support/second_company), one web-form sender signs two
forms "Navn: … E-post: …", one of which names a neighbour who is a customer. The
message field is marked ``names_sender``. test_requests checks which records each
answer holds; this checks what it shows of them, on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.engine.runner import RequestEngine
from tests.integration.second_company.conftest import Nordavind
from tests.support.company import file_request
from tests.support.second_company.generator import Subject, generate

COMPANY = generate()
FORMS = "kundeservice.skjema_henvendelser"
SENDER = next(s for s in COMPANY.subjects if s.scenario == "web-form-sender")
NEIGHBOUR = next(s for s in COMPANY.subjects if s.scenario == "mentioned-by-others")


def _forms_in_answer(engine: RequestEngine, subject: Subject) -> dict[str, dict[str, Any]]:
    """The web forms the subject's access answer exports, by key, as the zip holds them."""
    identities = [{"kind": kind, "value": value} for kind, value in subject.identities]
    request_id = file_request(engine, RequestType.ACCESS, identities)
    outcome = engine.run(request_id)
    assert RequestState.COMPLETED == outcome.state, outcome.message
    # Opened through the engine: the file in the home is sealed under the subject's key.
    path = io.BytesIO(engine.read_answer(request_id, "export.zip"))
    with zipfile.ZipFile(path) as archive:
        forms = json.loads(archive.read("export/kundeservice/skjema_henvendelser.json"))
    return {str(form["skjema_id"]): form for form in forms}


def test_the_sender_sees_each_form_they_signed_whole(nordavind: Nordavind) -> None:
    signed = sorted(c.key for c in SENDER.claims if c.dataset == FORMS)

    forms = _forms_in_answer(nordavind.engine(), SENDER)

    # Every field, as the export writes it (times in ISO 8601).
    assert {
        key: {**COMPANY.row(FORMS, key), "mottatt": COMPANY.row(FORMS, key)["mottatt"].isoformat()}
        for key in signed
    } == forms


def test_the_neighbour_sees_of_the_senders_form_only_its_key_and_text(
    nordavind: Nordavind,
) -> None:
    (mentioned,) = (c.key for c in NEIGHBOUR.claims if c.dataset == FORMS)
    row = COMPANY.row(FORMS, mentioned)

    forms = _forms_in_answer(nordavind.engine(), NEIGHBOUR)

    assert {mentioned: {"skjema_id": int(mentioned), "melding": row["melding"]}} == forms
