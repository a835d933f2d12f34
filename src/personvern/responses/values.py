"""Record values as the subject receives them: JSON, CSV and words in a report.

Connectors hand over plain Python values (str, int, Decimal, date, datetime, bytes, ...).
Machine-readable exports keep them exact: dates and times in ISO 8601, decimals as
strings so no digit is lost to floating point, binary as base64. The report shows them
to a person, and masks national identity numbers (personopplysningsloven § 12).
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from personvern.domain.datamap import DataField, IdentityKind

JsonValue = None | bool | int | float | str | list[Any] | dict[str, Any]

_NATIONAL_ID_CATEGORY = "user.government_id.national_identification_number"
# Control characters other than tab and line breaks are not allowed in HTML text and
# print as boxes in a PDF; the report drops them (the export keeps every byte).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def json_value(value: Any) -> JsonValue:  # noqa: PLR0911 (one return per kind of value)
    """A value as JSON holds it: ISO 8601 dates, Decimal as string, bytes as base64."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        # NaN and infinity are not JSON; keep them readable rather than invalid.
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, Enum):
        return json_value(value.value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((json_value(v) for v in value), key=str)
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return str(value)


def csv_value(value: Any) -> str:
    """A value as one CSV cell: like JSON, with nested values as compact JSON and None empty."""
    converted = json_value(value)
    if converted is None:
        return ""
    if isinstance(converted, bool):
        return "true" if converted else "false"
    if isinstance(converted, list | dict):
        return json.dumps(converted, ensure_ascii=False, separators=(",", ":"))
    return _inert(str(converted))


_PLAIN_NUMBER = re.compile(r"^[+-]?[\d\s().-]*$")


def _inert(text: str) -> str:
    """The cell with a leading ' if a spreadsheet would run it as a formula.

    Cells starting with = + - @ (or a tab or carriage return) are formulas to Excel
    and LibreOffice: a ticket text "=HYPERLINK(...)" would become a live link in the
    subject's spreadsheet. Phone numbers and signed amounts stay as they are.
    """
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not _PLAIN_NUMBER.match(text)
    ):
        return "'" + text
    return text


_WORDS = {"nb": ("ja", "nei", "byte"), "en": ("yes", "no", "bytes")}


def display_value(value: Any, lang: str) -> str:
    """A value as a person reads it in the report (empty string for no value)."""
    yes, no, unit = _WORDS.get(lang, _WORDS["en"])
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes if value else no
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, bytes | bytearray | memoryview):
        return f"({len(bytes(value))} {unit})"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(display_value(v, lang) for v in value)
    return _CONTROL.sub("", csv_value(value))


def is_national_id(field: DataField) -> bool:
    """Whether a field holds a national identity number, which reports show masked."""
    return field.identity is IdentityKind.NATIONAL_ID or field.category == _NATIONAL_ID_CATEGORY


def mask_national_id(text: str) -> str:
    """Keep the birth date part (first six characters) and hide the personal number."""
    digits = text.replace(" ", "")
    if len(digits) <= 6:
        return "*" * len(digits)
    return f"{digits[:6]} {'*' * (len(digits) - 6)}"
