"""The composition root: build the whole HTTP application from settings."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from personvern import __version__
from personvern.api.access_log import redact_download_links
from personvern.api.console.app import console_pages
from personvern.api.console.pages import MOUNT_PATH as CONSOLE_PATH
from personvern.api.context import AppContext
from personvern.api.deps import declared_requirements, get_principal
from personvern.api.docs import install_docs
from personvern.api.limits import RequestLimits
from personvern.api.openapi import install_exact_openapi
from personvern.api.privacy_centre.app import privacy_centre_pages
from personvern.api.privacy_centre.pages import MOUNT_PATH as PRIVACY_CENTRE_PATH
from personvern.api.problems import install_problem_handlers
from personvern.api.public_cors import PUBLIC_CORS_PATHS, PublicCors
from personvern.api.routers import (
    audit,
    banner,
    consents,
    datamap,
    decisions,
    documents,
    downloads,
    events,
    health,
    request_runs,
    requests,
    retention,
)
from personvern.api.security_headers import SecurityHeaders
from personvern.api.start_page import install_start_page
from personvern.bootstrap import bootstrap
from personvern.errors import PersonvernError
from personvern.jobs.periodic import Periodic
from personvern.security.auth import ApiTokenAuthenticator, Authenticator
from personvern.security.oidc.authenticator import OidcAuthenticator
from personvern.security.oidc.provider import IdentityProvider, OidcConfig
from personvern.settings import Settings
from personvern.store.migrate import upgrade_to_head

API_PREFIX = "/api/v1"

#: Routers anyone may call: documents the company publishes, and filing a data subject
#: request with its e-mail code (design: public endpoints).
PUBLIC_ROUTERS: tuple[APIRouter, ...] = (
    documents.public_router,
    requests.public_router,
    # The signed, expiring link is the authorisation.
    downloads.router,
    banner.public_router,
    events.router,
)
#: Routers that need a token. A new router goes here unless it is meant to be public; each
#: route then states the permission it needs with ``require(...)``.
PROTECTED_ROUTERS: tuple[APIRouter, ...] = (
    audit.router,
    consents.router,
    datamap.router,
    decisions.router,
    documents.router,
    requests.router,
    request_runs.router,
    retention.router,
)

#: Protected routers matched before every other route but the probes: the marketing
#: system asks for a decision before every message it sends, and walking past the pages
#: and the other routes first took a sixth of a decision's processor time.
MATCHED_FIRST: tuple[APIRouter, ...] = (decisions.router,)

log = logging.getLogger("personvern.api")


def create_app(
    settings: Settings,
    datamap_path: Path | None = None,
    *,
    authenticators: Sequence[Authenticator] | None = None,
) -> FastAPI:
    """Build the API for ``settings``; the data map comes from ``datamap_path`` or the settings.

    The application is built once, here (see personvern.bootstrap). If the data map is
    missing or invalid the app still starts: routes that need it answer 503 with the
    first problem and /healthz reports it. Migrations run at start-up (lifespan) when
    ``settings.should_auto_migrate``.
    """
    # Resolved now, so a server with an unusable key refuses to start rather than
    # failing on the first link it signs.
    settings.secret()
    # Migrations run in the lifespan, off the event loop.
    application = bootstrap(
        settings, datamap_path=datamap_path, datamap_required=False, migrate=False
    )
    # Single sign-on only when configured: the demo and a bare install run on API tokens.
    provider = (
        IdentityProvider(OidcConfig.from_settings(settings)) if settings.oidc_enabled else None
    )
    default_authenticators: tuple[Authenticator, ...] = (ApiTokenAuthenticator(),)
    if provider is not None:
        default_authenticators += (OidcAuthenticator(provider),)
    context = AppContext(
        application=application,
        authenticators=tuple(authenticators or default_authenticators),
        identity_provider=provider,
    )

    app = FastAPI(
        title="personvern",
        version=__version__,
        summary="Privacy operations as code: one data map drives notices, records and requests.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        # Served by install_docs from a package: FastAPI's own page loads Swagger UI from a CDN.
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.context = context
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        # A suppression list of a million addresses is tens of megabytes.
        larger_bodies={f"{API_PREFIX}{decisions.BULK_PATH}": settings.max_bulk_body_bytes},
    )
    app.add_middleware(PublicCors, paths=PUBLIC_CORS_PATHS)
    # Added last, so outermost: the headers go on every answer, refusals included.
    app.add_middleware(SecurityHeaders)
    install_problem_handlers(app)
    install_docs(app, API_PREFIX)
    install_exact_openapi(app, lambda: _languages(context), lambda: _purposes(context))
    _declare_access(health.router, public=True)
    app.include_router(health.router)
    for router in MATCHED_FIRST:
        _include_protected(app, router)
    app.include_router(banner.script_router)
    install_start_page(app)
    app.mount(CONSOLE_PATH, console_pages(context))
    app.mount(PRIVACY_CENTRE_PATH, privacy_centre_pages(context))
    for router in PUBLIC_ROUTERS:
        _declare_access(router, public=True)
        app.include_router(router, prefix=API_PREFIX)
    for router in PROTECTED_ROUTERS:
        if router not in MATCHED_FIRST:
            _include_protected(app, router)
    return app


def _include_protected(app: FastAPI, router: APIRouter) -> None:
    """Serve ``router`` under the API prefix, every route of it needing a token."""
    _declare_access(router, public=False)
    # Authentication at include time makes "needs a token" the default for every route
    # of the router; the route itself adds which permission.
    app.include_router(router, prefix=API_PREFIX, dependencies=[Depends(get_principal)])


def _languages(context: AppContext) -> list[str]:
    """The languages requests may be answered in: the loaded data map's (none: any)."""
    loaded = context.application.datamap.loaded
    return list(loaded.datamap.organization.languages) if loaded is not None else []


def _purposes(context: AppContext) -> list[str]:
    """The purposes a purpose-bound read may name: the loaded data map's (none: any)."""
    from personvern.domain.audit.purpose import valid_purposes

    loaded = context.application.datamap.loaded
    return valid_purposes(loaded.datamap) if loaded is not None else []


def _declare_access(router: APIRouter, *, public: bool) -> None:
    """Write each route's access rule into its OpenAPI operation, from the route itself.

    ``x-permissions`` lists what ``require(...)`` on the route demands (read from its
    dependencies, so it cannot drift from what is enforced); ``x-public`` marks routes of
    the public routers. A route with neither has no rule: the route x role test fails it.
    """
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        extra = dict(route.openapi_extra or {})
        requirements = declared_requirements(route.dependant)
        if requirements:
            extra["x-permissions"] = sorted({r.permission.value for r in requirements})
        if public:
            extra["x-public"] = True
            if any(r.optional for r in requirements):
                # Anyone may call it, staff with their token: FastAPI already lists the
                # bearer scheme and appends this; the empty requirement means "none".
                extra["security"] = [{}]
        route.openapi_extra = extra


def _index_open_requests(context: AppContext) -> int:
    """Index open requests filed before migration 0023 (decisions find erasures by it)."""
    from personvern.intake.request_index import index_open_requests

    with context.application.unit_of_work() as uow:
        return index_open_requests(uow.session, context.settings)


def _housekeeper(context: AppContext) -> Periodic | None:
    """Start deleting what personvern no longer needs, every interval (None: switched off)."""
    interval = context.settings.housekeeping_interval_seconds
    if not interval:
        return None

    def sweep_once() -> None:
        from personvern.housekeeping import sweep
        from personvern.store.base import utcnow

        with context.application.unit_of_work() as uow:
            sweep(uow.session, context.settings, utcnow())

    periodic = Periodic("personvern-housekeeping", interval, sweep_once)
    periodic.start()
    return periodic


def _retention_scheduler(context: AppContext) -> Periodic | None:
    """Start the in-process retention scheduler (embedded only; with a broker, beat does it)."""
    application = context.application
    interval = context.settings.retention_schedule_interval_seconds
    if not interval or context.settings.broker_url or application.datamap.loaded is None:
        return None
    from datetime import UTC, datetime, timedelta

    from personvern.engine.retention.scheduler import RetentionScheduler, own_records_schedule

    scheduler = RetentionScheduler(
        application.datamap.require,
        application.retention_runs,
        lambda run_id: application.jobs().submit_retention(run_id),
        interval=timedelta(seconds=interval),
        extra=own_records_schedule(context.settings.retention_own_schedule),
    )
    periodic = Periodic(
        "personvern-retention-schedules", interval, lambda: scheduler.tick(datetime.now(UTC))
    )
    periodic.start()
    return periodic


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    context: AppContext = app.state.context
    housekeeper: Periodic | None = None
    scheduler: Periodic | None = None
    # Here, not in create_app: the server configures its logging after the app is built.
    redact_download_links()
    try:
        if context.settings.should_auto_migrate:
            # Migrations block; keep the event loop free while they run.
            context.migrated_to = await run_in_threadpool(
                upgrade_to_head, context.application.store
            )
        try:
            indexed = await run_in_threadpool(_index_open_requests, context)
        except (PersonvernError, SQLAlchemyError) as exc:
            log.warning("open requests were not indexed by identity: %s", exc)
        else:
            if indexed:
                log.info("indexed %d open request(s) by identity", indexed)
        try:
            resumed = await run_in_threadpool(request_runs.resume_open_runs, context)
        except (PersonvernError, SQLAlchemyError) as exc:
            # A store that is not migrated yet has no requests to resume; say why and serve.
            log.warning("open request runs were not resumed: %s", exc)
        else:
            if resumed:
                log.info("resumed %d unfinished request run(s)", resumed)
        try:
            queued = await run_in_threadpool(retention.resume_queued_runs, context)
        except (PersonvernError, SQLAlchemyError) as exc:
            log.warning("queued retention runs were not resumed: %s", exc)
        else:
            if queued:
                log.info("queued %d retention run(s) again", queued)
        housekeeper = _housekeeper(context)
        scheduler = _retention_scheduler(context)
        # What start-up built (modules, the data map, templates, routes) lives as long as
        # the server: out of the collector's sight, a full collection under load walks
        # only what requests made. Unfrozen, such a pause stalled every request in
        # flight: p99 of a static file under 16 clients 100 ms, 6 ms frozen.
        gc.freeze()
        yield
    finally:
        # Collectable again once the app stops (a test process starts many apps).
        gc.unfreeze()
        if scheduler is not None:
            scheduler.stop()
        if housekeeper is not None:
            housekeeper.stop()
        if context.identity_provider is not None:
            context.identity_provider.close()
        # The decisions' asynchronous connection belongs to this loop: closed on it.
        await context.application.ledger_lookup.aclose()
        context.application.close()
