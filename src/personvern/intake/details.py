"""What each request type may carry besides identities, checked against the data map.

A rectification says what is wrong and what it should be (Art. 16): ``corrections``
maps a data category (``user.contact.address``) or a field (``crm.customers.address``)
to the new value. An objection (Art. 21) or a withdrawal of consent (Art. 7(3)) may
name the ``purposes`` it concerns; without them it concerns every purpose it can.

Control and invisible characters are refused in every key and value before anything
else (personvern.domain.text_input): corrections are written into the company's
systems and shown to staff. A new value may span lines (an address); nothing else may.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from personvern.domain.datamap import DataMap
from personvern.domain.requests.handlers import handler_for
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.text_input import refuse_control_characters
from personvern.intake.errors import InvalidRequestError

MAX_CORRECTIONS = 50
MAX_CORRECTION_KEY = 200
MAX_CORRECTION_VALUE = 1000
MAX_PURPOSES = 50
_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")


def validate_details(
    request_type: RequestType, details: Mapping[str, Any] | None, datamap: DataMap
) -> dict[str, Any]:
    """The details cleaned for storage, or InvalidRequestError saying what to change."""
    given = dict(details or {})
    # Which details the type accepts is its handler's to say; everything else is
    # refused so typos are not lost.
    allowed = handler_for(request_type).details
    unknown = sorted(set(given) - allowed)
    if unknown:
        accepted = ", ".join(sorted(allowed)) or "none"
        raise InvalidRequestError(
            f"a {request_type.value} request does not take '{unknown[0]}'",
            hint=f"details it accepts: {accepted}",
        )
    cleaned: dict[str, Any] = {}
    for name in sorted(allowed):
        if name in _REQUIRED or given.get(name) is not None:
            cleaned[name] = CLEANERS[name](given.get(name), datamap)
    return cleaned


def correctable_keys(datamap: DataMap) -> tuple[frozenset[str], frozenset[str]]:
    """The data categories and ``system.dataset.field`` paths a correction may name."""
    categories: set[str] = set()
    fields: set[str] = set()
    for system in datamap.systems:
        for dataset in system.datasets:
            for field in dataset.fields:
                fields.add(f"{system.key}.{dataset.name}.{field.name}")
                if field.category:
                    categories.add(field.category)
    return frozenset(categories), frozenset(fields)


def _corrections(value: object, datamap: DataMap) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value:
        raise InvalidRequestError(
            "a rectification must say what to correct",
            hint="give corrections as {what: new value}, e.g. "
            '{"user.contact.address": "Storgata 1, 0155 Oslo"}',
        )
    if len(value) > MAX_CORRECTIONS:
        raise InvalidRequestError(f"at most {MAX_CORRECTIONS} corrections per request")
    categories, fields = correctable_keys(datamap)
    cleaned: dict[str, str] = {}
    for raw_key, raw_value in value.items():
        if isinstance(raw_key, str):
            refuse_control_characters(raw_key, "the name of a correction")
        key = raw_key.strip() if isinstance(raw_key, str) else ""
        if not key or len(key) > MAX_CORRECTION_KEY or not _KEY.match(key):
            raise InvalidRequestError(
                "each correction must name a kind of data, e.g. user.contact.address"
            )
        if key not in categories and key not in fields:
            example = sorted(categories)[0] if categories else "user.contact.address"
            raise InvalidRequestError(
                f"we hold no data called '{key}' that could be corrected",
                hint=f"name a data category from the privacy notice, e.g. {example}",
            )
        if not isinstance(raw_value, str) or not raw_value.strip():
            raise InvalidRequestError(f"the correction of '{key}' needs the new value as text")
        refuse_control_characters(raw_value, f"the new value of '{key}'", allow_newlines=True)
        new_value = raw_value.strip()
        if len(new_value) > MAX_CORRECTION_VALUE:
            raise InvalidRequestError(
                f"the new value of '{key}' is longer than {MAX_CORRECTION_VALUE} characters"
            )
        cleaned[key] = new_value
    return cleaned


def _purposes(value: object, datamap: DataMap) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidRequestError("purposes must be a list of purpose keys")
    if len(value) > MAX_PURPOSES:
        raise InvalidRequestError(f"at most {MAX_PURPOSES} purposes per request")
    known = {purpose.key for purpose in datamap.purposes}
    cleaned: list[str] = []
    for raw in value:
        refuse_control_characters(raw, "a purpose")
        key = raw.strip()
        if key not in known:
            raise InvalidRequestError(
                f"'{key}' is not one of the purposes in the privacy notice",
                hint="purposes: " + ", ".join(sorted(known)),
            )
        if key not in cleaned:
            cleaned.append(key)
    return cleaned


#: How each detail a request type may take is checked and cleaned.
CLEANERS: Mapping[str, Callable[[object, DataMap], Any]] = {
    "corrections": _corrections,
    "purposes": _purposes,
}
#: The details a type that takes them cannot do without (a rectification must say what).
_REQUIRED = frozenset({"corrections"})
