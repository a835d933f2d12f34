"""The example map broken in ten independent places, each of another kind and in another file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Expected:
    """A finding `check` must report: its file, line and ``severity: message``."""

    file: Path
    line: int
    text: str


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def break_in_ten_places(root: Path) -> list[Expected]:
    """Break the copy of the example map at ``root``; the findings expected, in file order.

    Several breaks set aside items others refer to (crm.customers.id, the email system,
    every system of web.yaml, the second organization): nothing those references would
    say may be reported.
    """
    web = root / "systems" / "web.yaml"
    _replace(web, "  - key: mobile_app\n", "  - key: [mobile_app\n")
    recipients = root / "recipients.yaml"
    _replace(recipients, "    transfer: eea\n", "    tranfser: eea\n")
    crm = root / "systems" / "crm.yaml"
    _replace(
        crm, "- {name: id, label: {nb: Kundenummer", "- {name: customer-id, label: {nb: Kundenummer"
    )
    support = root / "systems" / "support.yaml"
    _replace(support, "category: user.contact.email", "category: user.contact.emial")
    billing = root / "systems" / "billing.yaml"
    _replace(billing, "references: invoices.id", "references: invoices.ident")
    purposes = root / "purposes.yaml"
    _replace(
        purposes,
        "    data_use: essential.service.operations.support\n    legal_basis: contract\n",
        "    data_use: essential.service.operations.support\n",
    )
    us = root / "us.yaml"
    us.write_text(
        "recipients:\n"
        "  - key: us-crm-vendor\n"
        "    name: US CRM vendor\n"
        "    role: processor\n"
        "    country: US\n"
        "    purposes: [contract_administration]\n"
        "    categories: [user.contact.email]\n"
        "    recipient_category: {nb: CRM-leverandør, en: CRM vendor}\n",
        encoding="utf-8",
    )
    second = root / "zz-organization.yaml"
    second.write_text("organization:\n  name: Nordic Workspace AS\n", encoding="utf-8")
    email = root / "systems" / "email.yaml"
    _replace(
        email,
        "connection_env: PERSONVERN_M365_WEBHOOK_URL",
        "connection_env: https://hooks.example/m365?key=secret",
    )
    retention = root / "retention.yaml"
    _replace(retention, "trigger_field: closed_at", "trigger_field: closed_on")
    return [
        Expected(
            purposes,
            _line(purposes, "key: technical_support"),
            "error: purpose 'technical_support' has no legal basis",
        ),
        Expected(recipients, _line(recipients, "tranfser"), "error: unknown key 'tranfser'"),
        Expected(
            retention,
            _line(retention, "closed_on"),
            "error: trigger_field 'closed_on' is not a field of support.tickets",
        ),
        Expected(
            billing,
            _line(billing, "invoices.ident"),
            "error: reference 'invoices.ident' points at field 'ident', which billing.invoices "
            "does not have",
        ),
        Expected(
            crm,
            _line(crm, "customer-id"),
            "error: names of tables and fields may use letters, digits and '_' only "
            "(got 'customer-id')",
        ),
        Expected(
            email,
            _line(email, "hooks.example"),
            "error: connection_env must be the NAME of an environment variable (e.g. "
            "PERSONVERN_CRM_URL), never the connection string itself "
            "(got 'https://hooks.example/m365?key=secret')",
        ),
        Expected(
            support, _line(support, "emial"), "error: unknown data category 'user.contact.emial'"
        ),
        # PyYAML notices the open bracket on the line after it.
        Expected(
            web,
            _line(web, "[mobile_app") + 1,
            "error: invalid YAML: expected ',' or ']', but got ':' while parsing a flow sequence",
        ),
        Expected(
            us,
            5,
            "error: transfer to recipient 'us-crm-vendor' is not lawful: US is outside the EEA "
            "and no transfer mechanism is declared",
        ),
        Expected(
            second,
            1,
            f"error: 'organization' is declared twice (first at {root / 'organization.yaml'}:5:1)",
        ),
    ]
