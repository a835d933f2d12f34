"""Decisions are served by DirectRoute: the same answers, refusals and errors as any route."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel

from personvern.api.app import create_app
from personvern.api.context import AppContext
from personvern.api.deps import ContextDep, require
from personvern.api.direct_route import DirectRoute
from personvern.api.routers import decisions
from personvern.domain.roles import Permission, Role
from personvern.security.tokens import issue_token
from personvern.settings import Settings
from personvern.store.consents import DECISIONS_APPLICATION
from tests.integration.api.conftest import TokenFactory, bearer
from tests.support.servers import fresh_database

MARKETING = "/api/v1/decisions/marketing"


@pytest.fixture
def marketing(make_token: TokenFactory) -> dict[str, str]:
    """Headers of the marketing system."""
    return bearer(make_token(Role.MARKETING_SYSTEM))


def test_the_single_decisions_are_direct_routes() -> None:
    direct = {r.path for r in decisions.router.routes if isinstance(r, DirectRoute)}
    assert {"/decisions/marketing", "/decisions/processing"} == direct


def test_a_bad_query_is_a_problem_naming_the_parameter(
    client: TestClient, marketing: dict[str, str]
) -> None:
    response = client.get(
        MARKETING, params={"email": "kari@example.com", "channel": "fax"}, headers=marketing
    )
    assert 422 == response.status_code, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert ["query.channel"] == [e["location"] for e in response.json()["errors"]]
    assert "kari@example.com" not in response.text
    too_long = client.get(
        MARKETING, params={"email": "k" * 255, "channel": "email"}, headers=marketing
    )
    assert 422 == too_long.status_code
    assert "query.email" == too_long.json()["errors"][0]["location"]


def test_callers_are_authenticated_before_the_query_is_read(
    client: TestClient, make_token: TokenFactory
) -> None:
    query = {"email": "kari@example.com", "channel": "fax"}
    anonymous = client.get(MARKETING, params=query)
    assert 401 == anonymous.status_code
    assert "Bearer" == anonymous.headers["www-authenticate"]
    forged = client.get(MARKETING, params=query, headers=bearer("pv_not-a-token"))
    assert 401 == forged.status_code
    refused = client.get(MARKETING, params=query, headers=bearer(make_token(Role.AUDITOR)))
    assert 403 == refused.status_code


def test_an_answer_is_the_response_model(client: TestClient, marketing: dict[str, str]) -> None:
    response = client.get(
        MARKETING,
        params={"email": "kari@example.com", "channel": "email", "existing_customer": "yes"},
        headers=marketing,
    )
    assert 200 == response.status_code, response.text
    assert "application/json" == response.headers["content-type"]
    assert {"decision", "allowed", "reason", "purpose"} == set(response.json())


class _Query(BaseModel):
    name: str


async def _fine(context: ContextDep, query: Annotated[_Query, Query()]) -> _Query:
    return query


async def _other_parameters(context: ContextDep, name: str) -> _Query:
    return _Query(name=name)


def _plain(context: ContextDep, query: Annotated[_Query, Query()]) -> _Query:
    return query


@pytest.mark.parametrize("endpoint", [_other_parameters, _plain])
def test_a_direct_route_of_another_shape_is_refused_when_built(endpoint: object) -> None:
    router = APIRouter()
    with pytest.raises(TypeError, match="direct route /x: the endpoint must be"):
        router.add_api_route(
            "/x",
            endpoint,  # type: ignore[arg-type]
            dependencies=[Depends(require(Permission.DECISIONS_READ))],
            route_class_override=DirectRoute,
        )


def test_a_direct_route_without_a_permission_is_refused_when_built() -> None:
    router = APIRouter()
    with pytest.raises(TypeError, match="declare its permission with require"):
        router.add_api_route("/x", _fine, route_class_override=DirectRoute)


@pytest.mark.parametrize(
    "server",
    [
        # Awaited on the event loop through psycopg's asynchronous side.
        pytest.param("postgresql", marks=pytest.mark.postgres),
        # Read in a worker thread (PyMySQL has no asynchronous side).
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def test_decisions_on_a_server_store_read_it_and_leave_no_connection_open(
    server: str, tmp_path: Path, example_datamap_path: Path
) -> None:
    with fresh_database(server) as url:
        settings = Settings(
            home=tmp_path / "home", database_url=url, datamap=None, auto_migrate=True
        )
        app = create_app(settings, example_datamap_path)
        with TestClient(app) as client:
            context: AppContext = app.state.context
            with context.application.unit_of_work() as uow:
                dpo = bearer(issue_token(uow.session, name="dpo", role=Role.PRIVACY_OFFICER).token)
                marketing = bearer(
                    issue_token(uow.session, name="m", role=Role.MARKETING_SYSTEM).token
                )
            query = {"email": "Kari@Example.com", "channel": "email"}

            def reason() -> str:
                response = client.get(MARKETING, params=query, headers=marketing)
                assert 200 == response.status_code, response.text
                return str(response.json()["reason"])

            assert "no_consent" == reason()
            given = client.post(
                "/api/v1/consents",
                json={
                    "identity": {"kind": "email", "value": "kari@example.com"},
                    "purpose": "marketing_newsletter",
                    "action": "granted",
                },
                headers=dpo,
            )
            assert 201 == given.status_code, given.text
            assert "consent_given" == reason()
            filed = client.post(
                "/api/v1/requests",
                json={
                    "type": "erasure",
                    "identities": [{"kind": "email", "value": "kari@example.com"}],
                    "verification_method": "staff_in_person",
                    "verification_note": "passport checked",
                },
                headers=dpo,
            )
            assert 201 == filed.status_code, filed.text
            assert "erasure_in_progress" == reason()
        if server == "postgresql":
            # The app stopped: the decisions' connection went with it.
            engine = sa.create_engine(url)
            try:
                with engine.connect() as connection:
                    left = connection.execute(
                        sa.text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND application_name = :name"
                        ),
                        {"name": DECISIONS_APPLICATION},
                    ).scalar_one()
            finally:
                engine.dispose()
            assert 0 == left
