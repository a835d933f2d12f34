"""Dependencies as ``Annotated`` aliases: settings, session, principal, data map."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from personvern.api.context import AppContext
from personvern.api.errors import DataMapUnavailableError
from personvern.domain.datamap import DataMap
from personvern.domain.roles import Permission
from personvern.security.audit_trail import client_key, record_failed_login, record_login
from personvern.security.auth import authenticate
from personvern.security.errors import AuthError
from personvern.security.principal import Principal
from personvern.settings import Settings

# auto_error=False: a missing header must reach our handler as AuthError (problem+json,
# 401), not FastAPI's own response. Declaring the scheme also documents it in OpenAPI.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="personvern API token",
    description="`Authorization: Bearer pv_...`, a personvern API token from `personvern token "
    "create`; or, when single sign-on is configured (docs/sso.md), `Authorization: Bearer "
    "<JWT>`, an access token from the company's identity provider, whose groups or roles "
    "claim decides the role",
)


def get_context(request: Request) -> AppContext:
    """The running app's wiring, put on ``app.state`` by create_app."""
    return cast(AppContext, request.app.state.context)


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_settings(context: ContextDep) -> Settings:
    """The app's settings."""
    return context.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(context: ContextDep) -> Iterator[Session]:
    """One session per request: committed if the route succeeds, rolled back if it raises."""
    with context.application.unit_of_work() as uow:
        yield uow.session


# scope="function": commit before the response is sent, so a client that reads right
# after a 201 finds what it created (by default the exit code runs after sending).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_principal(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The authenticated caller, or AuthError (401)."""
    credential = credentials.credentials if credentials is not None else None
    principal = authenticate_and_record(request, context, session, credential)
    remember_principal(request, principal)
    # End the transaction now: routes that open sessions of their own (runs, plans,
    # links) would otherwise wait for this one, which on SQLite holds the write lock
    # until the route returns.
    session.commit()
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def authenticate_and_record(
    request: Request, context: AppContext, session: Session, credential: str | None
) -> Principal:
    """Authenticate ``credential`` and put the sign-in, or the refusal, in the audit trail.

    A refusal is recorded in a transaction of its own (what the request did so far is
    rolled back first), so it stays even though the request fails.
    """
    client = request.client.host if request.client else None
    try:
        principal = authenticate(credential, session, context.authenticators)
    except AuthError:
        session.rollback()
        record_failed_login(
            session,
            credential,
            method=request.method,
            path=request.url.path,
            client=client_key(context.settings.secret(), client),
        )
        session.commit()
        raise
    record_login(session, principal, client=client_key(context.settings.secret(), client))
    return principal


def remember_principal(request: Request, principal: Principal) -> None:
    """Note who called, so an error can be explained to staff in full (see api.problems)."""
    request.state.principal = principal


def require(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that lets the request through only if the caller holds ``permission``."""

    def dependency(principal: PrincipalDep) -> Principal:
        principal.require(permission)
        return principal

    dependency.__name__ = f"require_{permission.name.lower()}"
    return dependency


def get_datamap(context: ContextDep) -> DataMap:
    """The data map loaded at start-up, or DataMapUnavailableError (503) if it did not load."""
    slot = context.application.datamap
    if slot.loaded is not None:
        return slot.loaded.datamap
    error = slot.error
    raise DataMapUnavailableError(
        f"the data map did not load: {error.message if error else 'no data map configured'}",
        hint=(error.hint if error and error.hint else None)
        or "fix the data map (`personvern check`) and restart the server",
    )


DataMapDep = Annotated[DataMap, Depends(get_datamap)]
