"""The data map and the documents generated from it, with their media types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from personvern.datamap.documents import DOCUMENTS
from personvern.datamap.loader import load_datamap
from personvern.domain.roles import Role
from tests.integration.api.conftest import TokenFactory, bearer


def test_the_datamap_is_served_as_loaded(
    client: TestClient, make_token: TokenFactory, example_datamap_path: Path
) -> None:
    response = client.get("/api/v1/datamap", headers=bearer(make_token(Role.AUDITOR)))
    expected = load_datamap(example_datamap_path).datamap.model_dump(mode="json")
    assert 200 == response.status_code
    assert expected == response.json()


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("html", "text/html; charset=utf-8"),
        ("md", "text/markdown; charset=utf-8"),
        ("txt", "text/plain; charset=utf-8"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/notice", "/api/v1/cookies"])
def test_public_documents_in_each_format(
    client: TestClient, path: str, fmt: str, media_type: str
) -> None:
    response = client.get(path, params={"lang": "nb", "format": fmt})
    assert (200, media_type) == (response.status_code, response.headers["content-type"])
    assert response.text.strip()


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("json", "application/json"),
        ("csv", "text/csv; charset=utf-8"),
        ("html", "text/html; charset=utf-8"),
    ],
)
def test_the_ropa_in_each_format(
    client: TestClient, make_token: TokenFactory, fmt: str, media_type: str
) -> None:
    response = client.get(
        "/api/v1/ropa", params={"format": fmt}, headers=bearer(make_token(Role.PRIVACY_OFFICER))
    )
    assert (200, media_type) == (response.status_code, response.headers["content-type"])
    if fmt == "json":
        assert isinstance(json.loads(response.text), dict | list)


@pytest.mark.parametrize("path", ["/api/v1/notice", "/api/v1/cookies"])
def test_an_undeclared_language_is_404_problem_json(client: TestClient, path: str) -> None:
    response = client.get(path, params={"lang": "de"})
    assert (404, "application/problem+json") == (
        response.status_code,
        response.headers["content-type"],
    )
    assert "Language not available" == response.json()["title"]


def test_an_unknown_format_is_422_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/notice", params={"lang": "nb", "format": "pdf"})
    body = response.json()
    assert (422, "application/problem+json") == (
        response.status_code,
        response.headers["content-type"],
    )
    assert ("Invalid request", "query.format") == (body["title"], body["errors"][0]["location"])


def test_unknown_paths_and_methods_are_problem_json(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    wrong_method = client.delete("/healthz")
    assert (404, "no such resource: /api/v1/nothing-here") == (
        missing.status_code,
        missing.json()["detail"],
    )
    assert (405, "GET", "application/problem+json") == (
        wrong_method.status_code,
        wrong_method.headers["allow"],
        wrong_method.headers["content-type"],
    )


def test_openapi_and_docs_are_served_under_api_v1(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert "personvern" == schema["info"]["title"]
    assert 200 == client.get("/api/v1/docs").status_code


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.name)
def test_every_registered_document_is_a_route_and_a_command_that_agree(
    client: TestClient, make_token: TokenFactory, example_datamap_path: Path, document: Any
) -> None:
    # The registry is the only place a document is declared: each one is served by the
    # API (behind its permission, if any) and written by its command, identically.
    from typer.testing import CliRunner

    from personvern.cli import app as cli_app

    path = f"/api/v1/{document.name}"
    anonymous = client.get(path)
    if document.permission is None:
        assert 200 == anonymous.status_code
        headers: dict[str, str] = {}
    else:
        assert 401 == anonymous.status_code
        outsider = client.get(path, headers=bearer(make_token(Role.MARKETING_SYSTEM)))
        assert 403 == outsider.status_code
        headers = bearer(make_token(Role.PRIVACY_OFFICER))
    for lang in ("nb", "en"):
        for fmt in document.formats:
            served = client.get(path, params={"lang": lang, "format": fmt}, headers=headers)
            assert 200 == served.status_code, (lang, fmt, served.text)
            written = CliRunner().invoke(
                cli_app,
                [document.name, "--lang", lang, "--format", fmt, "-d", str(example_datamap_path)],
            )
            assert (0, served.text) == (written.exit_code, written.stdout), (lang, fmt)
    unknown = client.get(path, params={"lang": "xx"}, headers=headers)
    assert (404, "application/problem+json") == (
        unknown.status_code,
        unknown.headers["content-type"],
    )
    assert "not available in 'xx'" in unknown.json()["detail"]
