"""Staff of the demo company at the API: an agent, a privacy officer and an auditor.

The request-flow tests that concern personvern's own store (who did what, tasks,
review) share these: the demo company in SQLite, once per module, and the app on a
fresh store per test with a token for each member of staff.
"""

from __future__ import annotations

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
from tests.support.company import Company, _company

#: Why staff read a request's personal data: handling it is a legal obligation.
PURPOSE = {"X-Personvern-Purpose": "legal_compliance"}
FINAL = {"completed", "partially_completed", "rejected", "needs_review", "waiting_for_system"}


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    """The demo company in SQLite (these tests concern personvern's own store)."""
    home = tmp_path_factory.mktemp("company")
    with _company("sqlite", f"sqlite:///{home / 'company.sqlite'}", home) as seeded:
        yield seeded


class Staff:
    """The app, and two members of staff with tokens of their own."""

    def __init__(self, client: TestClient, agent: tuple[int, str], dpo: tuple[int, str]) -> None:
        self.client = client
        self.agent_id, agent_token = agent
        self.dpo_id, dpo_token = dpo
        # Staff read requests to handle them: a purpose based on a legal obligation.
        self.agent = {"Authorization": f"Bearer {agent_token}", **PURPOSE}
        self.dpo = {"Authorization": f"Bearer {dpo_token}", **PURPOSE}
        #: An auditor's headers: may read requests, never change them.
        self.auditor: dict[str, str] = {}

    def file(self, request_type: str, email: str) -> str:
        """A request the agent files after checking the subject's identity in person."""
        filed = self.client.post(
            "/api/v1/requests",
            headers=self.agent,
            json={
                "type": request_type,
                "identities": [{"kind": "email", "value": email}],
                "verification_method": "staff_in_person",
                "verification_note": "passport checked at the Oslo office",
            },
        )
        assert 201 == filed.status_code, filed.text
        request_id: str = filed.json()["id"]
        return request_id

    def wait(self, request_id: str) -> dict[str, Any]:
        """The request once its run has ended."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            body: dict[str, Any] = self.client.get(
                f"/api/v1/requests/{request_id}", headers=self.dpo
            ).json()
            if body["state"] in FINAL:
                return body
            time.sleep(0.05)
        raise AssertionError(f"request {request_id} did not finish")


@pytest.fixture
def staff(company: Company, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Staff]:
    """The app on a fresh store, with an agent's and a privacy officer's token."""
    for name, value in company.environ.items():
        monkeypatch.setenv(name, value)
    app = create_app(Settings(home=tmp_path / "home"), EXAMPLE_DATAMAP)
    with TestClient(app) as client:
        with app.state.context.application.unit_of_work() as uow:
            agent = issue_token(uow.session, name="agent", role=Role.AGENT)
            dpo = issue_token(uow.session, name="dpo", role=Role.PRIVACY_OFFICER)
            auditor = issue_token(uow.session, name="auditor", role=Role.AUDITOR)
        found = Staff(client, (agent.info.id, agent.token), (dpo.info.id, dpo.token))
        found.auditor = {"Authorization": f"Bearer {auditor.token}", **PURPOSE}
        yield found
