"""Staff release the answer and personvern mails it: links for access, a letter for erasure.

Before, staff had to copy relative download links by hand and nothing recorded that
(or how) the subject was answered.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from personvern.api.app import create_app
from personvern.domain.roles import Role
from personvern.security.tokens import issue_token
from personvern.settings import Settings
from tests.conftest import EXAMPLE_DATAMAP
from tests.integration.intake.smtp import Inbox, smtp_server, text_of
from tests.support.company import Company, _company

BASE = "https://privacy.nordicworkspace.example"
FINAL = {"completed", "partially_completed", "rejected", "needs_review", "waiting_for_system"}


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    """The demo company in SQLite."""
    home = tmp_path_factory.mktemp("company")
    with _company("sqlite", f"sqlite:///{home / 'company.sqlite'}", home) as seeded:
        yield seeded


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    """A real SMTP server personvern mails through."""
    with smtp_server() as received:
        yield received


def make_client(
    company: Company, inbox: Inbox, home: Path, monkeypatch: pytest.MonkeyPatch, **settings: Any
) -> tuple[TestClient, dict[str, str]]:
    """The app on a fresh store, and a privacy officer's Authorization header."""
    for name, value in company.environ.items():
        monkeypatch.setenv(name, value)
    app = create_app(
        Settings(home=home, smtp_host=inbox.host, smtp_port=inbox.port, **settings),
        EXAMPLE_DATAMAP,
    )
    client = TestClient(app)
    client.__enter__()
    with app.state.context.application.unit_of_work() as uow:
        token = issue_token(uow.session, name="dpo", role=Role.PRIVACY_OFFICER).token
    return client, {"Authorization": f"Bearer {token}", "X-Personvern-Purpose": "legal_compliance"}


def public_access(client: TestClient, inbox: Inbox, email: str, language: str | None) -> str:
    """An access request the subject filed and proved with the mailed code."""
    body: dict[str, Any] = {"type": "access", "identities": [{"kind": "email", "value": email}]}
    if language:
        body["language"] = language
    request_id: str = client.post("/api/v1/requests", json=body).json()["id"]
    verified = client.post(
        f"/api/v1/requests/{request_id}/verify", json={"code": inbox.last_code(email)}
    )
    assert 200 == verified.status_code, verified.text
    return request_id


def finish(client: TestClient, headers: dict[str, str], request_id: str) -> dict[str, Any]:
    """Run the request and wait until it has ended."""
    assert 202 == client.post(f"/api/v1/requests/{request_id}/run", headers=headers).status_code
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/api/v1/requests/{request_id}", headers=headers).json()
        if body["state"] in FINAL:
            return body
        time.sleep(0.05)
    raise AssertionError("the run did not end")


def test_an_access_answer_is_mailed_with_links_in_the_subjects_language(
    company: Company, inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, staff = make_client(
        company, inbox, tmp_path / "home", monkeypatch, public_base_url=BASE
    )
    email = str(company.customers()[0].email)
    request_id = public_access(client, inbox, email, language="en")
    finish(client, staff, request_id)
    inbox.clear()

    sent = client.post(f"/api/v1/requests/{request_id}/send-answer", headers=staff)
    assert 200 == sent.status_code, sent.text
    assert "The answer to your request for access" == sent.json()["subject"]
    [mail] = inbox.to(email)
    assert "The answer to your request for access" == mail["Subject"]
    text = text_of(mail)
    links = re.findall(rf"{re.escape(BASE)}(/api/v1/downloads/\S+)", text)
    assert len(links) == len(sent.json()["links"]) >= 2
    assert "you may complain to" in text
    # The subject downloads through the mailed link.
    assert 200 == client.get(links[0]).status_code
    detail = client.get(f"/api/v1/requests/{request_id}", headers=staff).json()
    assert [entry["by"] for entry in detail["receipt"]["answers_sent"]] == [
        detail["events"][-2]["actor"]
    ]
    assert any(e["message"].startswith("answer mailed to ") for e in detail["events"])
    client.__exit__(None, None, None)


def test_links_are_not_mailed_without_a_public_address(
    company: Company, inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, staff = make_client(company, inbox, tmp_path / "home", monkeypatch)
    email = str(company.customers()[1].email)
    request_id = public_access(client, inbox, email, language="nb")
    finish(client, staff, request_id)
    inbox.clear()
    refused = client.post(f"/api/v1/requests/{request_id}/send-answer", headers=staff)
    assert (409, "set PERSONVERN_PUBLIC_BASE_URL, e.g. https://privacy.example.com") == (
        refused.status_code,
        refused.json()["hint"],
    )
    assert [] == inbox.messages
    client.__exit__(None, None, None)


def test_an_erasure_is_confirmed_by_a_letter_naming_what_the_law_keeps(
    company: Company, inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, staff = make_client(
        company, inbox, tmp_path / "home", monkeypatch, public_base_url=BASE, four_eyes="off"
    )
    email = str(company.customers()[2].email)
    body = {"type": "erasure", "identities": [{"kind": "email", "value": email}], "language": "nb"}
    request_id = client.post("/api/v1/requests", json=body).json()["id"]
    client.post(f"/api/v1/requests/{request_id}/verify", json={"code": inbox.last_code(email)})
    finished = finish(client, staff, request_id)
    for task in finished["tasks"]:
        if task["status"] == "open":
            done = client.post(
                f"/api/v1/requests/{request_id}/tasks/{task['id']}/done",
                json={"note": "erasure notice sent"},
                headers=staff,
            )
            assert 200 == done.status_code, done.text
    url = f"/api/v1/requests/{request_id}"
    assert "completed" == client.get(url, headers=staff).json()["state"]
    inbox.clear()

    assert 200 == client.post(f"{url}/send-answer", headers=staff).status_code
    [mail] = inbox.to(email)
    text = text_of(mail)
    assert "Vi har slettet personopplysningene dine" == mail["Subject"]
    # The letter was the address's last use: the subject's data key is destroyed.
    assert [] == client.get(url, headers=staff).json()["identities"]
    assert "/api/v1/downloads/" not in text
    for name, kept in finished["receipt"]["kept"].items():
        if kept["reason"]:
            assert kept["reason"] in text, name
    assert "Vennlig hilsen" in text
    client.__exit__(None, None, None)


def test_a_british_customers_approved_erasure_is_confirmed_in_english_by_the_uk_company(
    company: Company, inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from personvern.demo import schema

    client, staff = make_client(company, inbox, tmp_path / "home", monkeypatch)
    with client.app.state.context.application.unit_of_work() as uow:  # type: ignore[attr-defined]
        second = issue_token(uow.session, name="second", role=Role.PRIVACY_OFFICER).token
    email = str(company.customers(schema.customers.c.country == "GB")[0].email)
    filed = client.post(
        "/api/v1/requests",
        headers=staff,
        json={
            "type": "erasure",
            "identities": [{"kind": "email", "value": email}],
            "verification_method": "staff_known_contact",
            "verification_note": "called back on the number in the contract",
        },
    ).json()
    approved = client.post(
        f"/api/v1/requests/{filed['id']}/approve",
        headers={"Authorization": f"Bearer {second}"},
    )
    assert 200 == approved.status_code, approved.text
    finished = finish(client, staff, filed["id"])
    assert ("en", "nws-uk") == (finished["language"], finished["receipt"]["answer"]["controller"])
    inbox.clear()

    assert (
        200 == client.post(f"/api/v1/requests/{filed['id']}/send-answer", headers=staff).status_code
    )
    [mail] = inbox.to(email)
    text = text_of(mail)
    assert "We have erased your personal data" == mail["Subject"]
    assert "Information Commissioner's Office" in text
    assert text.rstrip().endswith("Nordic Workspace Ltd")
    client.__exit__(None, None, None)
