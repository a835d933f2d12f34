"""The reported attack, end to end: a code proving ``eivind.nilſen@…`` opens only its own records.

Someone who controls a mailbox whose name differs from a customer's by one lookalike
letter (a long s for an s) files an access request through the public API, proves
their own address with the mailed code, and waits for the answer. It must hold their
own records and nothing of the customer's: not the customer's mail, nor the messages
and notes that mention the customer. The company here is small and built for the case:
the CRM on SQLite, PostgreSQL and MariaDB, and the demo mailbox (a webhook system
comparing e-mail by Unicode case folding, as a careless system would).
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.demo import mailbox, schema
from personvern.demo.mailbox import serve_mailbox
from personvern.domain.roles import Role
from personvern.security.tokens import issue_token
from personvern.settings import Settings
from tests.conftest import EXAMPLE_DATAMAP
from tests.integration.intake.smtp import Inbox
from tests.support.servers import fresh_database

#: Columns the demo's customers table requires beyond these tests' concern (it grows).
REQUIRED = {"country": "NO"} if "country" in schema.customers.c else {}

CUSTOMER = "eivind.nilsen@example.no"
LOOKALIKE = "eivind.nil\u017fen@example.no"
MAILBOX_SECRET = "lookalike-mailbox-secret-0123456789abcdef"
FINAL = {"completed", "partially_completed", "rejected", "needs_review", "waiting_for_system"}
WHEN = datetime(2026, 3, 1, 9, 30)


def _crm(url: str) -> None:
    """The customer, the lookalike's own prospect record, and a note about the customer."""
    engine = sa.create_engine(url)
    try:
        schema.crm.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                schema.customers.insert().values(
                    id=1,
                    company_name="Nilsen Regnskap AS",
                    contact_name="Eivind Nilsen",
                    email=CUSTOMER,
                    phone="+4791111111",
                    preferred_language="nb",
                    **REQUIRED,
                    contract_start=WHEN.date(),
                    created_at=WHEN,
                )
            )
            conn.execute(
                schema.prospects.insert(),
                [
                    {"id": 10, "name": "E. N.", "email": LOOKALIKE, "created_at": WHEN},
                    {
                        "id": 11,
                        "name": "Ola Hansen",
                        "email": "ola@example.no",
                        "notes": f"Kjenner {CUSTOMER.upper()}, ring ham.",
                        "created_at": WHEN,
                    },
                ],
            )
    finally:
        engine.dispose()


def _mailbox(path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            mailbox.create_tables(conn)
            conn.execute(
                mailbox.messages.insert(),
                [
                    {"message_id": "m-1", "sender": CUSTOMER, "body": "Faktura?", "sent_at": WHEN},
                    {"message_id": "m-2", "sender": LOOKALIKE, "body": "Hei.", "sent_at": WHEN},
                    {
                        "message_id": "m-3",
                        "sender": "ola@example.no",
                        "body": f"Send kopi til {CUSTOMER}.",
                        "sent_at": WHEN,
                    },
                ],
            )
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def client(
    request: pytest.FixtureRequest, inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The app over the small company, mailing codes to the test SMTP server."""
    with ExitStack() as stack:
        kind = str(request.param)
        if kind == "sqlite":
            crm_url = f"sqlite:///{tmp_path / 'crm.sqlite'}"
        else:
            crm_url = stack.enter_context(fresh_database(kind))
        _crm(crm_url)
        _mailbox(tmp_path / "mailbox.sqlite")
        mailbox_url = stack.enter_context(
            serve_mailbox(tmp_path / "mailbox.sqlite", MAILBOX_SECRET)
        )
        monkeypatch.setenv("PERSONVERN_DEMO_CRM_URL", crm_url)
        monkeypatch.setenv("PERSONVERN_M365_WEBHOOK_URL", mailbox_url)
        monkeypatch.setenv("PERSONVERN_M365_WEBHOOK_URL_SECRET", MAILBOX_SECRET)
        settings = Settings(  # type: ignore[call-arg]
            home=tmp_path / "home",
            secret_key="lookalike-test-secret-0123456789abcdef",  # type: ignore[arg-type]
            smtp_host=inbox.host,
            smtp_port=inbox.port,
        )
        app = create_app(settings, EXAMPLE_DATAMAP)
        with TestClient(app, client=("198.51.100.9", 40000)) as test_client:
            with app.state.context.application.unit_of_work() as uow:
                token = issue_token(uow.session, name="dpo", role=Role.PRIVACY_OFFICER).token
            test_client.headers["Authorization"] = f"Bearer {token}"
            test_client.headers["X-Personvern-Purpose"] = "legal_compliance"
            yield test_client


def _public(client: TestClient, method: str, url: str, **kwargs: Any) -> Any:
    headers = {k: v for k, v in client.headers.items() if k.lower() != "authorization"}
    return client.request(method, url, headers=headers, **kwargs)


def _wait(client: TestClient, request_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/api/v1/requests/{request_id}").json()
        if body["state"] in FINAL:
            return body
        time.sleep(0.05)
    raise AssertionError(f"request {request_id} did not finish in {timeout} s")


def _exported(archive: bytes) -> dict[str, set[str]]:
    """Per "system.dataset", the keys of the records the export holds."""
    keys: dict[str, set[str]] = {}
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        for name in zipped.namelist():
            parts = name.split("/")
            if parts[0] == "export" and name.endswith(".json"):
                records = json.loads(zipped.read(name))
                key = {"messages": "message_id"}.get(parts[2].removesuffix(".json"), "id")
                keys[f"{parts[1]}.{parts[2].removesuffix('.json')}"] = {
                    str(r[key]) for r in records
                }
    return keys


def _everything(archive: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        return "\n".join(zipped.read(n).decode("utf-8", "replace") for n in zipped.namelist())


def test_a_code_for_a_lookalike_address_opens_only_its_own_records(
    client: TestClient, inbox: Inbox
) -> None:
    filed = _public(
        client,
        "POST",
        "/api/v1/requests",
        json={"type": "access", "identities": [{"kind": "email", "value": LOOKALIKE}]},
    )
    assert 201 == filed.status_code, filed.text
    request_id = filed.json()["id"]
    # The code went to the lookalike mailbox, the only one its sender controls.
    assert [] == inbox.to(CUSTOMER)
    code = inbox.last_code(LOOKALIKE)
    verified = _public(client, "POST", f"/api/v1/requests/{request_id}/verify", json={"code": code})
    assert 200 == verified.status_code, verified.text

    assert 202 == client.post(f"/api/v1/requests/{request_id}/run").status_code
    done = _wait(client, request_id)
    assert done["state"] in ("completed", "partially_completed"), done

    links = client.get(f"/api/v1/requests/{request_id}/downloads").json()
    files = {link["name"]: _public(client, "GET", link["url"]).content for link in links}
    assert {"crm.prospects": {"10"}, "email.messages": {"m-2"}} == _exported(files["export.zip"])
    for name, content in files.items():
        text = content.decode("utf-8", "replace") if name.endswith(".html") else ""
        text += _everything(content) if name.endswith(".zip") else ""
        assert "eivind.nilsen" not in text.lower(), name
        assert "Nilsen Regnskap" not in text, name
