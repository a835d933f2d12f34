"""Decisions are served by DirectRoute: the same answers, refusals and errors as any route."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel

from personvern.api.deps import ContextDep, require
from personvern.api.direct_route import DirectRoute
from personvern.api.routers import decisions
from personvern.domain.roles import Permission, Role
from tests.integration.api.conftest import TokenFactory, bearer

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
