"""Dependencies as ``Annotated`` aliases: settings, session, principal, data map."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from personvern.api.context import AppContext
from personvern.api.errors import DataMapUnavailableError
from personvern.domain.datamap import DataMap
from personvern.domain.roles import Permission
from personvern.intake import rate_limit
from personvern.security.audit_trail import client_key, record_failed_login, record_login
from personvern.security.auth import authenticate
from personvern.security.errors import AuthError, ForbiddenError
from personvern.security.principal import Principal
from personvern.security.subject_hash import keyed_hash
from personvern.security.verified_tokens import VERIFIED_TOKENS
from personvern.settings import Settings
from personvern.store.base import utcnow

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


# The dependencies that do no I/O are coroutines: FastAPI runs a plain function in its
# thread pool, and each hop there cost more than the dependency itself (a decision
# route made six of them).


async def get_context(request: Request) -> AppContext:
    """The running app's wiring, put on ``app.state`` by create_app."""
    return cast(AppContext, request.app.state.context)


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_settings(context: ContextDep) -> Settings:
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


def failure_limit(request: Request, context: AppContext) -> rate_limit.Limit:
    """The limit on failed authentications per client network (API and staff sign-in)."""
    network = rate_limit.client_network(request.client.host if request.client else "unknown")
    return rate_limit.Limit(
        "auth-failure",
        # Keyed, so the table does not list who called from where.
        keyed_hash(context.settings.secret(), "auth-failure", network),
        context.settings.auth_failures_per_client,
        "too many failed authentications from your network",
    )


def authenticate_limited(
    request: Request, context: AppContext, session: Session, credential: str | None
) -> Principal:
    """authenticate(), refused with 429 for a client network that failed too often lately.

    Only calls that present a credential are counted and limited: a missing header is a
    client that has not logged in yet, not a guess.
    """
    if credential is None:
        return authenticate_and_record(request, context, session, credential)
    limit = failure_limit(request, context)
    window = timedelta(seconds=context.settings.auth_failure_window_seconds)
    wait = rate_limit.wait_for(session, limit, window, utcnow())
    if wait is not None:
        raise rate_limit.limited(limit, wait)
    try:
        # Records the sign-in, or the refusal in a committed transaction of its own.
        return authenticate_and_record(request, context, session, credential)
    except AuthError as exc:
        if isinstance(exc, ForbiddenError):
            raise
        rate_limit.try_take(session, limit, window, utcnow())
        # Committed now: the request's session is rolled back with the 401, and a second
        # session would wait for this one's write lock on SQLite.
        session.commit()
        raise


async def get_principal(
    request: Request,
    context: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The authenticated caller, or AuthError (401), or RateLimitedError (429)."""
    credential = credentials.credentials if credentials is not None else None
    principal = await authenticated(request, context, credential)
    remember_principal(request, principal)
    return principal


async def authenticated(request: Request, context: AppContext, credential: str | None) -> Principal:
    """The caller ``credential`` proves, verified in a transaction of its own.

    Its own, not the route's: a route's transaction then holds no lock while the caller
    is checked, and an API token verified a moment ago needs no transaction at all (see
    personvern.security.verified_tokens).
    """
    known = _verified_lately(context, credential)
    if known is not None:
        return known
    return await run_in_threadpool(_authenticate_in_store, request, context, credential)


def _verified_lately(context: AppContext, credential: str | None) -> Principal | None:
    if credential is None:
        return None
    return VERIFIED_TOKENS.principal(context.store_key, credential, utcnow())


def _authenticate_in_store(
    request: Request, context: AppContext, credential: str | None
) -> Principal:
    if credential is None:
        return _verify(request, context, credential)
    # One verification of a credential at a time: when a busy client's token falls out
    # of the verified ones, its concurrent calls would each verify it, in a write
    # transaction apiece; the others wait for the first and take its answer.
    with _VERIFYING[hash(credential) % len(_VERIFYING)]:
        return _verified_lately(context, credential) or _verify(request, context, credential)


def _verify(request: Request, context: AppContext, credential: str | None) -> Principal:
    with context.application.unit_of_work() as uow:
        return authenticate_limited(request, context, uow.session, credential)


#: Locks for verifying credentials one at a time, striped so that guesses cannot grow
#: a table of them.
_VERIFYING = tuple(threading.Lock() for _ in range(64))


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


class Requirement:
    """A dependency that lets the request through only if the caller holds ``permission``.

    A class rather than a closure so the permission stays readable on the route: the
    app writes it into the OpenAPI schema (``x-permissions``) and the route x role test
    compares it with the matrix in personvern.domain.roles; the route is the one place
    a permission is declared.
    """

    #: Whether a caller without credentials is let through (as anonymous).
    optional = False

    def __init__(self, permission: Permission) -> None:
        self.permission = permission
        self.__name__ = f"require_{permission.name.lower()}"

    async def __call__(self, principal: PrincipalDep) -> Principal:
        """The caller, if they hold the permission; ForbiddenError (403) otherwise."""
        principal.require(self.permission)
        return principal


def require(permission: Permission) -> Requirement:
    """A dependency that lets the request through only if the caller holds ``permission``."""
    return Requirement(permission)


class OptionalRequirement:
    """On a public route: anonymous callers pass; a caller with credentials needs ``permission``."""

    optional = True

    def __init__(self, permission: Permission) -> None:
        self.permission = permission
        self.__name__ = f"optionally_require_{permission.name.lower()}"

    async def __call__(
        self,
        request: Request,
        context: ContextDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> Principal | None:
        """The caller if they sent credentials (which must be valid and hold the permission)."""
        if credentials is None:
            return None
        # A bad token is refused rather than ignored: staff whose token expired must not
        # silently act as an anonymous caller.
        principal = await authenticated(request, context, credentials.credentials)
        principal.require(self.permission)
        remember_principal(request, principal)
        return principal


def declared_requirements(dependant: Dependant) -> list[Requirement | OptionalRequirement]:
    """Every permission requirement among a route's dependencies, however deeply nested."""
    found: list[Requirement | OptionalRequirement] = []
    if isinstance(dependant.call, Requirement | OptionalRequirement):
        found.append(dependant.call)
    for sub in dependant.dependencies:
        found.extend(declared_requirements(sub))
    return found


async def get_datamap(context: ContextDep) -> DataMap:
    """The data map loaded at start-up, or DataMapUnavailableError (503) if it did not load."""
    return loaded_datamap(context)


def loaded_datamap(context: AppContext) -> DataMap:
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
