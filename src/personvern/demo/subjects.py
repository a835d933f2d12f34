"""`GET /demo/subject`: the e-mail of a demo customer, for walkthroughs and scripts.

The demo's people are synthetic, but the route still answers only on this machine
(like the outbox): it exists so the README's walkthrough can pick someone to file a
request for with one command, ``EMAIL=$(curl -s http://127.0.0.1:8000/demo/subject)``.
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from personvern.demo import schema
from personvern.demo.errors import DemoError
from personvern.demo.outbox import loopback_only
from personvern.demo.targets import DemoTargets
from personvern.errors import ErrorKind

SUBJECT_PATH = "/demo/subject"


class NoDemoSubjectError(DemoError):
    """The demo CRM has no customer of the kind asked for."""

    kind = ErrorKind.NOT_FOUND
    title = "No such demo customer"


def subjects_router(targets: DemoTargets) -> APIRouter:
    """The route picking a demo customer; mounted in demo mode only."""
    router = APIRouter(include_in_schema=False, dependencies=[Depends(loopback_only)])

    @router.get(SUBJECT_PATH, response_class=PlainTextResponse)
    def subject(
        language: Annotated[
            str | None,
            Query(pattern=r"^[a-z]{2}$", description="nb or en: a customer who prefers it"),
        ] = None,
        nth: Annotated[int, Query(ge=1, le=1000, description="the nth such customer")] = 1,
    ) -> PlainTextResponse:
        """The e-mail address of a demo customer (the first, or the nth, in the CRM)."""
        query = sa.select(schema.customers.c.email).order_by(schema.customers.c.id)
        if language:
            query = query.where(schema.customers.c.preferred_language == language)
        engine = sa.create_engine(targets.url("crm"))
        try:
            with engine.connect() as connection:
                found = connection.execute(query.offset(nth - 1).limit(1)).scalar()
        finally:
            engine.dispose()
        if found is None:
            raise NoDemoSubjectError("the demo CRM has no such customer")
        return PlainTextResponse(str(found))

    return router
