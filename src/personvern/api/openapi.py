"""The OpenAPI schema as the server behaves: every error status documented, as problem+json.

FastAPI documents only the 422 of its own validation (as ``application/json``) and the
responses a route lists. personvern answers errors from one set of handlers
(personvern.api.problems), so which errors an operation can give follows from what kind
of operation it is; this module adds them in one place, after the routes are built:

- every operation: 503 (store or data map unavailable);
- with parameters or a body: 422; with path parameters: 404;
- needing or accepting credentials (``security``): 401, 403, 429 (too many failures);
- changing state (not GET): 400 and 409;
- the enums the server enforces: identity kinds, the data map's languages and purposes;
- links, so a stateful client can walk a request from filing to download.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI

from personvern.api.problems import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

#: RFC 9457 problem details as personvern writes them.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `hint` says what to do about it",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "hint": {"type": "string"},
        "incident": {"type": "string"},
        "retry_after": {"type": "integer"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"location": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}

_DESCRIPTIONS = {
    "400": "the request was refused as it stands; `detail` says why",
    "401": "no valid credentials: send `Authorization: Bearer <token>`",
    "403": "the credentials do not allow this",
    "404": "no such resource",
    "409": "the resource is not in a state that allows this",
    "422": "the input cannot be accepted; `detail` says what to change",
    "429": "too many attempts; `Retry-After` says how many seconds to wait",
    "503": "the store or the data map is unavailable",
}
_HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    statuses = ["503"]
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append("422")
    names = {p.get("name") for p in operation.get("parameters", [])}
    # A document in a language the data map lacks is 404 too.
    if "{" in path or "lang" in names:
        statuses.append("404")
    if operation.get("security"):
        statuses += ["401", "403", "429"]
    if method != "get":
        statuses += ["400", "409"]
    return statuses


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


#: Where a purpose-bound read names its purpose (personvern.api.purpose).
_PURPOSE_PARAMETERS = {("header", "X-Personvern-Purpose"), ("query", "purpose")}


def exact_schema(
    schema: dict[str, Any], languages: Sequence[str], purposes: Sequence[str] = ()
) -> dict[str, Any]:
    """``schema`` (FastAPI's) with personvern's error answers, enums and links filled in."""
    from personvern.domain.datamap import IdentityKind

    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for path, item in schema.get("paths", {}).items():
        for method in _HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == "lang" and languages:
                    parameter["schema"] = {
                        "anyOf": [{"type": "string", "enum": list(languages)}, {"type": "null"}]
                    }
                if (parameter.get("in"), parameter.get("name")) in _PURPOSE_PARAMETERS and purposes:
                    # Any other value is refused, so the enum is exactly what is accepted.
                    parameter["schema"] = {
                        "anyOf": [
                            {"type": "string", "enum": list(purposes), "maxLength": 100},
                            {"type": "null"},
                        ]
                    }
                    parameter["example"] = purposes[0]
            for status in _statuses(path, method, operation):
                responses.setdefault(status, _problem_response(_DESCRIPTIONS[status]))
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    # Every error is problem+json, FastAPI's own 422 included.
                    response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
    _add_links(schema.get("paths", {}))
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    identity = components.get("IdentityIn", {}).get("properties", {}).get("kind")
    if identity is not None:
        identity["enum"] = [kind.value for kind in IdentityKind]
    request_in = components.get("RequestIn", {}).get("properties", {})
    if languages and "language" in request_in:
        request_in["language"] = {
            "anyOf": [{"type": "string", "enum": list(languages)}, {"type": "null"}],
            "description": "answer language (default: the data map's first)",
        }
    return schema


def _links_to(paths: dict[str, Any], path: str, source: str) -> dict[str, Any]:
    """Links to every operation on ``path/{id}...`` (one path parameter), ``id`` from ``source``."""
    links: dict[str, Any] = {}
    for target, target_item in paths.items():
        if not target.startswith(path + "/{"):
            continue
        names = [part[1:-1] for part in target.split("/") if part.startswith("{")]
        if len(names) != 1:
            continue
        for method in _HTTP_METHODS:
            operation = target_item.get(method)
            if operation is None or "operationId" not in operation:
                continue
            links[operation["operationId"]] = {
                "operationId": operation["operationId"],
                "parameters": {names[0]: source},
            }
    return links


def _add_links(paths: dict[str, Any]) -> None:
    """Link each 201 that creates a resource, and each read of it, to the operations on it.

    ``POST /x`` answering 201 with an ``id`` leads to every operation on ``/x/{id}...``
    with that one path parameter, and every successful GET on ``/x/{id}...`` leads on to
    the others (the id from the read's own path); a stateful client (Schemathesis) follows
    them from filing a request to running it, reading its plan and handing over its files.
    The file listing leads to the download itself (the token is the end of each ``url``).
    """
    for path, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        links = _links_to(paths, path, "$response.body#/id")
        if not links:
            continue
        created["links"] = links
        for target, target_item in paths.items():
            names = [part[1:-1] for part in target.split("/") if part.startswith("{")]
            if not target.startswith(path + "/{") or len(names) != 1:
                continue
            # From reads only: an operation with links counts as a place to start, and a
            # POST with a made-up id would start nothing but a 404.
            onward = _links_to(paths, path, f"$request.path.{names[0]}")
            for status, response in target_item.get("get", {}).get("responses", {}).items():
                if status.startswith("2"):
                    response["links"] = onward
    _link_downloads(paths)


def _link_downloads(paths: dict[str, Any]) -> None:
    """Link a request's file listing (``GET .../downloads``) to ``GET /downloads/{token}``."""
    download = next(
        (item["get"] for path, item in paths.items() if path.endswith("/downloads/{token}")), None
    )
    if download is None or "operationId" not in download:
        return
    for path, item in paths.items():
        listing = item.get("get", {}).get("responses", {}).get("200")
        if not path.endswith("/{request_id}/downloads") or listing is None:
            continue
        listing.setdefault("links", {})[download["operationId"]] = {
            "operationId": download["operationId"],
            # `#regex:` is Schemathesis' extractor (the token is the url's last segment);
            # to other tools the value is a constant, which the server refuses with 403.
            "parameters": {"token": "$response.body#/0/url#regex:/downloads/([^/?#]+)$"},
        }


def install_exact_openapi(
    app: FastAPI,
    languages: Callable[[], Sequence[str]],
    purposes: Callable[[], Sequence[str]] = tuple,
) -> None:
    """Make ``app.openapi()`` return :func:`exact_schema`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI caches its schema and rebuilds it when routes change; the additions are
        # idempotent, so they are applied to whatever it returns.
        return exact_schema(build(), languages(), purposes())

    app.openapi = openapi  # type: ignore[method-assign]
