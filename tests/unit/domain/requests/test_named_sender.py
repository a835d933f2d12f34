"""Free text that names its sender (``names_sender``): the sender's own record, not a mention.

The second test company's map with the web form's message and the logged URL marked
``names_sender``, and rows written here for each case: a form signed by the subject,
one signed by someone else that mentions her, one naming a stranger's number before
her address, a logged URL with nobody signed in and one with another customer signed
in. The walk and the plan are pure; the rows are answered by the in-memory store.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from personvern.connectors.port import Record
from personvern.datamap.loader import load_datamap
from personvern.domain.datamap import DataMap, Dataset
from personvern.domain.identities.mentions import mention_pattern
from personvern.domain.requests.collected import is_mention
from personvern.domain.requests.identity import parse_identity
from personvern.domain.requests.lifecycle import RequestType
from personvern.domain.requests.named_sender import names_subject_first
from personvern.domain.requests.request_plan import RequestPlan, build_plan
from personvern.domain.requests.subject_graph import MatchKind, SubjectGraph
from personvern.engine.search import SearchResult, search_subject
from tests.support.second_company.datamap import data_map
from tests.support.second_company.generator import Feature
from tests.unit.domain.requests.memory_store import MemoryConnector, MemoryStore

TODAY = date(2026, 11, 25)
KARI = "kari.nordmann@example.no"
KARI_PHONE = "+4791322110"
OLA = "ola.hansen@example.no"
FORMS = "kundeservice.skjema_henvendelser"
VIEWS = "nettlogg.sidevisninger"
SITE = "https://www.nordavind.no"

#: Kari signs: her own record.
SIGNED_BY_KARI = 90001
#: Ola signs, and names Kari as his neighbour: Ola's, a mention of Kari.
SIGNED_BY_OLA = 90002
#: A stranger's number comes before Kari's address: not hers.
STRANGER_FIRST = 90003
#: Kari's phone comes first, her address after it: hers once the walk knows the phone.
PHONE_FIRST = 90004


def _form(key: int, melding: str) -> dict[str, Any]:
    return {"skjema_id": key, "mottatt": None, "emne": "Strøm", "melding": melding}


def _view(key: int, cookie: str, kunde_id: int | None, url: str) -> dict[str, Any]:
    return {
        "visning_id": key,
        "besoks_id": cookie,
        "kunde_id": kunde_id,
        "tidspunkt": None,
        "url": url,
        "ip_adresse": "84.210.1.2",
        "nettleser": "Firefox",
    }


def _rows(*, kari_is_a_customer: bool = True) -> dict[str, list[dict[str, Any]]]:
    customers = [{"kunde_id": 100002, "navn": "Ola Hansen", "epost": OLA, "telefon": None}]
    if kari_is_a_customer:
        customers.append(
            {"kunde_id": 100001, "navn": "Kari Nordmann", "epost": KARI, "telefon": "913 22 110"}
        )
    return {
        "crm.kunder": customers,
        FORMS: [
            _form(SIGNED_BY_KARI, f"Navn: Kari Nordmann\nE-post: {KARI}\n\nStrømmen er borte."),
            _form(
                SIGNED_BY_OLA,
                f"Navn: Ola Hansen\nE-post: {OLA}\n\nNaboen min ({KARI}) har samme problem.",
            ),
            _form(STRANGER_FIRST, f"Navn: Per\nTelefon: 415 55 123\n\nSvar til {KARI}."),
            _form(PHONE_FIRST, f"Navn: Kari Nordmann\nTelefon: 913 22 110\nE-post: {KARI}"),
        ],
        VIEWS: [
            # Before sign-in, her address typed into the form: hers.
            _view(1, "c0ffee", None, f"{SITE}/flytting?epost=kari.nordmann%40example.no"),
            # The same (perhaps borrowed) browser, nothing naming her: not found.
            _view(2, "c0ffee", None, f"{SITE}/privat/spotpris"),
            # Her address in a URL while Ola was signed in: Ola's page view.
            _view(3, "beef00", 100002, f"{SITE}/min-side/del?epost=kari.nordmann%40example.no"),
        ],
    }


def _datamap(tmp_path: Path, *features: Feature) -> DataMap:
    return load_datamap(data_map(tmp_path / "map", features)).datamap


@pytest.fixture
def datamap(tmp_path: Path) -> DataMap:
    """The second company's map with names_sender on the form's message and the URL."""
    return _datamap(tmp_path, Feature.NAMES_SENDER)


def _search(datamap: DataMap, rows: Mapping[str, Any], email: str) -> SearchResult:
    store = MemoryStore(datamap, rows)
    graph = SubjectGraph.from_datamap(datamap)
    connectors = {node.system: MemoryConnector(store, node.system) for node in graph.nodes}
    identities = [parse_identity("email", email)]
    return search_subject(graph, identities, connectors, country="NO")  # type: ignore[arg-type]


def _found(result: SearchResult, name: str) -> dict[object, MatchKind]:
    return {key: match for key, (_, match) in result.walk.records(name).items()}


def _erasure(datamap: DataMap, result: SearchResult) -> RequestPlan:
    graph = SubjectGraph.from_datamap(datamap)
    return build_plan(RequestType.ERASURE, graph, result.walk, datamap, TODAY)


def _dataset(datamap: DataMap, name: str) -> Dataset:
    system, _, dataset = name.partition(".")
    declared = datamap.system(system)
    assert declared is not None
    return next(d for d in declared.datasets if d.name == dataset)


def test_a_form_she_signed_is_hers_and_one_naming_her_after_its_sender_is_a_mention(
    datamap: DataMap,
) -> None:
    result = _search(datamap, _rows(), KARI)

    assert {
        SIGNED_BY_KARI: MatchKind.SENDER,
        SIGNED_BY_OLA: MatchKind.MENTION,
        STRANGER_FIRST: MatchKind.MENTION,
        PHONE_FIRST: MatchKind.SENDER,
    } == _found(result, FORMS)


def test_an_erasure_deletes_her_forms_and_redacts_her_in_the_others(datamap: DataMap) -> None:
    plan = _erasure(datamap, _search(datamap, _rows(), KARI))

    forms = plan.dataset(FORMS)
    assert forms is not None
    assert (
        (SIGNED_BY_KARI, PHONE_FIRST),
        (SIGNED_BY_OLA, STRANGER_FIRST),
        2,
        2,
    ) == (forms.delete, forms.redact, forms.by_sender, forms.by_mention)
    assert plan == RequestPlan.from_json(plan.to_json())


def test_the_form_naming_two_people_is_the_one_who_signed_it_first(datamap: DataMap) -> None:
    result = _search(datamap, _rows(), OLA)

    plan = _erasure(datamap, result)

    forms = plan.dataset(FORMS)
    assert forms is not None
    assert (MatchKind.SENDER, (SIGNED_BY_OLA,), ()) == (
        _found(result, FORMS)[SIGNED_BY_OLA],
        forms.delete,
        forms.redact,
    )


def test_her_phone_signs_the_form_only_once_the_walk_knows_it_is_hers(tmp_path: Path) -> None:
    datamap = _datamap(tmp_path, Feature.NAMES_SENDER)

    known = _search(datamap, _rows(), KARI)
    unknown = _search(datamap, _rows(kari_is_a_customer=False), KARI)

    # Without her customer record the number before her address could be anyone's.
    assert (MatchKind.SENDER, MatchKind.MENTION) == (
        _found(known, FORMS)[PHONE_FIRST],
        _found(unknown, FORMS)[PHONE_FIRST],
    )


def test_a_logged_url_is_hers_only_when_nobody_is_signed_in_and_lends_no_cookie(
    datamap: DataMap,
) -> None:
    result = _search(datamap, _rows(), KARI)

    plan = _erasure(datamap, result)

    views = plan.dataset(VIEWS)
    assert views is not None
    assert ({1: MatchKind.SENDER, 3: MatchKind.MENTION}, (1,), (3,)) == (
        _found(result, VIEWS),
        views.delete,
        views.redact,
    )


def test_an_answer_shows_her_own_form_whole_and_the_others_as_a_mention(
    datamap: DataMap,
) -> None:
    result = _search(datamap, _rows(), KARI)
    forms = _dataset(datamap, FORMS)

    shown = {
        key: is_mention(
            forms,
            Record(key, values, matched_fields=result.walk.matched_fields(FORMS, key)),
        )
        for key, (values, _match) in result.walk.records(FORMS).items()
    }

    assert {
        SIGNED_BY_KARI: False,
        SIGNED_BY_OLA: True,
        STRANGER_FIRST: True,
        PHONE_FIRST: False,
    } == shown


def test_without_names_sender_her_signed_form_is_a_mention_as_before(tmp_path: Path) -> None:
    datamap = _datamap(tmp_path)

    result = _search(datamap, _rows(), KARI)

    assert {MatchKind.MENTION} == set(_found(result, FORMS).values()) | set(
        _found(result, VIEWS).values()
    )


_KARI_MENTIONS = mention_pattern(["kari.nordmann@example.no", "kari.nordmann%40example.no"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Navn: Kari\nE-post: kari.nordmann@example.no\n\nHei", True, id="signed"),
        pytest.param(f"{SITE}/skjema?epost=kari.nordmann%40example.no&steg=2", True, id="url"),
        pytest.param("Fra ola@example.no: spør kari.nordmann@example.no", False, id="other-first"),
        pytest.param("Fra ola＠example.no: kari.nordmann@example.no", False, id="fullwidth-at"),
        pytest.param(f"{SITE}/?ref=per%2540x.no&e=kari.nordmann%40example.no", False, id="2540"),
        pytest.param("Tlf (+47) 415 55 123, kari.nordmann@example.no", False, id="phone-first"),
        pytest.param("Fnr 010180 12345: kari.nordmann@example.no", False, id="national-id-first"),
        # Broad on purpose: a date is eight digits, and then the record stays a mention.
        pytest.param("Sendt 01.12.2025 av kari.nordmann@example.no", False, id="date-first"),
        pytest.param("Navn: Kari, postnr 7011, kari.nordmann@example.no", True, id="postcode"),
        pytest.param("Hei, strømmen er borte.", None, id="nobody"),
        pytest.param("Ring meg på 913 22 110.", False, id="only-someone-else"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="null"),
    ],
)
def test_the_sender_is_whoever_the_text_names_first(text: object, expected: bool | None) -> None:
    assert expected is names_subject_first(text, _KARI_MENTIONS)
