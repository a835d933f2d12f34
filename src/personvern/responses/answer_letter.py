"""The e-mail that hands a subject their answer: links (access) or a letter saying what was done.

Written in the request's language (decided from the subject's records when the run
found them), signed by the controller the answer came from, with that controller's
supervisory authority as the complaint route. It names kinds of data and counts, never
the data itself: mail passes through servers personvern does not control, so the
personal data travels only behind the signed links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from personvern.domain.datamap import Controller, DataMap
from personvern.domain.localized_names import dataset_label, localized
from personvern.domain.requests.answer_profile import supervisory_authority_of
from personvern.domain.requests.handlers import handler_for
from personvern.domain.requests.lifecycle import RequestType
from personvern.responses.errors import ResponseError
from personvern.responses.values import format_date
from personvern.templating import environment, filesize

_FILE_TITLES = {
    "nb": {
        "access-report.html": "Rapporten (nettside)",
        "access-report.pdf": "Rapporten (PDF)",
        "export.zip": "Opplysningene og opptakene (ZIP med JSON og CSV)",
    },
    "en": {
        "access-report.html": "The report (web page)",
        "access-report.pdf": "The report (PDF)",
        "export.zip": "The data and recordings (ZIP with JSON and CSV)",
    },
}
_RECORDS = {"nb": ("oppføring", "oppføringer"), "en": ("record", "records")}


@dataclass(frozen=True)
class LinkLine:
    """One file the subject can download."""

    name: str
    size: int
    url: str


@dataclass(frozen=True)
class AnswerLetter:
    """The mail: its subject line and plain-text body."""

    subject: str
    body: str


def answer_letter(
    datamap: DataMap,
    *,
    request_id: str,
    request_type: RequestType,
    language: str,
    receipt: Mapping[str, Any],
    details: Mapping[str, Any],
    links: Sequence[LinkLine] = (),
    links_expire: datetime | None = None,
) -> AnswerLetter:
    """The mail that hands over the answer of a completed request."""
    handler = handler_for(request_type)
    if language not in handler.letter_subject:
        raise ResponseError(f"there is no answer letter in the language '{language}'")
    controller = _controller(datamap, receipt)
    authority = supervisory_authority_of(datamap, controller)
    values: dict[str, Any] = {
        "kind": "links" if handler.hands_over else request_type.value.replace("-", "_"),
        "reference": request_id,
        "controller": controller.name,
        "authority": authority.name,
        "authority_url": authority.url,
        "links": [
            {
                "title": _FILE_TITLES[language].get(link.name, link.name),
                "size": filesize(link.size, language),
                "url": link.url,
            }
            for link in links
        ],
        "expires": format_date(links_expire.date(), language) if links_expire else "",
        "kept": _kept(datamap, receipt, language),
        "recipients": ", ".join(
            str(task.get("name", task.get("recipient", "")))
            for task in receipt.get("notify_recipients", [])
        ),
        "changed": ", ".join(sorted(details.get("corrections", {}))),
        "purposes": _purposes(datamap, details, language),
    }
    template = environment().get_template(f"answer_mail/{language}/answer.txt.j2")
    return AnswerLetter(handler.letter_subject[language], template.render(**values))


def _controller(datamap: DataMap, receipt: Mapping[str, Any]) -> Controller:
    chosen = (receipt.get("answer") or {}).get("controller")
    controllers = datamap.organization.controllers
    return next((c for c in controllers if c.key == chosen), controllers[0])


def _kept(datamap: DataMap, receipt: Mapping[str, Any], language: str) -> list[str]:
    one, many = _RECORDS[language]
    lines = []
    for name, kept in receipt.get("kept", {}).items():
        system_key, _, dataset_name = str(name).partition(".")
        system = datamap.system(system_key)
        datasets = system.datasets if system is not None else ()
        dataset = next((d for d in datasets if d.name == dataset_name), None)
        what = dataset_label(dataset, language) if dataset is not None else name
        count = int(kept.get("records", 0))
        reason = kept.get("reason")
        line = f"{count} {one if count == 1 else many} ({what})"
        lines.append(f"{line}: {reason}" if reason else line)
    return lines


def _purposes(datamap: DataMap, details: Mapping[str, Any], language: str) -> str:
    names = []
    for key in details.get("purposes") or []:
        purpose = datamap.purpose(str(key))
        names.append(localized(purpose.name, language) if purpose else str(key))
    return ", ".join(names)
