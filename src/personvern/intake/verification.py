"""One-time codes that prove a subject controls the e-mail address they gave.

A code is six random digits, sent by e-mail and kept only as an HMAC bound to its
request, so neither a database reader nor a code from another request can be used.
It lives for ten minutes and survives five wrong guesses; after that a new code must
be asked for. A new code replaces the previous one, so only one works at a time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from personvern.domain.datamap import IdentityKind
from personvern.domain.requests.handlers import handler_for
from personvern.domain.requests.lifecycle import RequestType
from personvern.intake.errors import CodeExpiredError, CodeLockedError, WrongCodeError
from personvern.security.subject_hash import hashes_equal, identity_hash, keyed_hash
from personvern.store.models import DataSubjectRequest, VerificationChallenge

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
#: Attempts per code, the right one included: five wrong guesses and the code is dead.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class IssuedCode:
    """A stored challenge and, once only, its code in clear for the e-mail."""

    challenge: VerificationChallenge
    code: str


def generate_code() -> str:
    """Six random digits from the operating system's CSPRNG (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(secret: str, request_id: str, code: str) -> str:
    """The stored form of a code: an HMAC bound to its request."""
    return keyed_hash(secret, "verification-code", f"{request_id}:{code}")


def verification_address(request: DataSubjectRequest) -> str | None:
    """The address codes for ``request`` go to: its first e-mail identity, if any."""
    return next(
        (i["value"] for i in request.identities if i.get("kind") == IdentityKind.EMAIL.value),
        None,
    )


def issue_code(
    session: Session, secret: str, request: DataSubjectRequest, address: str, now: datetime
) -> IssuedCode:
    """Store a new challenge for ``request``, retiring any earlier one, and return its code."""
    session.execute(
        sa.update(VerificationChallenge)
        .where(
            VerificationChallenge.request_id == request.id,
            VerificationChallenge.consumed_at.is_(None),
        )
        .values(consumed_at=now)
    )
    code = generate_code()
    challenge = VerificationChallenge(
        request_id=request.id,
        address_hash=identity_hash(secret, IdentityKind.EMAIL.value, address),
        code_hash=hash_code(secret, request.id, code),
        expires_at=now + CODE_LIFETIME,
        attempts=0,
        created_at=now,
    )
    session.add(challenge)
    session.flush()
    return IssuedCode(challenge=challenge, code=code)


def check_code(
    session: Session, secret: str, request: DataSubjectRequest, code: str, now: datetime
) -> VerificationChallenge:
    """Accept ``code`` for ``request`` (consuming its challenge) or raise why not.

    Every attempt, right or wrong, first takes one of the code's attempts with a
    conditional UPDATE and commits it, and only then is the code compared: parallel
    guesses cannot outrun the counter (60 at once used to get 33 judged), and the
    caller's rollback on an error cannot undo it.
    """
    challenge = session.scalars(
        sa.select(VerificationChallenge)
        .where(VerificationChallenge.request_id == request.id)
        .order_by(VerificationChallenge.created_at.desc(), VerificationChallenge.id.desc())
        .limit(1)
    ).first()
    if challenge is None:
        raise _no_code()
    taken = session.execute(
        sa.update(VerificationChallenge)
        .where(
            VerificationChallenge.id == challenge.id,
            VerificationChallenge.consumed_at.is_(None),
            VerificationChallenge.attempts < MAX_ATTEMPTS,
            VerificationChallenge.expires_at > now,
        )
        .values(attempts=VerificationChallenge.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.refresh(challenge)
    if _rowcount(taken) != 1:
        raise _why_refused(challenge, now)
    given = "".join(code.split())
    if not hashes_equal(challenge.code_hash, hash_code(secret, request.id, given)):
        left = MAX_ATTEMPTS - challenge.attempts
        if left <= 0:
            raise WrongCodeError(
                "the code is wrong, and that was the last attempt for this code",
                hint="ask for a new code to be sent",
            )
        raise WrongCodeError(
            f"the code is wrong; {left} attempt{'s' if left != 1 else ''} left",
            hint="check the latest e-mail from us; only the newest code works",
        )
    consumed = session.execute(
        sa.update(VerificationChallenge)
        .where(
            VerificationChallenge.id == challenge.id,
            VerificationChallenge.consumed_at.is_(None),
        )
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(consumed) != 1:
        # A parallel attempt with the same right code won; this one proves nothing new.
        raise _no_code()
    session.refresh(challenge)
    return challenge


def _rowcount(result: sa.Result[object]) -> int:
    return int(getattr(result, "rowcount", 0))


def _no_code() -> CodeExpiredError:
    return CodeExpiredError(
        "no code is waiting for this request", hint="ask for a new code to be sent"
    )


def _why_refused(challenge: VerificationChallenge, now: datetime) -> Exception:
    if challenge.consumed_at is not None:
        return _no_code()
    if challenge.attempts >= MAX_ATTEMPTS:
        return CodeLockedError(
            "this code was entered wrongly too many times and no longer works",
            hint="ask for a new code to be sent",
        )
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    return CodeExpiredError(
        f"the code has expired: codes work for {minutes} minutes",
        hint="ask for a new code to be sent",
    )


def retire_codes(session: Session, request: DataSubjectRequest, now: datetime) -> None:
    """Make every open code of ``request`` unusable (it was verified another way)."""
    session.execute(
        sa.update(VerificationChallenge)
        .where(
            VerificationChallenge.request_id == request.id,
            VerificationChallenge.consumed_at.is_(None),
        )
        .values(consumed_at=now)
    )


def code_message(
    language: str, organization: str, request_type: RequestType, request_id: str, code: str
) -> tuple[str, str]:
    """The subject line and text of the e-mail carrying ``code``, in ``language``."""
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    if language == "nb":
        name = handler_for(request_type).names["nb"]
        return (
            f"Bekreft forespørselen din om {name}",
            f"Hei,\n\nKoden din er: {code}\n\n"
            f"Skriv den inn for å bekrefte forespørselen om {name} hos {organization}. "
            f"Koden gjelder i {minutes} minutter.\n\n"
            "Har du ikke bedt om dette, kan du se bort fra e-posten; ingenting skjer "
            "uten koden.\n\n"
            f"Referanse: {request_id}\n",
        )
    name = handler_for(request_type).names["en"]
    return (
        f"Confirm your request for {name}",
        f"Hello,\n\nYour code is: {code}\n\n"
        f"Enter it to confirm your request for {name} to {organization}. "
        f"The code works for {minutes} minutes.\n\n"
        "If you did not ask for this, ignore this e-mail; nothing happens without the code.\n\n"
        f"Reference: {request_id}\n",
    )
