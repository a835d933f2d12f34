"""The PDF report as a reader sees it: every page rendered to an image and looked at.

Two realistic reports: the demo customer with the most records (run through the
engine, as a subject receives it) and Åse's report stuffed with long values (a web
address without a space in 400 characters, a ticket of a few thousand characters, a
long postal address). Each page is rasterised with pdfium and checked with Pillow:
nothing may be drawn in the margins (a table wider than the page would be), and the
last page must not be nearly empty. The text is read back with pypdf: the letter
opens with its summary, and the stores' column names appear only in the appendix.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader

from personvern.connectors.port import Record
from personvern.demo import ground_truth
from personvern.domain.datamap import DataMap
from personvern.domain.requests.collected import CollectedData, CollectedDataset
from personvern.domain.requests.lifecycle import RequestState, RequestType
from personvern.responses.pdf import (
    FOOTER_TOP,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    MIN_LAST_PAGE_FILL,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    find_unicode_font,
    render_access_report_pdf,
)
from personvern.settings import Settings
from tests.support.company import Company, company
from tests.unit.responses.sample import CUSTOMER, OWN_TICKET, collected, example_datamap

__all__ = ["company"]

#: Pixels per millimetre the pages are rendered at (about 200 dpi).
_SCALE = 8.0
#: Anti-aliasing may reach this far past an edge.
_TOLERANCE_MM = 0.6
#: Grey values below this count as ink (white is 255).
_INK = 235
#: The footer's one line of small print, from FOOTER_TOP.
_FOOTER_HEIGHT_MM = 8.0
_APPENDIX = {"nb": "Vedlegg: tekniske opplysninger", "en": "Appendix: technical details"}


@pytest.fixture
def engine_settings(tmp_path: Path) -> Settings:
    """A store of this test's own; four eyes off, as the engine is driven directly."""
    return Settings(
        home=tmp_path,
        secret_key="test-secret-key-0123456789abcdef",  # type: ignore[arg-type]
        four_eyes="off",
    )


def _pages(pdf: bytes) -> list[Image.Image]:
    document = pdfium.PdfDocument(pdf)
    try:
        # pdfium renders at 72 dpi times the scale; 72 dpi is 72 / 25.4 pixels per mm.
        scale = _SCALE * 25.4 / 72
        return [page.render(scale=scale).to_pil().convert("L") for page in document]
    finally:
        document.close()


def _inked(image: Image.Image, box_mm: tuple[float, float, float, float]) -> bool:
    box = tuple(round(value * _SCALE) for value in box_mm)
    region = image.crop(box).point(lambda grey: 255 if grey < _INK else 0)
    return region.getbbox() is not None


def _lowest_ink_mm(image: Image.Image) -> float:
    """How far down the text area the last ink on the page is, in mm from the top."""
    box = (MARGIN_LEFT, MARGIN_TOP, PAGE_WIDTH - MARGIN_RIGHT, PAGE_HEIGHT - MARGIN_BOTTOM)
    region = image.crop(tuple(round(v * _SCALE) for v in box))
    found = region.point(lambda grey: 255 if grey < _INK else 0).getbbox()
    return MARGIN_TOP + (found[3] / _SCALE if found else 0.0)


def layout_problems(pdf: bytes) -> list[str]:
    """Every page's ink outside the printable area, and a nearly empty last page."""
    pages = _pages(pdf)
    tolerance = _TOLERANCE_MM
    margins = {
        "left margin": (0.0, 0.0, MARGIN_LEFT - tolerance, PAGE_HEIGHT),
        "right margin": (PAGE_WIDTH - MARGIN_RIGHT + tolerance, 0.0, PAGE_WIDTH, PAGE_HEIGHT),
        "top margin": (0.0, 0.0, PAGE_WIDTH, MARGIN_TOP - tolerance),
        "bottom margin above the footer": (
            0.0,
            PAGE_HEIGHT - MARGIN_BOTTOM + tolerance,
            PAGE_WIDTH,
            FOOTER_TOP,
        ),
        "below the footer": (0.0, FOOTER_TOP + _FOOTER_HEIGHT_MM, PAGE_WIDTH, PAGE_HEIGHT),
    }
    problems = [
        f"page {number}: ink in the {name}"
        for number, page in enumerate(pages, start=1)
        for name, box in margins.items()
        if _inked(page, box)
    ]
    if len(pages) > 1:
        text_height = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
        fill = (_lowest_ink_mm(pages[-1]) - MARGIN_TOP) / text_height
        if fill < MIN_LAST_PAGE_FILL:
            problems.append(f"page {len(pages)} (the last) is {fill:.0%} full")
    return problems


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    # Layout may break a line anywhere; compare with whitespace collapsed.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _raw_names_in_letter(datamap: DataMap, text: str, lang: str) -> list[str]:
    """Store column names (those with an underscore) found before the appendix."""
    letter = text.split(_APPENDIX[lang], 1)[0]
    names = {
        field.name
        for system in datamap.systems
        for dataset in system.datasets
        for field in dataset.fields
        if "_" in field.name
    }
    return sorted(name for name in names if name in letter)


def _richest(company: Company) -> tuple[str, dict[str, list[Any]]]:
    """The e-mail and ground truth of the customer with the most records among the first 40."""
    best: tuple[int, str, dict[str, list[Any]]] | None = None
    for customer_id, email, _phone in company.customers()[:40]:
        truth = ground_truth(company.targets, customer_id)
        total = sum(len(keys) for keys in truth.values())
        if best is None or total > best[0]:
            best = (total, str(email), truth)
    assert best is not None
    return best[1], best[2]


def _engine_pdf(company: Company, settings: Settings, email: str) -> tuple[bytes, str]:
    engine = company.engine(settings)
    with engine.unit_of_work() as uow:
        repo = uow.requests
        request = repo.add(
            type=RequestType.ACCESS,
            identities=[{"kind": "email", "value": email}],
            identity_hashes=(),
            subject_key="0" * 64,
            language="nb",
            channel="staff",
            created_by="test",
            deadline=datetime(2026, 12, 28, tzinfo=UTC).date(),
        )
        request.verification_method = "staff_known_contact"
        repo.transition(request, RequestState.VERIFIED, "verified by test", "test")
        request_id = request.id
    assert RequestState.COMPLETED == engine.run_and_deliver(request_id).state
    with engine.unit_of_work() as uow:
        language = uow.requests.get(request_id).language
    return engine.read_answer(request_id, "access-report.pdf"), language


@pytest.fixture(autouse=True)
def _needs_a_unicode_font() -> None:
    if find_unicode_font() is None:
        pytest.skip("no Unicode TrueType font installed (apt-get install fonts-dejavu-core)")


# Rendering does not depend on the database the company runs on.
@pytest.mark.parametrize("company", ["sqlite"], indirect=True)
def test_the_richest_customers_report_stays_on_the_page_and_reads_like_a_letter(
    company: Company, engine_settings: Settings
) -> None:
    email, truth = _richest(company)
    pdf, lang = _engine_pdf(company, engine_settings, email)

    assert [] == layout_problems(pdf)
    text = _text(pdf)
    records = sum(len(keys) for keys in truth.values())
    systems = len({name.split(".")[0] for name, keys in truth.items() if keys})
    summary = {
        "nb": f"Vi har {records} registreringer om deg i {systems} systemer.",
        "en": f"We hold {records} records about you in {systems} systems.",
    }[lang]
    assert summary in text
    # The summary comes first, before any section of the letter.
    assert text.index(summary) < text.index({"nb": "Kopi av", "en": "Copy of"}[lang])
    assert [] == _raw_names_in_letter(company.datamap, text, lang)
    assert _APPENDIX[lang] in text


def _long_values() -> CollectedData:
    """Åse's data with values far longer than any column: they must wrap, not overflow."""
    address = "c/o " + ", ".join(f"Bygning {n}, Oppgang {n}, Etasje {n}" for n in range(12))
    token = "https://www.nordicworkspace.example/" + "x" * 400
    customer = replace(CUSTOMER, values={**CUSTOMER.values, "address": address})
    body = " ".join([token, *(["Møterommet var dobbeltbooket igjen."] * 120)])
    tickets = tuple(
        replace(OWN_TICKET, key=600 + n, values={**OWN_TICKET.values, "id": 600 + n, "body": body})
        for n in range(3)
    )
    events = tuple(
        Record(
            key=1000 + n,
            values={
                "id": 1000 + n,
                "cookie_id": "c" * 64,
                "customer_id": 4711,
                "occurred_at": datetime(2025, 2, 1, 12, n, tzinfo=UTC),
                "ip_address": "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
                "user_agent": "Mozilla/5.0 " + "(KHTML, like Gecko) " * 8,
                "url": token,
                "referrer": token,
                "event_type": "page_view",
                "channel": "web",
            },
            matched_fields=frozenset({"customer_id"}),
        )
        for n in range(40)
    )
    base = collected(None)
    return replace(
        base,
        datasets=(
            CollectedDataset("crm", "customers", (customer,)),
            *base.datasets[1:2],
            CollectedDataset("support", "tickets", tickets),
            CollectedDataset("analytics", "web_events", events),
        ),
    )


def test_long_values_wrap_inside_the_page() -> None:
    datamap = example_datamap()
    pdf = render_access_report_pdf(
        datamap, _long_values(), generated_at=datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
    )
    assert [] == layout_problems(pdf)
    text = _text(pdf)
    assert "Vi har 46 registreringer om deg i 4 systemer." in text
    assert [] == _raw_names_in_letter(datamap, text, "nb")
