"""Purpose-bound reads: personal data is read for a purpose the data map declares, and
only where the subject's restriction (Art. 18), objection (Art. 21) or withdrawn consent
(Art. 7(3)) does not forbid that purpose.

The rule:

- The purpose must be a key of the data map's ``purposes``.
- A purpose whose legal basis is a legal obligation is always allowed: answering the
  subject's own requests (Art. 12-22) and keeping what the law requires are exactly
  what a restriction still permits (Art. 18(2): storage, legal claims) and what an
  objection or a withdrawal does not reach (Art. 21 covers Art. 6(1)(e) and (f) only).
- A restriction in force allows no other purpose.
- An objection or a consent withdrawal forbids the purpose it names; one that names
  no purpose forbids every purpose based on legitimate interests or public task
  (objection) or on consent (withdrawal).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from personvern.domain.datamap import DataMap
from personvern.domain.errors import DomainError
from personvern.domain.legal_basis import LegalBasis
from personvern.errors import ErrorKind

RESTRICTION = "restriction"
OBJECTION = "objection"
CONSENT_WITHDRAWAL = "consent_withdrawal"

_OBJECTABLE = frozenset({LegalBasis.LEGITIMATE_INTERESTS, LegalBasis.PUBLIC_TASK})


class PurposeError(DomainError):
    """A read named no purpose, or one the data map does not declare."""

    kind = ErrorKind.INVALID
    title = "Purpose required"


class PurposeForbiddenError(DomainError):
    """The subject's restriction, objection or withdrawal forbids reading for the purpose."""

    kind = ErrorKind.FORBIDDEN
    title = "Purpose not allowed for this subject"


@dataclass(frozen=True)
class FlagInForce:
    """A restriction, objection or withdrawal in force: its kind and purpose (None: all)."""

    kind: str
    purpose: str | None


def valid_purposes(datamap: DataMap) -> list[str]:
    """The purpose keys a read may name, sorted."""
    return sorted(p.key for p in datamap.purposes)


def offered_purpose(datamap: DataMap) -> str | None:
    """The purpose offered first for reading a request: answering it is a legal obligation."""
    for purpose in datamap.purposes:
        if purpose.legal_basis is LegalBasis.LEGAL_OBLIGATION:
            return purpose.key
    return datamap.purposes[0].key if datamap.purposes else None


def check_purpose(datamap: DataMap, purpose: str | None) -> str:
    """``purpose`` if the data map declares it; PurposeError with the valid keys if not."""
    keys = valid_purposes(datamap)
    hint = (
        "send the header `X-Personvern-Purpose: <purpose>` (or `?purpose=`), one of: "
        + ", ".join(keys)
    )
    if not purpose or not purpose.strip():
        raise PurposeError("reading personal data needs a purpose from the data map", hint=hint)
    if datamap.purpose(purpose.strip()) is None:
        raise PurposeError(f"'{purpose}' is not a purpose of the data map", hint=hint)
    return purpose.strip()


def forbidding_flag(
    datamap: DataMap, purpose: str, flags: Iterable[FlagInForce]
) -> FlagInForce | None:
    """The first flag in force that forbids reading for ``purpose``; None if none does."""
    declared = datamap.purpose(purpose)
    basis = declared.legal_basis if declared is not None else None
    if basis is LegalBasis.LEGAL_OBLIGATION:
        return None
    for flag in flags:
        if flag.kind == RESTRICTION:
            return flag
        if flag.kind == OBJECTION and (
            flag.purpose == purpose or (flag.purpose is None and basis in _OBJECTABLE)
        ):
            return flag
        if flag.kind == CONSENT_WITHDRAWAL and (
            flag.purpose == purpose or (flag.purpose is None and basis is LegalBasis.CONSENT)
        ):
            return flag
    return None


def check_flags(datamap: DataMap, purpose: str, flags: Iterable[FlagInForce]) -> None:
    """PurposeForbiddenError if a flag in force forbids reading for ``purpose``."""
    flag = forbidding_flag(datamap, purpose, flags)
    if flag is None:
        return
    what = {
        RESTRICTION: "processing is restricted (Art. 18)",
        OBJECTION: "the subject objected (Art. 21)",
        CONSENT_WITHDRAWAL: "the subject withdrew consent (Art. 7(3))",
    }.get(flag.kind, f"a '{flag.kind}' flag is in force")
    legal = sorted(p.key for p in datamap.purposes if p.legal_basis is LegalBasis.LEGAL_OBLIGATION)
    raise PurposeForbiddenError(
        f"cannot read this subject's data for '{purpose}': {what}",
        hint="purposes still allowed: " + ", ".join(legal)
        if legal
        else "the data map declares no purpose based on a legal obligation",
    )
