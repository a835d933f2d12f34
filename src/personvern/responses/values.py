"""Record values as the subject receives them: JSON, CSV and words in a report.

Connectors hand over plain Python values (str, int, Decimal, date, datetime, bytes, ...).
Machine-readable exports keep them exact: dates and times in ISO 8601, decimals as
strings so no digit is lost to floating point, binary as base64. The report shows them
to a person, in one style per language: dates as "2. desember 2026" and "2 December
2026", times of day as "kl. 14.30" and "14:30" (in the answering company's time zone
when the store says which zone a time is in), amounts as "12 500,50" and "12,500.50";
dates that arrive as ISO 8601 text (from a webhook or a file's sidecar) are read as
dates. National identity numbers are masked (personopplysningsloven § 12).
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
_MONTHS = {
    "nb": [
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
# Dates and times as ISO 8601 text: "2024-07-19", "2024-07-19T15:22:00", "... 15:22:00+01:00".
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
#: The time zone answers from a controller in each country show times in.
_ZONES = {
    "NO": "Europe/Oslo",
    "SE": "Europe/Stockholm",
    "DK": "Europe/Copenhagen",
    "FI": "Europe/Helsinki",
    "IS": "Atlantic/Reykjavik",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "DE": "Europe/Berlin",
    "NL": "Europe/Amsterdam",
    "FR": "Europe/Paris",
}


def zone_for_country(country: str) -> tzinfo:
    """The time zone of a controller's country; UTC for one we do not know."""
    name = _ZONES.get(country.upper())
    if name is None:
        return UTC
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:  # no time zone database on this machine
        return UTC


def format_date(day: date, lang: str) -> str:
    """A date as a person writes it: ``2. desember 2026``, ``2 December 2026``."""
    if lang == "nb":
        return f"{day.day}. {_MONTHS['nb'][day.month - 1]} {day.year}"
    return f"{day.day} {_MONTHS['en'][day.month - 1]} {day.year}"


def format_datetime(moment: datetime, lang: str, zone: tzinfo | None = None) -> str:
    """A date and time of day: ``2. desember 2026 kl. 14.30``, ``2 December 2026, 14:30``."""
    # A time that knows its zone is shown in ``zone`` (in UTC, and said so, without one);
    # a time without a zone is shown as the store holds it.
    suffix = ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone or UTC)
        if (zone or UTC) is UTC:
            suffix = " UTC"
    day = format_date(moment.date(), lang)
    if lang == "nb":
        return f"{day} kl. {moment:%H.%M}{suffix}"
    return f"{day}, {moment:%H:%M}{suffix}"


def format_amount(amount: Decimal, lang: str) -> str:
    """A decimal number with grouped thousands: ``12 500,50``, ``12,500.50``."""
    if not amount.is_finite():
        return str(amount)
    text = f"{amount:,}"
    if lang == "nb":
        # Norwegian groups with a (no-break) space and uses a decimal comma.
        return text.replace(",", "\u00a0").replace(".", ",")
    return text


def display_value(  # noqa: PLR0911 (one return per kind of value)
    value: Any, lang: str, zone: tzinfo | None = None
) -> str:
    """A value as a person reads it in the report (empty string for no value)."""
    yes, no, unit = _WORDS.get(lang, _WORDS["en"])
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes if value else no
    if isinstance(value, datetime):
        return format_datetime(value, lang, zone)
    if isinstance(value, date):
        return format_date(value, lang)
    if isinstance(value, Decimal):
        return format_amount(value, lang)
    if isinstance(value, str):
        moment = _iso_moment(value)
        if moment is not None:
            return display_value(moment, lang, zone)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"({len(bytes(value))} {unit})"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(display_value(v, lang, zone) for v in value)
    return _CONTROL.sub("", csv_value(value))


def _iso_moment(text: str) -> date | datetime | None:
    """A date or date and time written in ISO 8601, or None for any other text."""
    try:
        if _ISO_DATE.match(text):
            return date.fromisoformat(text)
        if _ISO_DATETIME.match(text):
            return datetime.fromisoformat(text)
    except ValueError:
        return None
    return None


def is_national_id(field: DataField) -> bool:
    """Whether a field holds a national identity number, which reports show masked."""
    return field.identity is IdentityKind.NATIONAL_ID or field.category == _NATIONAL_ID_CATEGORY


def mask_national_id(text: str) -> str:
    """Keep the birth date part (first six characters) and hide the personal number."""
    digits = text.replace(" ", "")
    if len(digits) <= 6:
        return "*" * len(digits)
    return f"{digits[:6]} {'*' * (len(digits) - 6)}"
