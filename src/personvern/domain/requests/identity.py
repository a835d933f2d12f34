"""The identities a subject gives to be found by: checked, normalised, and spelled out.

A request names its subject by one or more identities (an e-mail address, a phone
number, a customer number, ...). Each is checked and normalised once here, so every
connector compares like with like: e-mail addresses take the one canonical form of
personvern.domain.identities.email, phone numbers become E.164, national identity
numbers lose their spaces and must pass the check digits where the scheme is known.
Control and invisible characters are refused in every kind before anything else
(personvern.domain.text_input): identities reach mail headers and staff terminals.
Stores keep values in other spellings, so an identity also lists the forms it is
written in: exact forms for indexed equality lookups, and the forms people type in
free text for mention searches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.no import fodselsnummer

from personvern.domain.datamap import IdentityKind
from personvern.domain.identities.email import canonical_email
from personvern.domain.identities.errors import InvalidIdentityError
from personvern.domain.text_input import refuse_control_characters

__all__ = [
    "MAX_IDENTITIES",
    "InvalidIdentityError",
    "SubjectIdentity",
    "parse_identities",
    "parse_identity",
    "phone_forms",
]

_OPAQUE = re.compile(r"^[\w.:\-/+=@]{1,200}$")
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

    def exact_forms(self) -> list[str]:
        """Spellings a store may keep this identity in, for indexed equality matches."""
        if self.kind is IdentityKind.PHONE_NUMBER:
            return phone_forms(self.value)
        return [self.value]

    def text_needles(self) -> list[str]:
        """Spellings people write this identity in, for mention searches in free text."""
        if self.kind is IdentityKind.EMAIL:
            return [self.value]
        if self.kind is IdentityKind.PHONE_NUMBER:
            return phone_forms(self.value)
        if self.kind is IdentityKind.NATIONAL_ID:
            digits = self.value
            forms = [digits]
            if len(digits) == 11:
                forms.append(f"{digits[:6]} {digits[6:]}")
            return forms
        # Customer numbers and cookie ids are too short or too opaque to search text for:
        # "42" would match every ticket that mentions a price.
        return []


def phone_forms(e164: str) -> list[str]:
    """Ways a phone number is written: +47 912 34 567, 912 34 567, 91234567, +4791234567."""
    parsed = phonenumbers.parse(e164)
    international = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    digits = "".join(ch for ch in national if ch.isdigit())
    forms = [e164, international, national, digits]
    if parsed.country_code == 47 and len(digits) == 8:
        # Norwegians write mobile numbers 3-2-3 (912 34 567) whatever phonenumbers'
        # grouping for the series is, so both groupings occur in real records.
        grouped = f"{digits[:3]} {digits[3:5]} {digits[5:]}"
        forms += [f"+47 {grouped}", grouped, f"0047{digits}"]
    return list(dict.fromkeys(forms))


def parse_identity(kind: str, raw: str, *, country: str = "NO") -> SubjectIdentity:
    """Check and normalise one identity; ``country`` is the default region for phone numbers."""
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
    if identity_kind is IdentityKind.EMAIL:
        return SubjectIdentity(identity_kind, _email(value))
    if identity_kind is IdentityKind.PHONE_NUMBER:
        return SubjectIdentity(identity_kind, _phone(value, country))
    if identity_kind is IdentityKind.NATIONAL_ID:
        return SubjectIdentity(identity_kind, _national_id(value, country))
    if not _OPAQUE.match(value):
        raise InvalidIdentityError(
            f"the {identity_kind.value} contains characters no identifier has",
            hint="letters, digits and . : - / + = @ only, at most 200",
        )
    return SubjectIdentity(identity_kind, value)


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


def _email(value: str) -> str:
    # One canonical form for intake, every connector and every text match; it also
    # refuses addresses over the RFC 5321 limits, which break the mailbox search later.
    return canonical_email(value)


def _phone(value: str, country: str) -> str:
    try:
        parsed = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise InvalidIdentityError(
            "that is not a valid phone number",
            hint="include the country code, for example +47 912 34 567",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _national_id(value: str, country: str) -> str:
    compact = re.sub(r"[\s.-]", "", value)
    if country == "NO":
        try:
            return str(fodselsnummer.validate(compact))
        except StdnumValidationError:
            raise InvalidIdentityError(
                "that is not a valid Norwegian national identity number",
                hint="11 digits, fødselsnummer or D-number",
            ) from None
    if not _OPAQUE.match(compact):
        raise InvalidIdentityError("that is not a national identity number")
    return compact
