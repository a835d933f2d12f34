"""The answer's language and sender follow the subject's relationship, not the company's home.

A British demo customer (crm.customers.country GB, preferred_language en) who asks
without naming a language is answered in English by Nordic Workspace Ltd, with the
ICO as complaint route; asking in Norwegian gets Norwegian from the same entity. A
Norwegian customer is answered in Norwegian by Nordic Workspace AS, with Datatilsynet.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from personvern.demo import schema
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.engine.runner import RequestEngine
from personvern.settings import Settings
from tests.support.company import Company

# The answer's language does not depend on the database the company runs on.
pytestmark = pytest.mark.parametrize("company", ["sqlite"], indirect=True)


@dataclass(frozen=True)
class Answer:
    """What the subject received and what the request records."""

    language: str
    report: str
    readme: str
    receipt: dict[str, Any]
    events: list[str]


def _file(engine: RequestEngine, email: str, requested_language: str | None) -> str:
    """A verified access request as staff register it: the map's default unless asked."""
    with engine.unit_of_work() as uow:
        repo = uow.requests
        request = repo.add(
            type=RequestType.ACCESS,
            identities=[{"kind": "email", "value": email}],
            identity_hashes=(),
            subject_key="0" * 64,
            language=requested_language or "nb",
            requested_language=requested_language,
            channel="staff",
            created_by="test",
            deadline=date(2026, 12, 28),
        )
        request.verification_method = "staff_known_contact"
        repo.transition(request, RequestState.VERIFIED, "verified by test", "test")
        return request.id


def _answer(engine: RequestEngine, email: str, requested_language: str | None) -> Answer:
    request_id = _file(engine, email, requested_language)
    assert RequestState.COMPLETED == engine.run(request_id).state
    with zipfile.ZipFile(io.BytesIO(engine.read_answer(request_id, "export.zip"))) as archive:
        readme = archive.read("README.txt").decode("utf-8")
    report = engine.read_answer(request_id, "access-report.html").decode("utf-8")
    with engine.unit_of_work() as uow:
        repo = uow.requests
        request = repo.get(request_id)
        events = [event.message for event in repo.events(request_id)]
        return Answer(
            request.language,
            report,
            readme,
            dict(request.receipt or {}),
            events,
        )


def _first_customer(company: Company, country: str) -> str:
    rows = company.customers(schema.customers.c.country == country)
    assert rows, f"the demo has no customer in {country}"
    return str(rows[0].email)


def test_a_british_customer_is_answered_in_english_by_the_uk_entity_with_the_ico(
    company: Company, settings: Settings
) -> None:
    answer = _answer(company.engine(settings), _first_customer(company, "GB"), None)
    assert "en" == answer.language
    assert '<html lang="en">' in answer.report
    assert "From <b>Nordic Workspace Ltd</b>" in answer.report
    assert "lodge a complaint with <b>Information Commissioner&#39;s Office (ICO)</b>" in (
        answer.report
    )
    assert "Datatilsynet" not in answer.report
    assert answer.readme.startswith("Personal data from Nordic Workspace Ltd\n")
    assert "complain to Information Commissioner's Office (ICO) (https://ico.org.uk)" in (
        answer.readme
    )
    assert {
        "language": "en",
        "language_from": "subject_record",
        "controller": "nws-uk",
        "controller_name": "Nordic Workspace Ltd",
        "controller_from": "subject_country",
        "supervisory_authority": "Information Commissioner's Office (ICO)",
    } == answer.receipt["answer"]
    assert (
        "answer in en (subject record) from Nordic Workspace Ltd (subject country); "
        "complaints to Information Commissioner's Office (ICO)"
    ) in answer.events


def test_a_british_customer_who_asks_in_norwegian_gets_norwegian_from_the_uk_entity(
    company: Company, settings: Settings
) -> None:
    answer = _answer(company.engine(settings), _first_customer(company, "GB"), "nb")
    assert "nb" == answer.language
    assert '<html lang="nb">' in answer.report
    assert "Fra <b>Nordic Workspace Ltd</b>" in answer.report
    assert "klage til <b>Information Commissioner&#39;s Office (ICO)</b>" in answer.report
    assert answer.readme.startswith("Personopplysninger fra Nordic Workspace Ltd\n")
    assert ("nb", "requested") == (
        answer.receipt["answer"]["language"],
        answer.receipt["answer"]["language_from"],
    )


def test_a_norwegian_customer_is_answered_in_norwegian_by_the_norwegian_entity(
    company: Company, settings: Settings
) -> None:
    answer = _answer(company.engine(settings), _first_customer(company, "NO"), None)
    assert "nb" == answer.language
    assert '<html lang="nb">' in answer.report
    assert "Fra <b>Nordic Workspace AS</b>" in answer.report
    assert "klage til <b>Datatilsynet</b>" in answer.report
    assert "Information Commissioner" not in answer.report
    assert answer.readme.startswith("Personopplysninger fra Nordic Workspace AS\n")
    assert "klage til Datatilsynet (https://www.datatilsynet.no)" in answer.readme
    assert ("nws-no", "Datatilsynet") == (
        answer.receipt["answer"]["controller"],
        answer.receipt["answer"]["supervisory_authority"],
    )
