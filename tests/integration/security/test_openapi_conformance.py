"""Schemathesis against personvern's own OpenAPI schema, with every role's token and none.

Every operation of the schema gets generated calls (in-process, on the ASGI app) as each
role and as an anonymous caller. The answers must not be 5xx, must match the schema
(status, content type, body) and must not be 2xx where the role x permission matrix
refuses the caller. The run is bounded and derandomised so it takes the same cases, and
about the same time, on every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from personvern.api.app import create_app
from personvern.api.context import AppContext
from personvern.domain.roles import Role
from personvern.security.tokens import issue_token
from personvern.settings import Settings
from tests.conftest import EXAMPLE_DATAMAP
from tests.integration.intake.smtp import smtp_server
from tests.integration.security.test_route_permissions import CALLERS, Rule, rules

#: Generated cases per operation and caller: enough to reach every parameter's edge
#: values, few enough for the file to stay around a minute on two cores.
MAX_EXAMPLES = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Tally:
    """What the run did and what it found."""

    cases: int = 0
    #: Filings the server accepted (201): the run reaches real requests, not only refusals.
    filed: int = 0
    failures: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, dict[Role, str]]]:
    """The app on a migrated store, and a real token per role."""
    home = tmp_path_factory.mktemp("conformance") / "home"
    with smtp_server() as inbox:
        settings = Settings(
            home=home,
            database_url=None,
            datamap=None,
            # A real mail server, so a generated filing can be accepted (201) and its
            # code sent, rather than every filing ending in 503 "verification unavailable".
            smtp_host=inbox.host,
            smtp_port=inbox.port,
            # Generous limits, so the run reaches the routes rather than the limiters
            # (Schemathesis also sends made-up credentials, which count as failures).
            auth_failures_per_client=100_000,
            intake_codes_per_client=100_000,
        )
        app = create_app(settings, EXAMPLE_DATAMAP)
        yield from _started(app)


def _started(app: FastAPI) -> Iterator[tuple[FastAPI, dict[Role, str]]]:
    with TestClient(app):  # start-up: migrations
        context: AppContext = app.state.context
        with context.application.unit_of_work() as uow:
            tokens = {
                role: issue_token(uow.session, name=f"conformance {role}", role=role).token
                for role in Role
            }
        yield app, tokens


def _run(
    operation: schemathesis.APIOperation,
    rule: Rule,
    caller: Role | None,
    token: str | None,
    tally: Tally,
) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy())
    def check(case: schemathesis.Case) -> None:
        tally.cases += 1
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)
        if (rule.method, rule.path, response.status_code) == ("POST", "/api/v1/requests", 201):
            tally.filed += 1
        if 200 <= response.status_code < 300:
            assert rule.admits(caller), f"{response.status_code} where the matrix refuses"

    try:
        check()
    except (Exception, BaseExceptionGroup) as exc:  # every failure is collected and reported
        text = " ".join(str(exc).split())[:600]
        tally.failures.append(f"{rule.method} {rule.path} as {caller or 'anonymous'}: {text}")


def test_the_api_answers_as_its_schema_says_for_every_role(
    served: tuple[FastAPI, dict[Role, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    app, tokens = served
    schema = schemathesis.openapi.from_asgi(app.openapi_url or "", app)
    by_operation = {(r.method, r.path): r for r in rules(app)[0]}
    tally = Tally()
    operations = [result.ok() for result in schema.get_all_operations()]
    for caller in CALLERS:
        for operation in operations:
            rule = by_operation[(operation.method.upper(), operation.path)]
            _run(operation, rule, caller, tokens[caller] if caller else None, tally)
    with capsys.disabled():
        print(
            f"\nschemathesis: {len(operations)} operations x {len(CALLERS)} callers, "
            f"{tally.cases} cases, {tally.filed} filings accepted, {len(tally.failures)} failing"
        )
    assert len(operations) == len(by_operation)
    assert tally.cases >= len(operations) * len(CALLERS)
    assert tally.filed > 0, "no generated filing was accepted"
    assert [] == tally.failures, "\n".join(tally.failures)


def test_the_schema_example_files_a_request_and_its_links_lead_to_it(
    served: tuple[FastAPI, dict[Role, str]],
) -> None:
    app, tokens = served
    schema = app.openapi()
    filing = schema["paths"]["/api/v1/requests"]["post"]
    example = dict(schema["components"]["schemas"]["RequestIn"]["examples"][0])
    # Staff filing, with identity checked at the counter: no mail server is needed.
    example |= {"verification_method": "staff_in_person", "verification_note": "passport"}
    by_id = {
        op["operationId"]: (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    # Reading a request names why (a purpose of the data map).
    agent = {
        "Authorization": f"Bearer {tokens[Role.AGENT]}",
        "X-Personvern-Purpose": "legal_compliance",
    }
    with TestClient(app) as client:
        filed = client.post("/api/v1/requests", json=example, headers=agent)
        assert 201 == filed.status_code, filed.text
        links = filing["responses"]["201"]["links"]
        followed = {}
        for link in links.values():
            method, path = by_id[link["operationId"]]
            (name, source), *_ = link["parameters"].items()
            assert "$response.body#/id" == source
            if method == "GET":
                url = path.replace("{" + name + "}", filed.json()["id"])
                followed[path] = client.get(url, headers=agent).status_code
    assert 200 == followed["/api/v1/requests/{request_id}"]
    assert 200 == followed["/api/v1/requests/{request_id}/plan"]
    # Each link finds the request; the downloads wait (409) until it has been run.
    assert not {404} & set(followed.values()), followed
