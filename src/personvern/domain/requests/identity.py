"""The identities a subject gives to be found by: checked, normalised, and spelled out.

A request names its subject by one or more identities (an e-mail address, a phone
number, a customer number, ...). Each is checked and normalised once here, by the
module of its kind (personvern.domain.identities.kinds), so every connector compares
like with like: e-mail addresses take the one canonical form of
personvern.domain.identities.email, phone numbers become E.164 (read with the
controller's country as the default region), national identity numbers lose their
separators and must pass the check digits where the scheme is known, other kinds are
opaque keys. Control and invisible characters are refused in every kind before
anything else (personvern.domain.text_input): identities reach mail headers and staff
terminals. Stores keep values in other spellings, so an identity also lists the forms
it is written in: exact forms for indexed equality lookups, and the forms people type
in free text for mention searches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from personvern.domain.datamap import IdentityKind
from personvern.domain.identities import keys, phone
from personvern.domain.identities.email import plain_canonical_email
from personvern.domain.identities.errors import InvalidIdentityError
from personvern.domain.identities.kinds import SPELLED, scheme
from personvern.domain.text_input import refuse_control_characters

__all__ = [
    "MAX_IDENTITIES",
    "InvalidIdentityError",
    "SubjectIdentity",
    "parse_identities",
    "parse_identity",
    "phone_forms",
]

MAX_IDENTITIES = 20


#: How messages name each kind of identity.
_SPELLED_OUT = {
    IdentityKind.EMAIL: "the e-mail address",
    IdentityKind.PHONE_NUMBER: "the phone number",
    IdentityKind.NATIONAL_ID: "the national identity number",
}


@dataclass(frozen=True, order=True)
class SubjectIdentity:
    """One normalised identity of a data subject."""

    kind: IdentityKind
    value: str

    def __str__(self) -> str:
        return f"{self.kind.value}={self.value}"

    @property
    def masked(self) -> str:
        """The identity with most of it hidden, for logs and listings."""
        value = self.value
        if self.kind is IdentityKind.EMAIL:
            local, _, domain = value.partition("@")
            return f"{self.kind.value}={local[:1]}***@{domain}"
        keep = 2 if len(value) > 6 else 0
        return f"{self.kind.value}={'*' * (len(value) - keep)}{value[len(value) - keep :]}"

    def exact_forms(self, country: str = "NO") -> list[str]:
        """Spellings a store may keep this identity in, for indexed equality matches."""
        return sorted(scheme(self.kind).stored_spellings(self.value, country))

    def text_needles(self, country: str = "NO") -> list[str]:
        """Spellings people write this identity in, for mention searches in free text."""
        # Customer numbers and cookie ids have none: "42" would match every ticket that
        # mentions a price.
        return sorted(scheme(self.kind).text_needles(self.value, country))


def phone_forms(e164: str, country: str = "NO") -> list[str]:
    """Ways a phone number is stored: +47 912 34 567, 912 34 567, 91234567, +4791234567, ..."""
    return sorted(phone.stored_spellings(e164, country))


_EMAIL = IdentityKind.EMAIL.value


def parse_identity(kind: str, raw: str, *, country: str = "NO") -> SubjectIdentity:
    """Check and normalise one identity; ``country`` is the default region for phone numbers."""
    if kind == _EMAIL:
        # Most identities asked about are plain ASCII addresses (a marketing decision
        # per message sent): canonical once lower-cased, as the full path would make them.
        plain = plain_canonical_email(raw)
        if plain is not None:
            return SubjectIdentity(IdentityKind.EMAIL, plain)
    refuse_control_characters(kind, "the identity type")
    try:
        identity_kind = IdentityKind(kind.strip().lower())
    except ValueError:
        known = ", ".join(k.value for k in IdentityKind)
        raise InvalidIdentityError(
            f"unknown identity type {kind!r}", hint=f"use one of {known}"
        ) from None
    # Before stripping: a trailing line break or a hidden mark is refused, not trimmed.
    refuse_control_characters(
        raw, _SPELLED_OUT.get(identity_kind, f"the {identity_kind.value.replace('_', ' ')}")
    )
    value = raw.strip()
    if not value:
        raise InvalidIdentityError(f"the {identity_kind.value} is empty")
    if identity_kind in SPELLED:
        return SubjectIdentity(identity_kind, scheme(identity_kind).parse(value, country))
    return SubjectIdentity(
        identity_kind, keys.parse(value, country, what=f"the {identity_kind.value}")
    )


def parse_identities(
    pairs: Iterable[tuple[str, str]], *, country: str = "NO"
) -> tuple[SubjectIdentity, ...]:
    """Check a request's identities: at least one, at most 20, duplicates dropped."""
    identities = tuple(
        sorted(dict.fromkeys(parse_identity(k, v, country=country) for k, v in pairs))
    )
    if not identities:
        raise InvalidIdentityError(
            "a request needs at least one identity", hint="for example email=name@example.com"
        )
    if len(identities) > MAX_IDENTITIES:
        raise InvalidIdentityError(f"at most {MAX_IDENTITIES} identities per request")
    return identities
