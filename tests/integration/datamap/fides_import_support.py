"""What the Fides import tests share: an organization to check imports against, and readers."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from personvern.datamap.fides_import import FidesImport
from personvern.datamap.loader import check_datamap

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CORPUS = FIXTURES / "fides"

ORGANIZATION = """\
organization:
  name: Shop AS
  languages: [en]
  controllers:
    - {key: shop, name: Shop AS, organization_number: '923456783', address: Oslo, country: NO}
  contact: {name: Privacy, email: privacy@shop.example}
  supervisory_authority: {name: Datatilsynet, country: NO, url: https://www.datatilsynet.no}
subjects:
  - key: customer
    name: {en: Customer}
purposes:
  - key: shop
    name: {en: Selling}
    description: {en: Selling things}
    data_use: essential.service
    legal_basis: contract
retention:
  - key: all
    category: user
    trigger: contract_end
    period: P3Y
    description: {en: Three years after the last order}
"""

# What `check` says about every import until someone fills in the purposes.
_PURPOSES_TO_FILL = ("serves no purpose", "is declared but no field, file or cookie serves it")


def check_import(folder: Path, converted: FidesImport) -> list[str]:
    """The findings `check` has on the import beside ORGANIZATION, but for empty purposes."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "organization.yaml").write_text(ORGANIZATION, encoding="utf-8")
    (folder / "imported.yaml").write_text(converted.to_yaml(), encoding="utf-8")
    _datamap, _source, findings = check_datamap(folder, today=date(2026, 11, 25))
    return [
        found.render()
        for found in findings
        if not any(text in found.finding.message for text in _PURPOSES_TO_FILL)
    ]


def _fields(systems: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{system['key']}.{dataset['name']}.{field['name']}", field)
        for system in systems
        for dataset in system["datasets"]
        for field in dataset["fields"]
    ]


def primary_keys(converted: FidesImport) -> set[str]:
    """``system.dataset.field`` of every primary key field."""
    return {where for where, field in _fields(converted.systems) if field.get("primary_key")}


def identities(converted: FidesImport) -> set[tuple[str, str]]:
    """(``system.dataset.field``, identity kind) of every identity field."""
    return {
        (where, field["identity"])
        for where, field in _fields(converted.systems)
        if "identity" in field
    }


def references(converted: FidesImport) -> set[tuple[str, str]]:
    """(``system.dataset.field``, what it references) of every reference."""
    return {
        (where, field["references"])
        for where, field in _fields(converted.systems)
        if "references" in field
    }


def erasures(converted: FidesImport) -> set[tuple[str, str]]:
    """(``system.dataset.field``, erasure strategy) of every field that names one."""
    return {
        (where, field["erasure"])
        for where, field in _fields(converted.systems)
        if "erasure" in field
    }
