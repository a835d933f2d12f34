"""Render the record of processing activities (GDPR Art. 30(1)) as CSV, JSON or HTML."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from personvern.datamap.rendering import check_format
from personvern.domain.datamap import DataMap
from personvern.domain.retention.own_records import OwnRecordRule
from personvern.domain.ropa import ROPA_COLUMNS, ProcessingActivity, build_ropa
from personvern.templating import environment

ROPA_FORMATS = ("csv", "json", "html")


def render_ropa(
    datamap: DataMap, fmt: str, lang: str = "en", own_records: Sequence[OwnRecordRule] = ()
) -> str:
    """The record of processing as ``fmt`` (csv, json or html), in English unless ``lang``.

    ``own_records`` adds personvern's own processing, with its retention periods.
    """
    check_format(fmt, ROPA_FORMATS, "record of processing")
    activities = build_ropa(datamap, lang, own_records=own_records)
    if fmt == "csv":
        return _csv(activities)
    if fmt == "json":
        return _json(datamap, activities, lang)
    template = environment().get_template("ropa/ropa.html.j2")
    return template.render(
        organization=datamap.organization.name,
        lang=lang,
        columns=[(c.key, c.label(lang), c.article) for c in ROPA_COLUMNS],
        activities=[{"key": (a.key,), **a.values()} for a in activities],
    )


def _csv(activities: tuple[ProcessingActivity, ...]) -> str:
    out = io.StringIO()
    # Excel and LibreOffice read a CSV cell with embedded newlines as one cell, so a
    # multi-valued item keeps one value per line and the row stays one activity.
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["key", *(c.key for c in ROPA_COLUMNS)])
    for activity in activities:
        cells = ["\n".join(lines) for lines in activity.values().values()]
        writer.writerow([activity.key, *cells])
    return out.getvalue()


def _json(datamap: DataMap, activities: tuple[ProcessingActivity, ...], lang: str) -> str:
    document = {
        "record_of_processing_activities": {
            "organization": datamap.organization.name,
            "language": lang,
            "legal_basis": "GDPR Art. 30(1)",
            "columns": {
                c.key: {"label": c.label(lang), "article": c.article} for c in ROPA_COLUMNS
            },
        },
        "activities": [
            {"key": a.key, **{k: list(v) for k, v in a.values().items()}} for a in activities
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
