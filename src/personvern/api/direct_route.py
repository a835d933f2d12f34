"""Routes answered without FastAPI solving their dependencies on every call.

The marketing system asks for a decision before every message it sends, and FastAPI's
per-call dependency solving (authentication, permission, context, each query parameter
as a node of its own) cost more processor time than the decision itself: about half of
a decision, 0.23 of 0.37 ms in process. A :class:`DirectRoute` is declared like any
other route, so its OpenAPI entry, its ``x-permissions`` and the route x role test all
read the same declaration, and is served by a handler that does the same work
directly: the bearer token through the same authentication, the permissions its
``require(...)`` dependencies declare, its query parameters validated by one Pydantic
model.

The shape a direct route may have is narrow, and checked when the app is built:
an ``async`` endpoint taking ``context`` (the app's context) and ``query`` (one
Pydantic model of its query parameters, declared ``Annotated[Model, Query()]``),
returning a Pydantic model (or its JSON, rendered: the route's ``response_model``
documents it), with at least one ``require(...)`` and nothing else.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, cast, get_args, get_origin, get_type_hints
from urllib.parse import parse_qsl

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, ValidationError

from personvern.api.context import AppContext
from personvern.api.deps import (
    Requirement,
    authenticated,
    declared_requirements,
    remember_principal,
)

JSON = "application/json"

#: What a direct route's endpoint answers: a Pydantic model, or its JSON already
#: rendered (an endpoint with a few possible answers renders each once).
Answer = BaseModel | bytes
Endpoint = Callable[..., Coroutine[Any, Any, Answer]]


class DirectRoute(APIRoute):
    """An API route whose calls skip FastAPI's dependency solving (see the module)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The handler that authenticates, checks permissions and parses the query itself."""
        return direct_handler(self.endpoint, self.path, _requirements(self))


def _requirements(route: APIRoute) -> tuple[Requirement, ...]:
    found = declared_requirements(route.dependant)
    plain = tuple(r for r in found if isinstance(r, Requirement))
    if not plain or len(plain) != len(found):
        raise TypeError(
            f"direct route {route.path}: declare its permission with require(...), "
            "and only that (an optional permission is not supported)"
        )
    return plain


def query_model(endpoint: Endpoint, path: str) -> type[BaseModel]:
    """The Pydantic model of ``endpoint``'s query parameters; TypeError if its shape differs."""
    parameters = inspect.signature(endpoint).parameters
    hints = get_type_hints(endpoint, include_extras=True)
    query = hints.get("query")
    model = get_args(query)[0] if get_origin(query) is not None else query
    if (
        not inspect.iscoroutinefunction(endpoint)
        or list(parameters) != ["context", "query"]
        or not (isinstance(model, type) and issubclass(model, BaseModel))
    ):
        raise TypeError(
            f"direct route {path}: the endpoint must be `async def (context, query: "
            "Annotated[Model, Query()])` returning a Pydantic model"
        )
    return model


def direct_handler(
    endpoint: Endpoint, path: str, requirements: tuple[Requirement, ...]
) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    """A handler answering ``endpoint`` for callers holding every one of ``requirements``."""
    model = query_model(endpoint, path)
    permissions = tuple(r.permission for r in requirements)

    async def handle(request: Request) -> Response:
        context = cast(AppContext, request.app.state.context)
        principal = await authenticated(request, context, bearer_token(request))
        remember_principal(request, principal)
        for permission in permissions:
            principal.require(permission)
        try:
            query = model.model_validate(query_values(request))
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("query", *e["loc"])} for e in exc.errors(include_url=False)]
            ) from None
        answer = await endpoint(context=context, query=query)
        body = answer if isinstance(answer, bytes) else answer.model_dump_json()
        return Response(body, media_type=JSON)

    return handle


def bearer_token(request: Request) -> str | None:
    """The ``Authorization: Bearer`` credential, as FastAPI's HTTPBearer reads it; else None."""
    scheme, credential = get_authorization_scheme_param(request.headers.get("authorization"))
    if not credential or scheme.lower() != "bearer":
        return None
    return credential


def query_values(request: Request) -> dict[str, str]:
    """The query's parameters, the last of a repeated one winning (as Starlette's).

    Read into a plain dict: Starlette's multi-dict of the same pairs cost twice as much,
    and the model takes one value per name anyway.
    """
    text = request.scope["query_string"].decode("latin-1")
    if "%" in text or "+" in text:
        return dict(parse_qsl(text, keep_blank_values=True))
    # Nothing escaped: the pairs as they stand (what parse_qsl gives, at half the cost).
    values = {}
    for pair in text.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            values[name] = value
    return values
