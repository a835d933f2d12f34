"""Consent receipts: one ledger record as a signed JWT with the Kantara Consent Receipt fields.

The receipt follows the Kantara Initiative Consent Receipt Specification v1.1 (version,
jurisdiction, consentTimestamp, collectionMethod, consentReceiptID, piiPrincipalId,
piiControllers, policyUrl, services with their purposes, sensitive, spiCat), plus what
personvern's ledger adds under ``personvern``: granted or withdrawn, the channel, the
version and the exact text consented to. It is signed with EdDSA (Ed25519) by a key of
its own in ``<home>/consent-receipt.key`` (made on first use, mode 0600), so anyone
holding the public key can check a receipt without being able to make one.

The subject appears as the keyed hash of their identity, never the identity itself:
the person holding the receipt knows who they are.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from personvern.domain.consent.ledger import ConsentRecord
from personvern.domain.datamap import DataMap, Purpose
from personvern.security.audit_anchor import home_signing_key

RECEIPT_KEY_FILE = "consent-receipt.key"
KANTARA_VERSION = "KI-CR-v1.1.0"
ALGORITHM = "EdDSA"
ISSUER = "personvern"


@dataclass(frozen=True)
class SignedReceipt:
    """A receipt as handed out: the JWT and the key that checks it."""

    token: str
    key_id: str
    #: The Ed25519 public key, PEM (SubjectPublicKeyInfo).
    public_key_pem: str


def receipt_key(home: Path) -> Ed25519PrivateKey:
    """The receipt signing key of the installation in ``home``."""
    return home_signing_key(home, RECEIPT_KEY_FILE)


def key_id(key: Ed25519PrivateKey) -> str:
    """A short, stable name for the key: its raw public bytes, base64url, first 16 chars."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).decode("ascii")[:16]


def _categories(datamap: DataMap, purpose: str) -> list[str]:
    """The data categories the data map processes for ``purpose``."""
    found = {
        field.category
        for system in datamap.systems
        for dataset in system.datasets
        for field in dataset.fields
        if field.category and purpose in field.purposes
    }
    return sorted(found)


def kantara_claims(
    record: ConsentRecord,
    purpose: Purpose,
    datamap: DataMap,
    *,
    language: str | None,
    text: str | None,
) -> dict[str, Any]:
    """The receipt's claims: Kantara CR v1.1 fields, and personvern's own under ``personvern``."""
    organization = datamap.organization
    lang = language or organization.languages[0]
    controller = organization.controllers[0]
    recipients = [r for r in datamap.recipients if purpose.key in r.purposes]
    categories = _categories(datamap, purpose.key)
    special = {c.key for c in datamap.taxonomy.data_categories if c.special}
    sensitive = sorted(set(categories) & special)

    def words(text: Mapping[str, str]) -> str:
        return text.get(lang) or next(iter(text.values()), "")

    timestamp = int(record.at.timestamp())
    return {
        "iss": ISSUER,
        "iat": timestamp,
        "jti": record.id,
        "version": KANTARA_VERSION,
        "jurisdiction": controller.country,
        "consentTimestamp": timestamp,
        "collectionMethod": record.source.value,
        "consentReceiptID": record.id,
        "language": lang,
        "piiPrincipalId": record.identity_hash,
        "piiControllers": [
            {
                "piiController": c.name,
                "onBehalf": False,
                "contact": organization.contact.name,
                "address": {"streetAddress": c.address, "addressCountry": c.country},
                "email": c.email or organization.contact.email,
                "phone": c.phone or organization.contact.phone,
            }
            for c in organization.controllers
        ],
        "policyUrl": organization.cookie_policy_url or organization.rights_guidance_url,
        "services": [
            {
                "service": words(purpose.name),
                "purposes": [
                    {
                        "purpose": words(purpose.description),
                        "purposeCategory": [purpose.data_use],
                        "consentType": "EXPLICIT",
                        "piiCategory": categories,
                        "primaryPurpose": True,
                        "termination": "withdrawal at any time (GDPR Art. 7(3))",
                        "thirdPartyDisclosure": bool(recipients),
                        "thirdPartyName": ", ".join(r.name for r in recipients) or None,
                    }
                ],
            }
        ],
        "sensitive": bool(sensitive),
        "spiCat": sensitive,
        "personvern": {
            "purpose": purpose.key,
            "action": record.action.value,
            "channel": record.channel.value if record.channel else None,
            "identityKind": record.identity_kind.value,
            "textVersion": record.text_version,
            "text": text,
        },
    }


def sign_receipt(home: Path, claims: Mapping[str, Any]) -> SignedReceipt:
    """``claims`` signed as a JWT with the installation's receipt key."""
    key = receipt_key(home)
    kid = key_id(key)
    token = jwt.encode(dict(claims), key, algorithm=ALGORITHM, headers={"kid": kid})
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SignedReceipt(token, kid, pem.decode("ascii"))
