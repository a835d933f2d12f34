"""`/api/v1/decisions`: may the company contact or process for this person, and why (not).

The marketing system asks before it sends anything (policy §2), and these answers are
all it may have: allow or deny and the reason, never the person's identity, consents
or requests. The bulk call takes the suppression-list case: a list of addresses in,
the ones that may be contacted out, with a count per reason.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from personvern.api.context import AppContext
from personvern.api.deps import ContextDep, loaded_datamap, require
from personvern.api.direct_route import DirectRoute
from personvern.api.direct_route import Endpoint as DirectEndpoint
from personvern.domain.consent.ledger import ConsentError
from personvern.domain.datamap import IdentityKind
from personvern.domain.decisions.rules import Decision, DecisionReason
from personvern.domain.roles import Permission
from personvern.intake import consents

router = APIRouter(tags=["decisions"])

CSV = "text/csv"
JSON = "application/json"
MarketingChannel = Literal["email", "sms", "phone"]
#: The bulk call's path: the one route that takes a body larger than max_body_bytes.
BULK_PATH = "/decisions/marketing/bulk"
#: The longest address read from a bulk list (an e-mail address is at most 254).
MAX_ADDRESS = 254


class DecisionOut(BaseModel):
    """Allow or deny, and why; nothing about the person."""

    decision: Literal["allow", "deny"]
    allowed: bool
    reason: DecisionReason
    purpose: str = Field(description="the purpose the answer rests on")

    @classmethod
    def of(cls, decision: Decision) -> DecisionOut:
        """The answer for ``decision``."""
        return cls(
            decision="allow" if decision.allowed else "deny",
            allowed=decision.allowed,
            reason=decision.reason,
            purpose=decision.purpose,
        )


# A data map's purposes and the reasons make a few dozen answers: each rendered once.
@lru_cache(maxsize=256)
def rendered(decision: Decision) -> bytes:
    """The JSON of the answer for ``decision`` (a DecisionOut)."""
    return DecisionOut.of(decision).model_dump_json().encode()


class BulkIn(BaseModel):
    """Addresses to decide for, all on one channel."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"channel": "email", "addresses": ["kari@example.com", "ola@example.com"]},
            ]
        },
    )

    channel: MarketingChannel
    purpose: str | None = Field(None, max_length=120, description="default: every marketing one")
    addresses: list[Annotated[str, Field(max_length=MAX_ADDRESS)]] = Field(
        max_length=consents.MAX_BULK
    )
    existing_customers: list[Annotated[str, Field(max_length=MAX_ADDRESS)]] = Field(
        default_factory=list,
        max_length=consents.MAX_BULK,
        description="of the addresses, those that are the company's customers (§ 15)",
    )


class BulkOut(BaseModel):
    """The addresses that may be contacted, and a count of every answer's reason."""

    channel: MarketingChannel
    contactable: list[str]
    counts: dict[str, int] = Field(description="addresses decided, by reason")
    total: int = Field(description="addresses received")
    invalid: int = Field(description="not addresses of the channel's kind: never contacted")
    duplicates: int


_BULK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            JSON: {"schema": {"$ref": "#/components/schemas/BulkIn"}},
            CSV: {
                "schema": {
                    "type": "string",
                    "description": "one address per line; a first line `address` (and "
                    "`,existing_customer`) is a header; a second column `true`/`yes`/`1` "
                    "marks an existing customer. Channel and purpose go in the query.",
                }
            },
        },
    }
}


class MarketingQuery(BaseModel):
    """The query of a marketing decision."""

    channel: MarketingChannel = Field(description="how the person would be contacted")
    email: str | None = Field(None, max_length=254, description="for channel=email")
    phone: str | None = Field(None, max_length=64, description="for sms and phone")
    purpose: str | None = Field(
        None, max_length=120, description="a marketing purpose; default: every one"
    )
    existing_customer: bool = Field(
        False, description="the person is the company's customer (markedsføringsloven § 15)"
    )


def _direct(path: str) -> Callable[[DirectEndpoint], DirectEndpoint]:
    """Register a decision that callers ask before every message: see DirectRoute."""

    def register(endpoint: DirectEndpoint) -> DirectEndpoint:
        router.add_api_route(
            path,
            endpoint,
            methods=["GET"],
            response_model=DecisionOut,
            dependencies=[Depends(require(Permission.DECISIONS_READ))],
            route_class_override=DirectRoute,
        )
        return endpoint

    return register


@_direct("/decisions/marketing")
async def marketing_decision(
    context: ContextDep, query: Annotated[MarketingQuery, Query()]
) -> bytes:
    """May the company send marketing to this address on this channel? Allow or deny, and why."""
    identity = _one_identity(query.email, query.phone)
    decision = await _deciding(
        context,
        consents.marketing_question(
            context.settings,
            loaded_datamap(context),
            identity=identity,
            channel=query.channel,
            purpose=query.purpose,
            existing_customer=query.existing_customer,
        ),
    )
    return rendered(decision)


@router.post(
    BULK_PATH,
    response_model=BulkOut,
    openapi_extra=_BULK_BODY,
    dependencies=[Depends(require(Permission.DECISIONS_READ))],
)
async def bulk_marketing_decisions(
    request: Request,
    context: ContextDep,
    channel: Annotated[
        MarketingChannel | None, Query(description="CSV bodies: the channel (JSON: in the body)")
    ] = None,
    purpose: Annotated[
        str | None, Query(max_length=120, description="CSV bodies: a marketing purpose")
    ] = None,
) -> BulkOut:
    """Which of up to 1,000,000 addresses may be contacted, with counts per reason."""
    body = await request.body()
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    parsed = await run_in_threadpool(_bulk_input, body, media, channel, purpose)
    return await run_in_threadpool(_decide_bulk, context, parsed)


def _decide_bulk(context: AppContext, parsed: BulkIn) -> BulkOut:
    datamap = loaded_datamap(context)
    with context.application.reading() as uow:
        outcome = consents.bulk_marketing(
            uow.session,
            context.settings,
            datamap,
            addresses=parsed.addresses,
            channel=parsed.channel,
            purpose=parsed.purpose,
            existing_customers=parsed.existing_customers,
        )
    return BulkOut(
        channel=parsed.channel,
        contactable=outcome.contactable,
        counts=dict(outcome.counts),
        total=len(parsed.addresses),
        invalid=outcome.invalid,
        duplicates=outcome.duplicates,
    )


def _bulk_input(
    body: bytes, media: str, channel: MarketingChannel | None, purpose: str | None
) -> BulkIn:
    """The bulk call's input from a JSON or CSV body; ConsentError when it is neither."""
    if media == CSV:
        if channel is None:
            raise ConsentError(
                "a CSV list needs the channel in the query", hint="?channel=email (or sms, phone)"
            )
        addresses, customers = _csv_addresses(body)
        return _checked(
            {
                "channel": channel,
                "purpose": purpose,
                "addresses": addresses,
                "existing_customers": customers,
            }
        )
    if media != JSON and not media.endswith("+json"):
        raise ConsentError(
            f"the list must be {JSON} or {CSV}",
            hint="send Content-Type: application/json or text/csv",
        )
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ConsentError(
            "the body is not valid JSON", hint='e.g. {"channel": "email", "addresses": [...]}'
        ) from None
    if not isinstance(data, dict):
        raise ConsentError(
            "the JSON body must be an object", hint='{"channel": ..., "addresses": [...]}'
        )
    return _checked(data)


def _checked(data: dict[str, Any]) -> BulkIn:
    try:
        return BulkIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][:2])
        raise ConsentError(
            f"the list cannot be read: {where}: {first['msg']}",
            hint=f"at most {consents.MAX_BULK} addresses of at most {MAX_ADDRESS} characters",
        ) from None


_YES = frozenset({"1", "true", "yes", "y", "ja", "x"})


def _csv_addresses(body: bytes) -> tuple[list[str], list[str]]:
    """Addresses (first column) and those marked existing customers (second column)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConsentError("the CSV list is not UTF-8", hint="save it as UTF-8") from None
    addresses: list[str] = []
    customers: list[str] = []
    reader = csv.reader(io.StringIO(text))
    try:
        for number, row in enumerate(reader):
            if not row or not row[0].strip():
                continue
            first = row[0].strip()
            if number == 0 and first.lower() in {"address", "email", "phone", "e-mail"}:
                continue
            addresses.append(first)
            if len(row) > 1 and row[1].strip().lower() in _YES:
                customers.append(first)
    except csv.Error as exc:
        raise ConsentError(
            f"the CSV list cannot be read at line {reader.line_num}: {exc}",
            hint="one address per line, optionally `,true` for an existing customer",
        ) from None
    return addresses, customers


class ProcessingQuery(BaseModel):
    """The query of a processing decision."""

    purpose: str = Field(max_length=100, description="a purpose of the data map")
    identity: str = Field(min_length=1, max_length=254, description="the person's identity")
    kind: IdentityKind = Field(IdentityKind.EMAIL, description="what kind of identity it is")
    category: str | None = Field(
        None, max_length=200, description="a data category (e.g. user.contact.email)"
    )


@_direct("/decisions/processing")
async def processing_decision(
    context: ContextDep, query: Annotated[ProcessingQuery, Query()]
) -> bytes:
    """May the company process this person's data (of a category) for a purpose? And why."""
    decision = await _deciding(
        context,
        consents.processing_question(
            context.settings,
            loaded_datamap(context),
            identity=(query.kind.value, query.identity),
            purpose=query.purpose,
            category=query.category,
        ),
    )
    return rendered(decision)


async def _deciding(
    context: AppContext, question: consents.DecisionQuestion | Decision
) -> Decision:
    """The answer to ``question``, its one read made with the others asked at the time.

    The question (normalising and hashing the identity) is already asked, here on the
    event loop; the read goes in the loop's next statement for everyone waiting (see
    LedgerLookup.one_subject_async).
    """
    if isinstance(question, Decision):
        return question
    return question.answer(
        await context.application.ledger_lookup.one_subject_async(*question.read)
    )


def _one_identity(email: str | None, phone: str | None) -> tuple[str, str]:
    if (email is None) == (phone is None):
        raise ConsentError(
            "name the person by exactly one of email= or phone=",
            hint="email=... for channel=email, phone=... for sms and phone",
        )
    if email is not None:
        return (IdentityKind.EMAIL.value, email)
    assert phone is not None
    return (IdentityKind.PHONE_NUMBER.value, phone)
