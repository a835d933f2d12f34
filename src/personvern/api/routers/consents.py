"""`/api/v1/consents`: the consent ledger (Art. 7(1)): record, list, and hand out receipts.

Reading a person's history is a purpose-bound read (personvern.api.purpose): the caller
names why (``X-Personvern-Purpose``), the person's restriction, objection or withdrawal
must allow it, and the read is recorded in the audit trail, allowed or refused. The
identity is never echoed: the history is keyed by its hash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from personvern.api.deps import DataMapDep, SessionDep, SettingsDep, require
from personvern.api.purpose import PURPOSE_HEADER
from personvern.domain.audit.event import AuditOutcome
from personvern.domain.audit.purpose import (
    FlagInForce,
    PurposeForbiddenError,
    check_flags,
    check_purpose,
)
from personvern.domain.consent.ledger import ConsentAction, ConsentChannel, ConsentSource
from personvern.domain.datamap import IdentityKind
from personvern.domain.roles import Permission
from personvern.intake import consents
from personvern.security.audit_trail import actor_of, record_read
from personvern.security.principal import Principal
from personvern.store.consent_models import ConsentRecordRow
from personvern.store.consents import ConsentLedger

router = APIRouter(tags=["consents"])

ConsentIdPath = Annotated[
    str, Path(min_length=1, max_length=64, description="the consent record's id")
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentIdentityIn(_Input):
    """The identity the consent is recorded for (kept only as a keyed hash)."""

    kind: IdentityKind = IdentityKind.EMAIL
    value: str = Field(min_length=1, max_length=254)


class ProofIn(_Input):
    """How the consent was given; reduced before it is stored (IP /24 or /48, browser family)."""

    ip: str | None = Field(None, max_length=64, description="the subject's IP address")
    user_agent: str | None = Field(None, max_length=1000, description="the subject's browser")


class ConsentIn(_Input):
    """A consent given or withdrawn."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "identity": {"kind": "email", "value": "kari@example.com"},
                    "purpose": "marketing_newsletter",
                    "action": "granted",
                    "channel": "email",
                    "language": "nb",
                },
            ]
        },
    )

    identity: ConsentIdentityIn
    purpose: str = Field(min_length=1, max_length=120, description="a purpose of the data map")
    action: ConsentAction
    source: ConsentSource = ConsentSource.API
    channel: ConsentChannel | None = Field(None, description="None: every channel")
    language: str | None = Field(
        None, pattern=r"^[a-z]{2,3}$", description="the language the text was shown in"
    )
    text_version: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the exact consent text shown; must be the purpose's current one",
    )
    proof: ProofIn | None = None
    at: datetime | None = Field(None, description="import only: when the consent was given")


class ConsentOut(BaseModel):
    """One record of the ledger (the identity is not shown)."""

    id: str
    purpose: str
    action: ConsentAction
    at: datetime
    recorded_at: datetime
    source: ConsentSource
    channel: ConsentChannel | None
    language: str | None
    text_version: str | None
    ip_prefix: str | None
    user_agent_family: str | None

    @classmethod
    def of(cls, row: ConsentRecordRow) -> ConsentOut:
        """The view of a stored record."""
        return cls(
            id=row.public_id,
            purpose=row.purpose,
            action=ConsentAction(row.action),
            at=row.at,
            recorded_at=row.recorded_at,
            source=ConsentSource(row.source),
            channel=ConsentChannel(row.channel) if row.channel else None,
            language=row.language,
            text_version=row.text_version,
            ip_prefix=row.ip_prefix,
            user_agent_family=row.user_agent_family,
        )


class ConsentStateOut(BaseModel):
    """The consent in force for a purpose (and channel), from the latest record covering it."""

    purpose: str
    channel: ConsentChannel | None
    granted: bool
    withdrawn: bool
    stale: bool = Field(description="given to a text that has changed since: ask again")
    since: datetime | None
    record: str | None


class HistoryOut(BaseModel):
    """A person's consent history for one identity, and what is in force."""

    identity_kind: IdentityKind
    records: list[ConsentOut]
    current: list[ConsentStateOut]


class ReceiptOut(BaseModel):
    """A consent receipt: Kantara CR v1.1 fields in a JWT signed with EdDSA (Ed25519)."""

    id: str
    jwt: str
    algorithm: str
    key_id: str
    public_key: str = Field(description="the Ed25519 public key that checks it, PEM")


@router.get("/consents", response_model=HistoryOut)
def list_consents(
    session: SessionDep,
    settings: SettingsDep,
    datamap: DataMapDep,
    principal: Annotated[Principal, Depends(require(Permission.CONSENTS_READ))],
    identity: Annotated[
        str, Query(min_length=1, max_length=254, description="the person's identity")
    ],
    kind: Annotated[IdentityKind, Query(description="what kind of identity it is")] = (
        IdentityKind.EMAIL
    ),
    header: Annotated[
        str | None,
        Header(
            alias=PURPOSE_HEADER,
            max_length=100,
            description="why the history is read: a purpose key of the data map",
        ),
    ] = None,
    purpose: Annotated[
        str | None,
        Query(alias="purpose", max_length=100, description=f"instead of {PURPOSE_HEADER}"),
    ] = None,
) -> HistoryOut:
    """A person's consents: every grant and withdrawal, and the state of each purpose."""
    why = check_purpose(datamap, header if header is not None else purpose)
    found = consents.history(session, settings, datamap, (kind.value, identity))
    flags = [
        FlagInForce(flag_kind, flag_purpose)
        for flag_kind, flag_purpose in ConsentLedger(session)
        .flags_of(found.identity.kind, [found.identity.hash])
        .get(found.identity.hash, [])
    ]
    refusal: PurposeForbiddenError | None = None
    try:
        check_flags(datamap, why, flags)
    except PurposeForbiddenError as refused:
        refusal = refused
    record_read(
        session,
        principal,
        purpose=why,
        subject_key=found.identity.hash,
        what="consent_history",
        request_id=None,
        outcome=AuditOutcome.SUCCESS if refusal is None else AuditOutcome.DENIED,
        reason=None if refusal is None else refusal.message,
    )
    # Refused reads are recorded too: committed before the 403 goes out.
    session.commit()
    if refusal is not None:
        raise refusal
    return HistoryOut(
        identity_kind=found.identity.identity.kind,
        records=[ConsentOut.of(row) for row in found.records],
        current=[
            ConsentStateOut(
                purpose=state.purpose,
                channel=state.channel,
                granted=state.granted,
                withdrawn=state.withdrawn,
                stale=state.stale,
                since=state.latest.at if state.latest else None,
                record=state.latest.id if state.latest else None,
            )
            for state in found.states
        ],
    )


@router.post("/consents", status_code=201, response_model=ConsentOut)
def record_consent(
    body: ConsentIn,
    session: SessionDep,
    settings: SettingsDep,
    datamap: DataMapDep,
    principal: Annotated[Principal, Depends(require(Permission.CONSENTS_WRITE))],
) -> ConsentOut:
    """Record a consent given or withdrawn; a grant is stored with the exact text shown."""
    proof = body.proof or ProofIn()
    row = consents.record_consent(
        session,
        settings,
        datamap,
        identity=(body.identity.kind.value, body.identity.value),
        purpose=body.purpose,
        action=body.action,
        source=body.source,
        actor=actor_of(principal),
        channel=body.channel,
        language=body.language,
        shown_version=body.text_version,
        ip=proof.ip,
        user_agent=proof.user_agent,
        at=body.at,
    )
    return ConsentOut.of(row)


@router.get(
    "/consents/{consent_id}/receipt",
    response_model=ReceiptOut,
    dependencies=[Depends(require(Permission.CONSENTS_READ))],
)
def consent_receipt(
    consent_id: ConsentIdPath, session: SessionDep, settings: SettingsDep, datamap: DataMapDep
) -> ReceiptOut:
    """The record as a signed consent receipt (Kantara CR v1.1 fields, JWT, EdDSA)."""
    signed = consents.receipt(session, settings, datamap, consent_id)
    return ReceiptOut(
        id=consent_id,
        jwt=signed.token,
        algorithm="EdDSA",
        key_id=signed.key_id,
        public_key=signed.public_key_pem,
    )
