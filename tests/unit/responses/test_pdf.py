"""The PDF report holds the same text, Norwegian letters included, with or without a font."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from personvern.domain.datamap import DataMap
from personvern.domain.requests.collected import CollectedData
from personvern.responses import pdf as pdf_module
from personvern.responses.access_report import build_access_report
from personvern.responses.pdf import core_text, find_unicode_font, render_access_report_pdf
from tests.unit.responses.sample import GENERATED

_EXPECTED = [
    "Innsyn i personopplysningene dine",
    "Åse Ødegård",
    "Blåbær & Co AS",
    "bokføringsloven § 13",
    "Datatilsynet",
    "call-001.wav",
    "<script>alert('x')</script>",
]


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    # Layout may break a line anywhere; compare with whitespace collapsed.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_the_pdf_renders_with_the_core_font_on_any_machine(
    datamap: DataMap, data: CollectedData
) -> None:
    pdf = render_access_report_pdf(datamap, data, generated_at=GENERATED, font="core")
    assert b"%PDF-" == pdf[:5]
    text = _text(pdf)
    assert [] == [expected for expected in _EXPECTED if expected not in text]


def test_the_pdf_uses_a_unicode_font_when_the_machine_has_one(
    datamap: DataMap, data: CollectedData
) -> None:
    if find_unicode_font() is None:
        pytest.skip("no Unicode TrueType font installed (apt-get install fonts-dejavu-core)")
    pdf = render_access_report_pdf(datamap, data, generated_at=GENERATED)
    assert b"%PDF-" == pdf[:5]
    text = _text(pdf)
    assert [] == [expected for expected in _EXPECTED if expected not in text]
    assert b"/FontFile2" in pdf  # an embedded TrueType font, not the core Helvetica


def test_the_same_report_gives_the_same_pdf(datamap: DataMap, data: CollectedData) -> None:
    first = render_access_report_pdf(datamap, data, generated_at=GENERATED, font="core")
    assert first == render_access_report_pdf(datamap, data, generated_at=GENERATED, font="core")


def test_core_text_keeps_norwegian_letters_and_replaces_what_the_core_font_lacks() -> None:
    assert "æøå ÆØÅ § « » – é" == core_text("æøå ÆØÅ § « » – é")
    assert "cš ? ?" == core_text("čš ł 中")


def test_a_nearly_empty_last_page_gets_a_whole_section_instead(
    datamap: DataMap, data: CollectedData
) -> None:
    report = build_access_report(datamap, data, generated_at=GENERATED)

    def sections(second: int) -> list[str]:
        # Half a page, then a section of ``second`` lines.
        return ["".join(f"<p>Linje {n}</p>" for n in range(count)) for count in (20, second)]

    def first_layout(second: int) -> tuple[int, float]:
        layout = pdf_module._render(
            report, GENERATED, None, core_text, sections(second), break_before=None
        )
        pdf_module._close_fonts(layout.pdf)
        return layout.pdf.page_no(), layout.last_page_fill

    # The shortest second section that spills onto a second page leaves it nearly empty.
    second = next(n for n in range(10, 80) if first_layout(n)[0] == 2)
    assert first_layout(second)[1] < pdf_module.MIN_LAST_PAGE_FILL

    chosen = pdf_module._lay_out(report, GENERATED, None, core_text, sections(second))
    pdf_module._close_fonts(chosen)
    text_height = pdf_module.PAGE_HEIGHT - pdf_module.MARGIN_TOP - pdf_module.MARGIN_BOTTOM
    fill = (chosen.get_y() - pdf_module.MARGIN_TOP) / text_height
    # The second section starts the second page, which it fills by half.
    assert (2, True) == (chosen.page_no(), fill >= pdf_module.MIN_LAST_PAGE_FILL)
